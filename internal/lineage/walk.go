package lineage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// How a walk works, and why.
//
// Go applies the depth and the limit on exact shortest distances, so the
// answer does not depend on the plan the database picked: the files kept are
// the first by (distance, id). When the limit cuts a level that keeps an
// arbitrary but stable part of it without reading the names of the files
// left out (a file with 10,000 children would otherwise cost 10,000 lookups
// for a 1,000-file answer). The answer is then ordered by (distance, name,
// id).
//
// The obvious recursive query, rows of (id, depth) joined with UNION, meets a
// file again at every other path length and re-expands it each time; on a
// DAG that costs more than walking without a depth bound at all. The walks
// below avoid or bound that:
//
//   - sorted: one statement returns, per direction, the first limit+2 files
//     by (distance, id) with their names, how many files the walk found,
//     and the edges among the files listed. How the first files are found
//     depends on the dialect:
//     PostgreSQL: a frontier BFS, one row per level carrying the level's ids
//     and every id seen so far in arrays; the next level is the neighbours
//     of the frontier EXCEPT the seen ones. Every file is expanded once, at
//     its shortest distance; the recursion stops after level depth+1 (to
//     learn whether something lies beyond), on an empty level, once more
//     than limit files are known, or at level frontierMaxLevels: each level
//     costs a pass over the seen array, so a long chain walked deep is
//     handed over to the ids walk.
//     SQLite: rows of (id, depth) with ORDER BY depth, id, which turns
//     SQLite's queue into a priority queue: rows come out level by level and
//     by id within a level, so the first rows are exactly the first files by
//     (distance, id), plus revisits (a file again at a longer path), which
//     Go drops. The recursion stops after sortedRowsFactor*(limit+2) rows; if
//     revisits filled them before limit+1 files were seen, the direction is
//     walked again by ids.
//   - ids (both dialects; fallback, and PostgreSQL beyond frontierMaxLevels):
//     rows of bare ids joined with UNION, so the engine keeps each file once.
//     Both engines emit them in breadth-first order (PostgreSQL evaluates a
//     recursive term level by level, SQLite pops its queue first in, first
//     out), so the first k = limit+2 ids are a BFS prefix, and the recursion
//     stops there (PostgreSQL evaluates a WITH query only as far as the LIMIT
//     reading it; SQLite honours a LIMIT in the recursive CTE). The statement
//     also returns the edges leaving each walked file; Go computes exact
//     distances by BFS over them (shortest paths to a level-d file run
//     through levels < d, all walked) and sees the whole last level even
//     where the LIMIT cut it. Names and edges come in a second statement.

// Tuning, measured on the benchmark graphs (bench_test.go).
const (
	// frontierMaxLevels: a PostgreSQL frontier walk computes at most this
	// many levels before handing over to the ids walk.
	frontierMaxLevels = 64
	// sortedRowsFactor caps the rows of an SQLite sorted walk at this many
	// times limit+2.
	sortedRowsFactor = 2
	// sortedMaxLimit: for larger limits SQLite walks by ids straight away.
	// The sorted walk's row cap grows with the limit, and on a DAG walked
	// deep, revisits could fill a huge cap before the walk hands over.
	sortedMaxLimit = 10000
)

type shape int

const (
	shapeAuto shape = iota // sorted, handing over to ids, as above
	shapeIDs               // ids only: for tests
)

// side describes one direction of a walk in SQL terms.
type side struct {
	tag  string // row tag and CTE prefix
	from string // the edge column matched against the walked id
	to   string // the edge column the walk moves to
	sign int    // sign of Node.Distance on this side
}

var (
	down = side{tag: "d", from: "parent_id", to: "child_id", sign: 1}
	up   = side{tag: "u", from: "child_id", to: "parent_id", sign: -1}
)

func sidesOf(dir Direction) []side {
	switch dir {
	case Upstream:
		return []side{up}
	case Downstream:
		return []side{down}
	default:
		return []side{up, down}
	}
}

