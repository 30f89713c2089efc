package lineage

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// columnEdgeBatch bounds the rows of one INSERT (5 arguments each, far
// below PostgreSQL's 65,535).
const columnEdgeBatch = 1000

// AddColumnEdges records column dependencies inside the caller's
// transaction, after AddEdges linked the same files: a column edge
// between two files that no file edge links is refused, so column lineage
// never says more than file lineage. Edges already recorded are kept as
// they are.
func (st *Store) AddColumnEdges(ctx context.Context, q bun.IDB, edges []ColumnEdge) error {
	if len(edges) == 0 {
		return nil
	}
	parents := map[string][]string{} // child -> parents, to check
	for i, e := range edges {
		if !e.Kind.Valid() {
			return fmt.Errorf("column edge %d: kind %q", i, e.Kind)
		}
		if (e.Kind == ColumnFilter) != (e.ChildColumn == "") {
			return fmt.Errorf("column edge %d: a %s edge has child column %q", i, e.Kind, e.ChildColumn)
		}
		if !slices.Contains(parents[e.ChildID], e.ParentID) {
			parents[e.ChildID] = append(parents[e.ChildID], e.ParentID)
		}
	}
	for child, ps := range parents {
		var linked []string
		cond, arg := st.db.IDSet("parent_id", ps)
		if err := q.NewRaw(`SELECT parent_id FROM edges WHERE child_id = ? AND `+cond, child, arg).Scan(ctx, &linked); err != nil {
			return fmt.Errorf("column lineage check edges: %w", err)
		}
		if len(linked) != len(ps) {
			return fmt.Errorf("column lineage: file %s has column edges from a file it is not derived from", child)
		}
	}
	for start := 0; start < len(edges); start += columnEdgeBatch {
		batch := edges[start:min(start+columnEdgeBatch, len(edges))]
		var b strings.Builder
		args := make([]any, 0, 5*len(batch))
		b.WriteString("INSERT INTO column_edges (parent_id, parent_column, child_id, child_column, kind) VALUES ")
		for i, e := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, e.ParentID, e.ParentColumn, e.ChildID, e.ChildColumn, string(e.Kind))
		}
		b.WriteString(" ON CONFLICT DO NOTHING")
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert column edges: %w", err)
		}
	}
	return nil
}

// colKey is a node of a column walk: a column of a file, or with col ""
// the file as a whole.
type colKey struct{ file, col string }

// colEdge is an edge met by a walk, between two keys, parent side first.
type colEdge struct {
	from, to colKey
	kind     ColumnKind
}

// stepRow is one row of a walk's step: a column edge and the file at its
// far end.
type stepRow struct {
	edge    ColumnEdge
	name    string
	deleted bool
}

// columnWalk walks breadth first, one statement per level and direction:
// the edges leaving the level's files, the far files' owner checked in the
// join. Each column is expanded once, at its shortest distance; a walk
// stops at depth (looking one level further to learn whether it cut
// something) or once it holds more than limit columns, since no column
// further out can then be kept.
func (st *Store) columnWalk(ctx context.Context, owner int64, root, column string, dir Direction, depth, limit int) (*ColumnGraph, error) {
	info, err := st.columnRoot(ctx, owner, root, column)
	if err != nil {
		return nil, err
	}
	rootKey := colKey{root, column}
	files := map[string]fileInfo{root: info}
	dist := map[colKey]int{rootKey: 0}
	var met []colEdge
	truncated := false
	for _, sd := range sidesOf(dir) {
		seen := map[colKey]bool{rootKey: true}
		frontier := []colKey{rootKey}
		found := 0
		for level := 1; len(frontier) > 0; level++ {
			rows, err := st.columnStep(ctx, owner, frontier, sd)
			if err != nil {
				return nil, err
			}
			byFile := make(map[string][]colKey, len(frontier))
			for _, k := range frontier {
				byFile[k.file] = append(byFile[k.file], k)
			}
			walked := maps.Clone(seen) // before this level's finds
			var next []colKey
			for _, r := range rows {
				from, to, far := matchStep(byFile, walked, r.edge, sd)
				for i := range from {
					met = append(met, colEdge{from: from[i], to: to[i], kind: r.edge.Kind})
				}
				if len(from) == 0 || seen[far] {
					continue
				}
				seen[far] = true
				if level > depth {
					truncated = true
					continue
				}
				next = append(next, far)
				files[far.file] = fileInfo{r.name, r.deleted}
				if _, ok := dist[far]; !ok {
					dist[far] = sd.sign * level
				}
			}
			found += len(next)
			if found > limit {
				// Every column of a further level comes after these.
				truncated = true
				break
			}
			frontier = next
		}
	}
	return assembleColumnGraph(rootKey, files, dist, met, limit, truncated), nil
}

