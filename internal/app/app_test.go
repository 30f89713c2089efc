package app_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestHealthAndPlayground(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/playground": 200} {
			resp, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s = %d", path, resp.StatusCode)
			}
			if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: missing request id or security headers", path)
			}
		}
		var d struct{ Me *struct{ Username string } }
		s.ok(t, "", `{ me { username } }`, nil, &d)
		if d.Me != nil {
			t.Fatal("anonymous me should be null")
		}
		// GET per GraphQL over HTTP.
		resp, err := http.Get(s.URL + "/graphql?query=" + "%7B__typename%7D")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"__typename":"Query"`) {
			t.Fatalf("GET /graphql = %s", b)
		}
	})
}

func TestReadyzFailsWithoutDatabase(t *testing.T) {
	db := dbtest.SQLite(t)
	s := newServer(t, db, nil)
	db.Close()
	resp, err := http.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz = %d, want 503", resp.StatusCode)
	}
}

func TestAccountStory(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		reg := s.register(t, "ada")
		if reg.User.Username != "ada" || reg.AccessToken == "" {
			t.Fatalf("register = %+v", reg)
		}
		var login struct{ Login authPayload }
		s.ok(t, "", `mutation { login(input: {username: "ADA", password: "correct horse battery"}) { accessToken refreshToken user { username } } }`, nil, &login)

		var me struct{ Me struct{ ID, Username string } }
		s.ok(t, login.Login.AccessToken, `{ me { id username } }`, nil, &me)
		if me.Me.Username != "ada" || me.Me.ID != reg.User.ID {
			t.Fatalf("me = %+v", me)
		}

		refresh := `mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }`
		var r1 struct{ RefreshToken authPayload }
		s.ok(t, "", refresh, map[string]any{"t": login.Login.RefreshToken}, &r1)
		// Reusing the spent token revokes the family: even the new one dies.
		if r := s.gql(t, "", refresh, map[string]any{"t": login.Login.RefreshToken}); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("reuse: %+v", r.Errors)
		}
		if r := s.gql(t, "", refresh, map[string]any{"t": r1.RefreshToken.RefreshToken}); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("family not revoked: %+v", r.Errors)
		}

		var l2 struct{ Login authPayload }
		s.ok(t, "", `mutation { login(input: {username: "ada", password: "correct horse battery"}) { accessToken refreshToken } }`, nil, &l2)
		var out struct{ Logout bool }
		s.ok(t, "", `mutation($t: String!) { logout(refreshToken: $t) }`, map[string]any{"t": l2.Login.RefreshToken}, &out)
		if r := s.gql(t, "", refresh, map[string]any{"t": l2.Login.RefreshToken}); r.code() != "UNAUTHENTICATED" {
			t.Fatal("refresh after logout worked")
		}

		rejections := []struct {
			name, token, query, code, field string
		}{
			{"bad token on me", "not.a.jwt", `{ me { id } }`, "UNAUTHENTICATED", ""},
			{"anonymous files", "", `{ files { edges { cursor } } }`, "UNAUTHENTICATED", ""},
			{"wrong password", "", `mutation { login(input: {username: "ada", password: "nope nope nope"}) { accessToken } }`, "UNAUTHENTICATED", ""},
			{"NUL in username", "", `mutation { login(input: {username: "ada\u0000", password: "nope nope nope"}) { accessToken } }`, "UNAUTHENTICATED", ""},
			{"unknown user", "", `mutation { login(input: {username: "ghost", password: "nope nope nope"}) { accessToken } }`, "UNAUTHENTICATED", ""},
			{"short password", "", `mutation { register(input: {username: "bob", password: "short"}) { accessToken } }`, "BAD_USER_INPUT", "password"},
			{"bad username", "", `mutation { register(input: {username: "b b", password: "long enough pw"}) { accessToken } }`, "BAD_USER_INPUT", "username"},
			{"bad email", "", `mutation { register(input: {username: "bob", email: "nope", password: "long enough pw"}) { accessToken } }`, "BAD_USER_INPUT", "email"},
			{"duplicate", "", `mutation { register(input: {username: "ADA", password: "long enough pw"}) { accessToken } }`, "BAD_USER_INPUT", "username"},
		}
		for _, c := range rejections {
			r := s.gql(t, c.token, c.query, nil)
			if r.code() != c.code {
				t.Errorf("%s: code %q, want %q (%+v)", c.name, r.code(), c.code, r.Errors)
				continue
			}
			if c.field != "" && r.Errors[0].Extensions["field"] != c.field {
				t.Errorf("%s: field %v, want %s", c.name, r.Errors[0].Extensions["field"], c.field)
			}
		}
	})
}

func TestFilesOverGraphQL(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		bob := s.register(t, "bob").AccessToken
		id := s.uploadOK(t, ada, "people.csv", "name,age,city\nAda,36,NYC\nBob,17,LA\nCy,45,SF\n")

		var d struct {
			File struct {
				Name, Sha256, DownloadURL string
				RowCount                  int64
				Columns                   []struct{ Name, Type string }
				Rows                      struct {
					Edges []struct{ Node struct{ Values []*string } }
				}
			}
		}
		s.ok(t, ada, `query($id: ID!) { file(id: $id) { name sha256 rowCount downloadUrl columns { name type }
			rows(first: 10, columns: ["name"], whereSql: "age >= 18 AND city <> 'LA'") { edges { node { values } } } } }`,
			map[string]any{"id": id}, &d)
		if d.File.Name != "people.csv" || d.File.RowCount != 3 {
			t.Fatalf("file = %+v", d.File)
		}
		if len(d.File.Rows.Edges) != 2 || *d.File.Rows.Edges[1].Node.Values[0] != "Cy" {
			t.Fatalf("rows = %+v", d.File.Rows)
		}
		if d.File.Columns[1].Type != "INTEGER" {
			t.Fatalf("columns = %+v", d.File.Columns)
		}

		// The signed URL downloads without a token; Range works.
		req, _ := http.NewRequest("GET", s.URL+d.File.DownloadURL, nil)
		req.Header.Set("Range", "bytes=0-3")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || string(b) != "name" {
			t.Fatalf("range download = %d %q", resp.StatusCode, b)
		}
		// Conditional GET with the ETag.
		req, _ = http.NewRequest("GET", s.URL+"/api/v1/files/"+id+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+ada)
		req.Header.Set("If-None-Match", `"`+d.File.Sha256+`"`)
		resp, _ = http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("conditional GET = %d", resp.StatusCode)
		}

		// Derive, then walk the lineage both ways.
		var der struct{ DeriveFile struct{ ID, Name string } }
		s.ok(t, ada, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "adults.csv", columns: ["name", "age"],
			where: {column: "age", gte: "18"}}) { id name } }`, map[string]any{"id": id}, &der)
		var lin struct {
			Lineage struct {
				Nodes []struct {
					Distance int
					File     struct{ Name string }
				}
				Edges     []struct{ Parent, Child struct{ ID string } }
				Truncated bool
				Dot       string
			}
			File struct {
				Derivation struct {
					FilterSQL string
					Sources   []struct{ ID string }
				}
				Parents []struct{ ID string }
			}
		}
		s.ok(t, ada, `query($id: ID!, $d: ID!) { lineage(fileId: $id) { nodes { distance file { name } } edges { parent { id } child { id } } truncated dot }
			file(id: $d) { derivation { filterSql sources { id } } parents { id } } }`,
			map[string]any{"id": id, "d": der.DeriveFile.ID}, &lin)
		if len(lin.Lineage.Nodes) != 2 || lin.Lineage.Nodes[1].Distance != 1 || len(lin.Lineage.Edges) != 1 ||
			lin.Lineage.Edges[0].Parent.ID != id || !strings.Contains(lin.Lineage.Dot, "digraph") {
			t.Fatalf("lineage = %+v", lin.Lineage)
		}
		if lin.File.Derivation.FilterSQL == "" || lin.File.Derivation.Sources[0].ID != id || lin.File.Parents[0].ID != id {
			t.Fatalf("derivation = %+v", lin.File)
		}

		// Tags and listing.
		s.ok(t, ada, `mutation($id: ID!) { updateFileTags(id: $id, add: ["q3", "q3 "]) { userTags } }`, map[string]any{"id": id}, nil)
		var list struct {
			Files struct {
				TotalCount int
				Edges      []struct{ Node struct{ Name string } }
			}
		}
		s.ok(t, ada, `{ files(first: 10, filter: {tags: ["q3"]}) { totalCount edges { node { name } } } }`, nil, &list)
		if list.Files.TotalCount != 1 || list.Files.Edges[0].Node.Name != "people.csv" {
			t.Fatalf("list = %+v", list)
		}

		// Another user's id is NOT_FOUND everywhere, like an unknown one.
		vars := map[string]any{"id": id}
		var f struct{ File *struct{ ID string } }
		s.ok(t, bob, `query($id: ID!) { file(id: $id) { id } }`, vars, &f)
		if f.File != nil {
			t.Fatal("bob sees ada's file")
		}
		for _, q := range []string{
			`query($id: ID!) { lineage(fileId: $id) { truncated } }`,
			`mutation($id: ID!) { updateFileTags(id: $id, add: ["x"]) { id } }`,
			`mutation($id: ID!) { deleteFile(id: $id) }`,
			`mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "x.csv"}) { id } }`,
		} {
			if r := s.gql(t, bob, q, vars); r.code() != "NOT_FOUND" {
				t.Errorf("%s: %+v", q, r.Errors)
			}
		}
		req, _ = http.NewRequest("GET", s.URL+"/api/v1/files/"+id+"/content", nil)
		req.Header.Set("Authorization", "Bearer "+bob)
		resp, _ = http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("bob downloads ada's file: %d", resp.StatusCode)
		}

		// Bad filters say what is wrong.
		r := s.gql(t, ada, `query($id: ID!) { file(id: $id) { rows(whereSql: "agee > 3") { edges { cursor } } } }`, vars)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "agee") {
			t.Fatalf("bad filter: %+v", r.Errors)
		}

		// Delete leaves a tombstone visible in the child's lineage.
		s.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, vars, nil)
		s.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, vars, nil)
		var tomb struct {
			Lineage struct {
				Nodes []struct {
					File struct {
						Deleted     bool
						DownloadURL string
					}
				}
			}
		}
		s.ok(t, ada, `query($id: ID!) { lineage(fileId: $id, direction: UPSTREAM) { nodes { file { deleted downloadUrl } } } }`,
			map[string]any{"id": der.DeriveFile.ID}, &tomb)
		// Ancestors come first: distance -1, then the root at 0.
		if len(tomb.Lineage.Nodes) != 2 || !tomb.Lineage.Nodes[0].File.Deleted || tomb.Lineage.Nodes[0].File.DownloadURL != "" ||
			tomb.Lineage.Nodes[1].File.Deleted {
			t.Fatalf("tombstone = %+v", tomb)
		}
	})
}