// The planner cannot know how many rows a recursive CTE yields (it guesses a
// few hundred whatever the truth), so the statements only use plans that stay
// linear when the guess is wrong: every CTE drives a join that probes an
// index, and set operations use EXCEPT or a semi-join against a finished CTE
// (hashed), never a membership test inside a loop, which PostgreSQL ran as
// a hash table rebuilt per row. Each probe is fenced so the planner cannot
// turn it around: on PostgreSQL a LATERAL subquery with OFFSET 0 (against a
// smallish table the planner would rather scan it whole), on SQLite a CROSS
// JOIN, whose left operand SQLite keeps as the outer loop (recent SQLite
// otherwise scans the table and indexes the CTE).
func probe(pg bool, outer, table, alias, cond, cols string) string {
	if pg {
		return fmt.Sprintf("%s CROSS JOIN LATERAL (SELECT %s FROM %s %s WHERE %s OFFSET 0) %s", outer, cols, table, alias, cond, alias)
	}
	return fmt.Sprintf("%s CROSS JOIN %s %s ON %s", outer, table, alias, cond)
}

// typed is a NULL of the given PostgreSQL type. PostgreSQL resolves the
// column types of a UNION pairwise and would make two untyped NULLs text;
// SQLite has no need.
func typed(pg bool, typ string) string {
	if pg {
		return "CAST(NULL AS " + typ + ")"
	}
	return "NULL"
}

