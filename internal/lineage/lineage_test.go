package lineage

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

var ctx = context.Background()

type walkCase struct {
	name         string
	root         string
	dir          Direction
	depth, limit int
	nodes        string // "name:distance" joined by spaces, * marks a tombstone
	edges        string // "parent>child" joined by spaces
	truncated    bool
}

// variant is a way to run a walk: every case runs through each, so each
// walk shape, and the hand-over from one to the other, is held to the same
// answers.
type variant struct {
	name       string
	shape      shape
	rowsFactor int // SQLite sorted walk: rows cap = rowsFactor * (limit+2)
	levelCap   int // PostgreSQL frontier: levels before the hand-over
}

func variantsFor(svc *Service) []variant {
	vs := []variant{{name: "auto"}, {name: "ids", shape: shapeIDs}}
	if svc.store.db.Postgres() {
		return append(vs, variant{name: "handover", levelCap: 2})
	}
	return append(vs, variant{name: "handover", rowsFactor: 1})
}

func runCases(t *testing.T, f *fixture, svc *Service, cases []walkCase) {
	t.Helper()
	for _, v := range variantsFor(svc) {
		forced := *svc
		forced.shape, forced.rowsFactor, forced.levelCap = v.shape, v.rowsFactor, v.levelCap
		for _, c := range cases {
			name := fmt.Sprintf("%s [%s]", c.name, v.name)
			g, err := forced.Graph(ctx, f.owner, f.id(c.root), c.dir, c.depth, c.limit)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			nodes, edges := f.describe(g)
			if got := strings.Join(nodes, " "); got != c.nodes {
				t.Errorf("%s: nodes\n got %s\nwant %s", name, got, c.nodes)
			}
			if got := strings.Join(edges, " "); got != c.edges {
				t.Errorf("%s: edges\n got %s\nwant %s", name, got, c.edges)
			}
			if g.Truncated != c.truncated {
				t.Errorf("%s: truncated = %v, want %v", name, g.Truncated, c.truncated)
			}
			if g.RootID != f.id(c.root) {
				t.Errorf("%s: root %s, want %s", name, g.RootID, f.id(c.root))
			}
			for _, e := range g.Edges {
				if e.Kind != KindCut || e.CreatedAt.IsZero() {
					t.Errorf("%s: edge %+v without its kind or time", name, e)
				}
			}
			// Without the edges' details: the same graph, kinds and times
			// left out.
			ends, err := forced.Walk(ctx, f.owner, f.id(c.root), c.dir, c.depth, c.limit, EdgeEnds)
			if err != nil {
				t.Errorf("%s, edge ends only: %v", name, err)
				continue
			}
			want := *g
			want.Edges = slices.Clone(g.Edges)
			for i := range want.Edges {
				want.Edges[i].Kind, want.Edges[i].CreatedAt = "", time.Time{}
			}
			if !reflect.DeepEqual(ends, &want) {
				t.Errorf("%s, edge ends only:\n got %+v\nwant %+v", name, ends, &want)
			}
		}
	}
}

