package app_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// smallDisk mounts a 2 MiB tmpfs for the test: a disk that really fills.
func smallDisk(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	return dir
}

// A full disk under the folder bucket is the storage's trouble, never the
// client's: 507 in REST and the shim, INSUFFICIENT_STORAGE in GraphQL, no
// server path in any answer, /readyz 503 while it lasts; and nothing
// half-written stays behind.
func TestFullDisk(t *testing.T) {
	t.Parallel()
	disk := smallDisk(t)
	blobURL := "file://" + filepath.Join(disk, "blobs")
	bucket, err := blobstore.Open(context.Background(), blobURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	s := newServerOn(t, dbtest.SQLite(t), bucket, func(c *config.Config) { c.BlobURL = blobURL })
	tok := s.register(t, "ada").AccessToken
	s.uploadOK(t, tok, "small.csv", "x\n1\n")

	// Leave less room than the next upload takes.
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, make([]byte, 1700<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	big := "x,y\n" + strings.Repeat("12345,67890\n", 50000) // 600 KB

	code, hdr, body := s.call(t, "POST", "/api/v1/files?name=big.csv", tok, "text/csv", strings.NewReader(big))
	if code != http.StatusInsufficientStorage || hdr.Get("Retry-After") == "" || !strings.Contains(body, "INSUFFICIENT_STORAGE") {
		t.Errorf("REST upload on a full disk: %d %s, want 507 INSUFFICIENT_STORAGE with Retry-After", code, body)
	}
	noPath(t, "REST", body, disk)
	r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "big.csv", big)
	if r.code() != "INSUFFICIENT_STORAGE" {
		t.Errorf("GraphQL upload on a full disk: %+v, want INSUFFICIENT_STORAGE", r.Errors)
	} else {
		noPath(t, "GraphQL", r.Errors[0].Message, disk)
	}
	ctype, form := fileForm("big.csv", big)
	code, _, body = s.call(t, "POST", "/api/list_cutter/upload/", tok, ctype, form)
	if code != http.StatusInsufficientStorage {
		t.Errorf("legacy upload on a full disk: %d %s, want 507", code, body)
	}
	noPath(t, "legacy", body, disk)
	if code, _, body := s.call(t, "GET", "/readyz", "", "", nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "disk full") {
		t.Errorf("/readyz on a full disk: %d %s, want 503 disk full", code, body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, _, body := s.call(t, "GET", "/readyz", "", "", nil); code != http.StatusOK {
		t.Errorf("/readyz with room again: %d %s", code, body)
	}
	s.uploadOK(t, tok, "big.csv", big)
	leftovers, _ := filepath.Glob(filepath.Join(disk, "blobs", "files", "*.tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary objects left behind: %v", leftovers)
	}
	assertIntact(t, s)
}

func noPath(t *testing.T, what, msg, dir string) {
	t.Helper()
	if strings.Contains(msg, dir) || strings.Contains(msg, "/files/") || strings.Contains(msg, ".tmp") {
		t.Errorf("%s: %q shows a server path", what, msg)
	}
}

// SQLite's own "database or disk is full" (SQLITE_FULL) is a full disk
// too: 507 in REST, INSUFFICIENT_STORAGE in GraphQL, no path; the objects
// of the refused uploads are removed, and uploads work again once there is
// room. The database is held to its current size with max_page_count, a
// setting of each connection, so the pool is cut to one.
func TestSQLiteFull(t *testing.T) {
	t.Parallel()
	db := dbtest.SQLite(t)
	db.SQL().SetMaxOpenConns(1)
	s := newServerOn(t, db, folderBucket(t), nil)
	tok := s.register(t, "ada").AccessToken
	ctx := context.Background()
	var pages int
	if err := db.NewRaw("PRAGMA page_count").Scan(ctx, &pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	// The rows fill the free room of the pages first: upload until one
	// needs a page more.
	var code int
	var body string
	for i := 0; i < 500; i++ {
		code, _, body = s.call(t, "POST", "/api/v1/files?name=f"+strconv.Itoa(i)+".csv&tags="+strings.Repeat("t", 60), tok, "text/csv",
			strings.NewReader("x,y\n1,2\n"))
		if code != http.StatusCreated {
			break
		}
	}
	if code != http.StatusInsufficientStorage || !strings.Contains(body, "INSUFFICIENT_STORAGE") {
		t.Fatalf("REST upload into a full database: %d %s, want 507 INSUFFICIENT_STORAGE", code, body)
	}
	noPath(t, "REST", body, s.app.Config.DataDir)
	var r *gqlResponse
	for i := 0; i < 50; i++ {
		r = s.upload(t, tok, uploadMutation, map[string]any{"tags": []string{strings.Repeat("g", 60)}}, "f", "g.csv", "x,y\n1,2\n")
		if len(r.Errors) > 0 {
			break
		}
	}
	if r.code() != "INSUFFICIENT_STORAGE" {
		t.Fatalf("GraphQL upload into a full database: %+v, want INSUFFICIENT_STORAGE", r.Errors)
	}
	noPath(t, "GraphQL", r.Errors[0].Message, s.app.Config.DataDir)

	if _, err := db.ExecContext(ctx, "PRAGMA max_page_count = 1000000"); err != nil {
		t.Fatal(err)
	}
	s.uploadOK(t, tok, "again.csv", "x,y\n1,2\n")
	assertIntact(t, s)
}
