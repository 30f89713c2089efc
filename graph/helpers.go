package graph

import (
	"context"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/cutline/cutline/graph/model"
	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

type ctxKey int

const (
	requestKey ctxKey = iota
	cacheKey
)

// WithRequest keeps the HTTP request for what resolvers need from it (the
// client address for login limits).
func WithRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey, r)))
	})
}

// Request is the HTTP request that carried the operation (the upgrade
// request, for a websocket), or nil.
func Request(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey).(*http.Request)
	return r
}

// ClientKey is the client address limits count the operation against
// (auth.ClientKey), or "" outside HTTP.
func ClientKey(ctx context.Context) string {
	if r := Request(ctx); r != nil {
		return auth.ClientKey(r)
	}
	return ""
}

// ClientIP is the address of the client that sent the operation.
func ClientIP(ctx context.Context) string {
	if r, ok := ctx.Value(requestKey).(*http.Request); ok {
		return auth.ClientIP(r)
	}
	return ""
}

// RequestCache gives every response its own cache: one per query or
// mutation, and one per event of a subscription, whose operation lives as
// long as its websocket; what one event read is never served, stale, to
// the next.
type RequestCache struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = RequestCache{}

// ExtensionName names the extension for gqlgen.
func (RequestCache) ExtensionName() string { return "RequestCache" }

// Validate accepts any schema.
func (RequestCache) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse runs one response with a fresh cache.
func (RequestCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, cacheKey, newRequestCache()))
}

// requestCache remembers, for one request, users (every file of a page has
// the same owner), files and lineage neighbours already loaded.
type requestCache struct {
	mu    sync.Mutex
	users map[int64]*auth.User
	files map[string]*model.File
	adj   map[string][]string // kind + "/" + id
	// pages holds, for each file of a listing, the ids of its page, so that
	// what one file's fields load is loaded for the whole page (siblings).
	pages map[string][]string
	// fill is held while lineage neighbours load: gqlgen resolves sibling
	// files at once, and the first loads for all of them.
	fill sync.Mutex
	// cols holds the column dependencies loaded (Column.sources, consumers).
	cols columnLinks
}

// newRequestCache returns an empty cache; its maps are made on first write,
// since most requests never use them.
func newRequestCache() *requestCache { return &requestCache{} }

// cacheFrom returns the request's cache, or a throwaway one outside HTTP.
func cacheFrom(ctx context.Context) *requestCache {
	if c, ok := ctx.Value(cacheKey).(*requestCache); ok {
		return c
	}
	return newRequestCache()
}

func (c *requestCache) adjacent(kind, id string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids, ok := c.adj[kind+"/"+id]
	return ids, ok
}

func (c *requestCache) setAdjacent(kind, id string, ids []string) {
	c.mu.Lock()
	if c.adj == nil {
		c.adj = map[string][]string{}
	}
	c.adj[kind+"/"+id] = ids
	c.mu.Unlock()
}

func (c *requestCache) file(id string) (*model.File, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.files[id]
	return f, ok
}

func (c *requestCache) pick(ids []string) []*model.File {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*model.File, 0, len(ids))
	for _, id := range ids {
		if f := c.files[id]; f != nil {
			out = append(out, f)
		}
	}
	return out
}

func (r *Resolver) user(ctx context.Context, id int64) (*auth.User, error) {
	c := cacheFrom(ctx)
	c.mu.Lock()
	u := c.users[id]
	c.mu.Unlock()
	if u != nil {
		return u, nil
	}
	u, err := r.Auth.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.users == nil {
		c.users = map[int64]*auth.User{}
	}
	c.users[id] = u
	c.mu.Unlock()
	return u, nil
}

// neighbours answers parents or children. The first time a request asks
// for them it loads the whole nested parents/children tree of the query
// level by level (one edge query and one file query per level), so the
// number of statements does not grow with the number of files.
func (r *fileResolver) neighbours(ctx context.Context, objs []*model.File, kind string) ([][]*model.File, error) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, err
	}
	rc := cacheFrom(ctx)
	rc.fill.Lock()
	defer rc.fill.Unlock()
	var missing []string
	for _, id := range rc.withSiblings(objs) {
		if _, ok := rc.adjacent(kind, id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		var sel ast.SelectionSet
		if fc := graphql.GetFieldContext(ctx); fc != nil {
			sel = fc.Field.Selections
		}
		if err := r.prefetch(ctx, c.UserID, kind, missing, sel, 0); err != nil {
			return nil, err
		}
	}
	out := make([][]*model.File, len(objs))
	for i, f := range objs {
		ids, _ := rc.adjacent(kind, f.ID)
		out[i] = rc.pick(ids)
	}
	return out, nil
}

