package lineage

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/uptrace/bun"
)

// fixture inserts users, files and edges with plain SQL, so the tests do not
// depend on the files package.
type fixture struct {
	t     testing.TB
	db    *database.DB
	owner int64
	ids   map[string]string // name -> id, for the owner's files
	names map[string]string // id -> name
	n     int
	clock time.Time
}

var base = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFixture(t testing.TB, db *database.DB) *fixture {
	t.Helper()
	for _, id := range []int64{1, 2} {
		mustExec(t, db, `INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (?, ?, ?, 'x', ?)`,
			id, fmt.Sprintf("user%d", id), fmt.Sprintf("user%d", id), base)
	}
	return &fixture{t: t, db: db, owner: 1, ids: map[string]string{}, names: map[string]string{}, clock: base}
}

func mustExec(t testing.TB, db bun.IDB, query string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// uuidOf makes deterministic, increasing ids, so the order in which a walk
// meets files (index order) is known and can be made to differ from names.
func uuidOf(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func (f *fixture) tick() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

// fileOf inserts a file of owner and returns its id.
func (f *fixture) fileOf(owner int64, name string) string {
	f.t.Helper()
	f.n++
	id := uuidOf(f.n)
	mustExec(f.t, f.db, `INSERT INTO files (id, owner_id, name, size, sha256, content_type, encoding, delimiter,
		row_count, columns, origin, system_tags, user_tags, created_at)
		VALUES (?, ?, ?, 0, '', 'text/csv', 'utf-8', ',', 0, '[]', 'UPLOADED', '[]', '[]', ?)`, id, owner, name, f.tick())
	if owner == f.owner {
		f.ids[name] = id
	}
	f.names[id] = name
	return id
}

// files inserts files of the fixture's owner.
func (f *fixture) files(names ...string) {
	f.t.Helper()
	for _, n := range names {
		f.fileOf(f.owner, n)
	}
}

func (f *fixture) id(name string) string {
	f.t.Helper()
	id, ok := f.ids[name]
	if !ok {
		f.t.Fatalf("no file %q", name)
	}
	return id
}

// edges inserts edges straight into the table, given as "parent>child".
func (f *fixture) edges(pairs ...string) {
	f.t.Helper()
	for _, p := range pairs {
		var a, b string
		for i := range len(p) {
			if p[i] == '>' {
				a, b = p[:i], p[i+1:]
			}
		}
		mustExec(f.t, f.db, `INSERT INTO edges (parent_id, child_id, kind, created_at) VALUES (?, ?, 'CUT_TO', ?)`,
			f.id(a), f.id(b), f.tick())
	}
}

func (f *fixture) remove(name string) {
	f.t.Helper()
	mustExec(f.t, f.db, `UPDATE files SET deleted_at = ? WHERE id = ?`, f.tick(), f.id(name))
}

// describe renders nodes as "name:distance" (with a * for tombstones) and
// edges as "parent>child", with names, for readable comparisons.
func (f *fixture) describe(g *Graph) (nodes, edges []string) {
	for _, n := range g.Nodes {
		s := fmt.Sprintf("%s:%d", n.Name, n.Distance)
		if n.Deleted {
			s += "*"
		}
		nodes = append(nodes, s)
	}
	for _, e := range g.Edges {
		edges = append(edges, f.names[e.ParentID]+">"+f.names[e.ChildID])
	}
	return nodes, edges
}

// queryCounter is a bun.QueryHook that counts the statements run.
type queryCounter struct{ n atomic.Int64 }

func (c *queryCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}
func (c *queryCounter) AfterQuery(context.Context, *bun.QueryEvent) { c.n.Add(1) }
