package legacy

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
)

// TestContract checks every row of the endpoint table of LEGACY_API.md:
// the success answer and each listed error, against golden files.
func TestContract(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()

		t.Run("01 index", func(t *testing.T) {
			for _, p := range []string{"/", "/api/list_cutter/", "/api/list_cutter"} {
				r := e.get(t, p, "").want(t, http.StatusOK)
				if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
					t.Errorf("%s: Content-Type %q", p, ct)
				}
				if !strings.Contains(string(r.body), "<html") {
					t.Errorf("%s: not an HTML page: %s", p, r.body)
				}
			}
			golden(t, "01_index", e.get(t, "/", ""))
		})

		t.Run("12 register", func(t *testing.T) {
			golden(t, "12_register_ok", e.postJSON(t, "/api/accounts/register/", map[string]string{
				"username": "carol", "email": "carol@example.com", "password": password, "password2": password,
			}, ""))
			golden(t, "12_register_mismatch", e.postJSON(t, "/api/accounts/register/", map[string]string{
				"username": "dave", "password": password, "password2": password + "x",
			}, ""))
			golden(t, "12_register_duplicate", e.postJSON(t, "/api/accounts/register/", map[string]string{
				"username": "Carol", "password": password, "password2": password,
			}, ""))
			golden(t, "12_register_missing", e.postJSON(t, "/api/accounts/register/", map[string]string{}, ""))
			golden(t, "12_register_short_password", e.postJSON(t, "/api/accounts/register/", map[string]string{
				"username": "erin", "password": "short", "password2": "short",
			}, ""))
			golden(t, "12_register_bad_json", e.do(t, request{method: "POST", path: "/api/accounts/register/",
				body: []byte(`{"username":`), ctype: "application/json"}))
		})

		t.Run("13 login", func(t *testing.T) {
			golden(t, "13_login_ok", e.postJSON(t, "/api/accounts/login/",
				map[string]string{"username": "carol", "password": password}, ""))
			golden(t, "13_login_wrong_password", e.postJSON(t, "/api/accounts/login/",
				map[string]string{"username": "carol", "password": "wrong password"}, ""))
			golden(t, "13_login_unknown_user", e.postJSON(t, "/api/accounts/login/",
				map[string]string{"username": "nobody", "password": password}, ""))
			golden(t, "13_login_missing", e.postJSON(t, "/api/accounts/login/", map[string]string{"username": ""}, ""))
		})

		alice := e.newUser(t, "alice")
		bob := e.newUser(t, "bob")

		t.Run("14 refresh", func(t *testing.T) {
			r := e.postJSON(t, "/api/accounts/token/refresh/", map[string]string{"refresh": alice.refresh}, "")
			golden(t, "14_refresh_ok", r)
			if _, err := e.auth.VerifyAccess(r.str(t, "access")); err != nil {
				t.Errorf("refreshed access token does not verify: %v", err)
			}
			if r.str(t, "refresh") == alice.refresh {
				t.Error("refresh token was not rotated")
			}
			golden(t, "14_refresh_invalid", e.postJSON(t, "/api/accounts/token/refresh/",
				map[string]string{"refresh": "not-a-token"}, ""))
			golden(t, "14_refresh_access_token_instead", e.postJSON(t, "/api/accounts/token/refresh/",
				map[string]string{"refresh": alice.access}, ""))
		})

		t.Run("15 user", func(t *testing.T) {
			golden(t, "15_user_ok", e.get(t, "/api/accounts/user/", alice.access))
			carol := e.postJSON(t, "/api/accounts/login/", map[string]string{"username": "carol", "password": password}, "")
			golden(t, "15_user_with_email", e.get(t, "/api/accounts/user/", carol.str(t, "access")))
			golden(t, "15_user_no_token", e.get(t, "/api/accounts/user/", ""))
			golden(t, "15_user_bad_token", e.get(t, "/api/accounts/user/", alice.access+"x"))
			golden(t, "15_user_expired_token", e.get(t, "/api/accounts/user/", expiredAccess(t, alice)))
		})

		var handle string
		t.Run("02 csv_cutter", func(t *testing.T) {
			r := e.postMultipart(t, "/api/list_cutter/csv_cutter/", "", fileField("people.csv", csvFile))
			golden(t, "02_csv_cutter_ok", r)
			handle = r.str(t, "file_path")
			if !strings.HasSuffix(handle, ".csv") || strings.Contains(handle, "/") {
				t.Errorf("file_path %q is not an opaque handle", handle)
			}
			golden(t, "02_csv_cutter_no_file", e.postMultipart(t, "/api/list_cutter/csv_cutter/", "", field("other", "x")))
			golden(t, "02_csv_cutter_not_multipart", e.postJSON(t, "/api/list_cutter/csv_cutter/", map[string]string{}, ""))
			golden(t, "02_csv_cutter_not_csv", e.postMultipart(t, "/api/list_cutter/csv_cutter/", "",
				fileField("x.bin", "\x00\x01\x02binary\x00")))
			golden(t, "02_csv_cutter_empty", e.postMultipart(t, "/api/list_cutter/csv_cutter/", "", fileField("x.csv", "")))
		})

		t.Run("03 export_csv", func(t *testing.T) {
			exp := func(v any) *resp { return e.postJSON(t, "/api/list_cutter/export_csv/", v, "") }
			golden(t, "03_export_ok", exp(map[string]any{
				"columns": []string{"name", "city"}, "file_path": handle,
				"filters": map[string]string{"age": ">= 18", "city": "IN ('Paris', \"New \"\"York\"\"\")", "name": ""},
			}))
			golden(t, "03_export_like_between", exp(map[string]any{
				"columns": []string{"name", "age"}, "file_path": handle,
				"filters": map[string]string{"name": "like '%o%'", "age": "between 10 and 40"},
			}))
			golden(t, "03_export_no_filters", exp(map[string]any{"columns": []string{"city", "name"}, "file_path": handle}))
			golden(t, "03_export_no_columns", exp(map[string]any{"columns": []string{}, "file_path": handle}))
			golden(t, "03_export_bad_clause", exp(map[string]any{
				"columns": []string{"name"}, "file_path": handle, "filters": map[string]string{"age": "~ 3"},
			}))
			golden(t, "03_export_unknown_filter_column", exp(map[string]any{
				"columns": []string{"name"}, "file_path": handle, "filters": map[string]string{"agee": "> 3"},
			}))
			golden(t, "03_export_unknown_column", exp(map[string]any{
				"columns": []string{"name", "zip"}, "file_path": handle,
			}))
			golden(t, "03_export_bad_handle", exp(map[string]any{"columns": []string{"name"}, "file_path": "uploads/people.csv"}))
		})

		var aliceFile *files.File
		t.Run("04 upload", func(t *testing.T) {
			r := e.postMultipart(t, "/api/list_cutter/upload/", alice.access, fileField("people.csv", csvFile))
			golden(t, "04_upload_ok", r)
			f, err := e.files.Get(ctx, alice.id, r.str(t, "file_id"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.SystemTags, []string{"uploaded"}) || f.Origin != files.OriginUploaded || f.ExpiresAt != nil {
				t.Errorf("uploaded file: tags %v origin %s expires %v", f.SystemTags, f.Origin, f.ExpiresAt)
			}
			aliceFile = f
			// The same name again is made unique the way the old server did.
			golden(t, "04_upload_same_name", e.postMultipart(t, "/api/list_cutter/upload/", alice.access,
				fileField("people.csv", csvFile)))
			golden(t, "04_upload_no_file", e.postMultipart(t, "/api/list_cutter/upload/", alice.access, field("x", "y")))
			golden(t, "04_upload_no_token", e.postMultipart(t, "/api/list_cutter/upload/", "", fileField("a.csv", csvFile)))
			golden(t, "04_upload_bad_token", e.postMultipart(t, "/api/list_cutter/upload/", "garbage", fileField("a.csv", csvFile)))
			golden(t, "04_upload_not_csv", e.postMultipart(t, "/api/list_cutter/upload/", alice.access,
				fileField("a.csv", "\x00\x00\x00")))
		})

		var generated *files.File
		t.Run("08 save_generated_file", func(t *testing.T) {
			save := func(parts ...part) *resp {
				return e.postMultipart(t, "/api/list_cutter/save_generated_file/", alice.access, parts...)
			}
			meta := `{"generated_file_details":{"column_filters":{"age":">= 18"}},"original_file_id":"` + aliceFile.ID + `"}`
			r := save(fileField("blob", "name\nAlice\n"), field("file_name", "adults.csv"),
				field("metadata", meta), field("original_file_id", aliceFile.ID))
			golden(t, "08_save_ok", r)
			f, err := e.files.Get(ctx, alice.id, r.str(t, "file_id"))
			if err != nil {
				t.Fatal(err)
			}
			if f.Origin != files.OriginGenerated || !slices.Equal(f.SystemTags, []string{"generated"}) {
				t.Errorf("saved file: origin %s tags %v", f.Origin, f.SystemTags)
			}
			if f.MetadataJSON == nil || *f.MetadataJSON != meta {
				t.Errorf("metadata stored as %v, want the client's text", f.MetadataJSON)
			}
			g, err := e.lineage.Connected(ctx, alice.id, f.ID)
			if err != nil || len(g.Edges) != 1 || g.Edges[0].ParentID != aliceFile.ID || g.Edges[0].ChildID != f.ID {
				t.Errorf("lineage edge original -> saved missing: %+v %v", g, err)
			}
			generated = f
			golden(t, "08_save_no_file", save(field("file_name", "x.csv"), field("original_file_id", aliceFile.ID)))
			golden(t, "08_save_no_filename", save(fileField("blob", "a\n1\n"), field("original_file_id", aliceFile.ID)))
			golden(t, "08_save_no_original", save(fileField("blob", "a\n1\n"), field("file_name", "x.csv")))
			golden(t, "08_save_bogus_original", save(fileField("blob", "a\n1\n"), field("file_name", "x.csv"),
				field("original_file_id", "12345")))
			golden(t, "08_save_no_token", e.postMultipart(t, "/api/list_cutter/save_generated_file/", "",
				fileField("blob", "a\n1\n"), field("file_name", "x.csv"), field("original_file_id", aliceFile.ID)))
			// "filename", as one old page sends it, and metadata that is not JSON.
			r = save(field("filename", "other.csv"), field("metadata", "just text"),
				field("original_file_id", aliceFile.ID), fileField("blob", "a\n1\n"))
			golden(t, "08_save_filename_field", r)
			f2, err := e.files.Get(ctx, alice.id, r.str(t, "file_id"))
			if err != nil {
				t.Fatal(err)
			}
			if f2.Name != "other.csv" || f2.MetadataJSON == nil || *f2.MetadataJSON != `"just text"` {
				t.Errorf("filename field: name %q metadata %v", f2.Name, f2.MetadataJSON)
			}
		})

		t.Run("05 list_saved_files", func(t *testing.T) {
			golden(t, "05_list_ok", e.get(t, "/api/list_cutter/list_saved_files/", alice.access))
			golden(t, "05_list_empty", e.get(t, "/api/list_cutter/list_saved_files/", bob.access))
			golden(t, "05_list_no_token", e.get(t, "/api/list_cutter/list_saved_files/", ""))
		})

		t.Run("06 download", func(t *testing.T) {
			r := e.get(t, "/api/list_cutter/download/people.csv/", alice.access)
			golden(t, "06_download_ok", r)
			if string(r.body) != csvFile {
				t.Errorf("downloaded bytes differ: %q", r.body)
			}
			golden(t, "06_download_missing", e.get(t, "/api/list_cutter/download/nope.csv/", alice.access))
			golden(t, "06_download_no_token", e.get(t, "/api/list_cutter/download/people.csv/", ""))
		})

		t.Run("09 update_tags", func(t *testing.T) {
			p := "/api/list_cutter/update_tags/" + aliceFile.ID + "/"
			golden(t, "09_tags_ok", e.sendJSON(t, "PATCH", p, map[string]any{"user_tags": []string{"a", "b"}}, alice.access))
			e.sendJSON(t, "PATCH", p, map[string]any{"user_tags": []string{"b", "c", "a"}}, alice.access).want(t, http.StatusOK)
			f, err := e.files.Get(ctx, alice.id, aliceFile.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.UserTags, []string{"a", "b", "c"}) {
				t.Errorf("tags %v, want the union [a b c]", f.UserTags)
			}
			golden(t, "09_tags_missing", e.sendJSON(t, "PATCH", "/api/list_cutter/update_tags/"+missingID+"/",
				map[string]any{"user_tags": []string{"a"}}, alice.access))
			golden(t, "09_tags_system_tag", e.sendJSON(t, "PATCH", p, map[string]any{"user_tags": []string{"uploaded"}}, alice.access))
			golden(t, "09_tags_not_a_list", e.sendJSON(t, "PATCH", p, map[string]any{"user_tags": "a"}, alice.access))
		})

		t.Run("10 fetch_saved_file", func(t *testing.T) {
			// The frontend asks without the trailing slash.
			r := e.get(t, "/api/list_cutter/fetch_saved_file/"+aliceFile.ID, alice.access)
			golden(t, "10_fetch_ok", r)
			if got := r.str(t, "content"); got != csvFile {
				t.Errorf("content %q, want the whole file", got)
			}
			golden(t, "10_fetch_missing", e.get(t, "/api/list_cutter/fetch_saved_file/"+missingID, alice.access))
			golden(t, "10_fetch_malformed_id", e.get(t, "/api/list_cutter/fetch_saved_file/42", alice.access))
		})

		t.Run("11 fetch_file_lineage", func(t *testing.T) {
			golden(t, "11_lineage_ok", e.get(t, "/api/list_cutter/fetch_file_lineage/"+generated.ID+"/", alice.access))
			golden(t, "11_lineage_missing", e.get(t, "/api/list_cutter/fetch_file_lineage/"+missingID+"/", alice.access))
		})

		t.Run("07 delete", func(t *testing.T) {
			p := "/api/list_cutter/delete/" + generated.ID + "/"
			r := e.do(t, request{method: "DELETE", path: p, token: alice.access})
			r.want(t, http.StatusNoContent)
			if len(r.body) != 0 {
				t.Errorf("204 with a body: %q", r.body)
			}
			golden(t, "07_delete_again", e.do(t, request{method: "DELETE", path: p, token: alice.access}))
			golden(t, "07_delete_missing", e.do(t, request{method: "DELETE", path: "/api/list_cutter/delete/" + missingID + "/", token: alice.access}))
			golden(t, "07_delete_no_token", e.do(t, request{method: "DELETE", path: p}))
			if _, err := e.files.Get(ctx, alice.id, generated.ID); err == nil {
				t.Error("deleted file still readable")
			}
		})
	})
}

