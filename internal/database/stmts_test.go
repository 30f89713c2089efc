package database_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// Times written by bun and compared with a bound argument must agree on
// both dialects (SQLite compares them as text), and so must every other
// kind of argument.
func TestStmtsBindsLikeBunWrites(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
		if _, err := db.NewRaw(`INSERT INTO users (id, username, username_key, password_hash, created_at)
			VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)`,
			1, "Ann", "ann", "x", at, 2, "Bob", "bob", "x", at.Add(time.Second)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		st := db.Prepared()
		defer st.Close()
		tests := []struct {
			name  string
			query string
			args  []any
			want  []string
		}{
			{"time equal", "SELECT username FROM users WHERE created_at = ? ORDER BY id", []any{at}, []string{"Ann"}},
			{"time after", "SELECT username FROM users WHERE created_at > ? ORDER BY id", []any{at}, []string{"Bob"}},
			{"time in another zone", "SELECT username FROM users WHERE created_at = ? ORDER BY id", []any{at.In(time.FixedZone("x", 3600))}, []string{"Ann"}},
			{"several arguments", "SELECT username FROM users WHERE id >= ? AND username_key <> ? ORDER BY id", []any{int64(1), "bob"}, []string{"Ann"}},
			{"none", "SELECT username FROM users WHERE id = ?", []any{int64(99)}, nil},
		}
		for _, tc := range tests {
			for round := range 2 { // prepared, then reused
				got := queryNames(t, st, tc.query, tc.args...)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%s (round %d): got %v, want %v", tc.name, round, got, tc.want)
				}
			}
		}
		if tests[0].args[0] != any(at) {
			t.Error("the caller's arguments were changed")
		}
	})
}

// Past its bound the cache stops growing and queries still answer.
func TestStmtsBeyondTheBound(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		st := db.Prepared()
		defer st.Close()
		for i := range 300 {
			var n int
			rows, err := st.Query(context.Background(), fmt.Sprintf("SELECT %d + ?", i), int64(1))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
			}
			rows.Close()
			if n != i+1 {
				t.Fatalf("query %d answered %d", i, n)
			}
		}
		if got := st.Len(); got != 256 {
			t.Fatalf("%d statements kept, want 256", got)
		}
	})
}

func queryNames(t *testing.T, st *database.Stmts, query string, args ...any) []string {
	t.Helper()
	rows, err := st.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Hooks see every query, with its text and its error, like bun's own.
func TestStmtsHooks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		st := db.Prepared()
		if db.Prepared() != st {
			t.Fatal("Prepared gave two caches for one database")
		}
		h := &recorder{}
		db.AddQueryHook(h)
		queryNames(t, st, "SELECT username FROM users WHERE id = ?", int64(1))
		if _, err := st.Query(context.Background(), "SELECT no_such_column FROM users WHERE id = ?", int64(1)); err == nil {
			t.Fatal("a bad query succeeded")
		}
		if len(h.queries) != 2 || h.queries[0] != "SELECT username FROM users WHERE id = ?" {
			t.Fatalf("hook saw %q", h.queries)
		}
		if h.errs[0] != nil || h.errs[1] == nil {
			t.Fatalf("hook saw errors %v", h.errs)
		}
		// QueryOnce answers the same, is seen by the hooks, and prepares nothing.
		kept := st.Len()
		rows, err := st.QueryOnce(context.Background(), "SELECT 40 + ?", int64(2))
		if err != nil {
			t.Fatal(err)
		}
		var n int
		for rows.Next() {
			rows.Scan(&n)
		}
		rows.Close()
		if n != 42 || st.Len() != kept || len(h.queries) != 3 {
			t.Fatalf("QueryOnce: %d, %d statements kept (was %d), hook saw %d queries", n, st.Len(), kept, len(h.queries))
		}
	})
}

type recorder struct {
	queries []string
	errs    []error
}

func (r *recorder) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	r.queries = append(r.queries, ev.Query)
	return ctx
}

func (r *recorder) AfterQuery(_ context.Context, ev *bun.QueryEvent) { r.errs = append(r.errs, ev.Err) }
