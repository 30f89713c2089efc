package legacy

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/download"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
	"github.com/cutline/cutline/internal/lineage"
	"github.com/cutline/cutline/internal/requestid"
)

// requireCaller is the authenticated user, or the error fail turns into
// DRF's 401 (missing token, or a bad one so the frontend refreshes).
func requireCaller(r *http.Request) (*auth.Caller, error) {
	return auth.RequireCaller(r.Context())
}

// exportRequest is the body of #3.
type exportRequest struct {
	Columns  []string           `json:"columns"`
	FilePath string             `json:"file_path"`
	Filters  map[string]*string `json:"filters"`
}

// exportCSV is endpoint #3: the chosen columns of the rows that pass every
// clause, streamed as RFC 4180 CSV while the file is read.
func (h *Handler) exportCSV(w http.ResponseWriter, r *http.Request) error {
	var req exportRequest
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, maxJSONBody), &req); err != nil {
		return err
	}
	if len(req.Columns) == 0 {
		return errorReply(http.StatusBadRequest, "No columns provided.")
	}
	f, err := h.resolveHandle(r.Context(), req.FilePath)
	if err != nil {
		return err
	}
	clauses := make(map[string]string, len(req.Filters))
	for col, c := range req.Filters {
		if c != nil {
			clauses[col] = *c
		}
	}
	where, err := filter.FromLegacy(clauses)
	if err != nil {
		return err
	}
	sel, err := files.Select(f, req.Columns, where)
	if err != nil {
		return explainSelect(f, clauses, err)
	}

	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="filtered.csv"`)
	lw := &lazyWriter{w: w}
	if _, err := h.Files.Cut(r.Context(), f, sel, lw); err != nil {
		if !lw.wrote {
			// Nothing sent yet (the bucket failed on open): a clean error.
			w.Header().Del("Content-Disposition")
			return err
		}
		// Headers are gone; the client sees a cut-short body, the log says why.
		h.Log.WarnContext(r.Context(), "legacy: export failed mid-stream", "file_id", f.ID, "err", err,
			"request_id", requestid.From(r.Context()))
	}
	return nil
}

// explainSelect names the clause behind a selection error. Files.Select
// compiles all clauses together and reports an unknown column without the
// clause it came from, while the old frontend's user needs both: so each
// clause is compiled alone until the culprit is found.
func explainSelect(f *files.File, clauses map[string]string, err error) error {
	var inv *apperr.InvalidError
	if !errors.As(err, &inv) || inv.Field != "where" {
		return err
	}
	cols := make([]string, 0, len(clauses))
	for c := range clauses {
		cols = append(cols, c)
	}
	slices.Sort(cols)
	for _, col := range cols {
		one, ferr := filter.FromLegacy(map[string]string{col: clauses[col]})
		if ferr != nil {
			continue
		}
		if _, serr := files.Select(f, nil, one); errors.As(serr, &inv) {
			return errorReply(http.StatusBadRequest,
				fmt.Sprintf("column %q, filter %q: %s", col, strings.TrimSpace(clauses[col]), inv.Reason))
		}
	}
	return err
}

// lazyWriter records whether anything reached the client, so an error
// before the first byte can still be answered properly.
type lazyWriter struct {
	w     io.Writer
	wrote bool
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.wrote = true
	}
	return l.w.Write(p)
}

// savedFileJSON is one row of #5. Metadata is the JSON text the client
// sent, as a string (the page calls JSON.parse on it), or null.
type savedFileJSON struct {
	FileID     string   `json:"file_id"`
	FileName   string   `json:"file_name"`
	FilePath   string   `json:"file_path"`
	UploadedAt string   `json:"uploaded_at"`
	SystemTags []string `json:"system_tags"`
	UserTags   []string `json:"user_tags"`
	Metadata   *string  `json:"metadata"`
}

// listSavedFiles is endpoint #5: the caller's live files, newest first,
// the newest row per name. Every page of Files.List is read: the old
// endpoint had no paging, so a cap would silently hide files.
func (h *Handler) listSavedFiles(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	out := []savedFileJSON{}
	seen := map[string]bool{}
	// The page shows the metadata, never the column profiles.
	opts := files.ListOptions{First: files.MaxPageSize, Order: files.OrderCreatedAt, Desc: true}
	for {
		page, err := h.Files.ListAnnotated(r.Context(), caller.UserID, opts)
		if err != nil {
			return err
		}
		for _, f := range page.Files {
			if seen[f.Name] {
				continue
			}
			seen[f.Name] = true
			out = append(out, savedFileJSON{
				FileID: f.ID, FileName: f.Name, FilePath: h.handleFor(f.ID),
				UploadedAt: isoTime(f.CreatedAt),
				SystemTags: nonNil(f.SystemTags), UserTags: nonNil(f.UserTags),
				Metadata: f.MetadataJSON,
			})
		}
		if !page.HasNextPage || len(page.Files) == 0 {
			break
		}
		opts.After = page.Cursor(len(page.Files) - 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{"files": out})
	return nil
}

// isoTime formats t as Python's isoformat did for the old server (UTC, Z,
// microseconds only when there are any); the page slices the first 16
// characters.
func isoTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

// nonNil keeps JSON arrays arrays: the frontend maps over them.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// download is endpoint #6: the caller's own file by display name. The name
// is only ever compared with stored names, never used as a path.
func (h *Handler) download(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	name := r.PathValue("file_name")
	if name == "" || !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		// No stored name looks like this (CleanName drops control
		// characters), and PostgreSQL would reject a NUL in a query.
		return apperr.ErrNotFound
	}
	f, err := h.Files.GetByName(r.Context(), caller.UserID, name)
	if err != nil {
		return err
	}
	return download.Serve(w, r, h.Files, f)
}

// deleteFile is endpoint #7. A file deleted before is not found, as it was
// on the old server (Files.Delete alone would call that a success).
func (h *Handler) deleteFile(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	id := r.PathValue("file_id")
	if _, err := h.Files.Get(r.Context(), caller.UserID, id); err != nil {
		return err
	}
	if err := h.Files.Delete(r.Context(), caller.UserID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// updateTags is endpoint #9: the given tags join the existing ones.
func (h *Handler) updateTags(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	var req struct {
		UserTags []string `json:"user_tags"`
	}
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, maxJSONBody), &req); err != nil {
		return err
	}
	if _, err := h.Files.UpdateTags(r.Context(), caller.UserID, r.PathValue("file_id"),
		files.TagChange{Add: req.UserTags}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Tags updated successfully."})
	return nil
}

// lineageNode and lineageEdge are the shapes Cytoscape is fed with.
type lineageNode struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
}

type lineageEdge struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Type   string `json:"type"`
}

// fetchFileLineage is endpoint #11: every file connected to the given one,
// ancestors and descendants, with parent -> child edges, each once.
func (h *Handler) fetchFileLineage(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	id := r.PathValue("file_id")
	// The lineage walk accepts a deleted root (GraphQL shows tombstones);
	// the old endpoint did not know deleted files, so they are not found.
	root, err := h.Files.Get(r.Context(), caller.UserID, id)
	if err != nil {
		return err
	}
	g, err := h.Lineage.Connected(r.Context(), caller.UserID, root.ID)
	if err != nil {
		return err
	}
	if g.Truncated {
		h.Log.WarnContext(r.Context(), "legacy: lineage truncated at the service maxima", "file_id", root.ID)
	}
	nodes := make([]lineageNode, 0, len(g.Nodes))
	seenNode := map[string]bool{}
	for _, n := range g.Nodes {
		if !seenNode[n.ID] {
			seenNode[n.ID] = true
			nodes = append(nodes, lineageNode{FileID: n.ID, FileName: n.Name})
		}
	}
	edges := make([]lineageEdge, 0, len(g.Edges))
	seenEdge := map[[2]string]bool{}
	for _, e := range g.Edges {
		k := [2]string{e.ParentID, e.ChildID}
		if !seenEdge[k] {
			seenEdge[k] = true
			edges = append(edges, lineageEdge{Source: e.ParentID, Target: e.ChildID, Type: lineage.KindCut})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"nodes": nodes, "edges": edges})
	return nil
}
