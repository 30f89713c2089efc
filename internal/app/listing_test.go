package app_test

import (
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// parentAndChild registers ada with people.csv (two columns) and
// adults.csv, saved from it with metadata {"note": "kept"}; it returns
// ada's token and people.csv's id.
func parentAndChild(t *testing.T, s *server) (token, parent string) {
	t.Helper()
	ada := s.register(t, "ada").AccessToken
	src := s.uploadOK(t, ada, "people.csv", "name,age\nAda,36\nBob,17\n")
	r := s.upload(t, ada, `mutation($f: Upload!, $p: [ID!]!) { saveGeneratedFile(file: $f, name: "adults.csv", parentIds: $p,
		metadata: {note: "kept"}) { id } }`, map[string]any{"p": []string{src}}, "f", "adults.csv", "name,age\nAda,36\n")
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	return ada, src
}

// A listing reads the column profile, the metadata and the cursors only
// when the query asks for them; however it asks (fragments, @include),
// what it asks for must be there.
func TestListingReadsWhatTheQueryAsks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada, _ := parentAndChild(t, s)
		s.uploadOK(t, ada, "third.csv", "x\n1\n")

		type node struct {
			Name     string
			Columns  []struct{ Name string }
			Metadata map[string]any
			Rows     *struct {
				Edges []struct{ Node struct{ Values []string } }
			}
		}
		type page struct {
			Files struct {
				Edges []struct {
					Cursor string
					Node   node
				}
				PageInfo *struct {
					EndCursor   string
					HasNextPage bool
				}
			}
		}
		tests := []struct {
			name, query string
			vars        map[string]any
			check       func(t *testing.T, p page)
		}{
			{"plain fields only", `{ files(first: 3) { edges { node { name } } } }`, nil, func(t *testing.T, p page) {
				if len(p.Files.Edges) != 3 || p.Files.Edges[0].Node.Name != "third.csv" {
					t.Fatalf("got %+v", p.Files.Edges)
				}
			}},
			{"columns and metadata through fragments", `query { files(first: 2) { ...Conn } }
				fragment Conn on FileConnection { edges { cursor node { ...Heavy } } pageInfo { endCursor hasNextPage } }
				fragment Heavy on File { name columns { name } metadata }`, nil, func(t *testing.T, p page) {
				e := p.Files.Edges
				if len(e) != 2 || e[1].Node.Name != "adults.csv" || len(e[1].Node.Columns) != 2 || e[1].Node.Metadata["note"] != "kept" {
					t.Fatalf("got %+v", e)
				}
				if e[0].Cursor == "" || p.Files.PageInfo.EndCursor != e[1].Cursor || !p.Files.PageInfo.HasNextPage {
					t.Fatalf("cursors: %+v, %+v", e, p.Files.PageInfo)
				}
			}},
			{"columns under @include", `query($c: Boolean!) { files(first: 1) { edges { node { name columns @include(if: $c) { name } } } } }`,
				map[string]any{"c": true}, func(t *testing.T, p page) {
					if cols := p.Files.Edges[0].Node.Columns; len(cols) != 1 || cols[0].Name != "x" {
						t.Fatalf("got %+v", p.Files.Edges)
					}
				}},
			{"rows in an inline fragment", `{ files(first: 1) { edges { node { ... on File { rows(first: 1) { edges { node { values } } } } } } } }`,
				nil, func(t *testing.T, p page) {
					if r := p.Files.Edges[0].Node.Rows; r == nil || len(r.Edges) != 1 || r.Edges[0].Node.Values[0] != "1" {
						t.Fatalf("got %+v", p.Files.Edges)
					}
				}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var p page
				s.ok(t, ada, tc.query, tc.vars, &p)
				tc.check(t, p)
			})
		}

		// Paging with the cursor of a light listing's pageInfo reaches the
		// rest, in order.
		var first, rest page
		s.ok(t, ada, `{ files(first: 1) { edges { node { name } } pageInfo { endCursor hasNextPage } } }`, nil, &first)
		s.ok(t, ada, `query($a: String) { files(first: 5, after: $a) { edges { node { name } } } }`,
			map[string]any{"a": first.Files.PageInfo.EndCursor}, &rest)
		if len(rest.Files.Edges) != 2 || rest.Files.Edges[0].Node.Name != "adults.csv" || rest.Files.Edges[1].Node.Name != "people.csv" {
			t.Fatalf("after %q: %+v", first.Files.PageInfo.EndCursor, rest.Files.Edges)
		}
	})
}

