package app_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// Under the default limits, the cost model (graph.Complexity) lets every
// ordinary operation through and refuses the ones that would make the
// server list, walk or scan without bound; the refusal comes before any
// resolver runs (the requests are anonymous: an accepted one fails only
// for want of a token).
func TestQueryCost(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	aliases := func(n int, field string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < n; i++ {
			b.WriteString(" a" + strconv.Itoa(i) + ": " + field)
		}
		return b.String() + " }"
	}
	introspection, err := os.ReadFile("testdata/graphiql_introspection.graphql")
	if err != nil {
		t.Fatal(err)
	}
	const id = `"00000000-0000-0000-0000-000000000000"`
	for _, tc := range []struct {
		name    string
		query   string
		refused bool
	}{
		{"me", `{ me { id username email createdAt } }`, false},
		{"a page of files", `{ files(first: 20, filter: {tags: ["q3"]}, orderBy: {field: CREATED_AT, direction: DESC}) {
			edges { cursor node { id name size rowCount userTags createdAt columns { name type } } }
			pageInfo { hasNextPage endCursor } totalCount } }`, false},
		{"the largest page", `{ files(first: 500) { edges { node { id name size createdAt userTags } } } }`, false},
		{"a filtered page of rows", `{ file(id: ` + id + `) { name rows(first: 50, columns: ["name", "age"], whereSql: "age >= 30") {
			edges { node { index values } } pageInfo { hasNextPage endCursor } } } }`, false},
		{"a lineage", `{ lineage(fileId: ` + id + `, direction: BOTH, depth: 5) {
			nodes { distance file { id name deleted } } edges { parent { id } child { id } kind } truncated mermaid } }`, false},
		{"nested parents and children", `{ file(id: ` + id + `) { children { name parents { name } children { name children { name } } } } }`, false},
		{"GraphiQL's introspection", string(introspection), false},

		{"500 aliases of the largest page", aliases(500, `files(first: 500) { edges { node { id } } }`), true},
		{"the lineage of a file's nodes", `query($id: ID!) { lineage(fileId: $id) { nodes { file { name columns { name type } metadata } } } }`, false},
		{"two lineages of 10000", aliases(2, `lineage(fileId: `+id+`, limit: 10000) { nodes { file { id name } } }`), true},
		{"500 aliases of a lineage", aliases(500, `lineage(fileId: `+id+`) { truncated }`), true},
		{"many filtered scans", aliases(6, `file(id: `+id+`) { rows(first: 1, whereSql: "a = 1") { edges { cursor } } }`), true},
		{"rows scanned per listed file", `{ files(first: 20) { edges { node { rows(first: 10, after: "x") { edges { node { values } } } } } } }`, true},
	} {
		r := s.gql(t, "", tc.query, nil)
		tooComplex := r.code() == "QUERY_TOO_COMPLEX" && strings.Contains(r.Errors[0].Message, "complexity")
		if tooComplex != tc.refused {
			t.Errorf("%s: refused=%v, want %v: %d errors, the first %+v", tc.name, tooComplex, tc.refused, len(r.Errors), r.Errors[:min(1, len(r.Errors))])
		}
	}
}