// sortedSQL builds the sorted walk. On SQLite, rows (side, tag, a, b, n,
// name, deleted, kind, at):
//
//	C: n = files found (root included); R: n = the rows the walk produced
//	L: a = a listed file, n = its distance, name and deleted (NULL name: not
//	  the owner's)
//	E: a -> b, an edge among the listed files, with kind and at
//
// On PostgreSQL, one row per side (side, found, walked = the frontier's
// last level, ids, ds, names, states) with the listed files in arrays
// (state 0: not the owner's, 1: live, 2: deleted), and one row (side ”)
// with the edges among them in arrays (parents, children, kinds, ats in
// microseconds since 1970).
//
// Arguments per side: root, owner, level cap (PostgreSQL) or depth+1
// (SQLite), limit+1 (PostgreSQL) or row cap (SQLite), limit+2; then owner
// per side.
func sortedSQL(pg bool, sides []side) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE ")
	for _, sd := range sides {
		if pg {
			fmt.Fprintf(&b, `%[1]s_lv(d, frontier, seen) AS (
	SELECT 0, ARRAY[f.id], ARRAY[f.id] FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION ALL
	SELECT w.d + 1, nx.ids, w.seen || nx.ids
	FROM %[1]s_lv w CROSS JOIN LATERAL (
		SELECT array_agg(x.id) AS ids FROM (
			SELECT e.id FROM %[2]s
			EXCEPT SELECT unnest(w.seen)
		) x
	) nx
	WHERE w.d < ? AND cardinality(w.seen) <= ? AND nx.ids IS NOT NULL
),
%[1]s_found AS MATERIALIZED (SELECT w.d, x.id FROM %[1]s_lv w CROSS JOIN LATERAL unnest(w.frontier) x(id)),
%[1]s_walked AS (SELECT max(d) AS n FROM %[1]s_lv),
`, sd.tag, probe(true, "unnest(w.frontier) fr(id)", "edges", "e", "e."+sd.from+" = fr.id", "e."+sd.to+" AS id"))
		} else {
			fmt.Fprintf(&b, `%[1]s_rows(id, d) AS (
	SELECT f.id, 0 FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s, w.d + 1 FROM %[1]s_rows w CROSS JOIN edges e ON e.%[2]s = w.id WHERE w.d < ?
	ORDER BY 2, 1
	LIMIT ?
),
%[1]s_found AS MATERIALIZED (SELECT id, min(d) AS d FROM %[1]s_rows GROUP BY id),
%[1]s_walked AS (SELECT count(*) AS n FROM %[1]s_rows),
`, sd.tag, sd.from, sd.to)
		}
		fmt.Fprintf(&b, "%[1]s_top AS MATERIALIZED (SELECT d, id FROM %[1]s_found ORDER BY d, id LIMIT ?),\n", sd.tag)
	}
	tops := make([]string, len(sides))
	for i, sd := range sides {
		tops[i] = "SELECT id FROM " + sd.tag + "_top"
	}
	// The edges among the listed files are read as the in-edges of each (a
	// file has few parents but may have many children), which then meet the
	// list in one hashed semi-join: joined inside the probe loop, PostgreSQL
	// rebuilt the hash table once per listed file.
	fmt.Fprintf(&b, "top AS MATERIALIZED (%s),\n", strings.Join(tops, " UNION "))
	fmt.Fprintf(&b, "top_in AS MATERIALIZED (SELECT e.parent_id, e.child_id, e.kind, e.created_at FROM %s)\n",
		probe(pg, "top q", "edges", "e", "e.child_id = q.id", "e.parent_id, e.child_id, e.kind, e.created_at"))
	if pg {
		// One row per side and one for the edges, the files and edges in
		// arrays: sent as rows, the ~3,000 rows of a 1,000-file answer cost
		// the server a third of its time and the client more than half of
		// its own.
		for i, sd := range sides {
			if i > 0 {
				b.WriteString("UNION ALL\n")
			}
			fmt.Fprintf(&b, `SELECT '%[1]s' AS side, (SELECT count(*) FROM %[1]s_found) AS found, (SELECT n FROM %[1]s_walked) AS walked,
	l.ids, l.ds, l.names, l.states,
	CAST(NULL AS uuid[]) AS parents, CAST(NULL AS uuid[]) AS children, CAST(NULL AS text[]) AS kinds, CAST(NULL AS bigint[]) AS ats
FROM (SELECT array_agg(t.id) AS ids, array_agg(t.d) AS ds, array_agg(f.name) AS names,
	array_agg(CASE WHEN f.name IS NULL THEN 0 WHEN f.deleted_at IS NULL THEN 1 ELSE 2 END) AS states
	FROM %[1]s_top t LEFT JOIN LATERAL (SELECT f.name, f.deleted_at FROM files f WHERE f.id = t.id AND f.owner_id = ? OFFSET 0) f ON TRUE) l
`, sd.tag)
		}
		b.WriteString(`UNION ALL
SELECT '', 0, 0, NULL, NULL, NULL, NULL, array_agg(e.parent_id), array_agg(e.child_id), array_agg(e.kind),
	array_agg(CAST(floor(extract(epoch FROM e.created_at) * 1000000) AS bigint))
FROM top_in e WHERE e.parent_id IN (SELECT id FROM top)
`)
		return b.String()
	}
	for i, sd := range sides {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		fmt.Fprintf(&b, `SELECT '%[1]s' AS side, 'C' AS tag, NULL AS a, NULL AS b, count(*) AS n,
	NULL AS name, NULL AS deleted, NULL AS kind, NULL AS at
FROM %[1]s_found
UNION ALL
SELECT '%[1]s', 'R', NULL, NULL, n, NULL, NULL, NULL, NULL FROM %[1]s_walked
UNION ALL
SELECT '%[1]s', 'L', t.id, NULL, t.d, f.name, f.deleted_at IS NOT NULL, NULL, NULL FROM %[1]s_top t LEFT JOIN files f ON f.id = t.id AND f.owner_id = ?
`, sd.tag)
	}
	b.WriteString(`UNION ALL
SELECT '', 'E', e.parent_id, e.child_id, 0, NULL, NULL, e.kind, e.created_at
FROM top_in e WHERE e.parent_id IN (SELECT id FROM top)
`)
	return b.String()
}

