package graph

import (
	"context"
	"encoding/base64"
	"slices"

	"github.com/99designs/gqlgen/graphql"

	"github.com/cutline/cutline/graph/model"
	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
)

// neighbourConnections answers parentsConnection or childrenConnection
// (kind "parents" or "children") for a batch of files. The neighbours' ids
// come from the request cache that parents and children fill (one query for
// the whole batch), and only the files of each page are read.
//
// A cursor is the neighbour's id, so a page continues after the same file
// even when edges were added since: they come last, in the order of parents
// and children (oldest edge first).
func (r *fileResolver) neighbourConnections(ctx context.Context, objs []*model.File, kind string, first *int, after *string) ([]*model.FileConnection, error) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, err
	}
	n := derefInt(first)
	switch {
	case n < 0:
		return nil, apperr.Invalid("first", "must not be negative")
	case n == 0:
		n = 20 // as a listing of files
	case n > files.MaxPageSize:
		return nil, apperr.Invalid("first", "at most %d files per page", files.MaxPageSize)
	}
	rc := cacheFrom(ctx)
	rc.fill.Lock()
	defer rc.fill.Unlock()
	// Without a cursor, which names a place in one file's list, every file
	// of a listing asks for the same page: its siblings' pages are read
	// with its own, and their turn finds them in the cache.
	ids := rc.withSiblings(objs)
	if deref(after) != "" {
		ids = ids[:0:0]
		for _, f := range objs {
			ids = append(ids, f.ID)
		}
	}
	if err := r.loadAdjacent(ctx, c.UserID, kind, ids); err != nil {
		return nil, err
	}
	if deref(after) == "" && len(ids) > len(objs) {
		var want []string
		for _, id := range ids {
			adj, _ := rc.adjacent(kind, id)
			want = append(want, adj[:min(n, len(adj))]...)
		}
		if err := r.loadFiles(ctx, c.UserID, want); err != nil {
			return nil, err
		}
	}

	type page struct {
		ids          []string
		start, total int
	}
	pages := make([]page, len(objs))
	var errs graphql.BatchErrorList
	var want []string
	for i, f := range objs {
		ids, _ := rc.adjacent(kind, f.ID)
		start := 0
		if a := deref(after); a != "" {
			at := slices.Index(ids, neighbourOfCursor(a))
			if at < 0 {
				if errs == nil {
					errs = make(graphql.BatchErrorList, len(objs))
				}
				errs[i] = apperr.Invalid("after", "not a cursor of this file's %s", kind)
				continue
			}
			start = at + 1
		}
		end := min(start+n, len(ids))
		pages[i] = page{ids: ids[start:end], start: start, total: len(ids)}
		want = append(want, pages[i].ids...)
	}
	if err := r.loadFiles(ctx, c.UserID, want); err != nil {
		return nil, err
	}

	out := make([]*model.FileConnection, len(objs))
	for i, p := range pages {
		if errs != nil && errs[i] != nil {
			continue
		}
		conn := &model.FileConnection{Total: &p.total, Edges: make([]*model.FileEdge, 0, len(p.ids)),
			PageInfo: &model.PageInfo{HasNextPage: p.start+len(p.ids) < p.total, HasPreviousPage: p.start > 0}}
		for _, id := range p.ids {
			if f, _ := rc.file(id); f != nil {
				conn.Edges = append(conn.Edges, &model.FileEdge{Cursor: neighbourCursor(id), Node: f})
			}
		}
		if k := len(conn.Edges); k > 0 {
			conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &conn.Edges[0].Cursor, &conn.Edges[k-1].Cursor
		}
		out[i] = rc.listed(conn)
	}
	if errs != nil {
		return out, errs
	}
	return out, nil
}

// listed records the files of conn as one page, for withSiblings.
func (c *requestCache) listed(conn *model.FileConnection) *model.FileConnection {
	ids := make([]string, 0, len(conn.Edges))
	for _, e := range conn.Edges {
		ids = append(ids, e.Node.ID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = map[string][]string{}
	}
	for _, id := range ids {
		c.pages[id] = ids
	}
	return conn
}

// withSiblings is the ids of objs and, when gqlgen resolves one file at a
// time (files of a connection are not one GraphQL list, so it cannot batch
// them), of the other files of its page.
func (c *requestCache) withSiblings(objs []*model.File) []string {
	ids := make([]string, 0, len(objs))
	for _, f := range objs {
		ids = append(ids, f.ID)
	}
	if len(objs) != 1 {
		return ids
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if page := c.pages[objs[0].ID]; len(page) > 0 {
		return page
	}
	return ids
}

// loadAdjacent puts the neighbours' ids of the files of ids (kind "parents"
// or "children") into the request cache, in one query for those not there.
func (r *Resolver) loadAdjacent(ctx context.Context, owner int64, kind string, ids []string) error {
	rc := cacheFrom(ctx)
	var missing []string
	for _, id := range ids {
		if _, ok := rc.adjacent(kind, id); !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	load := r.Lineage.Children
	if kind == "parents" {
		load = r.Lineage.Parents
	}
	adj, err := load(ctx, owner, missing)
	if err != nil {
		return err
	}
	for _, id := range missing {
		rc.setAdjacent(kind, id, adj[id])
	}
	return nil
}

// A neighbour cursor is opaque to clients: the neighbour's id, encoded.
func neighbourCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n:" + id))
}

// neighbourOfCursor is the id a cursor names, or "" for anything else.
func neighbourOfCursor(cursor string) string {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < 3 || string(b[:2]) != "n:" {
		return ""
	}
	return string(b[2:])
}
