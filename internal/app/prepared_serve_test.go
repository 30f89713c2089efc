package app_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// postPlain sends query as the plain body clients send most,
// {"query":"..."} alone, and returns the answer's status, headers and body.
func postPlain(t *testing.T, s *server, token, accept, query string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/graphql", strings.NewReader(`{"query":"`+query+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	resp.Header.Del("X-Request-Id")
	return resp.StatusCode, resp.Header, body
}

// A plain query repeated is answered from its prepared operation, without
// gqlgen's operation machinery, exactly as the first time (status, headers
// and bytes) and as the executor answers it; metrics count every answer.
// What must not be prepared (refusals, answers the executor gives) is not.
func TestPreparedQueriesAnswerAsTheFirstTime(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, func(c *config.Config) { c.MetricsToken = "scrape-me"; c.MaxDepth = 5 })
		ada := s.register(t, "ada").AccessToken
		s.uploadOK(t, ada, "people.csv", "name,age\nAda,36\n")
		for _, c := range []struct {
			name, token, accept, query string
			prepared, direct           bool
		}{
			{"me", ada, "", `{ me { id username } }`, true, true},
			{"me, named", ada, "", `query Me { me { username } }`, true, true},
			{"me, the GraphQL response type", ada, "application/graphql-response+json", `{ me { id } }`, true, true},
			{"a page of files", ada, "", `{ files(first: 2) { edges { cursor node { id name size userTags } } pageInfo { hasNextPage } } }`, true, true},
			{"me, anonymous", "", "", `{ me { id username } }`, true, false},
			{"me, a bad token", "not.a.token", "", `{ me { id username } }`, true, false},
			{"a field the token lacks", ada, "", `{ me { id createdAt } }`, false, false},
			{"too deep", ada, "", `{ files { edges { node { owner { files { edges { node { id } } } } } } } }`, false, false},
			{"introspection, turned off", ada, "", `{ __schema { queryType { name } } }`, false, false},
			{"a document that does not validate", ada, "", `{ me { nope } }`, false, false},
		} {
			var first []byte
			var firstHeader http.Header
			var firstStatus int
			for i := range 4 {
				if i == 3 {
					s.app.SetDirectLineage(false) // the executor, for comparison
				}
				n0 := s.app.DirectAnswers()
				status, header, body := postPlain(t, s, c.token, c.accept, c.query)
				if direct := s.app.DirectAnswers() > n0; i < 3 && direct != c.direct {
					t.Fatalf("%s, request %d: answered directly %v, want %v: %s", c.name, i+1, direct, c.direct, body)
				}
				if i == 0 {
					first, firstHeader, firstStatus = body, header, status
					continue
				}
				if status != firstStatus || !bytes.Equal(body, first) {
					t.Fatalf("%s, request %d: %d %s\nthe first time: %d %s", c.name, i+1, status, body, firstStatus, first)
				}
				for k := range firstHeader {
					if k != "Content-Length" && header.Get(k) != firstHeader.Get(k) {
						t.Fatalf("%s, request %d: %s is %q, the first time %q", c.name, i+1, k, header.Get(k), firstHeader.Get(k))
					}
				}
				if len(header) != len(firstHeader) {
					t.Fatalf("%s, request %d: headers %v, the first time %v", c.name, i+1, header, firstHeader)
				}
			}
			s.app.SetDirectLineage(true)
			if got := s.app.Prepared(c.query); got != c.prepared {
				t.Fatalf("%s: prepared %v, want %v", c.name, got, c.prepared)
			}
		}
		_, body := getMetrics(t, s.URL+"/metrics", "scrape-me")
		if want := `cutline_graphql_operation_duration_seconds_count{operation="Me",outcome="ok",type="query"} 4`; !strings.Contains(body, want) {
			t.Fatalf("the metrics lack %s:\n%s", want, grepLines(body, "cutline_graphql_operation_duration_seconds_count"))
		}
	})
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