func TestGraphChain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b", "c", "d", "e")
		f.edges("a>b", "b>c", "c>d", "d>e")
		svc := NewService(db, 100, 1000)
		runCases(t, f, svc, []walkCase{
			{"both", "c", Both, 10, 100, "a:-2 b:-1 c:0 d:1 e:2", "a>b b>c c>d d>e", false},
			{"down", "a", Downstream, 10, 100, "a:0 b:1 c:2 d:3 e:4", "a>b b>c c>d d>e", false},
			{"up", "e", Upstream, 10, 100, "a:-4 b:-3 c:-2 d:-1 e:0", "a>b b>c c>d d>e", false},
			{"down depth cut", "a", Downstream, 2, 100, "a:0 b:1 c:2", "a>b b>c", true},
			{"down depth exact", "a", Downstream, 4, 100, "a:0 b:1 c:2 d:3 e:4", "a>b b>c c>d d>e", false},
			{"up depth cut", "e", Upstream, 1, 100, "d:-1 e:0", "d>e", true},
			{"both depth cut", "c", Both, 1, 100, "b:-1 c:0 d:1", "b>c c>d", true},
			{"down limit cut", "a", Downstream, 10, 3, "a:0 b:1 c:2 d:3", "a>b b>c c>d", true},
			{"down limit exact", "a", Downstream, 10, 4, "a:0 b:1 c:2 d:3 e:4", "a>b b>c c>d d>e", false},
			{"leaf down", "e", Downstream, 10, 100, "e:0", "", false},
			{"root only up", "a", Upstream, 10, 100, "a:0", "", false},
			// With Both, the limit keeps the closest files first.
			{"both limit", "c", Both, 10, 2, "b:-1 c:0 d:1", "b>c c>d", true},
			{"both limit odd", "c", Both, 10, 3, "a:-2 b:-1 c:0 d:1", "a>b b>c c>d", true},
		})
	})
}

func TestGraphDiamondAndShortestDistance(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b", "c", "d", "e", "x")
		// a -> b -> d, a -> c -> d, d -> e; x is a second parent of d and a
		// shortcut a -> e makes e a child of a as well.
		f.edges("a>b", "a>c", "b>d", "c>d", "d>e", "x>d", "a>e")
		runCases(t, f, NewService(db, 100, 1000), []walkCase{
			{"down", "a", Downstream, 10, 100, "a:0 b:1 c:1 e:1 d:2", "a>b a>c a>e b>d c>d d>e", false},
			{"up", "d", Upstream, 10, 100, "a:-2 b:-1 c:-1 x:-1 d:0", "a>b a>c b>d c>d x>d", false},
			{"up from e", "e", Upstream, 10, 100, "b:-2 c:-2 x:-2 a:-1 d:-1 e:0", "b>d c>d x>d a>b a>c a>e d>e", false},
			{"both from d", "d", Both, 1, 100, "b:-1 c:-1 x:-1 d:0 e:1", "b>d c>d x>d d>e", true},
		})
	})
}

func TestGraphCrossEdgeWithBoth(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("p", "r", "c")
		f.edges("p>r", "r>c", "p>c") // p -> c skips r: seen by neither walk alone
		runCases(t, f, NewService(db, 100, 1000), []walkCase{
			{"both", "r", Both, 10, 100, "p:-1 r:0 c:1", "p>r p>c r>c", false},
			{"up", "r", Upstream, 10, 100, "p:-1 r:0", "p>r", false},
		})
	})
}

func TestGraphLimitCutsByID(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		// Ids grow in creation order. The walk meets level 2 through pa (the
		// smaller id of level 1) first, so a1 and a2 come before y1 and y2,
		// whose ids are smaller; names sort the other way again. A cut level
		// keeps its smallest ids, whatever the walk met first.
		f.files("root", "y1", "y2", "pa", "pb", "a1", "a2")
		f.edges("root>pa", "root>pb", "pa>a1", "pa>a2", "pb>y1", "pb>y2", "y2>y1")
		runCases(t, f, NewService(db, 100, 1000), []walkCase{
			{"limit 3", "root", Downstream, 10, 3, "root:0 pa:1 pb:1 y1:2", "root>pa root>pb pb>y1", true},
			// y2 -> y1 joins two files of the cut level: its edge is kept.
			{"limit 4", "root", Downstream, 10, 4, "root:0 pa:1 pb:1 y1:2 y2:2", "root>pa root>pb pb>y1 pb>y2 y2>y1", true},
			{"limit 5", "root", Downstream, 10, 5, "root:0 pa:1 pb:1 a1:2 y1:2 y2:2", "root>pa root>pb pa>a1 pb>y1 pb>y2 y2>y1", true},
			{"limit 6", "root", Downstream, 10, 6, "root:0 pa:1 pb:1 a1:2 a2:2 y1:2 y2:2", "root>pa root>pb pa>a1 pa>a2 pb>y1 pb>y2 y2>y1", false},
			{"limit 1", "root", Downstream, 10, 1, "root:0 pa:1", "root>pa", true},
			{"depth 1", "root", Downstream, 1, 6, "root:0 pa:1 pb:1", "root>pa root>pb", true},
			{"up limit 1", "y1", Upstream, 10, 1, "y2:-1 y1:0", "y2>y1", true},
			{"up limit 2", "y1", Upstream, 10, 2, "pb:-1 y2:-1 y1:0", "pb>y2 pb>y1 y2>y1", true},
			{"up limit 3", "y1", Upstream, 10, 3, "root:-2 pb:-1 y2:-1 y1:0", "root>pb pb>y2 pb>y1 y2>y1", false},
		})
	})
}

