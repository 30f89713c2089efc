package app_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// A body over MAX_REQUEST_BODY is PAYLOAD_TOO_LARGE with 413, whether it
// announces its length or comes chunked.
func TestBodyTooLarge(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxRequestBody = 4 << 10 })
	big := `{"query":"{ me { id } }","extensions":{"pad":"` + strings.Repeat("a", 8<<10) + `"}}`
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(body) // no length known: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out gqlResponse
		decodeJSON(t, resp, &out)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || out.code() != "PAYLOAD_TOO_LARGE" {
			t.Errorf("chunked=%v: status %d code %q %+v", chunked, resp.StatusCode, out.code(), out.Errors)
		}
	}
}

// A forged cursor whose id is not a UUID is the client's mistake on every
// database (PostgreSQL used to fail comparing it with a uuid column).
func TestForgedCursor(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		s.uploadOK(t, tok, "a.csv", "x\n1\n")
		for _, order := range []string{"CREATED_AT", "NAME", "SIZE"} {
			v := `"2026-01-01T00:00:00Z"`
			switch order {
			case "NAME":
				v = `"a.csv"`
			case "SIZE":
				v = `1`
			}
			cur := base64.RawURLEncoding.EncodeToString([]byte(`{"v":` + v + `,"id":"abc"}`))
			r := s.gql(t, tok, `query($c: String, $o: FileOrderField!) { files(first: 2, after: $c, orderBy: {field: $o}) { edges { node { id } } } }`,
				map[string]any{"c": cur, "o": order})
			if r.code() != "BAD_USER_INPUT" {
				t.Errorf("order %s: forged cursor answered %q %+v", order, r.code(), r.Errors)
			}
		}
		if strings.Contains(s.logs.String(), "level=ERROR") {
			t.Errorf("a forged cursor was logged as an error:\n%s", s.logs)
		}
	})
}

func TestIntrospectionOff(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.Introspection = false })
	for _, q := range []string{
		`{ __schema { types { name } } }`,
		`{ __type(name: "File") { fields { name } } }`,
		`query { ...F } fragment F on Query { __schema { queryType { name } } }`,
	} {
		r := s.gql(t, "", q, nil)
		if c := r.code(); c == "" || c == "INTERNAL" || !strings.Contains(r.Errors[0].Message, "introspection") {
			t.Errorf("%s: answered %q %+v", q, c, r.Errors)
		}
	}
	if r := s.gql(t, "", `{ __typename }`, nil); len(r.Errors) > 0 {
		t.Errorf("__typename refused: %+v", r.Errors)
	}
	r := s.gql(t, "", `{ fils { id } }`, nil)
	if len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Errorf("a mistyped field reveals names with introspection off: %+v", r.Errors)
	}
	if strings.Contains(s.logs.String(), "level=ERROR") {
		t.Errorf("introspection off logged errors:\n%s", s.logs)
	}

	on := newServer(t, dbtest.SQLite(t), nil)
	if r := on.gql(t, "", `{ fils { id } }`, nil); len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Did you mean") {
		t.Errorf("with introspection on, suggestions are kept: %+v", r.Errors)
	}
	if r := on.gql(t, "", `{ __schema { types { name } } }`, nil); len(r.Errors) > 0 {
		t.Errorf("introspection on: %+v", r.Errors)
	}
}