// missingID is a well-formed id that names no file.
const missingID = "00000000-0000-4000-8000-000000000000"

// TestSizeLimit uploads one byte more than the real default limit (10 MiB)
// to every upload endpoint, and checks the old wording.
func TestSizeLimit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		orig := e.upload(t, u, "orig.csv", csvFile)
		big := strings.Repeat("a,b\n", (10<<20)/4) + "x"
		rows0, objs0 := e.fileCounts(t)
		golden(t, "02_csv_cutter_too_large", e.postMultipart(t, "/api/list_cutter/csv_cutter/", "", fileField("big.csv", big)))
		golden(t, "04_upload_too_large", e.postMultipart(t, "/api/list_cutter/upload/", u.access, fileField("big.csv", big)))
		// #8 both ways: streamed (fields first) and spooled (file first).
		golden(t, "08_save_too_large", e.postMultipart(t, "/api/list_cutter/save_generated_file/", u.access,
			field("file_name", "b.csv"), field("metadata", "{}"), field("original_file_id", orig.ID), fileField("big.csv", big)))
		e.postMultipart(t, "/api/list_cutter/save_generated_file/", u.access,
			fileField("big.csv", big), field("file_name", "b.csv"), field("original_file_id", orig.ID)).want(t, http.StatusBadRequest)
		if rows, objs := e.fileCounts(t); rows != rows0 || objs != objs0 {
			t.Errorf("files after refused uploads: %d rows %d objects, before %d %d", rows, objs, rows0, objs0)
		}
		// Exactly at the limit is fine.
		exact := strings.Repeat("a,b\n", (10<<20)/4)
		e.postMultipart(t, "/api/list_cutter/upload/", u.access, fileField("exact.csv", exact)).want(t, http.StatusOK)
	})
}

