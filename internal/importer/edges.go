package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/cutline/cutline/internal/lineage"
)

// Header names recognised in an edge export, compared case-insensitively
// after dropping a "a." / "r." style prefix (what RETURN a.file_id writes).
var (
	sourceNames = []string{"source", "from", "source_file_id", "source_id", "src", "parent", "parent_id",
		"parent_file_id", "original_file_id", "start", "start_file_id"}
	targetNames = []string{"target", "to", "target_file_id", "target_id", "dst", "child", "child_id",
		"child_file_id", "generated_file_id", "end", "end_file_id"}
	typeNames = []string{"type", "relationship_type", "rel_type", "relationship", "kind", "type(r)"}
)

// ReadEdgesCSV reads lineage edges from a CSV export, one relationship per
// row: a source (parent) file id and a target (derived) file id, and
// optionally a relationship type. The header names the columns
// (source,target or from,to or source_file_id,target_file_id, see
// sourceNames and targetNames); without a recognised header the first two
// columns are source and target. CUT_FROM rows point child -> parent and
// are flipped; rows of other types come back with that kind, for the
// import to report. name labels the rows in the report.
func ReadEdgesCSV(r io.Reader, name string) ([]Edge, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	src, dst, typ := 0, 1, -1
	var out []Edge
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if line == 1 {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
			if s, d, t, ok := edgeHeader(rec); ok {
				src, dst, typ = s, d, t
				continue
			}
			if len(rec) < 2 {
				return nil, errors.New("the first row has fewer than two columns: want source and target file ids")
			}
		}
		if max(src, dst, typ) >= len(rec) {
			return nil, fmt.Errorf("line %d: too few columns", line)
		}
		e := Edge{Parent: unquote(rec[src]), Child: unquote(rec[dst]), From: fmt.Sprintf("%s line %d", name, line)}
		if e.Parent == "" && e.Child == "" {
			continue // blank line
		}
		kind := lineage.KindCut
		if typ >= 0 {
			kind = relationshipKind(rec[typ])
		}
		out = append(out, orient(e, kind))
	}
}

// edgeHeader finds the source, target and (optional, -1) type columns
// in a header row.
func edgeHeader(rec []string) (src, dst, typ int, ok bool) {
	src, dst, typ = -1, -1, -1
	for i, h := range rec {
		h = strings.ToLower(strings.TrimSpace(h))
		if j := strings.LastIndexByte(h, '.'); j >= 0 && !strings.HasSuffix(h, ")") {
			h = h[j+1:]
		}
		switch {
		case src < 0 && contains(sourceNames, h):
			src = i
		case dst < 0 && contains(targetNames, h):
			dst = i
		case typ < 0 && contains(typeNames, h):
			typ = i
		}
	}
	return src, dst, typ, src >= 0 && dst >= 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unquote trims spaces and the quotes Neo4j puts around string values in
// some exports ("\"abc\"" inside a CSV cell).
func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		s = s[1 : len(s)-1]
	}
	return strings.TrimSpace(s)
}

// relationshipKind normalises a relationship type; empty means CUT_TO.
func relationshipKind(t string) string {
	t = strings.ToUpper(strings.TrimSpace(unquote(t)))
	if t == "" {
		return lineage.KindCut
	}
	return t
}

// orient turns a relationship into a parent -> child edge: CUT_FROM
// (child -> parent, the same fact stored the other way) is flipped and
// becomes CUT_TO. Other types keep their direction and carry their kind.
func orient(e Edge, kind string) Edge {
	switch kind {
	case lineage.KindCut:
	case "CUT_FROM":
		e.Parent, e.Child = e.Child, e.Parent
	default:
		e.Kind = kind
	}
	return e
}