func TestGraphClampedByServiceMaxima(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b", "c", "d")
		f.edges("a>b", "b>c", "c>d")
		runCases(t, f, NewService(db, 2, 1000), []walkCase{
			{"depth clamp", "a", Downstream, 50, 100, "a:0 b:1 c:2", "a>b b>c", true},
			{"depth clamp nothing cut", "b", Downstream, 50, 100, "b:0 c:1 d:2", "b>c c>d", false},
		})
		runCases(t, f, NewService(db, 100, 1), []walkCase{
			{"limit clamp", "a", Downstream, 10, 100, "a:0 b:1", "a>b", true},
			{"limit clamp nothing cut", "c", Downstream, 10, 100, "c:0 d:1", "c>d", false},
		})
	})
}

func TestGraphTombstones(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b", "c")
		f.edges("a>b", "b>c")
		f.remove("b")
		// A live file may take the tombstone's name again; it is unrelated.
		f.files("b")
		f.remove("a")
		svc := NewService(db, 100, 1000)
		g, err := svc.Graph(ctx, f.owner, f.names[uuidOf(1)], Downstream, 10, 10)
		if err == nil || !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("a name is not an id: got %v, %v", g, err)
		}
		g, err = svc.Graph(ctx, f.owner, uuidOf(1), Downstream, 10, 10) // tombstone root a
		if err != nil {
			t.Fatal(err)
		}
		nodes, edges := f.describe(g)
		if got := strings.Join(nodes, " "); got != "a:0* b:1* c:2" {
			t.Errorf("nodes %s", got)
		}
		if got := strings.Join(edges, " "); got != "a>b b>c" {
			t.Errorf("edges %s", got)
		}
		g, err = svc.Graph(ctx, f.owner, f.id("c"), Upstream, 10, 10)
		if err != nil {
			t.Fatal(err)
		}
		if nodes, _ := f.describe(g); strings.Join(nodes, " ") != "a:-2* b:-1* c:0" {
			t.Errorf("up nodes %s", strings.Join(nodes, " "))
		}
	})
}

func TestGraphTerminatesOnCycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b", "c", "d")
		// AddEdges refuses cycles; data written around it must not hang a walk.
		f.edges("a>b", "b>c", "c>a", "c>d", "d>d")
		runCases(t, f, NewService(db, 100, 1000), []walkCase{
			{"down", "a", Downstream, 100, 100, "a:0 b:1 c:2 d:3", "a>b b>c c>a c>d d>d", false},
			{"up", "a", Upstream, 100, 100, "b:-2 c:-1 a:0", "b>c c>a a>b", false},
			// b is a child (1) and a grandparent (-2): the shorter side wins;
			// c is a grandchild (2) and a parent (-1).
			{"both", "a", Both, 100, 100, "c:-1 a:0 b:1 d:3", "c>a c>d a>b b>c d>d", false},
			{"self loop", "d", Downstream, 100, 100, "d:0", "d>d", false},
		})
	})
}

func TestGraphErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("mine")
		foreign := f.fileOf(2, "theirs")
		svc := NewService(db, 100, 1000)
		for _, c := range []struct {
			name         string
			root         string
			dir          Direction
			depth, limit int
			want         error
		}{
			{"foreign root", foreign, Both, 10, 10, apperr.ErrNotFound},
			{"missing root", uuidOf(999), Both, 10, 10, apperr.ErrNotFound},
			{"malformed root", "not-a-uuid", Both, 10, 10, apperr.ErrNotFound},
			{"zero depth", f.id("mine"), Both, 0, 10, apperr.ErrInvalidInput},
			{"negative depth", f.id("mine"), Both, -1, 10, apperr.ErrInvalidInput},
			{"zero limit", f.id("mine"), Both, 10, 0, apperr.ErrInvalidInput},
			{"bad direction", f.id("mine"), Direction("SIDEWAYS"), 10, 10, apperr.ErrInvalidInput},
		} {
			_, err := svc.Graph(ctx, f.owner, c.root, c.dir, c.depth, c.limit)
			if !errors.Is(err, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, err, c.want)
			}
		}
		// The owner sees its file; the upper-case spelling of the id is the same file.
		g, err := svc.Graph(ctx, 2, strings.ToUpper(foreign), Both, 10, 10)
		if err != nil || len(g.Nodes) != 1 || g.Nodes[0].ID != foreign || g.Nodes[0].Name != "theirs" {
			t.Fatalf("owner's own root: %+v, %v", g, err)
		}
	})
}

func TestGraphIgnoresForeignFilesOnEdges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b")
		x := f.fileOf(2, "x")
		f.ids["x"] = x // only to insert the edges below
		f.edges("a>b", "b>x", "x>a")
		delete(f.ids, "x")
		runCases(t, f, NewService(db, 100, 1000), []walkCase{
			{"both", "a", Both, 10, 10, "a:0 b:1", "a>b", false},
		})
		par, err := NewService(db, 100, 1000).Parents(ctx, f.owner, []string{f.id("a")})
		if err != nil || len(par[f.id("a")]) != 0 {
			t.Fatalf("parents of a: %v, %v", par, err)
		}
	})
}

func TestConnected(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("gp", "p", "me", "sib", "kid", "other")
		f.edges("gp>p", "p>me", "p>sib", "me>kid")
		g, err := NewService(db, 100, 1000).Connected(ctx, f.owner, f.id("me"))
		if err != nil {
			t.Fatal(err)
		}
		nodes, edges := f.describe(g)
		// sib is a descendant of an ancestor, not connected in the legacy sense.
		if got := strings.Join(nodes, " "); got != "gp:-2 p:-1 me:0 kid:1" {
			t.Errorf("nodes %s", got)
		}
		if got := strings.Join(edges, " "); got != "gp>p p>me me>kid" {
			t.Errorf("edges %s", got)
		}
	})
}

func TestEdgeFieldsAndOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b")
		when := base.Add(42 * time.Second)
		if err := NewStore(db).AddEdges(ctx, db, f.owner, f.id("b"), []string{f.id("a")}, "GENERATED_FROM", when, AddOptions{}); err != nil {
			t.Fatal(err)
		}
		g, err := NewService(db, 100, 1000).Graph(ctx, f.owner, f.id("a"), Downstream, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []Edge{{ParentID: f.id("a"), ChildID: f.id("b"), Kind: "GENERATED_FROM", CreatedAt: when}}
		if len(g.Edges) != 1 || g.Edges[0].ParentID != want[0].ParentID || g.Edges[0].ChildID != want[0].ChildID ||
			g.Edges[0].Kind != want[0].Kind || !g.Edges[0].CreatedAt.Equal(when) {
			t.Fatalf("edges %+v, want %+v", g.Edges, want)
		}
	})
}