func TestUploadLimits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, func(c *config.Config) { c.MaxFileSize = 100 })
		tok := s.register(t, "ada").AccessToken
		big := "a,b\n" + strings.Repeat("1,2\n", 50)
		if r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "big.csv", big); r.code() != "PAYLOAD_TOO_LARGE" {
			t.Fatalf("GraphQL big upload: %+v", r.Errors)
		}
		if r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "bin.csv", "\x00\x01\x02"); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("binary upload: %+v", r.Errors)
		}
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/files?name=big.csv", strings.NewReader(big))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("REST big upload = %d", resp.StatusCode)
		}
		var list struct{ Files struct{ TotalCount int } }
		s.ok(t, tok, `{ files { totalCount } }`, nil, &list)
		if list.Files.TotalCount != 0 {
			t.Fatal("a rejected upload left a file")
		}
		// A small one through REST works and is visible through GraphQL.
		req, _ = http.NewRequest("POST", s.URL+"/api/v1/files?name=small.csv&tags=a,b", strings.NewReader("x,y\n1,2\n"))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, _ = http.DefaultClient.Do(req)
		var created struct{ ID string }
		json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || created.ID == "" {
			t.Fatalf("REST upload = %d", resp.StatusCode)
		}
		s.ok(t, tok, `{ files { totalCount } }`, nil, &list)
		if list.Files.TotalCount != 1 {
			t.Fatal("REST upload not visible through GraphQL")
		}
	})
}

