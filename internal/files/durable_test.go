package files

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/filter"
)

// A derived file's row provenance object reaches the disk like the file's
// own object: the temporary file of each is synced before it is renamed,
// and the folder after, all before the row that names them commits.
func TestFolderBucketSyncsRowProvenance(t *testing.T) {
	var mu sync.Mutex
	var synced []string
	real := syncFile
	syncFile = func(f *os.File) error {
		mu.Lock()
		synced = append(synced, f.Name())
		mu.Unlock()
		return real(f)
	}
	t.Cleanup(func() { syncFile = real })

	ctx := context.Background()
	db := dbtest.SQLite(t)
	dir := t.TempDir()
	bucket, err := blobstore.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	svc := NewService(db, bucket, Options{})
	var owner int64
	if err := db.NewRaw("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('ada', 'ada', 'x', CURRENT_TIMESTAMP) RETURNING id").
		Scan(ctx, &owner); err != nil {
		t.Fatal(err)
	}
	src, err := svc.Create(ctx, NewFile{OwnerID: &owner, Name: "src.csv"}, strings.NewReader("n,k\n1,a\n2,b\n3,a\n"))
	if err != nil {
		t.Fatal(err)
	}
	where, err := filter.ParseSQL("k = 'a'")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	synced = nil
	mu.Unlock()
	d, err := svc.Derive(ctx, owner, DeriveInput{SourceID: src.ID, Name: "a.csv", Where: where})
	if err != nil {
		t.Fatal(err)
	}
	der, err := svc.st.derivation(ctx, owner, d.ID)
	if err != nil || der.RowsKey == nil {
		t.Fatalf("the derived file recorded no row provenance: %+v %v", der, err)
	}
	mu.Lock()
	defer mu.Unlock()
	objects := filepath.Join(dir, filepath.FromSlash(filepath.Dir(*der.RowsKey)))
	var main, rows, folder int
	for _, name := range synced {
		base := filepath.Base(name)
		switch {
		case name == objects:
			folder++
		case strings.HasPrefix(base, filepath.Base(*der.RowsKey)) && strings.HasSuffix(base, ".tmp"):
			rows++
		case strings.HasPrefix(base, filepath.Base(*d.ObjectKey)) && strings.HasSuffix(base, ".tmp"):
			main++
		}
	}
	if main != 1 || rows != 1 || folder != 2 {
		t.Fatalf("synced %v: the object's temporary file %d times, the row provenance's %d, their folder %d; want 1, 1, 2",
			synced, main, rows, folder)
	}
}