// prefetch loads kind ("parents" or "children") for ids, then whatever
// parents/children the selection asks of those files, one level at a time.
func (r *fileResolver) prefetch(ctx context.Context, owner int64, kind string, ids []string, sel ast.SelectionSet, level int) error {
	load := r.Resolver.Lineage.Children
	if kind == "parents" {
		load = r.Resolver.Lineage.Parents
	}
	adj, err := load(ctx, owner, ids)
	if err != nil {
		return err
	}
	rc := cacheFrom(ctx)
	var next []string
	seen := map[string]bool{}
	for _, id := range ids {
		rc.setAdjacent(kind, id, adj[id])
		for _, n := range adj[id] {
			if !seen[n] {
				seen[n] = true
				next = append(next, n)
			}
		}
	}
	if err := r.loadFiles(ctx, owner, next); err != nil {
		return err
	}
	if len(next) == 0 || level > 32 {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(oc, sel, []string{"File"}) {
		if f.Name != "parents" && f.Name != "children" {
			continue
		}
		if err := r.prefetch(ctx, owner, f.Name, next, f.Selections, level+1); err != nil {
			return err
		}
	}
	return nil
}

// loadFiles puts the files of ids into the request cache.
func (r *Resolver) loadFiles(ctx context.Context, owner int64, ids []string) error {
	rc := cacheFrom(ctx)
	var missing []string
	for _, id := range ids {
		if _, ok := rc.file(id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	m, err := r.Files.GetMany(ctx, owner, missing)
	if err != nil {
		return err
	}
	rc.mu.Lock()
	if rc.files == nil {
		rc.files = make(map[string]*model.File, len(missing))
	}
	for _, id := range missing {
		rc.files[id] = model.WholeFile(m[id]) // nil records "not the caller's"
	}
	rc.mu.Unlock()
	return nil
}

// walkArgs is a walk's direction, depth and limit, the lineage defaults
// where the operation gave none.
func walkArgs(dir *lineage.Direction, depth, limit *int) (lineage.Direction, int, int) {
	d, dp, lm := lineage.DefaultDirection, lineage.DefaultDepth, lineage.DefaultLimit
	if dir != nil {
		d = *dir
	}
	if depth != nil {
		dp = *depth
	}
	if limit != nil {
		lm = *limit
	}
	return d, dp, lm
}

func (r *Resolver) lineageGraph(ctx context.Context, id string, dir *lineage.Direction, depth, limit *int) (*model.LineageGraph, error) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, err
	}
	d, dp, lm := walkArgs(dir, depth, limit)
	g, err := r.Lineage.Graph(ctx, c.UserID, id, d, dp, lm)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[i] = n.ID
	}
	var m map[string]*model.File
	if fc := graphql.GetFieldContext(ctx); fc != nil && !selectsDetails(fc.Field.Selections, 0) {
		m, err = r.summaries(ctx, c.UserID, ids)
	} else {
		m, err = r.wholeFiles(ctx, c.UserID, ids)
	}
	if err != nil {
		return nil, err
	}
	out := &model.LineageGraph{Root: m[g.RootID], Truncated: g.Truncated, Graph: g}
	if out.Root == nil {
		return nil, apperr.ErrNotFound
	}
	for _, n := range g.Nodes {
		if f := m[n.ID]; f != nil {
			out.Nodes = append(out.Nodes, &model.LineageNode{File: f, Distance: n.Distance})
		}
	}
	for _, e := range g.Edges {
		p, ch := m[e.ParentID], m[e.ChildID]
		if p != nil && ch != nil {
			out.Edges = append(out.Edges, &model.LineageEdge{Parent: p, Child: ch, Kind: e.Kind, CreatedAt: e.CreatedAt})
		}
	}
	return out, nil
}

func (r *Resolver) fileConnection(ctx context.Context, owner int64, first *int, after *string, last *int, before *string,
	f *model.FileFilter, order *model.FileOrder) (*model.FileConnection, error) {
	o := listOptions(first, after, last, before, f, order)
	want := listingSelection(ctx)
	if want.details {
		p, err := r.Files.List(ctx, owner, o)
		if err != nil {
			return nil, err
		}
		return cacheFrom(ctx).listed(connection(owner, o.Filter, want, p, model.WholeFile)), nil
	}
	p, err := r.Files.ListSummaries(ctx, owner, o)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(p.Files))
	for i, f := range p.Files {
		ids[i] = f.ID
	}
	rest := model.NewRest(func() (map[string]*files.File, error) { return r.Files.GetMany(ctx, owner, ids) })
	return cacheFrom(ctx).listed(connection(owner, o.Filter, want, p, func(s *files.Summary) *model.File { return model.SummaryFile(s, rest) })), nil
}

// listOptions are the files feature's terms for a listing's arguments.
func listOptions(first *int, after *string, last *int, before *string, f *model.FileFilter, order *model.FileOrder) files.ListOptions {
	o := files.ListOptions{First: derefInt(first), Last: derefInt(last), After: deref(after), Before: deref(before), Desc: true}
	if f != nil {
		o.Filter = files.Filter{Tags: f.Tags, NameContains: deref(f.NameContains)}
		if f.Origin != nil {
			o.Filter.Origin = *f.Origin
		}
	}
	if order != nil {
		o.Order = files.OrderField(order.Field)
		o.Desc = order.Direction == model.OrderDirectionDesc
	}
	return o
}

