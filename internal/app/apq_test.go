package app_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// Automatic persisted queries: a client sends a hash first, the query text
// only when the server asks for it, and the hash alone afterwards.
func TestAutomaticPersistedQueries(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	query := `{ __typename }`
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	send := func(withQuery bool) *gqlResponse {
		body := map[string]any{"extensions": ext}
		if withQuery {
			body["query"] = query
		}
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", s.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		return s.do(t, req)
	}
	if r := send(false); len(r.Errors) == 0 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %+v", r.Errors)
	}
	if r := send(true); len(r.Errors) > 0 {
		t.Fatalf("register query: %+v", r.Errors)
	}
	if r := send(false); len(r.Errors) > 0 || string(r.Data) != `{"__typename":"Query"}` {
		t.Fatalf("hash only: %s %+v", r.Data, r.Errors)
	}
}