func TestAddEdges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("a", "b", "c", "gone", "child")
		f.edges("a>b", "b>c")
		f.remove("gone")
		foreign := f.fileOf(2, "theirs")
		svc := NewService(db, 100, 1000)

		invalid := func(name string, err error, reason string) {
			t.Helper()
			var ie *apperr.InvalidError
			if !errors.As(err, &ie) || ie.Field != "parentIds" || !strings.Contains(ie.Reason, reason) {
				t.Errorf("%s: got %v, want parentIds: ...%s", name, err, reason)
			}
		}
		add := func(child string, parents ...string) error {
			return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return NewStore(db).AddEdges(ctx, tx, f.owner, child, parents, KindCut, f.tick(), AddOptions{})
			})
		}
		invalid("cycle", add(f.id("a"), f.id("c")), "would create a cycle")
		invalid("direct cycle", add(f.id("a"), f.id("b")), "would create a cycle")
		invalid("self", add(f.id("a"), f.id("a")), "would create a cycle")
		invalid("foreign parent", add(f.id("child"), f.id("a"), foreign), "file "+foreign+" not found")
		invalid("deleted parent", add(f.id("child"), f.id("gone")), "file "+f.id("gone")+" not found")
		invalid("unknown parent", add(f.id("child"), uuidOf(999)), "file "+uuidOf(999)+" not found")
		invalid("malformed parent", add(f.id("child"), "nope"), "file nope not found")
		if err := add(foreign, f.id("a")); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("foreign child: %v", err)
		}
		if err := NewStore(db).AddEdges(ctx, db, f.owner, f.id("child"), []string{f.id("a")}, " ", base, AddOptions{}); !errors.Is(err, apperr.ErrInvalidInput) {
			t.Errorf("empty kind: %v", err)
		}
		// A refused call leaves nothing behind, even for its valid parents.
		if par, _ := svc.Parents(ctx, f.owner, []string{f.id("child")}); len(par[f.id("child")]) != 0 {
			t.Fatalf("refused calls wrote edges: %v", par)
		}

		// Duplicates collapse; a second identical call changes nothing.
		for range 2 {
			if err := add(f.id("child"), f.id("c"), f.id("a"), strings.ToUpper(f.id("c"))); err != nil {
				t.Fatal(err)
			}
		}
		par, err := svc.Parents(ctx, f.owner, []string{f.id("child")})
		if err != nil {
			t.Fatal(err)
		}
		// One call stamps its edges with one time, so the id breaks the tie.
		if got, want := par[f.id("child")], []string{f.id("a"), f.id("c")}; !slices.Equal(got, want) {
			t.Errorf("parents %v, want %v", got, want)
		}
		// An empty parent list is a no-op.
		if err := add(f.id("c")); err != nil {
			t.Errorf("no parents: %v", err)
		}
		// Multiple parents, then the walk sees the whole DAG.
		g, err := svc.Graph(ctx, f.owner, f.id("child"), Upstream, 10, 10)
		if err != nil {
			t.Fatal(err)
		}
		if nodes, _ := f.describe(g); strings.Join(nodes, " ") != "b:-2 a:-1 c:-1 child:0" {
			t.Errorf("after AddEdges: %v", nodes)
		}
	})
}