func TestSizeMessage(t *testing.T) {
	for limit, want := range map[int64]string{
		10485760:   "File size exceeds 10.00MB limit.",
		5 << 20:    "File size exceeds 5.00MB limit.",
		1536 << 10: "File size exceeds 1.50MB limit.",
	} {
		if got := sizeMessage(limit); got != want {
			t.Errorf("sizeMessage(%d) = %q, want %q", limit, got, want)
		}
	}
}

// TestFetchDecodes shows that #10's content is UTF-8 text whatever the
// file's encoding, and that JSON escaping holds for awkward characters.
func TestFetchDecodes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		cases := map[string]struct{ raw, want string }{
			"cp1252.csv": {"name,city\nJos\xe9,K\xf6ln\n", "name,city\nJosé,Köln\n"},
			"bom.csv":    {"\xef\xbb\xbfname,note\nA,\"x\u2028y\"\n", "name,note\nA,\"x\u2028y\"\n"},
			"utf16.csv":  {"\xff\xfen\x00,\x00c\x00\n\x001\x00,\x00\xe9\x00\n\x00", "n,c\n1,é\n"},
			"ctl.csv":    {"a,b\n\"q\"\"\",\\\t\x01\n", "a,b\n\"q\"\"\",\\\t\x01\n"},
		}
		for name, c := range cases {
			f := e.upload(t, u, name, c.raw)
			r := e.get(t, "/api/list_cutter/fetch_saved_file/"+f.ID+"/", u.access).want(t, http.StatusOK)
			if got := r.str(t, "content"); got != c.want {
				t.Errorf("%s (%s): content %q, want %q", name, f.Encoding, got, c.want)
			}
		}
	})
}

