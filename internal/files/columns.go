package files

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/filter"
	"github.com/cutline/cutline/internal/lineage"
)

// columnPlan computes a new file's column lineage once its columns are
// known (they are learned while its bytes are stored).
type columnPlan func(child *File) []lineage.ColumnEdge

// cutColumns is the column lineage of a server-side cut of src: each
// output column is the source column of that name (IDENTITY), and every
// column the filter reads decided which rows were kept (FILTER).
func cutColumns(src *File, sel *Selection, where filter.Expr) columnPlan {
	return func(child *File) []lineage.ColumnEdge {
		var out []lineage.ColumnEdge
		for _, name := range sel.Names {
			out = append(out, lineage.ColumnEdge{ParentID: src.ID, ParentColumn: name, ChildID: child.ID, ChildColumn: name, Kind: lineage.ColumnIdentity})
		}
		for _, name := range filterColumns(src, where) {
			out = append(out, lineage.ColumnEdge{ParentID: src.ID, ParentColumn: name, ChildID: child.ID, Kind: lineage.ColumnFilter})
		}
		return out
	}
}

// filterColumns is the distinct columns of f that where reads, by their
// names in f (the filter may have spelled them in another case).
func filterColumns(f *File, where filter.Expr) []string {
	if where == nil {
		return nil
	}
	var out []string
	for _, ref := range filter.Columns(where) {
		i, err := resolveColumn(f.Columns(), ref)
		if err != nil {
			continue // Select compiled it: unreachable for a cut
		}
		if name := f.Columns()[i].Name; !contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// inferredColumns is the column lineage of a file a client made from
// parents: a column named like a column of a parent is taken for a copy
// of it (INFERRED), and the columns of the filter recorded in the legacy
// metadata (LegacyFilter) as what chose the rows (FILTER), from every
// parent that has them.
func inferredColumns(parents []*File, metadata *string) columnPlan {
	clauses := LegacyFilter(metadata)
	return func(child *File) []lineage.ColumnEdge {
		var out []lineage.ColumnEdge
		for _, p := range parents {
			for _, c := range child.Columns() {
				if i, err := resolveColumn(p.Columns(), c.Name); err == nil {
					out = append(out, lineage.ColumnEdge{ParentID: p.ID, ParentColumn: p.Columns()[i].Name, ChildID: child.ID, ChildColumn: c.Name, Kind: lineage.ColumnInferred})
				}
			}
			var seen []string
			for col := range clauses {
				i, err := resolveColumn(p.Columns(), col)
				if err != nil || contains(seen, p.Columns()[i].Name) {
					continue
				}
				seen = append(seen, p.Columns()[i].Name)
			}
			sort.Strings(seen)
			for _, name := range seen {
				out = append(out, lineage.ColumnEdge{ParentID: p.ID, ParentColumn: name, ChildID: child.ID, Kind: lineage.ColumnFilter})
			}
		}
		return out
	}
}

// LegacyFilter is the row filter a client-made file's metadata records,
// as the legacy frontend writes it
// ({"generated_file_details": {"column_filters": {"age": ">= 18"}}}): the
// clauses by column, blank ones left out. Metadata of any other shape
// records none.
func LegacyFilter(metadata *string) map[string]string {
	if metadata == nil {
		return nil
	}
	var doc struct {
		Details struct {
			Filters map[string]any `json:"column_filters"`
		} `json:"generated_file_details"`
	}
	text := *metadata
	var inner string
	if json.Unmarshal([]byte(text), &inner) == nil {
		text = inner // JSON text sent as a JSON string
	}
	if json.Unmarshal([]byte(text), &doc) != nil {
		return nil
	}
	out := map[string]string{}
	for col, v := range doc.Details.Filters {
		if s, ok := v.(string); ok && strings.TrimSpace(s) != "" {
			out[col] = s
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// LegacyFilterSQL is LegacyFilter written as a SQL WHERE expression, ""
// when there is none or it cannot be read.
func LegacyFilterSQL(metadata *string) string {
	clauses := LegacyFilter(metadata)
	if clauses == nil {
		return ""
	}
	e, err := filter.FromLegacy(clauses)
	if err != nil {
		return ""
	}
	return filter.SQL(e)
}

// LinkImported records, in one transaction, that owner's file childID was
// derived from parentID at at, as an import found it: the lineage edge
// (under the lineage lock and cycle check), the column lineage inferred
// as for a saved generated file (inferredColumns) and, with
// Options.OpenLineage, its OpenLineage delivery.
func (s *Service) LinkImported(ctx context.Context, owner int64, childID, parentID string, at time.Time, opts lineage.AddOptions) error {
	got, err := many(ctx, s.st, owner, []string{childID, parentID}, fileShape)
	if err != nil {
		return fmt.Errorf("load imported files: %w", err)
	}
	var cols []lineage.ColumnEdge
	if child, parent := got[childID], got[parentID]; child != nil && parent != nil {
		cols = inferredColumns([]*File{parent}, child.MetadataJSON)(child)
	}
	return s.st.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := s.st.edges.AddEdges(ctx, tx, owner, childID, []string{parentID}, lineage.KindCut, at, opts); err != nil {
			return err
		}
		if err := s.st.edges.AddColumnEdges(ctx, tx, cols); err != nil {
			return err
		}
		if !s.outbox {
			return nil
		}
		id, _ := database.CanonicalID(childID) // AddEdges accepted it
		return s.st.edges.Enqueue(ctx, tx, id, at.UTC().Truncate(time.Microsecond))
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