// idsSQL builds the ids walk. Rows (side, tag, a, b, n):
//
//	C: n = ids walked (root included; 0: the root is not the owner's)
//	E: a -> b, an edge leaving a walked file in walk direction
//
// Arguments per side: root, owner, limit+2.
func idsSQL(pg bool, sides []side) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE ")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString(",\n")
		}
		if pg {
			// LIMIT is not allowed inside a recursive query on PostgreSQL; the
			// recursion is pulled lazily, so the LIMIT of the reader stops it.
			fmt.Fprintf(&b, `%[1]s_walk(id) AS (
	SELECT f.id FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s FROM %[1]s_walk w JOIN edges e ON e.%[2]s = w.id
),
%[1]s_set AS MATERIALIZED (SELECT id FROM %[1]s_walk LIMIT ?)`, sd.tag, sd.from, sd.to)
		} else {
			fmt.Fprintf(&b, `%[1]s_set(id) AS MATERIALIZED (
	SELECT f.id FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s FROM %[1]s_set w CROSS JOIN edges e ON e.%[2]s = w.id
	LIMIT ?
)`, sd.tag, sd.from, sd.to)
		}
	}
	b.WriteString("\n")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		fmt.Fprintf(&b, `SELECT '%[1]s' AS side, 'C' AS tag, %[2]s AS a, %[2]s AS b, count(*) AS n FROM %[1]s_set
UNION ALL
SELECT '%[1]s', 'E', e.%[3]s, e.%[4]s, 0 FROM %[5]s
`, sd.tag, typed(pg, "uuid"), sd.from, sd.to, probe(pg, sd.tag+"_set p", "edges", "e", "e."+sd.from+" = p.id", "e."+sd.from+", e."+sd.to))
	}
	return b.String()
}

// graphState numbers the files met densely, so the set work runs on small
// integers instead of 36-byte strings.
type graphState struct {
	index map[string]int32
	ids   []string
}

func (st *graphState) intern(id string) int32 {
	if i, ok := st.index[id]; ok {
		return i
	}
	i := int32(len(st.ids))
	st.index[id] = i
	st.ids = append(st.ids, id)
	return i
}

// sideView is what one direction's walk established: a distance for every
// file in dist, exact for all the files the answer can need. A sorted walk
// lists the first files by (distance, id) with exact distances; an ids walk
// cut by its LIMIT knows exact distances up to the level it stopped in, and
// more than limit files within it, so any file it knows less well comes after
// limit others and is never chosen; it only counts as left out.
type sideView struct {
	side  side
	found bool            // the root is a file of the owner
	dist  map[int32]int32 // root included
	// enough is false when a sorted walk stopped at its cap before it could
	// settle the answer: walk this side again by ids.
	enough bool
}

func newViews(sides []side) []*sideView {
	views := make([]*sideView, len(sides))
	for i, sd := range sides {
		views[i] = &sideView{side: sd, dist: make(map[int32]int32), enough: true}
	}
	return views
}

