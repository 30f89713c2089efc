package legacy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
)

// TestFlowAnonymousCutter is the "CSV cutter" page: upload with #2, pick
// columns and clauses, download the cut with #3, all without an account.
func TestFlowAnonymousCutter(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		r := e.postMultipart(t, "/api/list_cutter/csv_cutter/", "", fileField("people.csv", csvFile)).want(t, http.StatusOK)
		var up struct {
			Columns  []string `json:"columns"`
			FilePath string   `json:"file_path"`
		}
		if err := json.Unmarshal(r.body, &up); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(up.Columns, []string{"name", "age", "city"}) {
			t.Fatalf("columns %v", up.Columns)
		}
		out := e.postJSON(t, "/api/list_cutter/export_csv/", map[string]any{
			"columns": []string{"name", "age"}, "file_path": up.FilePath,
			"filters": map[string]string{"age": "> 18", "city": "!= 'Berlin'"},
		}, "").want(t, http.StatusOK)
		if got, want := string(out.body), "name,age\nAlice,30\n\"Smith, Jr.\",45\n"; got != want {
			t.Errorf("cut %q, want %q", got, want)
		}
		if cd := out.header.Get("Content-Disposition"); cd != `attachment; filename="filtered.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		if ct := out.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("Content-Type %q", ct)
		}

		// The upload is a scratch file: nobody's, and it expires.
		var scratch []struct {
			OwnerID   *int64     `bun:"owner_id"`
			ExpiresAt *time.Time `bun:"expires_at"`
			CreatedAt time.Time  `bun:"created_at"`
		}
		if err := db.NewSelect().Table("files").Column("owner_id", "expires_at", "created_at").Scan(context.Background(), &scratch); err != nil {
			t.Fatal(err)
		}
		if len(scratch) != 1 || scratch[0].OwnerID != nil || scratch[0].ExpiresAt == nil {
			t.Fatalf("scratch rows %+v", scratch)
		}
		if d := scratch[0].ExpiresAt.Sub(scratch[0].CreatedAt); d < 59*60e9 || d > 61*60e9 {
			t.Errorf("scratch file lives %v, want about an hour", d)
		}
	})
}

// TestFlowCutterPlus is the logged-in "cutter plus" page: #5, #10 (no
// slash), #3 with the handle and no token, then #8 sent without a token
// first, which must give 401 so the app refreshes and retries.
func TestFlowCutterPlus(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		fe := e.frontend(u)
		e.upload(t, u, "people.csv", csvFile)

		var list struct {
			Files []savedFileJSON `json:"files"`
		}
		r := fe.call(t, request{method: "GET", path: "/api/list_cutter/list_saved_files/"}, false).want(t, http.StatusOK)
		if err := json.Unmarshal(r.body, &list); err != nil || len(list.Files) != 1 {
			t.Fatalf("list: %v %s", err, r.body)
		}
		orig := list.Files[0]

		r = fe.call(t, request{method: "GET", path: "/api/list_cutter/fetch_saved_file/" + orig.FileID}, false).want(t, http.StatusOK)
		var fetched struct {
			Columns  []string `json:"columns"`
			FilePath string   `json:"file_path"`
		}
		if err := json.Unmarshal(r.body, &fetched); err != nil {
			t.Fatal(err)
		}

		filters := map[string]string{"age": ">= 18"}
		cut := fe.call(t, jsonRequest(t, "POST", "/api/list_cutter/export_csv/", map[string]any{
			"columns": fetched.Columns, "file_path": fetched.FilePath, "filters": filters,
		}), true).want(t, http.StatusOK)
		if fe.refreshes != 0 {
			t.Fatalf("#3 with a handle needed a token")
		}

		meta, _ := json.Marshal(map[string]any{
			"generated_file_details": map[string]any{"column_filters": filters, "selected_columns": fetched.Columns},
			"original_file_id":       orig.FileID,
		})
		r = fe.call(t, multipartRequest(t, "/api/list_cutter/save_generated_file/",
			fileField("blob", string(cut.body)), field("file_name", "adults.csv"),
			field("metadata", string(meta)), field("original_file_id", orig.FileID)), true).want(t, http.StatusCreated)
		if fe.refreshes != 1 {
			t.Errorf("#8 without a token: %d refreshes, want exactly the one 401 -> refresh -> retry", fe.refreshes)
		}
		newID := r.str(t, "file_id")

		r = fe.call(t, request{method: "GET", path: "/api/list_cutter/list_saved_files/"}, false).want(t, http.StatusOK)
		list.Files = nil
		if err := json.Unmarshal(r.body, &list); err != nil || len(list.Files) != 2 {
			t.Fatalf("list after save: %v %s", err, r.body)
		}
		saved := list.Files[0] // newest first
		if saved.FileID != newID || saved.FileName != "adults.csv" || !slices.Equal(saved.SystemTags, []string{"generated"}) {
			t.Errorf("saved row %+v", saved)
		}
		// The Manage page does JSON.parse(file.metadata): it must be a string of JSON.
		if saved.Metadata == nil || *saved.Metadata != string(meta) {
			t.Errorf("metadata %v, want the text sent", saved.Metadata)
		}
		if list.Files[1].Metadata != nil {
			t.Errorf("upload has metadata %v, want null", *list.Files[1].Metadata)
		}

		// The saved file holds the cut.
		r = fe.call(t, request{method: "GET", path: "/api/list_cutter/fetch_saved_file/" + newID}, false).want(t, http.StatusOK)
		if got := r.str(t, "content"); got != string(cut.body) {
			t.Errorf("saved content %q, want %q", got, cut.body)
		}
	})
}

// TestFlowManageFiles is the "Manage files" page: #5, #6 by name with the
// token, #9 and #7 by id. It also shows that shim uploads are the same files
// the GraphQL layer lists (Files.List).
func TestFlowManageFiles(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		u := e.newUser(t, "alice")
		fe := e.frontend(u)
		for _, n := range []string{"a.csv", "b.csv", "a.csv"} {
			fe.call(t, multipartRequest(t, "/api/list_cutter/upload/", fileField(n, csvFile)), false).want(t, http.StatusOK)
		}
		page, err := e.files.List(ctx, u.id, files.ListOptions{First: 10})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range page.Files {
			names = append(names, f.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"a.csv", "a_1.csv", "b.csv"}) {
			t.Errorf("Files.List sees %v", names)
		}

		var list struct {
			Files []savedFileJSON `json:"files"`
		}
		r := fe.call(t, request{method: "GET", path: "/api/list_cutter/list_saved_files/"}, false).want(t, http.StatusOK)
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Files) != 3 || list.Files[0].FileName != "a_1.csv" {
			t.Fatalf("list %s", r.body)
		}
		for _, f := range list.Files {
			if len(f.UploadedAt) < 16 || f.UploadedAt[10] != 'T' {
				t.Errorf("uploaded_at %q is not ISO 8601", f.UploadedAt)
			}
		}

		for _, f := range list.Files {
			d := fe.call(t, request{method: "GET", path: "/api/list_cutter/download/" + url.PathEscape(f.FileName) + "/"}, false).
				want(t, http.StatusOK)
			if string(d.body) != csvFile {
				t.Errorf("download %s: %q", f.FileName, d.body)
			}
		}

		target := list.Files[1]
		fe.call(t, jsonRequest(t, "PATCH", "/api/list_cutter/update_tags/"+target.FileID+"/",
			map[string]any{"user_tags": []string{"q1", "sales"}}), false).want(t, http.StatusOK)
		fe.call(t, jsonRequest(t, "PATCH", "/api/list_cutter/update_tags/"+target.FileID+"/",
			map[string]any{"user_tags": []string{"sales", "2024"}}), false).want(t, http.StatusOK)
		fe.call(t, request{method: "DELETE", path: "/api/list_cutter/delete/" + list.Files[0].FileID + "/"}, false).
			want(t, http.StatusNoContent)

		r = fe.call(t, request{method: "GET", path: "/api/list_cutter/list_saved_files/"}, false).want(t, http.StatusOK)
		list.Files = nil
		if err := json.Unmarshal(r.body, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Files) != 2 || list.Files[0].FileID != target.FileID {
			t.Fatalf("after delete: %s", r.body)
		}
		if got := list.Files[0].UserTags; !slices.Equal(got, []string{"q1", "sales", "2024"}) {
			t.Errorf("user_tags %v", got)
		}
		if n, err := e.files.Count(ctx, u.id, files.Filter{}); err != nil || n != 2 {
			t.Errorf("Files.Count %d %v", n, err)
		}
	})
}

// TestFlowLineage is the "Lineage" page: #5 to choose a file, #11 for the
// graph of everything connected to it.
func TestFlowLineage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		fe := e.frontend(u)
		a := e.upload(t, u, "a.csv", csvFile)
		b := e.save(t, u, "b.csv", "name\nAlice\n", a.ID)
		c := e.save(t, u, "c.csv", "name\n", b.ID)
		d := e.save(t, u, "d.csv", "name,age\n", a.ID)
		other := e.upload(t, u, "unrelated.csv", csvFile)

		r := fe.call(t, request{method: "GET", path: "/api/list_cutter/list_saved_files/"}, false).want(t, http.StatusOK)
		if !strings.Contains(string(r.body), a.ID) {
			t.Fatal("list lacks the root")
		}
		type graph struct {
			Nodes []lineageNode `json:"nodes"`
			Edges []lineageEdge `json:"edges"`
		}
		fetch := func(id string) graph {
			r := fe.call(t, request{method: "GET", path: "/api/list_cutter/fetch_file_lineage/" + id + "/"}, false).want(t, http.StatusOK)
			var g graph
			if err := json.Unmarshal(r.body, &g); err != nil {
				t.Fatal(err)
			}
			return g
		}
		names := func(g graph) []string {
			var out []string
			for _, n := range g.Nodes {
				out = append(out, n.FileName)
			}
			slices.Sort(out)
			return out
		}
		edges := func(g graph) []string {
			byID := map[string]string{a.ID: "a", b.ID: "b", c.ID: "c", d.ID: "d", other.ID: "x"}
			var out []string
			for _, e := range g.Edges {
				if e.Type != "CUT_TO" {
					t.Errorf("edge type %q", e.Type)
				}
				out = append(out, byID[e.Source]+"->"+byID[e.Target])
			}
			slices.Sort(out)
			return out
		}

		g := fetch(a.ID)
		if got := names(g); !slices.Equal(got, []string{"a.csv", "b.csv", "c.csv", "d.csv"}) {
			t.Errorf("nodes from the root: %v", got)
		}
		if got := edges(g); !slices.Equal(got, []string{"a->b", "a->d", "b->c"}) {
			t.Errorf("edges from the root: %v", got)
		}
		// From the middle: its ancestors and descendants, each once.
		g = fetch(b.ID)
		if got := names(g); !slices.Equal(got, []string{"a.csv", "b.csv", "c.csv"}) {
			t.Errorf("nodes from b: %v", got)
		}
		if got := edges(g); !slices.Equal(got, []string{"a->b", "b->c"}) {
			t.Errorf("edges from b: %v", got)
		}
		g = fetch(other.ID)
		if len(g.Nodes) != 1 || len(g.Edges) != 0 || g.Edges == nil {
			t.Errorf("a file alone: %+v", g)
		}
		golden(t, "11_lineage_tree", e.get(t, "/api/list_cutter/fetch_file_lineage/"+a.ID+"/", u.access))
	})
}

// TestRefreshDance: an expired access token gets 401 token_not_valid; the
// app refreshes with the refresh token from login and retries, and keeps
// doing so with that same refresh token, many times over (legacy tokens
// survive rotation).
func TestRefreshDance(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		f := e.upload(t, u, "a.csv", csvFile)
		fe := e.frontend(u)
		calls := []request{
			{method: "GET", path: "/api/accounts/user/"},
			{method: "GET", path: "/api/list_cutter/list_saved_files/"},
			{method: "GET", path: "/api/list_cutter/fetch_saved_file/" + f.ID},
			{method: "GET", path: "/api/list_cutter/fetch_file_lineage/" + f.ID + "/"},
			{method: "GET", path: "/api/list_cutter/download/a.csv/"},
			jsonRequest(t, "PATCH", "/api/list_cutter/update_tags/"+f.ID+"/", map[string]any{"user_tags": []string{"x"}}),
		}
		for i := 0; i < 3; i++ {
			for _, c := range calls {
				fe.access = expiredAccess(t, u)
				first := e.do(t, request{method: c.method, path: c.path, body: c.body, ctype: c.ctype, token: fe.access})
				if first.status != http.StatusUnauthorized || first.str(t, "code") != "token_not_valid" {
					t.Fatalf("%s with an expired token: %d %s", c.path, first.status, first.body)
				}
				before := fe.refreshes
				if r := fe.call(t, c, false); r.status/100 != 2 {
					t.Fatalf("%s after refresh: %d %s", c.path, r.status, r.body)
				}
				if fe.refreshes != before+1 {
					t.Fatalf("%s: no refresh happened", c.path)
				}
			}
		}
		if fe.refresh != u.refresh || fe.refreshes != 3*len(calls) {
			t.Errorf("the login refresh token was not reused %d times", 3*len(calls))
		}
	})
}
