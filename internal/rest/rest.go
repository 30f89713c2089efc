// Package rest is the small REST adapter beside GraphQL, for what HTTP does
// better: streaming uploads of large files, downloads with Range and
// conditional requests, streamed cuts, and lineage pictures.
package rest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/download"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
	"github.com/cutline/cutline/internal/formdata"
	"github.com/cutline/cutline/internal/lineage"
	"github.com/cutline/cutline/internal/openlineage"
	"github.com/cutline/cutline/internal/requestid"
)

// Handler serves /api/v1.
type Handler struct {
	Auth    *auth.Service
	Files   *files.Service
	Lineage *lineage.Service
	// OpenLineage describes a lineage's derivations as OpenLineage events.
	OpenLineage *openlineage.Service
	Download    *blobstore.Signer
	Log         *slog.Logger
}

// IdempotencyHeader carries an upload's idempotency key
// (files.NewFile.IdempotencyKey); a retry with the same key answers the
// file the first upload made.
const IdempotencyHeader = "Idempotency-Key"

// FilesPath is where the adapter's routes live.
const FilesPath = "/api/v1/files"

// Register mounts the routes on mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST "+FilesPath, h.upload)
	mux.HandleFunc("GET "+FilesPath+"/{id}/content", h.content)
	mux.HandleFunc("HEAD "+FilesPath+"/{id}/content", h.content)
	mux.HandleFunc("POST "+FilesPath+"/{id}/cut", h.cut)
	mux.HandleFunc("GET "+FilesPath+"/{id}/lineage", h.lineage)
	mux.HandleFunc("GET "+FilesPath+"/{id}/columns/{name}/lineage", h.columnLineage)
	mux.HandleFunc("GET "+FilesPath+"/{id}/openlineage", h.openLineage)
}

// IsStream reports whether path is one of the adapter's routes whose body
// or answer is a whole file (every one of them streams: uploads, contents,
// cuts; a lineage picture is small but shares the prefix), which the
// server exempts from the request deadline and the body cap.
func IsStream(path string) bool {
	return path == FilesPath || strings.HasPrefix(path, FilesPath+"/")
}

// upload streams the request body (raw, or the "file" part of a multipart
// form) straight into the files pipeline; nothing is buffered whole.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	caller, err := auth.RequireCaller(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := r.URL.Query().Get("name")
	tags := splitTags(r.URL.Query()["tags"])
	encoding := r.URL.Query().Get("encoding")
	var body io.Reader = r.Body
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		part, fields, err := filePart(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if name == "" {
			name = fields.Get("name")
		}
		if name == "" {
			name = part.FileName()
		}
		tags = append(tags, splitTags(fields["tags"])...)
		if encoding == "" {
			encoding = fields.Get("encoding")
		}
		body = part
	}
	if name == "" {
		name = "upload.csv"
	}
	// The pipeline stops at the size limit; MaxBytesReader also tells the
	// server to close the connection instead of draining a huge body.
	body = http.MaxBytesReader(w, io.NopCloser(body), h.Files.MaxFileSize()+1<<20)
	nf := files.NewFile{OwnerID: &caller.UserID, Name: name, Tags: tags, Origin: files.OriginUploaded, Encoding: encoding}
	if v, ok := r.Header[IdempotencyHeader]; ok {
		nf.IdempotencyKey = &v[0]
	}
	f, err := h.Files.Create(r.Context(), nf, body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = &apperr.TooLargeError{Limit: h.Files.MaxFileSize()}
		}
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, FileJSON(f))
}

// filePart walks a multipart body to the part named "file", collecting the
// small form fields before it.
func filePart(r *http.Request) (*formdata.Part, url.Values, error) {
	mr, err := formdata.NewReader(r)
	if err != nil {
		return nil, nil, apperr.Invalid(files.FieldFile, "malformed multipart body: %v", err)
	}
	part, fields, err := formdata.FilePart(mr, "file", 64<<10)
	switch {
	case errors.Is(err, formdata.ErrNoFile):
		return nil, nil, apperr.Invalid(files.FieldFile, "no file uploaded: send it in a part named \"file\"")
	case errors.Is(err, formdata.ErrFieldTooLarge):
		return nil, nil, apperr.Invalid(files.FieldFile, "%v: at most 64 KiB before the file part", err)
	case err != nil:
		return nil, nil, apperr.Invalid(files.FieldFile, "%v", err)
	}
	return part, fields, nil
}