func (s *Service) walk(ctx context.Context, ownerID int64, root string, dir Direction, depth, limit int) (*Graph, error) {
	st := &graphState{index: make(map[string]int32)}
	rootIdx := st.intern(root)
	sides := sidesOf(dir)
	var views []*sideView
	var got *fetched // the sorted walk reads names and edges itself
	var err error
	if s.shape == shapeIDs || !s.pg && limit > sortedMaxLimit {
		views, err = s.walkIDs(ctx, st, ownerID, root, sides, limit)
	} else {
		views, got, err = s.walkSorted(ctx, st, ownerID, root, sides, depth, limit)
		var again []side
		for _, v := range views {
			if !v.enough {
				again = append(again, v.side)
			}
		}
		if err == nil && len(again) > 0 {
			var more []*sideView
			if more, err = s.walkIDs(ctx, st, ownerID, root, again, limit); err == nil {
				for i, v := range views {
					if !v.enough {
						views[i], more = more[0], more[1:]
					}
				}
				got = nil // the names and edges read cover other files
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if !views[0].found {
		return nil, errNotFound("lineage root", root)
	}

	// Merge the sides: each file once, with its shortest distance (the
	// descendant side on a tie, which only a cycle can make).
	type cand struct {
		idx  int32
		dist int
	}
	byIdx := make(map[int32]int)
	var cands []cand
	for _, v := range views {
		for i, d := range v.dist {
			if i == rootIdx {
				continue
			}
			c := cand{idx: i, dist: v.side.sign * int(d)}
			j, seen := byIdx[i]
			if !seen {
				byIdx[i] = len(cands)
				cands = append(cands, c)
			} else if old := cands[j]; abs(c.dist) < abs(old.dist) || abs(c.dist) == abs(old.dist) && c.dist > 0 {
				cands[j] = c
			}
		}
	}
	chosen := make([]cand, 0, min(len(cands), limit))
	for _, c := range cands {
		if abs(c.dist) <= depth {
			chosen = append(chosen, c)
		}
	}
	slices.SortFunc(chosen, func(x, y cand) int {
		return cmp.Or(cmp.Compare(abs(x.dist), abs(y.dist)), strings.Compare(st.ids[x.idx], st.ids[y.idx]))
	})
	if len(chosen) > limit {
		chosen = chosen[:limit]
	}
	// Every file a walk knows is real: one not chosen was cut by the depth
	// or the limit. A sorted walk that found more than it listed listed
	// limit+1 files, so that case is caught here too.
	truncated := len(cands) > len(chosen)

	nodes := make([]Node, 0, len(chosen)+1)
	nodes = append(nodes, Node{ID: root})
	for _, c := range chosen {
		nodes = append(nodes, Node{ID: st.ids[c.idx], Distance: c.dist})
	}
	if got == nil {
		if got, err = s.details(ctx, ownerID, nodes); err != nil {
			return nil, err
		}
	}
	return assemble(root, nodes, got, truncated)
}

func (s *Service) walkSorted(ctx context.Context, st *graphState, ownerID int64, root string, sides []side, depth, limit int) ([]*sideView, *fetched, error) {
	// reach: the last level the walk may compute, depth+1 to learn whether
	// something lies beyond the depth.
	reach := depth + 1
	var capArg int
	if s.pg {
		reach = min(reach, cmp.Or(s.levelCap, frontierMaxLevels))
		capArg = limit + 1 // stop expanding once more than limit files are known
	} else {
		capArg = cmp.Or(s.rowsFactor, sortedRowsFactor) * (limit + 2)
	}
	var args []any
	for range sides {
		args = append(args, root, ownerID, reach, capArg, limit+2)
	}
	for range sides {
		args = append(args, ownerID)
	}
	views := newViews(sides)
	found := make([]int, len(sides))
	walked := make([]int, len(sides))
	got := &fetched{files: make(map[string]fileInfo)}
	read := s.readSortedRows
	if s.pg {
		read = s.readSortedArrays
	}
	if err := read(ctx, sortedSQL(s.pg, sides), args, sides, st, views, found, walked, got); err != nil {
		return nil, nil, fmt.Errorf("lineage walk: %w", err)
	}
	for si, v := range views {
		v.found = found[si] > 0
		// The walk settled the answer if it found more than limit files
		// (the list holds the first limit+1 by distance, id, with exact
		// distances), or if it ended on its own: the frontier on an empty
		// level or at level depth+1, the SQLite walk before its row cap.
		if found[si]-1 <= limit {
			if s.pg {
				v.enough = walked[si] < reach || reach == depth+1
			} else {
				v.enough = walked[si] < capArg
			}
		}
	}
	return views, got, nil
}

// sideIndex is the position in sides of a row's side tag.
func sideIndex(sides []side, tag string) int {
	if len(sides) == 2 && tag == sides[1].tag {
		return 1
	}
	return 0
}

// readSortedRows reads the SQLite form of the sorted walk.
func (s *Service) readSortedRows(ctx context.Context, query string, args []any, sides []side, st *graphState,
	views []*sideView, found, walked []int, got *fetched) error {
	rows, err := s.stmts.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var sideTag, tag string
	var a, b, name, kind sql.NullString
	var deleted sql.NullBool
	var n sql.NullInt64
	var at any
	for rows.Next() {
		if err := rows.Scan(&sideTag, &tag, &a, &b, &n, &name, &deleted, &kind, &at); err != nil {
			return err
		}
		si := sideIndex(sides, sideTag)
		switch tag {
		case "C":
			found[si] = int(n.Int64)
		case "R":
			walked[si] = int(n.Int64)
		case "L":
			// A file of another owner (no name) stays in the walk like in
			// the ids walk, and assemble drops it.
			views[si].dist[st.intern(a.String)] = int32(n.Int64)
			if name.Valid {
				got.files[a.String] = fileInfo{name.String, deleted.Bool}
			}
		case "E":
			t, err := asTime(at)
			if err != nil {
				return fmt.Errorf("edge time: %w", err)
			}
			got.edges = append(got.edges, Edge{ParentID: a.String, ChildID: b.String, Kind: kind.String, CreatedAt: t})
		}
	}
	return rows.Err()
}

// readSortedArrays reads the PostgreSQL form of the sorted walk.
func (s *Service) readSortedArrays(ctx context.Context, query string, args []any, sides []side, st *graphState,
	views []*sideView, found, walked []int, got *fetched) error {
	rows, err := s.stmts.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		sideTag                          string
		nFound, nWalked                  sql.NullInt64
		ids, names, parents, kids, kinds []string
		ds, states, ats                  []int64
	)
	for rows.Next() {
		ids, names, parents, kids, kinds, ds, states, ats = nil, nil, nil, nil, nil, nil, nil, nil
		if err := rows.Scan(&sideTag, &nFound, &nWalked,
			pgdialect.Array(&ids), pgdialect.Array(&ds), pgdialect.Array(&names), pgdialect.Array(&states),
			pgdialect.Array(&parents), pgdialect.Array(&kids), pgdialect.Array(&kinds), pgdialect.Array(&ats)); err != nil {
			return err
		}
		if sideTag == "" {
			if len(kids) != len(parents) || len(kinds) != len(parents) || len(ats) != len(parents) {
				return errors.New("edge arrays of different lengths")
			}
			for i := range parents {
				got.edges = append(got.edges, Edge{ParentID: parents[i], ChildID: kids[i], Kind: kinds[i],
					CreatedAt: time.UnixMicro(ats[i]).UTC()})
			}
			continue
		}
		if len(ds) != len(ids) || len(names) != len(ids) || len(states) != len(ids) {
			return errors.New("file arrays of different lengths")
		}
		si := sideIndex(sides, sideTag)
		found[si], walked[si] = int(nFound.Int64), int(nWalked.Int64)
		for i, id := range ids {
			views[si].dist[st.intern(id)] = int32(ds[i])
			if states[i] != 0 { // a file of another owner stays in the walk; assemble drops it
				got.files[id] = fileInfo{names[i], states[i] == 2}
			}
		}
	}
	return rows.Err()
}

func (s *Service) walkIDs(ctx context.Context, st *graphState, ownerID int64, root string, sides []side, limit int) ([]*sideView, error) {
	k := limit + 2 // the root, limit files, and one to know the limit cut something
	var args []any
	for range sides {
		args = append(args, root, ownerID, k)
	}
	views := newViews(sides)
	adj := make([]map[int32][]int32, len(sides))
	for i := range sides {
		adj[i] = make(map[int32][]int32)
	}
	rows, err := s.stmts.Query(ctx, idsSQL(s.pg, sides), args...)
	if err != nil {
		return nil, fmt.Errorf("lineage walk: %w", err)
	}
	defer rows.Close()
	var sideTag, tag string
	var a, b sql.NullString
	var n int
	for rows.Next() {
		if err := rows.Scan(&sideTag, &tag, &a, &b, &n); err != nil {
			return nil, fmt.Errorf("lineage walk: %w", err)
		}
		si := 0
		if len(sides) == 2 && sideTag == sides[1].tag {
			si = 1
		}
		switch tag {
		case "C":
			views[si].found = n > 0
		case "E":
			ai, bi := st.intern(a.String), st.intern(b.String)
			adj[si][ai] = append(adj[si][ai], bi)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lineage walk: %w", err)
	}
	rootIdx := st.intern(root)
	for si, v := range views {
		// If the LIMIT stopped the walk inside some level L, the levels below
		// were walked whole and the edges read give all of L: distances are
		// exact up to L, which holds the limit+1 files walked besides the root.
		v.dist = bfs(rootIdx, adj[si])
	}
	return views, nil
}

// bfs returns the distance from root of every file reachable through adj.
func bfs(root int32, adj map[int32][]int32) map[int32]int32 {
	dist := map[int32]int32{root: 0}
	queue := []int32{root}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, next := range adj[id] {
			if _, seen := dist[next]; !seen {
				dist[next] = dist[id] + 1
				queue = append(queue, next)
			}
		}
	}
	return dist
}

type fileInfo struct {
	name    string
	deleted bool
}

// fetched holds the names of files (the owner's only) and edges among them.
type fetched struct {
	files map[string]fileInfo
	edges []Edge
}

// details reads the names of nodes and their in-edges in one statement;
// assemble keeps the edges whose parent is among the nodes too. Testing both
// ends in SQL (parent_id IN (...) AND child_id IN (...)) made SQLite probe
// the index for every pair of the two lists: 10,000 files took minutes.
func (s *Service) details(ctx context.Context, ownerID int64, nodes []Node) (*fetched, error) {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	query := `SELECT 'N' AS tag, f.id AS a, f.id AS b, f.name AS name, f.deleted_at IS NOT NULL AS deleted, '' AS kind, f.created_at AS at
FROM files f WHERE f.owner_id = ? AND f.id IN (?)
UNION ALL
SELECT 'E', e.parent_id, e.child_id, '', FALSE, e.kind, e.created_at FROM edges e WHERE e.child_id IN (?)`
	rows, err := s.db.QueryContext(ctx, query, ownerID, bun.In(ids), bun.In(ids))
	if err != nil {
		return nil, fmt.Errorf("lineage details: %w", err)
	}
	defer rows.Close()
	got := &fetched{files: make(map[string]fileInfo, len(nodes))}
	var tag, a, b, name, kind string
	var deleted bool
	var at any
	for rows.Next() {
		if err := rows.Scan(&tag, &a, &b, &name, &deleted, &kind, &at); err != nil {
			return nil, fmt.Errorf("lineage details: %w", err)
		}
		if tag == "N" {
			got.files[a] = fileInfo{name, deleted}
			continue
		}
		t, err := asTime(at)
		if err != nil {
			return nil, fmt.Errorf("lineage details: edge time: %w", err)
		}
		got.edges = append(got.edges, Edge{ParentID: a, ChildID: b, Kind: kind, CreatedAt: t})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lineage details: %w", err)
	}
	return got, nil
}

// assemble builds the graph from the chosen nodes (root first) and what was
// read about them. A chosen file that turns out not to be the owner's (only
// possible if an edge crossed owners: the walks check the owner of the root
// only) is dropped with its edges.
func assemble(root string, nodes []Node, got *fetched, truncated bool) (*Graph, error) {
	g := &Graph{RootID: root, Truncated: truncated, Nodes: nodes[:0]}
	for _, n := range nodes {
		f, ok := got.files[n.ID]
		if !ok {
			if n.ID == root {
				return nil, errNotFound("lineage root", root) // removed meanwhile
			}
			continue
		}
		n.Name, n.Deleted = f.name, f.deleted
		g.Nodes = append(g.Nodes, n)
	}
	slices.SortFunc(g.Nodes, compareNodes)

	// Sort on positions looked up once, not through a map in the comparator.
	pos := make(map[string]int, len(g.Nodes))
	for i, n := range g.Nodes {
		pos[n.ID] = i
	}
	type placed struct{ p, c, i int }
	order := make([]placed, 0, len(got.edges))
	for i, e := range got.edges {
		p, okP := pos[e.ParentID]
		c, okC := pos[e.ChildID]
		if okP && okC {
			order = append(order, placed{p, c, i})
		}
	}
	slices.SortFunc(order, func(x, y placed) int { return cmp.Or(cmp.Compare(x.p, y.p), cmp.Compare(x.c, y.c)) })
	g.Edges = make([]Edge, len(order))
	for j, o := range order {
		g.Edges[j] = got.edges[o.i]
	}
	return g, nil
}

// asTime converts a timestamp as the drivers return it: time.Time from
// PostgreSQL; from SQLite, time.Time or, where the column's declared type is
// lost (a UNION), the text bun wrote.
func asTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v, nil
	case []byte:
		return parseTime(string(v))
	case string:
		return parseTime(v)
	case nil:
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("unexpected %T", v)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q", s)
}

func compareNodes(x, y Node) int {
	return cmp.Or(cmp.Compare(x.Distance, y.Distance), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
