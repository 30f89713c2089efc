package app_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// TestNodeFetchesByTodaysIDs: node(id:) and nodes(ids:) take the ids the
// API already returns (a File's UUID, a User's number) and answer null for
// anything that is not the caller's, exactly like an id that does not exist.
func TestNodeFetchesByTodaysIDs(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada, bob := s.register(t, "ada"), s.register(t, "bob")
		file := s.uploadOK(t, ada.AccessToken, "people.csv", "name,age\nAda,36\n")
		bobs := s.uploadOK(t, bob.AccessToken, "bob.csv", "x\n1\n")
		gone := s.uploadOK(t, ada.AccessToken, "gone.csv", "x\n1\n")
		s.ok(t, ada.AccessToken, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": gone}, nil)

		const q = `query($id: ID!) { node(id: $id) { __typename id
			... on File { name deleted } ... on User { username } } }`
		for _, tc := range []struct {
			name, id, want string
		}{
			{"a file by its UUID", file, `{"node":{"__typename":"File","id":"` + file + `","name":"people.csv","deleted":false}}`},
			{"a file in upper case", strings.ToUpper(file), `{"node":{"__typename":"File","id":"` + file + `","name":"people.csv","deleted":false}}`},
			{"the caller by its number", ada.User.ID, `{"node":{"__typename":"User","id":"` + ada.User.ID + `","username":"ada"}}`},
			{"a deleted file is its tombstone", gone, `{"node":{"__typename":"File","id":"` + gone + `","name":"gone.csv","deleted":true}}`},
			{"another user's file", bobs, `{"node":null}`},
			{"another user", bob.User.ID, `{"node":null}`},
			{"a user id in another spelling", "0" + ada.User.ID, `{"node":null}`},
			{"no such file", "00000000-0000-4000-8000-000000000000", `{"node":null}`},
			{"not an id at all", "File:42", `{"node":null}`},
		} {
			r := s.gql(t, ada.AccessToken, q, map[string]any{"id": tc.id})
			if len(r.Errors) > 0 || string(r.Data) != tc.want {
				t.Errorf("%s: data %s, errors %+v; want %s", tc.name, r.Data, r.Errors, tc.want)
			}
		}

		// nodes keeps the order of ids, null where node would be.
		var d struct {
			Nodes []*struct{ Typename, ID string } `json:"nodes"`
		}
		s.ok(t, ada.AccessToken, `query($ids: [ID!]!) { nodes(ids: $ids) { typename: __typename id } }`,
			map[string]any{"ids": []string{bobs, ada.User.ID, file, bob.User.ID}}, &d)
		raw, _ := json.Marshal(d.Nodes)
		if len(d.Nodes) != 4 || d.Nodes[0] != nil || d.Nodes[3] != nil ||
			d.Nodes[1] == nil || d.Nodes[1].Typename != "User" || d.Nodes[2] == nil || d.Nodes[2].ID != file {
			t.Errorf("nodes: %s", raw)
		}

		if r := s.gql(t, "", `{ node(id: "1") { id } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous node: %+v", r.Errors)
		}
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprint(i + 1)
		}
		r := s.gql(t, ada.AccessToken, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": many})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "ids" || !strings.Contains(r.Errors[0].Message, "at most 100") {
			t.Errorf("101 ids: %+v", r.Errors)
		}
	})
}

// TestNeighbourConnections: parentsConnection and childrenConnection page
// through the same files as parents and children, in the same order, with
// cursors that continue after the same file when edges are added, an exact
// totalCount, and a number of statements that does not grow with the
// number of files in a listing.
func TestNeighbourConnections(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada, bob := s.register(t, "ada").AccessToken, s.register(t, "bob").AccessToken
		root := s.uploadOK(t, ada, "root.csv", "a,b\n1,2\n")
		other := s.uploadOK(t, ada, "other.csv", "a\n3\n")
		derive := func(name string, sources ...string) string {
			r := s.upload(t, ada, `mutation($f: Upload!, $p: [ID!]!, $n: String!) {
				saveGeneratedFile(file: $f, name: $n, parentIds: $p) { id } }`,
				map[string]any{"p": sources, "n": name}, "f", name, "a\n1\n")
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			var d struct{ SaveGeneratedFile struct{ ID string } }
			json.Unmarshal(r.Data, &d)
			return d.SaveGeneratedFile.ID
		}
		var kids []string
		for i := range 5 {
			kids = append(kids, derive(fmt.Sprintf("c%d.csv", i), root))
		}
		both := derive("both.csv", root, other)
		kids = append(kids, both)

		type page struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   struct{ ID, Name string }
			}
			PageInfo struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
		}
		const q = `query($id: ID!, $first: Int, $after: String) { file(id: $id) {
			children { id }
			childrenConnection(first: $first, after: $after) { totalCount
				edges { cursor node { id name } }
				pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`
		get := func(after *string) (all []string, p page) {
			var d struct {
				File struct {
					Children           []struct{ ID string }
					ChildrenConnection page
				}
			}
			vars := map[string]any{"id": root, "first": 4}
			if after != nil {
				vars["after"] = *after
			}
			s.ok(t, ada, q, vars, &d)
			for _, c := range d.File.Children {
				all = append(all, c.ID)
			}
			return all, d.File.ChildrenConnection
		}
		all, p1 := get(nil)
		if strings.Join(all, ",") != strings.Join(kids, ",") {
			t.Fatalf("children %v, want %v", all, kids)
		}
		if p1.TotalCount != 6 || len(p1.Edges) != 4 || !p1.PageInfo.HasNextPage || p1.PageInfo.HasPreviousPage ||
			*p1.PageInfo.EndCursor != p1.Edges[3].Cursor || *p1.PageInfo.StartCursor != p1.Edges[0].Cursor {
			t.Fatalf("first page %+v", p1)
		}
		// Edges added between two pages come after them.
		late := derive("late.csv", root)
		_, p2 := get(p1.PageInfo.EndCursor)
		var got []string
		for _, e := range append(p1.Edges, p2.Edges...) {
			got = append(got, e.Node.ID)
		}
		if want := append(slices.Clone(kids), late); strings.Join(got, ",") != strings.Join(want[:7], ",") ||
			p2.TotalCount != 7 || p2.PageInfo.HasNextPage || !p2.PageInfo.HasPreviousPage {
			t.Fatalf("pages %v (second %+v), want %v", got, p2, want)
		}

		// Both edges of both.csv were made at once: the order is parents'.
		var d struct {
			File struct {
				Parents           []struct{ Name string }
				ParentsConnection page
			}
		}
		s.ok(t, ada, `query($id: ID!) { file(id: $id) { parents { name } parentsConnection { totalCount edges { node { name } } } } }`,
			map[string]any{"id": both}, &d)
		pc, ps := d.File.ParentsConnection, d.File.Parents
		if pc.TotalCount != 2 || len(pc.Edges) != 2 || len(ps) != 2 || pc.Edges[0].Node.Name != ps[0].Name ||
			pc.Edges[1].Node.Name != ps[1].Name || ps[0].Name == ps[1].Name {
			t.Fatalf("parents of both.csv: %+v, parents %+v", pc, ps)
		}

		for _, tc := range []struct {
			name  string
			vars  map[string]any
			field string
		}{
			{"a cursor of another list", map[string]any{"id": root, "after": neighbourCursorOf(other)}, "after"},
			{"not a cursor", map[string]any{"id": root, "after": "nope"}, "after"},
			{"too many", map[string]any{"id": root, "first": 501}, "first"},
			{"negative", map[string]any{"id": root, "first": -1}, "first"},
		} {
			r := s.gql(t, ada, q, tc.vars)
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != tc.field {
				t.Errorf("%s: %+v", tc.name, r.Errors)
			}
		}
		// Someone else's file has no connections to show: it is not found.
		if r := s.gql(t, bob, q, map[string]any{"id": root}); len(r.Errors) > 0 || string(r.Data) != `{"file":null}` {
			t.Errorf("bob: %s %+v", r.Data, r.Errors)
		}

		// A listing's connections, parents and children cost the same
		// statements for 2 files as for 7.
		count := func(n int) int64 {
			before := s.queries.Load()
			s.ok(t, ada, `query($n: Int) { files(first: $n) { edges { node { parents { name } children { name }
				parentsConnection(first: 2) { totalCount edges { node { name } } }
				childrenConnection(first: 2) { totalCount edges { node { name } } } } } } }`, map[string]any{"n": n}, nil)
			return s.queries.Load() - before
		}
		if small, large := count(2), count(7); small != large {
			t.Errorf("statements grew with the listing: %d for 2 files, %d for 7", small, large)
		}
	})
}

// neighbourCursorOf is a childrenConnection cursor for id, as the server
// writes them: a cursor that is not in the list it is given to.
func neighbourCursorOf(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n:" + id))
}
