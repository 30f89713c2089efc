package app_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// When the bucket fails under a request, every transport says so in a way
// a client can retry: UNAVAILABLE with retryAfterSeconds in GraphQL, 503
// with Retry-After in REST and in the legacy shim.
func TestStorageFailureIsRetryable(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		id := s.uploadOK(t, tok, "a.csv", "x,y\n1,2\n")
		// The object goes missing behind the row: the bucket cannot serve it.
		if err := s.app.Bucket.Delete(context.Background(), blobstore.Key(id)); err != nil {
			t.Fatal(err)
		}

		r := s.gql(t, tok, `query($id: ID!) { file(id: $id) { rows(first: 1) { edges { cursor } } } }`, map[string]any{"id": id})
		if r.code() != "UNAVAILABLE" {
			t.Fatalf("GraphQL: %+v, want UNAVAILABLE", r.Errors)
		}
		if secs, _ := r.Errors[0].Extensions["retryAfterSeconds"].(float64); secs <= 0 {
			t.Fatalf("GraphQL: extensions %v, want retryAfterSeconds", r.Errors[0].Extensions)
		}

		req, _ := http.NewRequest("GET", s.URL+"/api/v1/files/"+id+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("REST: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}
