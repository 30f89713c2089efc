package app_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// Two replicas on one database count failed logins together: ten wrong
// passwords spread over both lock the account on both, through GraphQL
// and the legacy shim alike, and a replica started afterwards (a restart)
// still refuses.
func TestReplicasShareLoginFailures(t *testing.T) {
	dbtest.EachPair(t, func(t *testing.T, dbA, dbB *database.DB) {
		a, b := newServer(t, dbA, nil), newServer(t, dbB, nil)
		a.register(t, "ada")
		login := func(s *server, password string) string {
			return s.gql(t, "", `mutation($p: String!) { login(input: {username: "ada", password: $p}) { accessToken } }`,
				map[string]any{"p": password}).code()
		}
		for i := range 10 {
			s := []*server{a, b}[i%2]
			if c := login(s, "wrong guess"); c != "UNAUTHENTICATED" {
				t.Fatalf("failure %d: %q, want UNAUTHENTICATED", i+1, c)
			}
		}
		for name, s := range map[string]*server{"a": a, "b": b, "restarted": newServer(t, dbB, nil)} {
			if c := login(s, "correct horse battery"); c != "RATE_LIMITED" {
				t.Errorf("replica %s: the right password after 10 failures: %q, want RATE_LIMITED", name, c)
			}
		}
		resp, err := http.Post(b.URL+"/api/accounts/login/", "application/json",
			strings.NewReader(`{"username":"ada","password":"correct horse battery"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("legacy login on replica b: %d Retry-After=%q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	})
}
