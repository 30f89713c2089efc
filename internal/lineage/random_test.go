package lineage

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// randomGraph is a graph written to the database and kept in memory, so a
// walk can be checked against a plain breadth-first search.
type randomGraph struct {
	f        *fixture
	ids      []string // by file number
	names    []string
	deleted  []bool
	children [][]int
	parents  [][]int
	edges    map[[2]int]time.Time
}

// seedRandomGraph writes n files of the fixture's owner, named in an order
// unrelated to their ids, some of them tombstones, and about perFile edges
// per file, mostly from a lower to a higher number (a DAG), with a few back
// edges and self loops when cycles is set.
func seedRandomGraph(t *testing.T, f *fixture, r *rand.Rand, prefix string, n, perFile int, cycles bool) *randomGraph {
	t.Helper()
	g := &randomGraph{f: f, children: make([][]int, n), parents: make([][]int, n), edges: map[[2]int]time.Time{}}
	for i, p := range r.Perm(n) {
		// Tombstones may share a name with another file: names do not
		// decide the order alone.
		name := fmt.Sprintf("%s%03d", prefix, p)
		if i%7 == 3 {
			name = fmt.Sprintf("%s%03d", prefix, p/2)
		}
		g.ids = append(g.ids, f.fileOf(f.owner, fmt.Sprintf("%s-new%d", prefix, i)))
		g.names = append(g.names, name)
		g.deleted = append(g.deleted, i%7 == 3)
	}
	for i, id := range g.ids {
		if g.deleted[i] {
			mustExec(t, f.db, `UPDATE files SET name = ?, deleted_at = ? WHERE id = ?`, g.names[i], f.tick(), id)
		}
	}
	for i, id := range g.ids {
		if !g.deleted[i] {
			mustExec(t, f.db, `UPDATE files SET name = ? WHERE id = ?`, g.names[i], id)
		}
		f.names[id] = g.names[i]
	}
	add := func(p, c int) {
		if _, dup := g.edges[[2]int{p, c}]; dup {
			return
		}
		at := f.tick()
		mustExec(t, f.db, `INSERT INTO edges (parent_id, child_id, kind, created_at) VALUES (?, ?, ?, ?)`,
			g.ids[p], g.ids[c], KindCut, at)
		g.edges[[2]int{p, c}] = at
		g.children[p] = append(g.children[p], c)
		g.parents[c] = append(g.parents[c], p)
	}
	for range perFile * n {
		a, b := r.IntN(n), r.IntN(n)
		switch {
		case a < b:
			add(a, b)
		case a > b:
			add(b, a)
		}
	}
	if cycles {
		for range n / 10 {
			a, b := r.IntN(n), r.IntN(n)
			add(max(a, b), min(a, b))
		}
		add(n/2, n/2)
	}
	return g
}

// want is the answer of Service.Graph by its definition: exact shortest
// distances on each side, the closer side on both (the descendant side on
// a tie), the first limit files by (distance, id) within depth, ordered by
// (distance, name, id), and every edge between two of them.
func (g *randomGraph) want(root int, dir Direction, depth, limit int) *Graph {
	bfs := func(next [][]int) map[int]int {
		dist := map[int]int{root: 0}
		queue := []int{root}
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, y := range next[x] {
				if _, ok := dist[y]; !ok {
					dist[y] = dist[x] + 1
					queue = append(queue, y)
				}
			}
		}
		return dist
	}
	dist := map[int]int{}
	if dir != Downstream {
		for x, d := range bfs(g.parents) {
			dist[x] = -d
		}
	}
	if dir != Upstream {
		for x, d := range bfs(g.children) {
			if old, ok := dist[x]; !ok || d <= -old {
				dist[x] = d
			}
		}
	}
	delete(dist, root)
	var chosen []int
	for x, d := range dist {
		if abs(d) <= depth {
			chosen = append(chosen, x)
		}
	}
	slices.SortFunc(chosen, func(x, y int) int {
		return cmp.Or(cmp.Compare(abs(dist[x]), abs(dist[y])), strings.Compare(g.ids[x], g.ids[y]))
	})
	chosen = chosen[:min(len(chosen), limit)]
	out := &Graph{RootID: g.ids[root], Truncated: len(dist) > len(chosen)}
	for _, x := range append([]int{root}, chosen...) {
		out.Nodes = append(out.Nodes, Node{ID: g.ids[x], Name: g.names[x], Deleted: g.deleted[x], Distance: dist[x]})
	}
	slices.SortFunc(out.Nodes, compareNodes)
	pos := map[string]int{}
	for i, n := range out.Nodes {
		pos[n.ID] = i
	}
	for e, at := range g.edges {
		_, okP := pos[g.ids[e[0]]]
		_, okC := pos[g.ids[e[1]]]
		if okP && okC {
			out.Edges = append(out.Edges, Edge{ParentID: g.ids[e[0]], ChildID: g.ids[e[1]], Kind: KindCut, CreatedAt: at})
		}
	}
	slices.SortFunc(out.Edges, func(x, y Edge) int {
		return cmp.Or(cmp.Compare(pos[x.ParentID], pos[y.ParentID]), cmp.Compare(pos[x.ChildID], pos[y.ChildID]))
	})
	if out.Edges == nil {
		out.Edges = []Edge{}
	}
	return out
}