// TestDownloadNames checks #6 with names that need escaping in the URL.
func TestDownloadNames(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		f := e.upload(t, u, "my report (v2) é.csv", csvFile)
		r := e.get(t, "/api/list_cutter/download/"+url.PathEscape(f.Name)+"/", u.access).want(t, http.StatusOK)
		if string(r.body) != csvFile {
			t.Errorf("body %q", r.body)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
			t.Errorf("Content-Disposition %q", cd)
		}
	})
}

// TestStorageFailure: a failing bucket is a generic 500 in the legacy
// shape (#4's own wording), never a stack trace or a half-sent answer.
func TestStorageFailure(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.newUser(t, "alice")
		f := e.upload(t, u, "a.csv", csvFile)
		if err := e.bucket.Delete(context.Background(), *f.ObjectKey); err != nil {
			t.Fatal(err)
		}
		golden(t, "10_fetch_storage_failure", e.get(t, "/api/list_cutter/fetch_saved_file/"+f.ID, u.access))
		r := e.get(t, "/api/list_cutter/fetch_saved_file/"+f.ID, u.access)
		h := r.json(t) // whole and parseable: nothing was streamed before the error
		if h["error"] == nil {
			t.Errorf("body %s", r.body)
		}
		r = e.get(t, "/api/list_cutter/list_saved_files/", u.access).want(t, http.StatusOK)
		handle := r.json(t)["files"].([]any)[0].(map[string]any)["file_path"].(string)
		golden(t, "03_export_storage_failure", e.postJSON(t, "/api/list_cutter/export_csv/",
			map[string]any{"columns": []string{"name"}, "file_path": handle}, ""))
		e.bucket.Close()
		golden(t, "04_upload_storage_failure", e.postMultipart(t, "/api/list_cutter/upload/", u.access, fileField("b.csv", csvFile)))
	})
}

