package app

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/cutline/cutline/graph"
)

// TestPostJSONMatchesGqlgen holds postJSON to transport.POST: the same
// status, media type and JSON for operations that run. Requests that cannot
// run are answered differently, as GraphQL over HTTP asks
// (TestRequestErrorsAsGraphQLOverHTTP).
func TestPostJSONMatchesGqlgen(t *testing.T) {
	serve := func(tr graphql.Transport) http.Handler {
		srv := handler.New(graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{}}))
		srv.AddTransport(tr)
		return srv
	}
	ours, theirs := serve(postJSON{}), serve(transport.POST{})
	tests := []struct {
		name, accept, body string
	}{
		{"data", "", `{"query":"{ __typename }"}`},
		{"data, aliases", "application/json", `{"query":"{ a: __typename b: __typename }"}`},
		{"data, GraphQL response type", mediaGraphQLResponse, `{"query":"{ __typename }"}`},
		{"data, any application type", "application/*", `{"query":"{ __typename }"}`},
		{"data, wildcard", "*/*", `{"query":"query Q { __typename }","operationName":"Q"}`},
		{"data, unknown type only", "text/html", `{"query":"{ __typename }"}`},
		{"data, directive", "", `{"query":"{ __typename @include(if: true) }"}`},
		{"data and variables", "", `{"query":"query($b: Boolean!) { __typename @include(if: $b) }","variables":{"b":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			do := func(h http.Handler) *httptest.ResponseRecorder {
				r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(tt.body))
				r.Header.Set("Content-Type", "application/json")
				if tt.accept != "" {
					r.Header.Set("Accept", tt.accept)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w
			}
			got, want := do(ours), do(theirs)
			if got.Code != want.Code {
				t.Errorf("status %d, gqlgen %d", got.Code, want.Code)
			}
			if g, w := got.Header().Get("Content-Type"), want.Header().Get("Content-Type"); g != w {
				t.Errorf("Content-Type %q, gqlgen %q", g, w)
			}
			var g, w any
			if err := json.Unmarshal(got.Body.Bytes(), &g); err != nil {
				t.Fatalf("answer is not JSON: %v: %s", err, got.Body)
			}
			if err := json.Unmarshal(want.Body.Bytes(), &w); err != nil {
				t.Fatalf("gqlgen's answer is not JSON: %v: %s", err, want.Body)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("answer %s\ngqlgen    %s", got.Body, want.Body)
			}
		})
	}
}

func TestWriteResponse(t *testing.T) {
	yes := true
	tests := []struct {
		name string
		resp *graphql.Response
		want string
	}{
		{"data", &graphql.Response{Data: json.RawMessage(`{"a":"<b>"}`)}, `{"data":{"a":"<b>"}}`},
		{"no data", &graphql.Response{}, `{"data":null}`},
		{"no response", nil, `{"data":null}`},
		{"errors", &graphql.Response{Errors: gqlerror.List{{Message: "bad"}}}, `{"errors":[{"message":"bad"}],"data":null}`},
		{"extensions", &graphql.Response{Data: json.RawMessage(`1`), Extensions: map[string]any{"k": 1}}, `{"data":1,"extensions":{"k":1}}`},
		{"incremental", &graphql.Response{Data: json.RawMessage(`1`), HasNext: &yes}, `{"data":1,"hasNext":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			writeResponse(&b, tt.resp)
			if b.String() != tt.want {
				t.Errorf("got %s, want %s", b.String(), tt.want)
			}
		})
	}
}

func TestPostJSONSupports(t *testing.T) {
	tests := []struct {
		method, contentType, upgrade string
	}{
		{http.MethodPost, "application/json", ""},
		{http.MethodPost, "application/json; charset=utf-8", ""},
		{http.MethodPost, "Application/JSON", ""},
		{http.MethodPost, "application/json", "websocket"},
		{http.MethodPost, "text/plain", ""},
		{http.MethodPost, "multipart/form-data; boundary=x", ""},
		{http.MethodPost, "", ""},
		{http.MethodGet, "application/json", ""},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/graphql", nil)
		if tt.contentType != "" {
			r.Header.Set("Content-Type", tt.contentType)
		}
		if tt.upgrade != "" {
			r.Header.Set("Upgrade", tt.upgrade)
		}
		if got, want := (postJSON{}).Supports(r), (transport.POST{}).Supports(r); got != want {
			t.Errorf("%s %q (Upgrade %q): Supports = %v, transport.POST says %v", tt.method, tt.contentType, tt.upgrade, got, want)
		}
	}
}

// plainQuery reads what encoding/json reads from the bodies it takes, and
// leaves every other body to the decoder.
func TestPlainQueryIsTheDecoders(t *testing.T) {
	tests := []struct {
		body  string
		plain bool
	}{
		{`{"query":"{ me { id username } }"}`, true},
		{`{"query":"{ files(first: 20) { edges { node { id name } } } }"}`, true},
		{`{"query":""}`, true},
		{`{"query":"query($id: ID!) { file(id: $id) { name } }"}`, true},
		{`{"query":"{ me { id } }","variables":{}}`, false},
		{`{"query":"{ me { id } }","operationName":null}`, false},
		{`{"query":"{ me { id } }"} `, false},
		{` {"query":"{ me { id } }"}`, false},
		{`{ "query": "{ me { id } }" }`, false},
		{`{"query":"{ me { name(x: \"y\") } }"}`, false},
		{`{"query":"{ me { id } }\n"}`, false},
		{`{"query":"{ me { id } }\u0041"}`, false},
		{`{"query":"ünïcode"}`, false},
		{"{\"query\":\"a\tb\"}", false},
		{`{"query":"a"}"}`, false},
		{`{"query":"}`, false},
		{`{"query":"x"`, false},
		{`{"Query":"{ me { id } }"}`, false},
		{`{"query":"{ me { id } }"}{"query":"x"}`, false},
	}
	for _, tt := range tests {
		q, ok := plainQuery([]byte(tt.body))
		if ok != tt.plain {
			t.Errorf("%s: plain %v, want %v", tt.body, ok, tt.plain)
			continue
		}
		if !ok {
			continue
		}
		var want graphql.RawParams
		dec := json.NewDecoder(strings.NewReader(tt.body))
		dec.UseNumber()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		if got := (graphql.RawParams{Query: q}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, the decoder %+v", tt.body, got, want)
		}
	}
}