func splitTags(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// content streams a file's bytes with Range, ETag and Last-Modified
// support. A Bearer token of the owner, or a signed download token in the
// URL, grants access.
func (h *Handler) content(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var f *files.File
	var err error
	if tok := r.URL.Query().Get("token"); tok != "" {
		var signedID string
		signedID, err = h.Download.Verify(tok, time.Now())
		if err != nil || signedID != id {
			h.fail(w, r, apperr.ErrNotFound)
			return
		}
		f, err = h.Files.GetUnscoped(r.Context(), id)
	} else {
		var caller *auth.Caller
		if caller, err = auth.RequireCaller(r.Context()); err == nil {
			f, err = h.Files.Get(r.Context(), caller.UserID, id)
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if err := download.Serve(w, r, h.Files, f); err != nil {
		h.fail(w, r, err)
	}
}

// CutRequest is the body of POST /api/v1/files/{id}/cut.
type CutRequest struct {
	Columns  []string      `json:"columns"`
	Where    *filter.Input `json:"where"`
	WhereSQL string        `json:"whereSql"`
}

// cut answers the selection of a file as CSV, streamed while reading.
func (h *Handler) cut(w http.ResponseWriter, r *http.Request) {
	caller, err := auth.RequireCaller(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req CutRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && err != io.EOF {
		h.fail(w, r, apperr.Invalid("body", "not a valid cut request: %v", err))
		return
	}
	where, err := files.ParseWhere(req.Where, req.WhereSQL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, err := h.Files.Get(r.Context(), caller.UserID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sel, err := files.Select(f, req.Columns, where)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "cut-" + f.Name}))
	if _, err := h.Files.Cut(r.Context(), f, sel, w); err != nil {
		// Headers are gone; the client sees a truncated body and the log has why.
		h.Log.WarnContext(r.Context(), "cut failed mid-stream", "err", err, "request_id", requestid.From(r.Context()))
	}
}

// lineage draws the lineage graph as JSON, DOT or Mermaid.
func (h *Handler) lineage(w http.ResponseWriter, r *http.Request) {
	caller, p, err := h.walkParams(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g, err := h.Lineage.Graph(r.Context(), caller.UserID, r.PathValue("id"), p.dir, p.depth, p.limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, p.format, func() any { return graphJSON(g) }, func() string { return lineage.DOT(g) }, func() string { return lineage.Mermaid(g) })
}

// columnLineage draws the column lineage around one column of a file as
// JSON, DOT or Mermaid, with the parameters of lineage.
func (h *Handler) columnLineage(w http.ResponseWriter, r *http.Request) {
	caller, p, err := h.walkParams(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	g, err := h.Lineage.ColumnGraph(r.Context(), caller.UserID, r.PathValue("id"), r.PathValue("name"), p.dir, p.depth, p.limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, p.format, func() any { return columnGraphJSON(g) }, func() string { return lineage.ColumnDOT(g) }, func() string { return lineage.ColumnMermaid(g) })
}

// openLineage answers the derivations of a file's lineage as OpenLineage
// RunEvents, with the walk parameters of lineage (JSON only).
func (h *Handler) openLineage(w http.ResponseWriter, r *http.Request) {
	caller, p, err := h.walkParams(r)
	if err == nil && p.format != "" && p.format != "json" {
		err = apperr.Invalid("format", "must be json")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	a, err := h.OpenLineage.Lineage(r.Context(), caller.UserID, r.PathValue("id"), p.dir, p.depth, p.limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": a.Events, "truncated": a.Truncated})
}

// walk is what a lineage route was asked.
type walk struct {
	dir          lineage.Direction
	depth, limit int
	format       string
}

// walkParams reads the caller and the direction, depth, limit and format
// parameters of a lineage route, with the lineage defaults.
func (h *Handler) walkParams(r *http.Request) (*auth.Caller, walk, error) {
	caller, err := auth.RequireCaller(r.Context())
	if err != nil {
		return nil, walk{}, err
	}
	q := r.URL.Query()
	p := walk{dir: lineage.Direction(strings.ToUpper(q.Get("direction"))), format: q.Get("format")}
	if p.dir == "" {
		p.dir = lineage.DefaultDirection
	}
	if !p.dir.Valid() {
		// The feature would refuse it too; this adapter spells directions
		// in lower case.
		return nil, walk{}, apperr.Invalid("direction", "must be upstream, downstream or both")
	}
	if p.depth, err = intParam(q, "depth", lineage.DefaultDepth); err != nil {
		return nil, walk{}, err
	}
	if p.limit, err = intParam(q, "limit", lineage.DefaultLimit); err != nil {
		return nil, walk{}, err
	}
	switch p.format {
	case "", "json", "dot", "mermaid":
	default:
		return nil, walk{}, apperr.Invalid("format", "must be json, dot or mermaid")
	}
	return caller, p, nil
}

// render writes a graph in the format asked.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, format string, asJSON func() any, dot, mermaid func() string) {
	switch format {
	case "dot":
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		io.WriteString(w, dot())
	case "mermaid":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, mermaid())
	default:
		writeJSON(w, http.StatusOK, asJSON())
	}
}

// intParam reads the whole-number query parameter name, def when absent.
func intParam(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, apperr.Invalid(name, "must be a whole number, not %q", s)
	}
	return n, nil
}

// FileJSON is the REST shape of a file.
func FileJSON(f *files.File) map[string]any {
	return map[string]any{
		"id": f.ID, "name": f.Name, "size": f.Size, "sha256": f.SHA256, "contentType": f.ContentType,
		"createdAt": f.CreatedAt, "origin": f.Origin, "systemTags": f.SystemTags, "userTags": f.UserTags,
		"rowCount": f.RowCount, "delimiter": f.Delimiter, "encoding": f.Encoding, "columns": columnsJSON(f.Columns()),
		"readIssues": readIssuesJSON(f.ReadIssues), "metadata": f.Metadata(),
	}
}

// columnJSON is the REST shape of a column, named like GraphQL's Column.
// csvio.Column has no JSON names of its own: its Go names are how column
// profiles are stored.
type columnJSON struct {
	Name       string  `json:"name"`
	Index      int     `json:"index"`
	Type       string  `json:"type"`
	NullCount  int64   `json:"nullCount"`
	Min        *string `json:"min"`
	Max        *string `json:"max"`
	DateFormat string  `json:"dateFormat,omitempty"`
}

func columnsJSON(cols []csvio.Column) []columnJSON {
	out := make([]columnJSON, len(cols))
	for i, c := range cols {
		out[i] = columnJSON{Name: c.Name, Index: c.Index, Type: string(c.Type), NullCount: c.NullCount, Min: c.Min, Max: c.Max}
		if c.Type == csvio.TypeDateTime {
			// As GraphQL's Column.dateFormat: profiles stored before the
			// format was recorded are ISO.
			out[i].DateFormat = cmp.Or(c.DateFormat, csvio.DateISO)
		}
	}
	return out
}

// readIssuesJSON is the REST shape of a file's read issues, named like the
// GraphQL type; null for files stored before they were counted.
func readIssuesJSON(ri *files.ReadIssues) any {
	if ri == nil {
		return nil
	}
	return map[string]int64{"shortRows": ri.ShortRows, "longRows": ri.LongRows, "repairedRows": ri.RepairedRows}
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	writeError(w, r, log, err)
}

// writeError is this adapter's one mapping from feature errors to HTTP.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status, code, msg := http.StatusInternalServerError, "INTERNAL", "internal error"
	var inv *apperr.InvalidError
	var rl *apperr.RateLimitError
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		status, code, msg = http.StatusNotFound, "NOT_FOUND", "not found"
	case errors.Is(err, apperr.ErrUnauthenticated):
		status, code, msg = http.StatusUnauthorized, "UNAUTHENTICATED", "authentication required"
		w.Header().Set("WWW-Authenticate", `Bearer realm="cutline"`)
	case errors.As(err, &inv):
		status, code, msg = http.StatusBadRequest, "BAD_USER_INPUT", inv.Error()
	case errors.Is(err, apperr.ErrTooLarge):
		status, code, msg = http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", err.Error()
	case errors.As(err, &rl):
		status, code, msg = http.StatusTooManyRequests, "RATE_LIMITED", rl.Error()
		w.Header().Set("Retry-After", strconv.Itoa(int(rl.RetryAfter.Seconds()+0.999)))
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		log.DebugContext(r.Context(), "request cancelled by the client", "err", err)
		status, code, msg = 499, "CANCELLED", "request cancelled"
	case apperr.IsStorageFull(err):
		status, code, msg = http.StatusInsufficientStorage, "INSUFFICIENT_STORAGE", "storage is full, try again later"
		w.Header().Set("Retry-After", strconv.Itoa(int(apperr.UnavailableRetryAfter.Seconds())))
		log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", requestid.From(r.Context()))
	case apperr.IsUnavailable(err):
		status, code, msg = http.StatusServiceUnavailable, "UNAVAILABLE", "storage is unavailable, try again"
		w.Header().Set("Retry-After", strconv.Itoa(int(apperr.UnavailableRetryAfter.Seconds())))
		fallthrough
	default:
		log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", requestid.From(r.Context()))
	}
	body := map[string]string{"error": msg, "code": code}
	if inv != nil && inv.Field != "" {
		body["field"] = inv.Field
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type nodeJSON struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Deleted  bool   `json:"deleted"`
	Distance int    `json:"distance"`
}

type edgeJSON struct {
	Parent    string    `json:"parent"`
	Child     string    `json:"child"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"createdAt"`
}

// graphJSON is the REST shape of a lineage graph, named like the GraphQL one.
func graphJSON(g *lineage.Graph) map[string]any {
	nodes := make([]nodeJSON, len(g.Nodes))
	for i, n := range g.Nodes {
		nodes[i] = nodeJSON{ID: n.ID, Name: n.Name, Deleted: n.Deleted, Distance: n.Distance}
	}
	edges := make([]edgeJSON, len(g.Edges))
	for i, e := range g.Edges {
		edges[i] = edgeJSON{Parent: e.ParentID, Child: e.ChildID, Kind: e.Kind, CreatedAt: e.CreatedAt}
	}
	return map[string]any{"root": g.RootID, "nodes": nodes, "edges": edges, "truncated": g.Truncated}
}

type columnNodeJSON struct {
	File       string `json:"file"`
	FileName   string `json:"fileName"`
	Deleted    bool   `json:"deleted"`
	Column     string `json:"column"`
	AllColumns bool   `json:"allColumns"`
	Distance   int    `json:"distance"`
}

type columnEndJSON struct {
	File       string `json:"file"`
	Column     string `json:"column"`
	AllColumns bool   `json:"allColumns"`
}

type columnEdgeJSON struct {
	From columnEndJSON `json:"from"`
	To   columnEndJSON `json:"to"`
	Kind string        `json:"kind"`
}

// columnGraphJSON is the REST shape of a column lineage graph, named like
// the GraphQL one (files by id).
func columnGraphJSON(g *lineage.ColumnGraph) map[string]any {
	nodes := make([]columnNodeJSON, len(g.Nodes))
	var root columnNodeJSON
	for i, n := range g.Nodes {
		nodes[i] = columnNodeJSON{File: n.FileID, FileName: n.FileName, Deleted: n.Deleted, Column: n.Column, AllColumns: n.AllColumns, Distance: n.Distance}
		if n.Distance == 0 {
			root = nodes[i]
		}
	}
	edges := make([]columnEdgeJSON, len(g.Edges))
	for i, e := range g.Edges {
		from, to := g.Nodes[e.From], g.Nodes[e.To]
		edges[i] = columnEdgeJSON{From: columnEndJSON{from.FileID, from.Column, from.AllColumns}, To: columnEndJSON{to.FileID, to.Column, to.AllColumns}, Kind: string(e.Kind)}
	}
	return map[string]any{"root": root, "nodes": nodes, "edges": edges, "truncated": g.Truncated}
}