// A lineage graph reads its files without their column profiles and
// metadata unless the query asks for them somewhere under it; wherever it
// asks, what it asks for must be there.
func TestLineageReadsWhatTheQueryAsks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada, src := parentAndChild(t, s)

		type file struct {
			Name     string
			Columns  []struct{ Name string }
			Metadata map[string]any
			Rows     *struct {
				Edges []struct{ Node struct{ Values []string } }
			}
			Lineage *struct{ Root file }
		}
		type graph struct {
			Lineage struct {
				Root  file
				Nodes []struct {
					Distance int
					File     file
				}
				Edges []struct{ Parent, Child file }
			}
		}
		tests := []struct {
			name, query string
			check       func(t *testing.T, g graph)
		}{
			{"names only", `query($id: ID!) { lineage(fileId: $id) { root { name } nodes { distance file { name } } edges { parent { name } child { name } } } }`,
				func(t *testing.T, g graph) {
					l := g.Lineage
					if l.Root.Name != "people.csv" || len(l.Nodes) != 2 || l.Nodes[1].File.Name != "adults.csv" || l.Edges[0].Child.Name != "adults.csv" {
						t.Fatalf("got %+v", l)
					}
				}},
			{"columns and metadata of the nodes through a fragment", `query($id: ID!) { lineage(fileId: $id) { nodes { file { ...Heavy } } } }
				fragment Heavy on File { name columns { name } metadata }`,
				func(t *testing.T, g graph) {
					n := g.Lineage.Nodes
					if len(n) != 2 || len(n[0].File.Columns) != 2 || n[1].File.Metadata["note"] != "kept" {
						t.Fatalf("got %+v", n)
					}
				}},
			{"rows of an edge's child", `query($id: ID!) { lineage(fileId: $id) { edges { child { rows(first: 1) { edges { node { values } } } } } } }`,
				func(t *testing.T, g graph) {
					if r := g.Lineage.Edges[0].Child.Rows; r == nil || len(r.Edges) != 1 || r.Edges[0].Node.Values[0] != "Ada" {
						t.Fatalf("got %+v", g.Lineage.Edges)
					}
				}},
			{"columns of the root in an inline fragment", `query($id: ID!) { lineage(fileId: $id) { root { ... on File { columns { name } } } } }`,
				func(t *testing.T, g graph) {
					if c := g.Lineage.Root.Columns; len(c) != 2 || c[1].Name != "age" {
						t.Fatalf("got %+v", g.Lineage.Root)
					}
				}},
			// A lineage per node costs a walk per node: small limits keep it
			// within the default complexity.
			{"metadata under a nested lineage", `query($id: ID!) { lineage(fileId: $id, direction: DOWNSTREAM, limit: 20) { nodes { file { name lineage(direction: UPSTREAM, limit: 20) { root { metadata } } } } } }`,
				func(t *testing.T, g graph) {
					n := g.Lineage.Nodes
					if len(n) != 2 || n[1].File.Lineage == nil || n[1].File.Lineage.Root.Metadata["note"] != "kept" {
						t.Fatalf("got %+v", n)
					}
				}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var g graph
				s.ok(t, ada, tc.query, map[string]any{"id": src}, &g)
				tc.check(t, g)
			})
		}
	})
}
