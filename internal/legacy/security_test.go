package legacy

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// TestForeignFiles: another user's file id (or name) is answered like a
// missing one on every endpoint, and changes nothing.
func TestForeignFiles(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		alice, bob := e.newUser(t, "alice"), e.newUser(t, "bob")
		bf := e.upload(t, bob, "secret.csv", csvFile)

		type probe struct {
			rq   request
			want int
			body string
		}
		notFound := `{"error":"File not found."}`
		for _, id := range []string{bf.ID, missingID} {
			probes := []probe{
				{request{method: "GET", path: "/api/list_cutter/fetch_saved_file/" + id}, 404, notFound},
				{request{method: "GET", path: "/api/list_cutter/fetch_file_lineage/" + id + "/"}, 404, notFound},
				{request{method: "DELETE", path: "/api/list_cutter/delete/" + id + "/"}, 404, notFound},
				{jsonRequest(t, "PATCH", "/api/list_cutter/update_tags/"+id+"/", map[string]any{"user_tags": []string{"pwned"}}), 404, notFound},
				{multipartRequest(t, "/api/list_cutter/save_generated_file/", field("file_name", "x.csv"),
					field("original_file_id", id), fileField("b", "a\n1\n")), 400, `{"error":"Original file not found."}`},
			}
			for _, p := range probes {
				p.rq.token = alice.access
				r := e.do(t, p.rq)
				if r.status != p.want || strings.TrimSpace(string(r.body)) != p.body {
					t.Errorf("%s %s: %d %s, want %d %s", p.rq.method, p.rq.path, r.status, r.body, p.want, p.body)
				}
			}
		}
		// #6 by name: bob's name from alice is a missing file.
		r := e.get(t, "/api/list_cutter/download/secret.csv/", alice.access)
		if r.status != 404 || strings.TrimSpace(string(r.body)) != `{"error":"File not found"}` {
			t.Errorf("foreign download: %d %s", r.status, r.body)
		}
		// Nothing of bob's changed, and alice owns nothing.
		f, err := e.files.Get(ctx, bob.id, bf.ID)
		if err != nil || len(f.UserTags) != 0 {
			t.Errorf("bob's file after the probes: %+v %v", f, err)
		}
		if r := e.get(t, "/api/list_cutter/list_saved_files/", alice.access); strings.Contains(string(r.body), bf.ID) ||
			strings.TrimSpace(string(r.body)) != `{"files":[]}` {
			t.Errorf("alice lists %s", r.body)
		}
	})
}

// TestHandles: file_path handles are the only way #3 names a file; forged,
// altered, foreign-purpose and expired ones are 404s, and no server path
// can be named.
func TestHandles(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		alice, bob := e.newUser(t, "alice"), e.newUser(t, "bob")
		f := e.upload(t, alice, "a.csv", csvFile)
		r := e.get(t, "/api/list_cutter/fetch_saved_file/"+f.ID, alice.access).want(t, http.StatusOK)
		handle := r.str(t, "file_path")

		export := func(fp, token string) *resp {
			return e.postJSON(t, "/api/list_cutter/export_csv/", map[string]any{"columns": []string{"name"}, "file_path": fp}, token)
		}
		export(handle, "").want(t, http.StatusOK)
		export(handle, bob.access).want(t, http.StatusOK) // holding the handle is the access

		tok := strings.TrimSuffix(handle, ".csv")
		payload, sig, _ := strings.Cut(tok, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(payload)
		other := e.upload(t, bob, "b.csv", csvFile)
		swapped := append(append([]byte{}, raw[:8]...), other.ID...)
		later := append([]byte{}, raw...)
		later[0]++ // push the expiry far out
		flip := []byte(sig)
		if flip[3] == 'A' {
			flip[3] = 'B'
		} else {
			flip[3] = 'A'
		}
		bad := map[string]string{
			"no suffix":         tok,
			"other suffix":      tok + ".txt",
			"altered signature": payload + "." + string(flip) + ".csv",
			"other id":          base64.RawURLEncoding.EncodeToString(swapped) + "." + sig + ".csv",
			"later expiry":      base64.RawURLEncoding.EncodeToString(later) + "." + sig + ".csv",
			"other purpose":     blobstore.NewSigner([]byte(testSecret), "download").Sign(f.ID, time.Now().Add(time.Hour)) + ".csv",
			"other secret":      blobstore.NewSigner([]byte("another secret"), "legacy-file").Sign(f.ID, time.Now().Add(time.Hour)) + ".csv",
			"bare id":           f.ID,
			"id.csv":            f.ID + ".csv",
			"object key":        blobstore.Key(f.ID),
			"server path":       "/etc/passwd",
			"traversal":         "../../../../etc/passwd",
			"uploads path":      "uploads/a.csv",
			"file url":          "file:///etc/passwd",
			"NUL":               "a.csv\x00.csv",
			"empty":             "",
		}
		for name, fp := range bad {
			for _, token := range []string{"", alice.access} {
				r := export(fp, token)
				if r.status != 404 || strings.TrimSpace(string(r.body)) != `{"error":"File not found"}` {
					t.Errorf("%s (token %v): %d %s", name, token != "", r.status, r.body)
				}
			}
		}
		golden(t, "03_export_forged_handle", export(bad["altered signature"], ""))

		// Expired: refused without a token and with someone else's; the
		// owner's token still opens their own file.
		e.clock.Advance(e.h.HandleTTL + time.Minute)
		golden(t, "03_export_expired_handle", export(handle, ""))
		export(handle, bob.access).want(t, http.StatusNotFound)
		export(handle, alice.access).want(t, http.StatusOK)
		export(handle, alice.access+"x").want(t, http.StatusNotFound)

		// A scratch upload's handle dies with the scratch file, even while
		// the handle itself is still valid.
		e.clock.Advance(-e.h.HandleTTL - time.Minute) // back to the real now
		e.clock.Advance(-2 * time.Hour)               // uploads now expire an hour before the real now
		r = e.postMultipart(t, "/api/list_cutter/csv_cutter/", "", fileField("s.csv", csvFile)).want(t, http.StatusOK)
		export(r.str(t, "file_path"), "").want(t, http.StatusNotFound)
	})
}

