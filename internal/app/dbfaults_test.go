package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// proxied is a server whose PostgreSQL connections go through a proxy the
// test controls, with socket timeouts short enough that a frozen server is
// noticed quickly.
func proxied(t *testing.T) (*server, *dbtest.Proxy, *database.DB) {
	t.Helper()
	dbtest.PostgresOrSkip(t)
	p := dbtest.NewProxy(t, dbtest.PostgresAddr(t))
	db := dbtest.PostgresAt(t, p.Addr(), "timeout=2s")
	return newServer(t, db, nil), p, db
}

// A COMMIT whose answer is lost may have committed: the server must not
// delete the object then (the row would point at nothing), and the client
// is told to retry.
func TestLostCommitAnswerKeepsTheObject(t *testing.T) {
	t.Parallel()
	s, p, _ := proxied(t)
	tok := s.register(t, "ada").AccessToken

	committed := p.DropNextCommit()
	r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "a.csv", "x,y\n1,2\n")
	assertUnavailable(t, "upload whose COMMIT answer was lost", r)
	select {
	case <-committed:
	case <-time.After(30 * time.Second):
		t.Fatal("the proxy never saw the COMMIT answered")
	}

	var d struct {
		Files struct {
			Edges []struct{ Node struct{ ID, Name string } }
		}
	}
	s.ok(t, tok, `{ files { edges { node { id name } } } }`, nil, &d)
	if len(d.Files.Edges) != 1 {
		t.Fatalf("files after the lost COMMIT answer: %+v, want the one committed", d.Files.Edges)
	}
	id := d.Files.Edges[0].Node.ID
	if ok, err := s.app.Bucket.Exists(context.Background(), blobstore.Key(id)); err != nil || !ok {
		t.Fatalf("the committed file's object: exists %v, %v", ok, err)
	}
	var c struct {
		File struct {
			Rows struct{ Edges []struct{ Cursor string } }
		}
	}
	s.ok(t, tok, `query($id: ID!) { file(id: $id) { rows(first: 5) { edges { cursor } } } }`, map[string]any{"id": id}, &c)
	if len(c.File.Rows.Edges) != 1 {
		t.Fatalf("rows of the committed file: %+v", c.File.Rows.Edges)
	}
	assertIntact(t, s)
}

// While PostgreSQL cannot be used, every transport says "retry later":
// UNAVAILABLE with retryAfterSeconds in GraphQL, 503 with Retry-After in
// REST and in the legacy shim; and all is well again once it is back.
func TestDatabaseOutagesAreRetryable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault func(*dbtest.Proxy)
	}{
		{"refused", (*dbtest.Proxy).Cut},
		{"starting up", (*dbtest.Proxy).StartingUp},
		{"frozen", (*dbtest.Proxy).Freeze},
		{"lost connections", (*dbtest.Proxy).HangUp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, p, _ := proxied(t)
			tok := s.register(t, "ada").AccessToken
			id := s.uploadOK(t, tok, "a.csv", "x,y\n1,2\n")

			tc.fault(p)
			r := s.gql(t, tok, `query($id: ID!) { file(id: $id) { name } }`, map[string]any{"id": id})
			assertUnavailable(t, "GraphQL query", r)
			r = s.upload(t, tok, uploadMutation, map[string]any{}, "f", "b.csv", "x\n1\n")
			assertUnavailable(t, "GraphQL upload", r)
			assertRetryAfter(t, s, tok, "REST", "GET", "/api/v1/files/"+id+"/content")
			assertRetryAfter(t, s, tok, "legacy", "GET", "/api/list_cutter/list_saved_files/")

			p.Thaw()
			p.Restore()
			s.ok(t, tok, `query($id: ID!) { file(id: $id) { name } }`, map[string]any{"id": id}, nil)
			assertIntact(t, s)
		})
	}
}

func assertUnavailable(t *testing.T, what string, r *gqlResponse) {
	t.Helper()
	if r.code() != "UNAVAILABLE" {
		t.Fatalf("%s: %+v, want UNAVAILABLE", what, r.Errors)
	}
	if secs, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); secs <= 0 {
		t.Fatalf("%s: extensions %v, want retryAfterSeconds", what, r.Errors[0].Extensions)
	}
}

func assertRetryAfter(t *testing.T, s *server, tok, what, method, path string) {
	t.Helper()
	code, hdr, body := s.call(t, method, path, tok, "", nil)
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("%s %s %s: %d, Retry-After %q, %s; want 503 with Retry-After", what, method, path, code, hdr.Get("Retry-After"), body)
	}
	if !json.Valid([]byte(body)) {
		t.Fatalf("%s: body %q is not JSON", what, body)
	}
}
