package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// The shim and GraphQL are two doors to the same files.
func TestShimAndGraphQLShareFiles(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		gqlToken := s.register(t, "ada").AccessToken
		code, _, body := s.call(t, "POST", "/api/accounts/login/", "", "application/json",
			strings.NewReader(`{"username":"ada","password":"correct horse battery"}`))
		var login struct{ Access, Refresh string }
		json.Unmarshal([]byte(body), &login)
		if code != 200 || login.Access == "" || login.Refresh == "" {
			t.Fatalf("shim login = %d %s", code, body)
		}

		ctype, form := fileForm("shim.csv", "a,b\n1,2\n")
		code, _, body = s.call(t, "POST", "/api/list_cutter/upload/", login.Access, ctype, form)
		if code != 200 || !strings.Contains(body, "File uploaded successfully") {
			t.Fatalf("shim upload = %d %s", code, body)
		}
		var list struct {
			Files struct {
				Edges []struct{ Node struct{ Name string } }
			}
		}
		s.ok(t, gqlToken, `{ files { edges { node { name } } } }`, nil, &list)
		if len(list.Files.Edges) != 1 || list.Files.Edges[0].Node.Name != "shim.csv" {
			t.Fatalf("GraphQL does not see the shim's upload: %+v", list)
		}

		s.uploadOK(t, gqlToken, "graphql.csv", "x\n1\n")
		code, _, body = s.call(t, "GET", "/api/list_cutter/list_saved_files/", login.Access, "", nil)
		if code != 200 || !strings.Contains(body, `"file_name":"graphql.csv"`) {
			t.Fatalf("the shim does not list the GraphQL upload: %d %s", code, body)
		}
		// Without a token the shim answers 401 the way the old frontend expects.
		code, _, body = s.call(t, "GET", "/api/list_cutter/list_saved_files/", "", "", nil)
		if code != http.StatusUnauthorized || !strings.Contains(body, "Authentication credentials were not provided.") {
			t.Fatalf("anonymous list = %d %s", code, body)
		}
	})
}
