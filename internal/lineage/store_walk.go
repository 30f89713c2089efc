package lineage

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
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
//     On SQLite both statements refer to files by number, not by id: the
//     walk by rowid (each walked file's id once, each edge as two
//     integers), the second by position in the list sent (the edges'
//     parents by rowid, resolved through the nodes' own rows). The driver
//     allocates a string for every text value, and two UUIDs per edge row
//     were most of what a large answer allocated.

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

// graphState numbers the files met densely, so the set work runs on small
// integers instead of 36-byte strings.
type graphState struct {
	index map[string]int32
	ids   []string
}

// grow makes room for n more files.
func (st *graphState) grow(n int) {
	index := make(map[string]int32, len(st.ids)+n)
	for id, i := range st.index {
		index[id] = i
	}
	st.index, st.ids = index, slices.Grow(st.ids, n)
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

// tuning forces a walk shape or changes the caps that make a sorted walk
// hand over to the ids walk: test knobs, zero in production.
type tuning struct {
	shape      shape
	rowsFactor int
	levelCap   int
}

// walk runs the walks of dir from root and assembles the graph.
func (st *Store) walk(ctx context.Context, ownerID int64, root string, dir Direction, depth, limit int, details bool, tune tuning) (*Graph, error) {
	gs := &graphState{index: make(map[string]int32)}
	rootIdx := gs.intern(root)
	sides := sidesOf(dir)
	var views []*sideView
	var got *fetched // the sorted walk reads names and edges itself
	var err error
	if tune.shape == shapeIDs || !st.db.Postgres() && limit > sortedMaxLimit {
		views, err = st.walkIDs(ctx, gs, ownerID, root, sides, limit)
	} else {
		views, got, err = st.walkSorted(ctx, gs, ownerID, root, sides, depth, limit, details, tune)
		var again []side
		for _, v := range views {
			if !v.enough {
				again = append(again, v.side)
			}
		}
		if err == nil && len(again) > 0 {
			var more []*sideView
			if more, err = st.walkIDs(ctx, gs, ownerID, root, again, limit); err == nil {
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
	// descendant side on a tie, which only a cycle can make). One side
	// needs no merging.
	type cand struct {
		idx  int32
		dist int32
	}
	known := 0
	for _, v := range views {
		known += len(v.dist)
	}
	var byIdx map[int32]int
	if len(views) > 1 {
		byIdx = make(map[int32]int, known)
	}
	cands := make([]cand, 0, known)
	for _, v := range views {
		for i, d := range v.dist {
			if i == rootIdx {
				continue
			}
			c := cand{idx: i, dist: int32(v.side.sign) * d}
			if byIdx == nil {
				cands = append(cands, c)
				continue
			}
			j, seen := byIdx[i]
			if !seen {
				byIdx[i] = len(cands)
				cands = append(cands, c)
			} else if old := cands[j]; abs(c.dist) < abs(old.dist) || abs(c.dist) == abs(old.dist) && c.dist > 0 {
				cands[j] = c
			}
		}
	}
	// Every file a walk knows is real: one not chosen was cut by the depth
	// or the limit. A sorted walk that found more than it listed listed
	// limit+1 files, so that case is caught here too.
	all := len(cands)
	chosen := cands[:0] // in place: cands is not read again
	for _, c := range cands {
		if int(abs(c.dist)) <= depth {
			chosen = append(chosen, c)
		}
	}
	slices.SortFunc(chosen, func(x, y cand) int {
		return cmp.Or(cmp.Compare(abs(x.dist), abs(y.dist)), strings.Compare(gs.ids[x.idx], gs.ids[y.idx]))
	})
	if len(chosen) > limit {
		chosen = chosen[:limit]
	}
	truncated := all > len(chosen)

	nodes := make([]Node, 0, len(chosen)+1)
	nodes = append(nodes, Node{ID: root})
	for _, c := range chosen {
		nodes = append(nodes, Node{ID: gs.ids[c.idx], Distance: int(c.dist)})
	}
	if got == nil {
		if !st.db.Postgres() {
			return st.detailsSQLite(ctx, ownerID, nodes, details, truncated)
		}
		if got, err = st.details(ctx, ownerID, nodes, details); err != nil {
			return nil, err
		}
	}
	return assemble(root, nodes, got, truncated)
}

func (st *Store) walkSorted(ctx context.Context, gs *graphState, ownerID int64, root string, sides []side, depth, limit int, details bool, tune tuning) ([]*sideView, *fetched, error) {
	// reach: the last level the walk may compute, depth+1 to learn whether
	// something lies beyond the depth.
	reach := depth + 1
	var capArg int
	pg := st.db.Postgres()
	if pg {
		reach = min(reach, cmp.Or(tune.levelCap, frontierMaxLevels))
		capArg = limit + 1 // stop expanding once more than limit files are known
	} else {
		capArg = cmp.Or(tune.rowsFactor, sortedRowsFactor) * (limit + 2)
	}
	var args []any
	for range sides {
		args = append(args, root, ownerID, reach, capArg, limit+2)
	}
	if pg {
		args = append(args, ownerID)
	} else {
		for range sides {
			args = append(args, ownerID)
		}
	}
	views := newViews(sides)
	found := make([]int, len(sides))
	walked := make([]int, len(sides))
	got := &fetched{files: make(map[string]fileInfo)}
	read := st.readSortedRows
	if pg {
		read = st.readSortedArrays
	}
	if err := read(ctx, sortedSQL(pg, sides, details), args, sides, gs, views, found, walked, got); err != nil {
		return nil, nil, fmt.Errorf("lineage walk: %w", err)
	}
	for si, v := range views {
		v.found = found[si] > 0
		// The walk settled the answer if it found more than limit files
		// (the list holds the first limit+1 by distance, id, with exact
		// distances), or if it ended on its own: the frontier on an empty
		// level or at level depth+1, the SQLite walk before its row cap.
		if found[si]-1 <= limit {
			if pg {
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

func (st *Store) walkIDs(ctx context.Context, gs *graphState, ownerID int64, root string, sides []side, limit int) ([]*sideView, error) {
	views := newViews(sides)
	adj, err := st.readIDs(ctx, gs, ownerID, root, sides, limit, views)
	if err != nil {
		return nil, fmt.Errorf("lineage walk: %w", err)
	}
	rootIdx := gs.intern(root)
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
	// Every file with edges in adj is reachable, and most of the others are.
	dist := make(map[int32]int32, len(adj)+1)
	dist[root] = 0
	queue := make([]int32, 1, len(adj)+1)
	queue[0] = root
	for head := 0; head < len(queue); head++ {
		id := queue[head]
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

	// Sort on positions looked up once, not through a map in the
	// comparator, and in place: a large graph holds its edges once.
	pos := make(map[string]uint32, len(g.Nodes))
	for i, n := range g.Nodes {
		pos[n.ID] = uint32(i)
	}
	order := byKey[Edge]{keys: make([]uint64, 0, len(got.edges)), vals: got.edges[:0]}
	for _, e := range got.edges {
		p, okP := pos[e.ParentID]
		c, okC := pos[e.ChildID]
		if okP && okC {
			order.keys = append(order.keys, uint64(p)<<32|uint64(c))
			order.vals = append(order.vals, e)
		}
	}
	sort.Sort(order)
	g.Edges = order.vals
	if g.Edges == nil {
		g.Edges = []Edge{}
	}
	return g, nil
}

// edgeDetail is an edge's kind and time.
type edgeDetail struct {
	kind string
	at   time.Time
}

// assembleAt is assemble for edges given as the positions in nodes of their
// ends (parent<<32 | child), with their details beside them or none:
// nodes[0] is the root, and a node not present is not the owner's file.
// Positions stand in for the maps of ids assemble builds.
func assembleAt(nodes []Node, present []bool, ends []uint64, more []edgeDetail, truncated bool) (*Graph, error) {
	if !present[0] {
		return nil, errNotFound("lineage root", nodes[0].ID) // removed meanwhile
	}
	g := &Graph{RootID: nodes[0].ID, Truncated: truncated}
	// Sort the nodes that are present with their old positions beside them,
	// then number the old positions anew.
	order := nodeOrder{nodes: nodes[:0], at: make([]uint32, 0, len(nodes))}
	for i, n := range nodes {
		if present[i] {
			order.nodes = append(order.nodes, n)
			order.at = append(order.at, uint32(i))
		}
	}
	sort.Sort(order)
	now := make([]uint32, len(present))
	for i, at := range order.at {
		now[at] = uint32(i)
	}
	g.Nodes = order.nodes
	for i, e := range ends {
		ends[i] = uint64(now[e>>32])<<32 | uint64(now[uint32(e)])
	}
	if more == nil {
		slices.Sort(ends)
	} else {
		sort.Sort(byKey[edgeDetail]{ends, more})
	}
	g.Edges = make([]Edge, len(ends))
	for i, e := range ends {
		g.Edges[i] = Edge{ParentID: g.Nodes[e>>32].ID, ChildID: g.Nodes[uint32(e)].ID}
		if more != nil {
			g.Edges[i].Kind, g.Edges[i].CreatedAt = more[i].kind, more[i].at
		}
	}
	return g, nil
}

// nodeOrder sorts nodes, with their old positions beside them.
type nodeOrder struct {
	nodes []Node
	at    []uint32
}

func (o nodeOrder) Len() int           { return len(o.nodes) }
func (o nodeOrder) Less(i, j int) bool { return compareNodes(o.nodes[i], o.nodes[j]) < 0 }
func (o nodeOrder) Swap(i, j int) {
	o.nodes[i], o.nodes[j] = o.nodes[j], o.nodes[i]
	o.at[i], o.at[j] = o.at[j], o.at[i]
}

// byKey sorts values by their keys, the keys and values side by side in
// two slices: an edge by its ends' positions (parent, child), one 64-bit
// key, so that a large graph is sorted without a comparator over its
// edges' ids.
type byKey[V any] struct {
	keys []uint64
	vals []V
}

func (o byKey[V]) Len() int           { return len(o.keys) }
func (o byKey[V]) Less(i, j int) bool { return o.keys[i] < o.keys[j] }
func (o byKey[V]) Swap(i, j int) {
	o.keys[i], o.keys[j] = o.keys[j], o.keys[i]
	o.vals[i], o.vals[j] = o.vals[j], o.vals[i]
}

func compareNodes(x, y Node) int {
	return cmp.Or(cmp.Compare(x.Distance, y.Distance), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
}

func abs[T int | int32](x T) T {
	if x < 0 {
		return -x
	}
	return x
}
