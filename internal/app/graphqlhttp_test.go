package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// TestRequestErrorsAsGraphQLOverHTTP: a request that cannot run (its
// document does not parse or validate, its variables do not fit) has no
// data entry, and its status is 200 under application/json and 400 under
// application/graphql-response+json; a request that is no GraphQL request
// at all ({"qeury": ...}, a body that is not JSON) is 400 under either. The
// same holds over GET, where a mutation is 405.
func TestRequestErrorsAsGraphQLOverHTTP(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	const gqlResp = "application/graphql-response+json"
	for _, tc := range []struct {
		name, method, accept, body string
		status                     int
		code, message              string // of the first error
		data                       bool   // a data entry is present
	}{
		{"parse failure", "POST", "application/json", `{"query":"{"}`, 200, "GRAPHQL_PARSE_FAILED", "", false},
		{"parse failure, no Accept", "POST", "", `{"query":"{"}`, 200, "GRAPHQL_PARSE_FAILED", "", false},
		{"parse failure, GraphQL response type", "POST", gqlResp, `{"query":"{"}`, 400, "GRAPHQL_PARSE_FAILED", "", false},
		{"unknown field", "POST", "application/json", `{"query":"{ nope }"}`, 200, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"unknown field, GraphQL response type", "POST", gqlResp, `{"query":"{ nope }"}`, 400, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"variable coercion", "POST", "application/json", `{"query":"query($id: ID!) { file(id: $id) { id } }","variables":{"id":null}}`, 200, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"variable coercion, GraphQL response type", "POST", gqlResp, `{"query":"query($id: ID!) { file(id: $id) { id } }","variables":{"id":null}}`, 400, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"over the depth limit", "POST", "application/json", `{"query":"{ file(id: \"x\") { parents { parents { parents { parents { parents { parents { parents { parents { parents { parents { parents { parents { id } } } } } } } } } } } } } }"}`, 200, "QUERY_TOO_COMPLEX", "", false},
		{"misspelt query", "POST", "", `{"qeury":"{ __typename }"}`, 400, "BAD_USER_INPUT", `the request has no query (unknown parameter "qeury"`, false},
		{"misspelt query, GraphQL response type", "POST", gqlResp, `{"qeury":"{ __typename }"}`, 400, "BAD_USER_INPUT", "the request has no query", false},
		{"not JSON", "POST", "application/json", `{"query":`, 400, "BAD_USER_INPUT", "the request body is not a GraphQL request in JSON: unexpected EOF", false},
		{"runs", "POST", "application/json", `{"query":"{ __typename }"}`, 200, "", "", true},
		{"an execution error keeps data", "POST", "application/json", `{"query":"{ files { totalCount } }"}`, 200, "UNAUTHENTICATED", "", true},

		{"GET parse failure", "GET", "application/json", "{", 200, "GRAPHQL_PARSE_FAILED", "", false},
		{"GET parse failure, GraphQL response type", "GET", gqlResp, "{", 400, "GRAPHQL_PARSE_FAILED", "", false},
		{"GET unknown field", "GET", "application/json", "{ nope }", 200, "GRAPHQL_VALIDATION_FAILED", "", false},
		{"GET without a query", "GET", "application/json", "", 400, "BAD_USER_INPUT", "the request has no query parameter", false},
		{"GET mutation", "GET", "application/json", `mutation { logout(refreshToken: "x") }`, 405, "BAD_USER_INPUT", "a GET request can only run a query", false},
		{"GET runs", "GET", "application/json", "{ __typename }", 200, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req *http.Request
			if tc.method == "GET" {
				q := url.Values{}
				if tc.body != "" {
					q.Set("query", tc.body)
				}
				req, _ = http.NewRequest("GET", s.URL+"/graphql?"+q.Encode(), nil)
			} else {
				req, _ = http.NewRequest("POST", s.URL+"/graphql", strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var body map[string]json.RawMessage
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
			}
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.status, raw)
			}
			want := tc.accept
			if want == "" {
				want = "application/json"
			}
			if ct := resp.Header.Get("Content-Type"); ct != want {
				t.Errorf("Content-Type %q, want %q", ct, want)
			}
			if _, ok := body["data"]; ok != tc.data {
				t.Errorf("data entry present: %v, want %v: %s", ok, tc.data, raw)
			}
			var errs []struct {
				Message    string
				Extensions map[string]any
			}
			json.Unmarshal(body["errors"], &errs)
			if tc.code == "" {
				if len(errs) > 0 {
					t.Errorf("errors: %s", raw)
				}
				return
			}
			if len(errs) == 0 || errs[0].Extensions["code"] != tc.code || !strings.Contains(errs[0].Message, tc.message) {
				t.Errorf("first error %+v, want code %s and %q: %s", errs, tc.code, tc.message, raw)
			}
			if tc.method == "GET" && tc.status == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("405 without Allow: POST")
			}
		})
	}
}
