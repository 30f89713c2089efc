package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// upperKeys lists the object keys in a JSON document that do not start
// with a lower-case letter, with their paths.
func upperKeys(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, doc)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if r := []rune(k); len(r) == 0 || !unicode.IsLower(r[0]) {
					out = append(out, path+"."+k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	return out
}

// TestJSONKeysAreLowerCamelCase: what /api/v1 answers is named like the
// GraphQL API, columns included.
func TestJSONKeysAreLowerCamelCase(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		code, _, body := s.call(t, "POST", "/api/v1/files?name=people.csv", ada, "text/csv",
			strings.NewReader("name,age,joined\nAda,36,2024-01-02\nBob,,2023-05-06\n"))
		if code != 201 {
			t.Fatalf("upload: %d %s", code, body)
		}
		if bad := upperKeys(t, body); len(bad) > 0 {
			t.Errorf("POST /api/v1/files answers keys %v: %s", bad, body)
		}
		var f struct {
			ID      string
			Columns []map[string]any `json:"columns"`
		}
		json.Unmarshal([]byte(body), &f)
		if len(f.Columns) != 3 || f.Columns[1]["name"] != "age" || f.Columns[1]["type"] != "INTEGER" ||
			f.Columns[1]["nullCount"] != 1.0 || f.Columns[2]["dateFormat"] != "iso" || f.Columns[0]["dateFormat"] != nil {
			t.Errorf("columns %+v", f.Columns)
		}
		for _, path := range []string{"/api/v1/files/" + f.ID + "/lineage", "/api/v1/files/" + f.ID + "/lineage?depth=x"} {
			_, _, body := s.call(t, "GET", path, ada, "", nil)
			if bad := upperKeys(t, body); len(bad) > 0 {
				t.Errorf("GET %s answers keys %v: %s", path, bad, body)
			}
		}
	})
}

// TestErrorsNameTheirField: a wrong filter, column or parameter is reported
// with the field that holds it, over GraphQL (extensions.field) and REST
// (field), and the message names it once.
func TestErrorsNameTheirField(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		id := s.uploadOK(t, ada, "people.csv", "name,age,city\nAda,36,NYC\nBob,17,LA\n")

		const rows = `query($id: ID!, $where: RowFilter, $sql: String, $cols: [String!]) {
			file(id: $id) { rows(where: $where, whereSql: $sql, columns: $cols) { columns } } }`
		for _, tc := range []struct {
			name    string
			vars    map[string]any
			field   string
			message string
		}{
			{"unknown column in whereSql", map[string]any{"sql": "nope = 1"}, "whereSql",
				`whereSql: error at position 1: unknown column "nope"`},
			{"whereSql that does not parse", map[string]any{"sql": "age >"}, "whereSql", "whereSql: syntax error at position"},
			{"typed filter with two operators", map[string]any{"where": map[string]any{"column": "age", "gt": "1", "lt": "3"}}, "where",
				`where: column "age" has 2 operators (gt, lt)`},
			{"unknown column in a typed filter", map[string]any{"where": map[string]any{"column": "nope", "gt": "1"}}, "where",
				`where: unknown column "nope"`},
			{"nested typed filter", map[string]any{"where": map[string]any{"and": []any{
				map[string]any{"column": "age", "gt": "1"}, map[string]any{"column": "age"}}}}, "where.and[1]",
				`where.and[1]: column "age" needs an operator`},
			{"both spellings", map[string]any{"sql": "age > 1", "where": map[string]any{"column": "age", "gt": "1"}}, "where",
				"where: give where or whereSql, not both"},
			{"unknown column to keep", map[string]any{"cols": []string{"nope"}}, "columns", "columns:"},
		} {
			tc.vars["id"] = id
			r := s.gql(t, ada, rows, tc.vars)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tc.field ||
				!strings.HasPrefix(r.Errors[0].Message, tc.message) {
				t.Errorf("%s: %+v; want field %s and a message starting %q", tc.name, r.Errors, tc.field, tc.message)
				continue
			}
			if m := r.Errors[0].Message; strings.Count(m, tc.field+":") != 1 {
				t.Errorf("%s: %q repeats %s", tc.name, m, tc.field)
			}
		}

		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			field, message           string
		}{
			{"cut: unknown column in whereSql", "POST", "/api/v1/files/" + id + "/cut", `{"whereSql":"nope = 1"}`, 400, "whereSql",
				`whereSql: error at position 1: unknown column "nope"`},
			{"cut: typed filter", "POST", "/api/v1/files/" + id + "/cut", `{"where":{"column":"age"}}`, 400, "where",
				`where: column "age" needs an operator`},
			{"cut: not a cut request", "POST", "/api/v1/files/" + id + "/cut", `{"wehre":{}}`, 400, "body", "body: not a valid cut request"},
			{"lineage: limit not a number", "GET", "/api/v1/files/" + id + "/lineage?limit=lots", "", 400, "limit",
				`limit: must be a whole number, not "lots"`},
			{"lineage: direction", "GET", "/api/v1/files/" + id + "/lineage?direction=sideways", "", 400, "direction",
				"direction: must be upstream, downstream or both"},
			{"not found has no field", "GET", "/api/v1/files/00000000-0000-4000-8000-000000000000/lineage", "", 404, "", "not found"},
		} {
			var body *strings.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			var code int
			var got string
			if body != nil {
				code, _, got = s.call(t, tc.method, tc.path, ada, "application/json", body)
			} else {
				code, _, got = s.call(t, tc.method, tc.path, ada, "", nil)
			}
			var e struct{ Error, Code, Field string }
			json.Unmarshal([]byte(got), &e)
			if code != tc.status || e.Field != tc.field || !strings.HasPrefix(e.Error, tc.message) {
				t.Errorf("%s: %d %s; want %d, field %q and %q", tc.name, code, got, tc.status, tc.field, tc.message)
			}
		}
	})
}