// TestPathLikeNames: names from clients are display names only; they never
// become paths, in the bucket or on disk, and odd names never reach a query
// as something else.
func TestPathLikeNames(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		u := e.newUser(t, "alice")
		orig := e.upload(t, u, "orig.csv", csvFile)
		names := map[string]string{
			"../../etc/passwd":         "passwd",
			"/tmp/legacy-abs-test.csv": "legacy-abs-test.csv",
			`..\..\windows\win.ini`:    "win.ini",
		}
		for sent, want := range names {
			f := e.upload(t, u, sent, csvFile)
			base := strings.TrimSuffix(want, path.Ext(want))
			if !strings.HasPrefix(f.Name, base) || strings.ContainsAny(f.Name, `/\`) || *f.ObjectKey != blobstore.Key(f.ID) {
				t.Errorf("upload %q: name %q key %q", sent, f.Name, *f.ObjectKey)
			}
			g := e.save(t, u, sent, "a\n1\n", orig.ID)
			if !strings.HasPrefix(g.Name, base) || strings.ContainsAny(g.Name, `/\`) || *g.ObjectKey != blobstore.Key(g.ID) {
				t.Errorf("save %q: name %q key %q", sent, g.Name, *g.ObjectKey)
			}
		}
		g := e.save(t, u, "evil\x00name.csv", "a\n1\n", orig.ID)
		if strings.ContainsRune(g.Name, 0) {
			t.Errorf("NUL kept in %q", g.Name)
		}
		if exists("/tmp/legacy-abs-test.csv") {
			t.Error("an absolute name was written to disk")
		}
		for _, p := range []string{
			"/api/list_cutter/download/..%2F..%2Fetc%2Fpasswd/",
			"/api/list_cutter/download/%2Fetc%2Fpasswd/",
			"/api/list_cutter/download/orig.csv%00/",
			"/api/list_cutter/download/%00/",
			"/api/list_cutter/download/%ff%fe/",
			"/api/list_cutter/fetch_saved_file/..%2F..%2Fetc%2Fpasswd",
			"/api/list_cutter/fetch_saved_file/" + orig.ID + "%00",
			"/api/list_cutter/fetch_file_lineage/%00/",
		} {
			r := e.get(t, p, u.access)
			// The shim's own answer, not the mux's: the handler saw the name.
			if b := strings.TrimSpace(string(r.body)); r.status != http.StatusNotFound ||
				(b != `{"error":"File not found"}` && b != `{"error":"File not found."}`) {
				t.Errorf("GET %s: %d %s", p, r.status, r.body)
			}
		}
		// The objects in the bucket are exactly the files' keys.
		rows, objects := e.fileCounts(t)
		if rows != objects {
			t.Errorf("%d rows but %d objects", rows, objects)
		}
		if _, err := e.files.GetByName(ctx, u.id, "../../etc/passwd"); err == nil {
			t.Error("a path was stored as a name")
		}
	})
}

// TestSaveValidatesFirst: #8 refuses a missing, bogus, foreign or deleted
// original before anything is stored, whether the fields come before the
// file (streamed) or after it (spooled).
func TestSaveValidatesFirst(t *testing.T) {
	// Spooled uploads go to TMPDIR; every one must be gone afterwards.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	defer func() {
		if left, _ := filepath.Glob(filepath.Join(tmp, "cutline-legacy-*")); len(left) != 0 {
			t.Errorf("spool files left behind: %v", left)
		}
	}()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		alice, bob := e.newUser(t, "alice"), e.newUser(t, "bob")
		orig := e.upload(t, alice, "orig.csv", csvFile)
		gone := e.upload(t, alice, "gone.csv", csvFile)
		e.do(t, request{method: "DELETE", path: "/api/list_cutter/delete/" + gone.ID + "/", token: alice.access}).want(t, http.StatusNoContent)
		foreign := e.upload(t, bob, "bob.csv", csvFile)

		originals := map[string]string{
			"missing":   "",
			"bogus":     "not-an-id",
			"unknown":   missingID,
			"foreign":   foreign.ID,
			"deleted":   gone.ID,
			"sql":       "' OR 1=1 --",
			"NUL":       orig.ID + "\x00",
			"uppercase": strings.ToUpper(missingID),
		}
		for name, id := range originals {
			for _, fieldsFirst := range []bool{true, false} {
				fields := []part{field("file_name", "out.csv"), field("metadata", `{"a":1}`)}
				if id != "" {
					fields = append(fields, field("original_file_id", id))
				}
				parts := append([]part{fileField("blob", "a\n1\n")}, fields...)
				if fieldsFirst {
					parts = append(fields, fileField("blob", "a\n1\n"))
				}
				rows0, objs0 := e.fileCounts(t)
				r := e.postMultipart(t, "/api/list_cutter/save_generated_file/", alice.access, parts...)
				want := `{"error":"Original file not found."}`
				if id == "" {
					want = `{"error":"Original file ID must be included in the request."}`
				}
				if r.status != 400 || strings.TrimSpace(string(r.body)) != want {
					t.Errorf("%s (fields first %v): %d %s", name, fieldsFirst, r.status, r.body)
				}
				if rows, objs := e.fileCounts(t); rows != rows0 || objs != objs0 {
					t.Errorf("%s (fields first %v): files %d->%d, objects %d->%d", name, fieldsFirst, rows0, rows, objs0, objs)
				}
			}
		}
		// Both orders work when everything is right.
		for _, fieldsFirst := range []bool{true, false} {
			fields := []part{field("file_name", "ok.csv"), field("metadata", `{"a":1}`), field("original_file_id", orig.ID)}
			parts := append([]part{fileField("blob", "a\n1\n")}, fields...)
			if fieldsFirst {
				parts = append(fields, fileField("blob", "a\n1\n"))
			}
			e.postMultipart(t, "/api/list_cutter/save_generated_file/", alice.access, parts...).want(t, http.StatusCreated)
		}
	})
}

// TestThrottle: past the budget a client gets DRF's 429 with Retry-After,
// other clients do not, and the bucket refills with time.
func TestThrottle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, withRate(3))
		for i := 0; i < 3; i++ {
			e.get(t, "/api/list_cutter/", "").want(t, http.StatusOK)
		}
		r := e.postJSON(t, "/api/accounts/login/", map[string]string{"username": "x", "password": "y"}, "")
		golden(t, "429_throttled", r)
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra != 20 {
			t.Errorf("Retry-After %q, want 20 (one request per 20s)", r.header.Get("Retry-After"))
		}
		// Another client is not affected.
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/api/list_cutter/", nil)
		req.RemoteAddr = "198.51.100.7:4242"
		e.mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("other client: %d", rec.Code)
		}
		e.clock.Advance(19 * time.Second)
		r = e.get(t, "/api/list_cutter/", "").want(t, http.StatusTooManyRequests)
		if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "Expected available in 1 second.") {
			t.Errorf("after 19s: %s %s", r.header.Get("Retry-After"), r.body)
		}
		e.clock.Advance(time.Second)
		e.get(t, "/api/list_cutter/", "").want(t, http.StatusOK)
	})
}
