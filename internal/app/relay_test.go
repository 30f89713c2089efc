package app_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// TestNodeFetchesByTodaysIDs: node(id:) and nodes(ids:) take the ids the
// API already returns (a File's UUID, a User's number) and answer null for
// anything that is not the caller's, exactly like an id that does not exist.
func TestNodeFetchesByTodaysIDs(t *testing.T) {
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
