package app_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// readmeBlocks returns the README's ```graphql code blocks, in order.
func readmeBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?s)```graphql\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

// TestREADMEGraphQLExamplesRun executes every GraphQL example of README.md,
// each block as one document, every operation in it, the way a reader
// pastes it into GraphiQL: queries and mutations over HTTP, subscriptions
// over the websocket until their first event. "…" stands for a file id.
// A block that is not one valid document (two anonymous operations, a
// field that is gone) fails here.
func TestREADMEGraphQLExamplesRun(t *testing.T) {
	blocks := readmeBlocks(t)
	if len(blocks) < 4 {
		t.Fatalf("found %d graphql blocks in README.md", len(blocks))
	}
	// The example that deletes the account runs after all the others,
	// wherever it stands.
	slices.SortStableFunc(blocks, func(a, b string) int {
		return cmp.Compare(strings.Count(a, "deleteAccount("), strings.Count(b, "deleteAccount("))
	})
	s := newServer(t, dbtest.SQLite(t), nil)
	// The register example comes first and runs without a token; the
	// others run as the account it made.
	var token string
	var fileID string
	ran, subscribed := 0, 0
	for i, block := range blocks {
		doc, err := parser.ParseQuery(&ast.Source{Name: "README block", Input: block})
		if err != nil {
			t.Fatalf("README graphql block %d does not parse: %v\n%s", i+1, err, block)
		}
		if fileID != "" {
			block = strings.ReplaceAll(block, `"…"`, `"`+fileID+`"`)
		} else if strings.Contains(block, "…") {
			t.Fatalf("README graphql block %d needs a file before any example made one", i+1)
		}
		for _, op := range doc.Operations {
			ran++
			switch op.Operation {
			case ast.Subscription:
				w := mustDial(t, s, "graphql-transport-ws", token)
				w.subscribeNamed("1", block, op.Name)
				subscribed++
				waitSubscribers(t, s, subscribed)
				s.tag(t, token, fileID, "readme-"+op.Name)
				w.expectEvent(`"type":"UPDATED"`, fileID)
			default:
				r := s.gqlNamed(t, token, block, op.Name)
				if len(r.Errors) > 0 {
					t.Fatalf("README graphql block %d, operation %q: %+v\n%s", i+1, op.Name, r.Errors, block)
				}
				var changed struct{ ChangePassword struct{ AccessToken string } }
				if json.Unmarshal(r.Data, &changed); changed.ChangePassword.AccessToken != "" {
					// The other sessions ended: go on with the fresh one.
					token = changed.ChangePassword.AccessToken
				}
				if token == "" {
					var d struct{ Register struct{ AccessToken string } }
					if json.Unmarshal(r.Data, &d); d.Register.AccessToken == "" {
						t.Fatalf("the first README example registers no one: %s", r.Data)
					}
					token = d.Register.AccessToken
					// What the listing, cut and lineage examples work on:
					// a q3 file with name, age and city columns.
					r := s.upload(t, token, uploadMutation, map[string]any{"tags": []string{"q3"}}, "f", "people.csv",
						"name,age,city\nAda,36,NYC\nAnn,17,LA\nBob,41,Paris\n")
					if len(r.Errors) > 0 {
						t.Fatal(r.Errors)
					}
					var up struct{ UploadFile struct{ ID string } }
					json.Unmarshal(r.Data, &up)
					fileID = up.UploadFile.ID
				}
			}
		}
	}
	if ran < 6 {
		t.Fatalf("ran %d operations of the README", ran)
	}
}

// gqlNamed runs operation name of the document query over HTTP.
func (s *server) gqlNamed(t *testing.T, token, query, name string) *gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "operationName": name})
	req, _ := http.NewRequest("POST", s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.do(t, req)
}

// subscribeNamed starts operation name of the document query.
func (w *wsClient) subscribeNamed(id, query, name string) {
	p, _ := json.Marshal(map[string]any{"query": query, "operationName": name})
	w.send(wsMsg{ID: id, Type: "subscribe", Payload: p})
}