func TestParentsChildrenBatch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.files("p1", "p2", "p3")
		for i := range 20 {
			f.files("k" + string(rune('a'+i)))
		}
		// Edges inserted in an order that differs from the id order, to check
		// that neighbours come by edge time.
		f.edges("p3>ka", "p1>ka", "p2>ka", "p1>kb")
		for i := 2; i < 20; i++ {
			f.edges("p2>k" + string(rune('a'+i)))
		}
		foreign := f.fileOf(2, "theirs")
		svc := NewService(db, 100, 1000)
		counter := &queryCounter{}
		db.AddQueryHook(counter)

		count := func(fn func() error) int64 {
			t.Helper()
			before := counter.n.Load()
			if err := fn(); err != nil {
				t.Fatal(err)
			}
			return counter.n.Load() - before
		}
		var one, many map[string][]string
		n1 := count(func() (err error) {
			one, err = svc.Parents(ctx, f.owner, []string{f.id("ka")})
			return err
		})
		var ids []string
		for i := range 20 {
			ids = append(ids, f.id("k"+string(rune('a'+i))))
		}
		ids = append(ids, f.id("p1"), foreign, uuidOf(999), "garbage")
		n20 := count(func() (err error) {
			many, err = svc.Parents(ctx, f.owner, ids)
			return err
		})
		if n1 != 1 || n20 != 1 {
			t.Errorf("queries: %d for one id, %d for %d ids; want 1 and 1", n1, n20, len(ids))
		}
		if got, want := one[f.id("ka")], []string{f.id("p3"), f.id("p1"), f.id("p2")}; !slices.Equal(got, want) {
			t.Errorf("parents of ka %v, want %v", got, want)
		}
		if got := many[f.id("kc")]; !slices.Equal(got, []string{f.id("p2")}) {
			t.Errorf("parents of kc %v", got)
		}
		if got, ok := many[f.id("p1")]; !ok || len(got) != 0 {
			t.Errorf("p1 has no parents: want an empty entry, got %v, %v", got, ok)
		}
		for _, id := range []string{foreign, uuidOf(999), "garbage"} {
			if _, ok := many[id]; ok {
				t.Errorf("%s is not the owner's: want no entry", id)
			}
		}
		if len(many) != 21 {
			t.Errorf("%d entries, want 21", len(many))
		}

		var kids map[string][]string
		nk := count(func() (err error) {
			kids, err = svc.Children(ctx, f.owner, []string{f.id("p1"), f.id("p2"), f.id("p3"), f.id("ka")})
			return err
		})
		if nk != 1 {
			t.Errorf("children: %d queries", nk)
		}
		if got := kids[f.id("p1")]; !slices.Equal(got, []string{f.id("ka"), f.id("kb")}) {
			t.Errorf("children of p1 %v", got)
		}
		if got := kids[f.id("p2")]; len(got) != 19 || got[0] != f.id("ka") || got[1] != f.id("kc") {
			t.Errorf("children of p2 %v", got)
		}
		if got, ok := kids[f.id("ka")]; !ok || len(got) != 0 {
			t.Errorf("children of ka %v, %v", got, ok)
		}
		// Asking with another spelling answers under that spelling; a key
		// asked twice is answered once.
		up := strings.ToUpper(f.id("p3"))
		kids, err := svc.Children(ctx, f.owner, []string{up, f.id("p3"), up})
		if err != nil || !slices.Equal(kids[up], []string{f.id("ka")}) || !slices.Equal(kids[f.id("p3")], []string{f.id("ka")}) {
			t.Errorf("upper-case and repeated keys: %v, %v", kids, err)
		}
		// A walk is one statement, whatever the direction, unless a sorted
		// walk hits its caps (TestGraphRevisits).
		ng := count(func() error {
			_, err := svc.Graph(ctx, f.owner, f.id("ka"), Both, 10, 100)
			return err
		})
		if ng != 1 {
			t.Errorf("graph: %d queries, want 1", ng)
		}
	})
}