// TestLoginEdges: the auth package's login limiter answers like DRF's
// throttle, and odd input is a 401 or a 400, never a 500.
func TestLoginEdges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.newUser(t, "alice")
		for _, name := range []string{"ali\x00ce", "\xff\xfe", strings.Repeat("a", 5000)} {
			r := e.postJSON(t, "/api/accounts/login/", map[string]string{"username": name, "password": password}, "")
			if r.status != http.StatusUnauthorized {
				t.Errorf("login as %q: %d %s", name[:min(len(name), 10)], r.status, r.body)
			}
		}
		// A form body is not JSON-decoded, so invalid UTF-8 gets through as is.
		for _, name := range []string{"ali%00ce", "%ff%fe"} {
			r := e.do(t, request{method: "POST", path: "/api/accounts/login/",
				body: []byte("username=" + name + "&password=x"), ctype: "application/x-www-form-urlencoded"})
			if r.status != http.StatusUnauthorized {
				t.Errorf("form login as %q: %d %s", name, r.status, r.body)
			}
		}
		e.do(t, request{method: "POST", path: "/api/accounts/login/",
			body: []byte("username=alice&password=" + url.QueryEscape(password)), ctype: "application/x-www-form-urlencoded"}).
			want(t, http.StatusOK)
		var r *resp
		for i := 0; i < 12; i++ {
			r = e.postJSON(t, "/api/accounts/login/", map[string]string{"username": "alice", "password": "wrong password"}, "")
		}
		r.want(t, http.StatusTooManyRequests)
		if !strings.HasPrefix(r.str(t, "detail"), "Request was throttled. Expected available in ") || r.header.Get("Retry-After") == "" {
			t.Errorf("limited login: %s %v", r.body, r.header)
		}
	})
}
