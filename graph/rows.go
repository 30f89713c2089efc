package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/cutline/cutline/graph/model"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

// rows answers File.rows: a page of rows, each with its source when the
// selection asks for Row.source (read for the whole page at once).
func (r *Resolver) rows(ctx context.Context, obj *model.File, first *int, after *string, columns []string, where *filter.Input, whereSQL *string, sourceIndex *int64) (*model.RowConnection, error) {
	if obj.Deleted() {
		return &model.RowConnection{PageInfo: &model.PageInfo{}}, nil
	}
	expr, err := files.ParseWhere(where, deref(whereSQL))
	if err != nil {
		return nil, err
	}
	full, err := obj.Full()
	if err != nil {
		return nil, err
	}
	sel, err := files.Select(full, columns, expr)
	if err != nil {
		return nil, err
	}
	n := 50
	if first != nil {
		n = *first
	}
	var page *files.RowPage
	if sourceIndex != nil {
		c, err := auth.RequireCaller(ctx)
		if err != nil {
			return nil, err
		}
		if page, err = r.Files.RowsFromSource(ctx, c.UserID, full, sel, n, *sourceIndex); err != nil {
			return nil, err
		}
	} else if page, err = r.Files.Rows(ctx, full, sel, n, deref(after)); err != nil {
		return nil, err
	}
	conn := &model.RowConnection{Columns: page.Columns, Edges: make([]*model.RowEdge, len(page.Rows)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPrevPage}}
	for i := range page.Rows {
		conn.Edges[i] = &model.RowEdge{Cursor: files.RowCursor(page.Rows[i].Index), Node: &model.Row{Row: page.Rows[i]}}
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
		if fc := graphql.GetFieldContext(ctx); fc == nil || anySelected(fc.Field.Selections, 0, isRowSource) {
			if err := r.rowSources(ctx, full, conn.Edges); err != nil {
				return nil, err
			}
		}
	}
	return conn, nil
}

func isRowSource(f *ast.Field) bool {
	return f.Name == "source" && (f.ObjectDefinition == nil || f.ObjectDefinition.Name == "Row")
}

// rowSources fills in the sources of a page's rows: the file's row
// provenance header and the containers the page touches, nothing more.
func (r *Resolver) rowSources(ctx context.Context, f *files.File, edges []*model.RowEdge) error {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return err
	}
	p, err := r.Files.Provenance(ctx, c.UserID, f)
	if err != nil || p == nil {
		return err
	}
	m, err := r.summaries(ctx, c.UserID, []string{p.SourceID})
	if err != nil {
		return err
	}
	src := m[p.SourceID]
	if src == nil {
		return nil // gone for good with its owner
	}
	for _, e := range edges {
		i, ok, err := p.Source(e.Node.Index)
		if err != nil {
			return err
		}
		if ok {
			e.Node.Source = &model.RowSource{File: src, Index: i}
		}
	}
	return nil
}