// connection is a page of a listing as a FileConnection.
func connection[R files.Record](owner int64, filter files.Filter, want listed, p *files.Page[R], wrap func(R) *model.File) *model.FileConnection {
	conn := &model.FileConnection{OwnerID: owner, Filter: filter, Edges: make([]*model.FileEdge, len(p.Files)),
		PageInfo: &model.PageInfo{HasNextPage: p.HasNextPage, HasPreviousPage: p.HasPreviousPage}}
	for i, file := range p.Files {
		conn.Edges[i] = &model.FileEdge{Node: wrap(file)}
		if want.cursors {
			conn.Edges[i].Cursor = p.Cursor(i)
		}
	}
	if n := len(p.Files); n > 0 && want.pageCursors {
		first, last := p.Cursor(0), p.Cursor(n-1)
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &first, &last
	}
	return conn
}

// wholeFiles reads owner's files of ids whole.
func (r *Resolver) wholeFiles(ctx context.Context, owner int64, ids []string) (map[string]*model.File, error) {
	m, err := r.Files.GetMany(ctx, owner, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*model.File, len(m))
	for id, f := range m {
		out[id] = model.WholeFile(f)
	}
	return out, nil
}

// summaries reads the summaries of owner's files of ids; the rest of them
// is read, for all at once, if some field asks for it.
func (r *Resolver) summaries(ctx context.Context, owner int64, ids []string) (map[string]*model.File, error) {
	m, err := r.Files.GetSummaries(ctx, owner, ids)
	if err != nil {
		return nil, err
	}
	rest := model.NewRest(func() (map[string]*files.File, error) { return r.Files.GetMany(ctx, owner, ids) })
	out := make(map[string]*model.File, len(m))
	for id, s := range m {
		out[id] = model.SummaryFile(s, rest)
	}
	return out, nil
}

// selectsDetails reports whether sel selects, at any depth and through
// fragments, a File field that reads more than the file's summary, erring
// towards yes as anySelected does. It only saves a query: a file read as a
// summary reads the rest when a field asks for it.
func selectsDetails(sel ast.SelectionSet, depth int) bool {
	return anySelected(sel, depth, detailField)
}

func detailField(f *ast.Field) bool {
	return f.ObjectDefinition == nil || f.ObjectDefinition.Name == "File" && needsDetails(f.Name)
}

// needsDetails reports whether a File field reads more than the summary:
// the fields the executor reads in place from the model itself rather than
// from the summary it embeds (graph/generate writes both tables from the
// bindings, so they cannot drift), and rows, whose resolver reads the
// column profile.
func needsDetails(field string) bool {
	return field == "rows" || inlineFields["File"][field] && !embeddedFields["File"][field]
}

// listed is what a query asks of a listing (a FileConnection field).
type listed struct {
	details     bool // some file field reads more than the summary
	cursors     bool // edges { cursor }
	pageCursors bool // pageInfo, which holds the first and last cursors
}

// listingSelection reads the selection of the FileConnection field being
// resolved, fragments and @skip/@include applied. Anything it cannot read
// asks for everything.
func listingSelection(ctx context.Context) listed {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return listed{details: true, cursors: true, pageCursors: true}
	}
	op := graphql.GetOperationContext(ctx)
	var out listed
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, []string{"FileConnection"}) {
		switch f.Name {
		case "pageInfo":
			out.pageCursors = true
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{"FileEdge"}) {
				switch e.Name {
				case "cursor":
					out.cursors = true
				case "node":
					for _, n := range graphql.CollectFields(op, e.Selections, []string{"File"}) {
						out.details = out.details || needsDetails(n.Name)
					}
				}
			}
		}
	}
	return out
}

func authPayload(t *auth.Tokens) *model.AuthPayload {
	return &model.AuthPayload{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresAt: t.ExpiresAt, User: t.User}
}

// pick returns the files of ids found in m, in the order of ids.
func pick(m map[string]*files.File, ids []string) []*model.File {
	out := make([]*model.File, 0, len(ids))
	for _, id := range ids {
		if f := m[id]; f != nil {
			out = append(out, model.WholeFile(f))
		}
	}
	return out
}

// whole is a feature call's file as the File type's model.
func whole(f *files.File, err error) (*model.File, error) {
	if err != nil {
		return nil, err
	}
	return model.WholeFile(f), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

// tokenUser is the caller as their verified access token names them: what
// Query.me answers, with no database trip, when only the token's fields
// are selected.
func tokenUser(c *auth.Caller) *auth.User { return &auth.User{ID: c.UserID, Username: c.Username} }

// onlyTokenFields reports whether the current User selection asks for
// nothing beyond what an access token carries (id and username).
func onlyTokenFields(ctx context.Context) bool {
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		switch f.Name {
		case "id", "username", "__typename":
		default:
			return false
		}
	}
	return true
}
