package importer

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Outcomes of one item.
const (
	OutcomeImported  = "imported"
	OutcomeTombstone = "tombstoned"
	OutcomeSkipped   = "skipped"
	OutcomeFailed    = "failed"
)

// Routine reasons: expected on every run after the first, counted but not
// listed one by one.
const (
	ReasonAlreadyImported = "already imported"
	ReasonEdgePresent     = "already present"
)

// Counts is what happened to the items of one kind.
type Counts struct {
	Imported   int
	Tombstoned int // files only: imported without bytes
	Skipped    int
	Failed     int
}

// Total is every item counted.
func (c Counts) Total() int { return c.Imported + c.Tombstoned + c.Skipped + c.Failed }

// Note is one item worth telling the operator about: anything skipped,
// failed or tombstoned, and imported items that changed on the way (an id
// or email not kept, a file renamed).
type Note struct {
	Kind    string // "user", "file" or "edge"
	Item    string // what the item is, in the old system's terms
	Outcome string
	Reason  string // a short, stable category, for grouping
	Detail  string // the specifics
}

// Summary is the report of one run.
type Summary struct {
	Source string
	DryRun bool
	// Remark is said once at the top (for example that a dry run planned
	// against an empty database).
	Remark string
	Users  Counts
	Files  Counts
	Edges  Counts
	// Bytes is the size of the files copied (in a dry run: to copy).
	Bytes int64
	Notes []Note
	// Interrupted is set when the run stopped before the end.
	Interrupted bool
}

func (s *Summary) counts(kind string) *Counts {
	switch kind {
	case "user":
		return &s.Users
	case "file":
		return &s.Files
	default:
		return &s.Edges
	}
}

// record counts one item and keeps its note when there is something to say.
func (s *Summary) record(kind, item, outcome, reason, detail string) {
	c := s.counts(kind)
	switch outcome {
	case OutcomeImported:
		c.Imported++
	case OutcomeTombstone:
		c.Tombstoned++
	case OutcomeSkipped:
		c.Skipped++
	case OutcomeFailed:
		c.Failed++
	}
	if reason != "" {
		s.Notes = append(s.Notes, Note{Kind: kind, Item: item, Outcome: outcome, Reason: reason, Detail: detail})
	}
}

// warn keeps a note about an item counted elsewhere.
func (s *Summary) warn(kind, item, reason, detail string) {
	s.Notes = append(s.Notes, Note{Kind: kind, Item: item, Outcome: OutcomeImported, Reason: reason, Detail: detail})
}

// Failed is the number of items that failed (and a later run retries).
func (s *Summary) Failed() int { return s.Users.Failed + s.Files.Failed + s.Edges.Failed }

// Print writes the report: a table of counts, the reasons grouped with
// their counts, then every item that was not routine.
func (s *Summary) Print(w io.Writer) {
	title := "Import from " + s.Source
	if s.DryRun {
		title += "\nDRY RUN: nothing was written; the counts say what a real run would do."
	}
	fmt.Fprintln(w, title)
	if s.Remark != "" {
		fmt.Fprintln(w, s.Remark)
	}
	verb := "imported"
	if s.DryRun {
		verb = "to import"
	}
	fmt.Fprintf(w, "\n%-6s %10s %11s %8s %7s\n", "", verb, "tombstoned", "skipped", "failed")
	fmt.Fprintf(w, "%-6s %10d %11s %8d %7d\n", "users", s.Users.Imported, "-", s.Users.Skipped, s.Users.Failed)
	fmt.Fprintf(w, "%-6s %10d %11d %8d %7d\n", "files", s.Files.Imported, s.Files.Tombstoned, s.Files.Skipped, s.Files.Failed)
	fmt.Fprintf(w, "%-6s %10d %11s %8d %7d\n", "edges", s.Edges.Imported, "-", s.Edges.Skipped, s.Edges.Failed)
	fmt.Fprintf(w, "bytes  %s (%d)\n", humanBytes(s.Bytes), s.Bytes)

	type key struct{ kind, outcome, reason string }
	groups := map[key]int{}
	var keys []key
	for _, n := range s.Notes {
		k := key{n.Kind, n.Outcome, n.Reason}
		if groups[k] == 0 {
			keys = append(keys, k)
		}
		groups[k]++
	}
	if len(keys) > 0 {
		sort.SliceStable(keys, func(i, j int) bool {
			return kindOrder(keys[i].kind) < kindOrder(keys[j].kind)
		})
		fmt.Fprintln(w, "\nReasons:")
		for _, k := range keys {
			outcome := k.outcome
			if k.outcome == OutcomeImported {
				outcome = "imported with a change"
			}
			fmt.Fprintf(w, "  %-5s %-22s %5d  %s\n", k.kind+"s", outcome, groups[k], k.reason)
		}
	}
	var details []string
	for _, n := range s.Notes {
		if n.Reason == ReasonAlreadyImported || n.Reason == ReasonEdgePresent {
			continue
		}
		line := fmt.Sprintf("  %s %s: %s: %s", n.Kind, n.Item, n.Outcome, n.Reason)
		if n.Detail != "" {
			line += ": " + n.Detail
		}
		details = append(details, line)
	}
	if len(details) > 0 {
		fmt.Fprintln(w, "\nDetails:")
		fmt.Fprintln(w, strings.Join(details, "\n"))
	}
	if s.Interrupted {
		fmt.Fprintln(w, "\nINTERRUPTED: run the same command again to continue where this run stopped.")
	}
}

func kindOrder(k string) int {
	switch k {
	case "user":
		return 0
	case "file":
		return 1
	}
	return 2
}

// humanBytes renders n in binary units.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