func TestQueryLimits(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxDepth = 5 })
	deep := `{ files { edges { node { children { children { children { id } } } } } } }`
	if r := s.gql(t, "", deep, nil); r.code() != "QUERY_TOO_COMPLEX" {
		t.Fatalf("deep query: %+v", r.Errors)
	}
	wide := `{ files(first: 500) { edges { node { rows(first: 1000) { edges { cursor } } } } } }`
	// Twice each: the second answer comes from the remembered verdict.
	for range 2 {
		if r := s.gql(t, "", deep, nil); r.code() != "QUERY_TOO_COMPLEX" {
			t.Fatalf("deep query: %+v", r.Errors)
		}
		if r := s.gql(t, "", wide, nil); r.code() != "QUERY_TOO_COMPLEX" {
			t.Fatalf("complex query: %+v", r.Errors)
		}
	}
	// Operations with variables are measured every time.
	small := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxComplexity = 3 })
	for range 2 {
		r := small.gql(t, "", `query($n: Int) { files(first: $n) { edges { node { id name } } } }`, map[string]any{"n": 1})
		if r.code() != "QUERY_TOO_COMPLEX" || !strings.Contains(r.Errors[0].Message, "complexity") {
			t.Fatalf("complex query with variables: %+v", r.Errors)
		}
		if r := small.gql(t, "", `{ me { id } }`, nil); r.code() == "QUERY_TOO_COMPLEX" {
			t.Fatalf("simple query: %+v", r.Errors)
		}
	}
	if r := s.gql(t, "", `{ __schema { queryType { name } } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("introspection: %+v", r.Errors)
	}
	off := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.Introspection = false })
	if r := off.gql(t, "", `{ __schema { queryType { name } } }`, nil); len(r.Errors) == 0 {
		t.Fatal("introspection still on")
	}
}

// Nesting children costs a fixed number of statements per level, however
// many files each level holds.
func TestNestedLineageQueriesAreBatched(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		count := func(width int) int64 {
			root := s.uploadOK(t, tok, "root.csv", "a,b\n1,2\n")
			for i := 0; i < width; i++ {
				var d struct{ DeriveFile struct{ ID string } }
				s.ok(t, tok, `mutation($id: ID!, $n: String!) { deriveFile(input: {sourceId: $id, name: $n}) { id } }`,
					map[string]any{"id": root, "n": fmt.Sprintf("c%d.csv", i)}, &d)
				s.ok(t, tok, `mutation($id: ID!, $n: String!) { deriveFile(input: {sourceId: $id, name: $n}) { id } }`,
					map[string]any{"id": d.DeriveFile.ID, "n": fmt.Sprintf("g%d.csv", i)}, nil)
			}
			before := s.queries.Load()
			s.ok(t, tok, `query($id: ID!) { file(id: $id) { children { name parents { name } children { name children { name } } } } }`,
				map[string]any{"id": root}, nil)
			return s.queries.Load() - before
		}
		small, large := count(2), count(8)
		if small != large {
			t.Fatalf("statements grew with the number of files: %d for 2 children, %d for 8", small, large)
		}
	})
}