// matchStep tells which keys of the level a step row leaves from, as
// edges (parent side first), and the key it reaches. Downstream, an edge
// leaves its parent column, or else the parent as a whole unless that
// column was walked already (its edges were met then); upstream, an edge
// reaches a column of the child, the child as a whole, or (a FILTER edge)
// every column of the child in the level.
func matchStep(level map[string][]colKey, seen map[colKey]bool, e ColumnEdge, sd side) (from, to []colKey, far colKey) {
	if sd.sign > 0 {
		far = colKey{e.ChildID, e.ChildColumn}
		own := colKey{e.ParentID, e.ParentColumn}
		for _, k := range level[e.ParentID] {
			if k == own || (k.col == "" && !slices.Contains(level[e.ParentID], own) && !seen[own]) {
				from = append(from, k)
				to = append(to, far)
			}
		}
		return from, to, far
	}
	far = colKey{e.ParentID, e.ParentColumn}
	for _, k := range level[e.ChildID] {
		if k.col == "" || e.ChildColumn == "" || k.col == e.ChildColumn {
			from = append(from, far)
			to = append(to, k)
		}
	}
	return from, to, far
}

// columnStep reads the edges leaving the files of frontier on side sd.
// The statement is one of two texts; the columns are matched in Go
// (matchStep), which reads at most the edges of the level's files.
func (st *Store) columnStep(ctx context.Context, owner int64, frontier []colKey, sd side) ([]stepRow, error) {
	ids := make([]string, 0, len(frontier))
	for _, k := range frontier {
		if !slices.Contains(ids, k.file) {
			ids = append(ids, k.file)
		}
	}
	cond, arg := st.db.IDSet("e."+sd.from, ids)
	query := fmt.Sprintf(`SELECT e.parent_id, e.parent_column, e.child_id, e.child_column, e.kind, f.name, f.deleted_at IS NOT NULL
FROM column_edges e JOIN files f ON f.id = e.%s
WHERE f.owner_id = ? AND %s`, sd.to, cond)
	rows, err := st.db.Prepared().Query(ctx, query, owner, arg)
	if err != nil {
		return nil, fmt.Errorf("column lineage step: %w", err)
	}
	defer rows.Close()
	var out []stepRow
	for rows.Next() {
		var r stepRow
		var kind string
		if err := rows.Scan(&r.edge.ParentID, &r.edge.ParentColumn, &r.edge.ChildID, &r.edge.ChildColumn, &kind, &r.name, &r.deleted); err != nil {
			return nil, fmt.Errorf("column lineage step: %w", err)
		}
		r.edge.Kind = ColumnKind(kind)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("column lineage step: %w", err)
	}
	// The order of the rows must not decide which far keys a level keeps.
	slices.SortFunc(out, func(a, b stepRow) int {
		return cmp.Or(strings.Compare(a.edge.ParentID, b.edge.ParentID), strings.Compare(a.edge.ParentColumn, b.edge.ParentColumn),
			strings.Compare(a.edge.ChildID, b.edge.ChildID), strings.Compare(a.edge.ChildColumn, b.edge.ChildColumn))
	})
	return out, nil
}

// columnRoot reads the root of a column walk: owner's file id (a tombstone
// too) having column, in its profile or its recorded column lineage.
func (st *Store) columnRoot(ctx context.Context, owner int64, id, column string) (fileInfo, error) {
	rows, err := st.db.Prepared().Query(ctx, `SELECT f.name, f.deleted_at IS NOT NULL, f.columns,
  EXISTS (SELECT 1 FROM column_edges e WHERE (e.child_id = f.id AND e.child_column = ?) OR (e.parent_id = f.id AND e.parent_column = ?))
FROM files f WHERE f.id = ? AND f.owner_id = ?`, column, column, id, owner)
	if err != nil {
		return fileInfo{}, fmt.Errorf("column lineage root: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fileInfo{}, fmt.Errorf("column lineage root: %w", err)
		}
		return fileInfo{}, errNotFound("lineage root", id)
	}
	var info fileInfo
	var profile string
	var linked bool
	if err := rows.Scan(&info.name, &info.deleted, &profile, &linked); err != nil {
		return fileInfo{}, fmt.Errorf("column lineage root: %w", err)
	}
	if linked {
		return info, nil
	}
	// The profile is csvio's JSON; only the names matter here.
	var cols []struct{ Name string }
	_ = json.Unmarshal([]byte(profile), &cols)
	for _, c := range cols {
		if c.Name == column {
			return info, nil
		}
	}
	return fileInfo{}, apperr.Invalid(FieldColumn, "file %s has no column %q", id, column)
}

