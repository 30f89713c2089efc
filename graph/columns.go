package graph

import (
	"context"
	"sync"

	"github.com/cutline/cutline/graph/model"
	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/lineage"
)

// columnLinks caches, for one request, the one-hop column dependencies of
// files by file id: loaded once per file (and its page's siblings), however
// many of its columns ask.
type columnLinks struct {
	mu   sync.Mutex
	fill sync.Mutex
	m    map[string]map[string][]lineage.ColumnRef // side + "/" + file id
}

// columnRefs answers Column.sources (up) or Column.consumers (down).
func (r *Resolver) columnRefs(ctx context.Context, col *model.Column, upstream bool) ([]*model.ColumnRef, error) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, err
	}
	rc := cacheFrom(ctx)
	side := "down"
	load := r.Lineage.ColumnConsumers
	if upstream {
		side, load = "up", r.Lineage.ColumnSources
	}
	byColumn, err := rc.columnLinks(ctx, side, col.File, func(ids []string) (map[string]map[string][]lineage.ColumnRef, error) {
		return load(ctx, c.UserID, ids)
	})
	if err != nil {
		return nil, err
	}
	refs := byColumn[col.Name]
	if upstream {
		refs = lineage.SourcesOf(byColumn, col.Name)
	}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		ids = append(ids, ref.FileID)
	}
	if err := r.loadFiles(ctx, c.UserID, ids); err != nil {
		return nil, err
	}
	out := make([]*model.ColumnRef, 0, len(refs))
	for _, ref := range refs {
		if f, _ := rc.file(ref.FileID); f != nil {
			out = append(out, &model.ColumnRef{File: f, Column: ref.Column, AllColumns: ref.AllColumns, Kind: ref.Kind})
		}
	}
	return out, nil
}

// columnLinks returns the dependencies of f on side, loading them with
// load for f and the other files of its page at the first ask.
func (c *requestCache) columnLinks(ctx context.Context, side string, f *model.File,
	load func(ids []string) (map[string]map[string][]lineage.ColumnRef, error)) (map[string][]lineage.ColumnRef, error) {
	get := func() (map[string][]lineage.ColumnRef, bool) {
		c.cols.mu.Lock()
		defer c.cols.mu.Unlock()
		m, ok := c.cols.m[side+"/"+f.ID]
		return m, ok
	}
	if m, ok := get(); ok {
		return m, nil
	}
	c.cols.fill.Lock()
	defer c.cols.fill.Unlock()
	if m, ok := get(); ok {
		return m, nil
	}
	ids := c.withSiblings([]*model.File{f})
	got, err := load(ids)
	if err != nil {
		return nil, err
	}
	c.cols.mu.Lock()
	defer c.cols.mu.Unlock()
	if c.cols.m == nil {
		c.cols.m = map[string]map[string][]lineage.ColumnRef{}
	}
	for _, id := range ids {
		c.cols.m[side+"/"+id] = got[id] // nil: none
	}
	c.cols.m[side+"/"+f.ID] = got[f.ID]
	return got[f.ID], nil
}

// columnGraph answers Query.columnLineage and File.columnLineage.
func (r *Resolver) columnGraph(ctx context.Context, id, column string, dir *lineage.Direction, depth, limit *int) (*model.ColumnLineageGraph, error) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, err
	}
	d, dp, lm := walkArgs(dir, depth, limit)
	g, err := r.Lineage.ColumnGraph(ctx, c.UserID, id, column, d, dp, lm)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if !seen[n.FileID] {
			seen[n.FileID] = true
			ids = append(ids, n.FileID)
		}
	}
	m, err := r.summaries(ctx, c.UserID, ids)
	if err != nil {
		return nil, err
	}
	out := &model.ColumnLineageGraph{Truncated: g.Truncated, Graph: g}
	nodes := make([]*model.ColumnLineageNode, len(g.Nodes))
	for i, n := range g.Nodes {
		f := m[n.FileID]
		if f == nil {
			// Deleted for good (its owner removed) since the walk read it.
			return nil, apperr.ErrNotFound
		}
		nodes[i] = &model.ColumnLineageNode{File: f, Column: n.Column, AllColumns: n.AllColumns, Distance: n.Distance}
		if n.Distance == 0 {
			out.Root = nodes[i]
		}
	}
	out.Nodes = nodes
	for _, e := range g.Edges {
		out.Edges = append(out.Edges, &model.ColumnLineageEdge{From: nodes[e.From], To: nodes[e.To], Kind: e.Kind})
	}
	if out.Root == nil {
		return nil, apperr.ErrNotFound
	}
	return out, nil
}