// A dense DAG meets its files again at every path length: a depth walk whose
// row cap runs out among the revisits must notice it did not see enough and
// walk again (runCases includes a depth walk with the smallest cap).
func TestGraphRevisits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		for i := range 10 {
			f.files(fmt.Sprintf("x%d", i))
		}
		f.files("t1", "t2")
		// x0..x9 with every edge xi -> xj (i < j), then a tail x9 -> t1 -> t2.
		var edges []string
		for i := range 10 {
			for j := i + 1; j < 10; j++ {
				edges = append(edges, fmt.Sprintf("x%d>x%d", i, j))
			}
		}
		edges = append(edges, "x9>t1", "t1>t2")
		f.edges(edges...)
		level1 := "x0:0"
		for i := 1; i < 10; i++ {
			level1 += fmt.Sprintf(" x%d:1", i)
		}
		svc := NewService(db, 100, 1000)
		runCases(t, f, svc, []walkCase{
			{"down", "x0", Downstream, 5, 20, level1 + " t1:2 t2:3", strings.Join(edges, " "), false},
			{"down cut", "x0", Downstream, 2, 20, level1 + " t1:2", strings.Join(edges[:len(edges)-1], " "), true},
			{"up", "t2", Upstream, 5, 3, "x0:-3 x9:-2 t1:-1 t2:0", "x0>x9 x9>t1 t1>t2", true},
		})

		// With the smallest caps the sorted walk of "down" cannot settle the
		// answer (SQLite: 24 rows within depth 6 hold revisits; PostgreSQL:
		// two levels of six) and hands over to the ids walk: three statements
		// (sorted walk, ids walk, names and edges) instead of one.
		counter := &queryCounter{}
		db.AddQueryHook(counter)
		tight := *svc
		tight.rowsFactor, tight.levelCap = 1, 2
		g, err := tight.Graph(ctx, f.owner, f.id("x0"), Downstream, 5, 20)
		if err != nil {
			t.Fatal(err)
		}
		if n := counter.n.Load(); n != 3 {
			t.Errorf("%d statements, want 3 (sorted walk, ids walk, names and edges)", n)
		}
		if nodes, _ := f.describe(g); strings.Join(nodes, " ") != level1+" t1:2 t2:3" || g.Truncated {
			t.Errorf("after hand-over: %v, truncated %v", nodes, g.Truncated)
		}
	})
}

// An import records edges between files that exist already, tombstones
// included, while the server may be adding edges of the same owner. Two
// such writes that would together close a cycle (x under y, y under x)
// must not both pass: the import path (Service.AddEdges) takes the same
// lock and runs the same cycle check as the one inside a new file's
// transaction (Store.AddEdges), on PostgreSQL where writers run at once.
func TestImportRacingAddEdgesMakesNoCycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		svc := NewService(db, 100, 1000)
		const pairs = 12
		for i := range pairs {
			f.files(fmt.Sprintf("x%d", i), fmt.Sprintf("y%d", i))
			f.remove(fmt.Sprintf("y%d", i)) // the import's parent is a tombstone
		}
		var wg sync.WaitGroup
		errs := make([][2]error, pairs)
		start := make(chan struct{})
		for i := range pairs {
			x, y := f.id(fmt.Sprintf("x%d", i)), f.id(fmt.Sprintf("y%d", i))
			wg.Add(2)
			go func() { // the importer: y (a tombstone) -> x
				defer wg.Done()
				<-start
				errs[i][0] = svc.AddEdges(ctx, f.owner, x, []string{y}, KindCut, base, AddOptions{DeletedParents: true})
			}()
			go func() { // the server, in a transaction of its own: x -> y
				defer wg.Done()
				<-start
				errs[i][1] = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					// Keep the transaction open a moment after the check, as a
					// file insert does, so that the two overlap.
					err := NewStore(db).AddEdges(ctx, tx, f.owner, y, []string{x}, KindCut, base, AddOptions{})
					time.Sleep(5 * time.Millisecond)
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		for i, e := range errs {
			ok := 0
			for _, err := range e {
				var ie *apperr.InvalidError
				switch {
				case err == nil:
					ok++
				case !errors.As(err, &ie) || !strings.Contains(ie.Reason, "would create a cycle"):
					t.Errorf("pair %d: %v, want success or a refused cycle", i, err)
				}
			}
			if ok != 1 {
				t.Errorf("pair %d: %d of the two writes passed, want exactly one: %v", i, ok, e)
			}
		}
		var cycles int
		if err := db.NewRaw(`SELECT count(*) FROM edges a JOIN edges b ON a.parent_id = b.child_id AND a.child_id = b.parent_id`).
			Scan(ctx, &cycles); err != nil {
			t.Fatal(err)
		}
		if cycles != 0 {
			t.Fatalf("%d edges close a cycle", cycles)
		}
	})
}