// sameGraph reports how got differs from want, "" if it does not.
func sameGraph(got, want *Graph) string {
	var diff []string
	if got.RootID != want.RootID || got.Truncated != want.Truncated {
		diff = append(diff, fmt.Sprintf("root %s truncated %v, want %s %v", got.RootID, got.Truncated, want.RootID, want.Truncated))
	}
	if !slices.Equal(got.Nodes, want.Nodes) {
		diff = append(diff, fmt.Sprintf("nodes\n got %v\nwant %v", got.Nodes, want.Nodes))
	}
	if !slices.EqualFunc(got.Edges, want.Edges, func(x, y Edge) bool {
		return x.ParentID == y.ParentID && x.ChildID == y.ChildID && x.Kind == y.Kind && x.CreatedAt.Equal(y.CreatedAt)
	}) {
		diff = append(diff, fmt.Sprintf("edges\n got %v\nwant %v", got.Edges, want.Edges))
	}
	return strings.Join(diff, "; ")
}

// Every walk shape, and the hand-over between them, gives the answer a plain
// breadth-first search gives, on random graphs with tombstones, with and
// without cycles, cut by depth and by limit, in every direction; and so
// does a walk without the edges' details, less the details.
func TestGraphRandomAgreesWithBFS(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		r := rand.New(rand.NewPCG(7, 11))
		var graphs []*randomGraph
		for i, size := range []struct{ n, perFile int }{{40, 2}, {60, 3}, {25, 1}} {
			graphs = append(graphs, seedRandomGraph(t, f, r, fmt.Sprintf("g%d-", i), size.n, size.perFile, i != 0))
		}
		svc := NewService(db, 100, 1000)
		var cut, whole, large int
		for gi, g := range graphs {
			roots := []int{0, len(g.ids) / 3, len(g.ids) / 2, len(g.ids) - 1}
			for _, root := range roots {
				for _, dir := range []Direction{Downstream, Upstream, Both} {
					for _, depth := range []int{1, 2, 4, 100} {
						for _, limit := range []int{1, 3, 8, 1000} {
							want := g.want(root, dir, depth, limit)
							if want.Truncated {
								cut++
							} else {
								whole++
							}
							if len(want.Nodes) >= 20 {
								large++
							}
							for _, v := range variantsFor(svc) {
								forced := *svc
								forced.shape, forced.rowsFactor, forced.levelCap = v.shape, v.rowsFactor, v.levelCap
								name := fmt.Sprintf("graph %d root %d %s depth %d limit %d [%s]", gi, root, dir, depth, limit, v.name)
								got, err := forced.Graph(ctx, f.owner, g.ids[root], dir, depth, limit)
								if err != nil {
									t.Fatalf("%s: %v", name, err)
								}
								if d := sameGraph(got, want); d != "" {
									t.Errorf("%s: %s", name, d)
								}
								ends, err := forced.Walk(ctx, f.owner, g.ids[root], dir, depth, limit, EdgeEnds)
								if err != nil {
									t.Fatalf("%s, edge ends: %v", name, err)
								}
								bare := *want
								bare.Edges = slices.Clone(want.Edges)
								for i := range bare.Edges {
									bare.Edges[i].Kind, bare.Edges[i].CreatedAt = "", time.Time{}
								}
								if d := sameGraph(ends, &bare); d != "" {
									t.Errorf("%s, edge ends: %s", name, d)
								}
							}
						}
					}
				}
			}
		}
		// The cases reach every outcome, so that answers all cut, all whole
		// or all tiny could not pass for a check.
		if cut == 0 || whole == 0 || large == 0 {
			t.Fatalf("%d cut answers, %d whole, %d of 20 nodes or more", cut, whole, large)
		}
	})
}
