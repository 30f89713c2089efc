package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("t%d", i)
	}
	return tags
}

// A tag filter is one condition whatever its number of tags, and the
// number is capped by MAX_FILTER_TAGS: beyond it BAD_USER_INPUT, on every
// database (PostgreSQL ran 200 tags for 10 s, SQLite failed 990 with
// "Expression tree is too large").
func TestTagFilter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		all := manyTags(50)
		both := s.uploadOK(t, tok, "both.csv", "a\n1\n")
		s.ok(t, tok, `mutation($id: ID!, $t: [String!]) { updateFileTags(id: $id, set: $t) { id } }`, map[string]any{"id": both, "t": all}, nil)
		one := s.uploadOK(t, tok, "one.csv", "a\n1\n")
		s.ok(t, tok, `mutation($id: ID!) { updateFileTags(id: $id, set: ["t0", "it's \"quoted\"", "ünï"]) { id } }`, map[string]any{"id": one}, nil)

		const q = `query($t: [String!]) { files(first: 20, filter: {tags: $t}) { edges { node { name } } totalCount } }`
		names := func(tags []string) string {
			var d struct {
				Files struct {
					Edges      []struct{ Node struct{ Name string } }
					TotalCount int
				}
			}
			s.ok(t, tok, q, map[string]any{"t": tags}, &d)
			out := fmt.Sprint(d.Files.TotalCount)
			for _, e := range d.Files.Edges {
				out += " " + e.Node.Name
			}
			return out
		}
		for _, tc := range []struct {
			tags []string
			want string
		}{
			{[]string{"t0"}, "2 one.csv both.csv"},
			{[]string{"t0", "t1"}, "1 both.csv"},
			{[]string{"t0", "t0", "t1"}, "1 both.csv"}, // a repeat asks nothing more
			{all, "1 both.csv"},
			{append(manyTags(49), "nope"), "0"},
			{[]string{"it's \"quoted\"", "ünï"}, "1 one.csv"},
			{append(all, all...), "1 both.csv"}, // 100 tags, 50 distinct
		} {
			if got := names(tc.tags); got != tc.want {
				t.Errorf("%d tags %.3q: %s, want %s", len(tc.tags), tc.tags, got, tc.want)
			}
		}
		for _, n := range []int{51, 200, 20000} {
			start := time.Now()
			r := s.gql(t, tok, q, map[string]any{"t": manyTags(n)})
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "filter.tags" {
				t.Errorf("%d tags: %+v", n, r.Errors[:min(1, len(r.Errors))])
			}
			t.Logf("%d tags refused in %s", n, time.Since(start))
		}
	})
}

// On PostgreSQL a statement ends with its request: at the deadline the
// connection that runs it is closed, and the server stops it (it checks
// its clients every database.ClientCheckInterval) instead of running it
// to its end. The statement here waits behind a lock the test holds for
// longer than the whole test.
func TestStatementEndsWithItsRequest(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	s := newServer(t, db, func(c *config.Config) { c.RequestTimeout = 500 * time.Millisecond })
	tok := s.register(t, "ada").AccessToken
	holdWriteLock(t, db)
	waiting := func() int {
		var n int
		if err := db.NewRaw(`SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'files' AND c.relnamespace = CAST(current_schema() AS regnamespace) AND NOT l.granted`).
			Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := time.Now()
	r := s.gql(t, tok, `{ files(first: 5, filter: {tags: ["a", "b"]}) { edges { node { id } } } }`, nil)
	if len(r.Errors) == 0 {
		t.Fatal("a listing behind an exclusive lock answered")
	}
	t.Logf("answered in %s: %+v", time.Since(start), r.Errors)
	time.Sleep(time.Second)
	if n := waiting(); n != 0 {
		t.Fatalf("%d statements still wait in PostgreSQL a second after the answer", n)
	}
}