// assembleColumnGraph keeps the root and the first limit other columns by
// (|distance|, file id, column), the edges among them, and orders both.
func assembleColumnGraph(root colKey, files map[string]fileInfo, dist map[colKey]int, met []colEdge, limit int, truncated bool) *ColumnGraph {
	keys := make([]colKey, 0, len(dist))
	for k := range dist {
		if k != root {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b colKey) int {
		return cmp.Or(cmp.Compare(abs(dist[a]), abs(dist[b])), cmp.Compare(dist[b], dist[a]),
			strings.Compare(a.file, b.file), strings.Compare(a.col, b.col))
	})
	if len(keys) > limit {
		keys, truncated = keys[:limit], true
	}
	keys = append(keys, root)
	slices.SortFunc(keys, func(a, b colKey) int {
		return cmp.Or(cmp.Compare(dist[a], dist[b]), strings.Compare(files[a.file].name, files[b.file].name),
			strings.Compare(a.file, b.file), cmp.Compare(b2i(a.col == ""), b2i(b.col == "")), strings.Compare(a.col, b.col))
	})
	g := &ColumnGraph{Nodes: make([]ColumnNode, len(keys)), Truncated: truncated}
	index := make(map[colKey]int, len(keys))
	for i, k := range keys {
		index[k] = i
		f := files[k.file]
		n := ColumnNode{FileID: k.file, FileName: f.name, Deleted: f.deleted, Column: k.col, Distance: dist[k]}
		if k.col == "" {
			n.Column, n.AllColumns = AllColumns, true
		}
		g.Nodes[i] = n
	}
	type pair struct {
		from, to int
		kind     ColumnKind
	}
	seen := map[pair]bool{}
	for _, e := range met {
		from, okF := index[e.from]
		to, okT := index[e.to]
		p := pair{from, to, e.kind}
		if okF && okT && !seen[p] {
			seen[p] = true
			g.Edges = append(g.Edges, ColumnGraphEdge{From: from, To: to, Kind: e.kind})
		}
	}
	slices.SortFunc(g.Edges, func(a, b ColumnGraphEdge) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), strings.Compare(string(a.Kind), string(b.Kind)))
	})
	return g
}

// columnNeighbours reads the one-hop column dependencies of owner's files
// ids on side sd, keyed by file id and then by the column on the file's
// side ("" for a FILTER edge's child side).
func (st *Store) columnNeighbours(ctx context.Context, owner int64, ids []string, sd side) (map[string]map[string][]ColumnRef, error) {
	norm := database.CanonicalIDs(ids)
	out := make(map[string]map[string][]ColumnRef, len(norm))
	if len(norm) == 0 {
		return out, nil
	}
	cond, arg := st.db.IDSet("e."+sd.from, norm)
	query := fmt.Sprintf(`SELECT e.parent_id, e.parent_column, e.child_id, e.child_column, e.kind
FROM column_edges e
JOIN files f ON f.id = e.%[1]s
JOIN files n ON n.id = e.%[2]s AND n.owner_id = f.owner_id
WHERE f.owner_id = ? AND %[3]s
ORDER BY e.%[1]s, e.%[2]s, e.parent_column, e.child_column`, sd.from, sd.to, cond)
	rows, err := st.db.Prepared().Query(ctx, query, owner, arg)
	if err != nil {
		return nil, fmt.Errorf("column lineage neighbours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e ColumnEdge
		var kind string
		if err := rows.Scan(&e.ParentID, &e.ParentColumn, &e.ChildID, &e.ChildColumn, &kind); err != nil {
			return nil, fmt.Errorf("column lineage neighbours: %w", err)
		}
		e.Kind = ColumnKind(kind)
		file, col, ref := e.ChildID, e.ChildColumn, ColumnRef{FileID: e.ParentID, Column: e.ParentColumn, Kind: e.Kind}
		if sd.sign > 0 {
			file, col, ref = e.ParentID, e.ParentColumn, ColumnRef{FileID: e.ChildID, Column: e.ChildColumn, Kind: e.Kind}
			if e.ChildColumn == "" {
				ref.Column, ref.AllColumns = AllColumns, true
			}
		}
		m := out[file]
		if m == nil {
			m = map[string][]ColumnRef{}
			out[file] = m
		}
		m[col] = append(m[col], ref)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("column lineage neighbours: %w", err)
	}
	return out, nil
}

// columnEdgesOf reads the column edges into owner's files childIDs,
// ordered by (child, child column, parent, parent column).
func (st *Store) columnEdgesOf(ctx context.Context, owner int64, childIDs []string) ([]ColumnEdge, error) {
	norm := database.CanonicalIDs(childIDs)
	if len(norm) == 0 {
		return nil, nil
	}
	cond, arg := st.db.IDSet("e.child_id", norm)
	rows, err := st.db.Prepared().Query(ctx, `SELECT e.parent_id, e.parent_column, e.child_id, e.child_column, e.kind
FROM column_edges e JOIN files f ON f.id = e.child_id
WHERE f.owner_id = ? AND `+cond+`
ORDER BY e.child_id, e.child_column, e.parent_id, e.parent_column`, owner, arg)
	if err != nil {
		return nil, fmt.Errorf("column edges: %w", err)
	}
	defer rows.Close()
	var out []ColumnEdge
	for rows.Next() {
		var e ColumnEdge
		var kind sql.NullString
		if err := rows.Scan(&e.ParentID, &e.ParentColumn, &e.ChildID, &e.ChildColumn, &kind); err != nil {
			return nil, fmt.Errorf("column edges: %w", err)
		}
		e.Kind = ColumnKind(kind.String)
		out = append(out, e)
	}
	return out, rows.Err()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
