package database_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		applied, err := database.Migrate(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second run applied %v, want nothing", applied)
		}
		var n int
		if err := db.NewSelect().Table("schema_migrations").ColumnExpr("count(*)").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("no migration recorded")
		}
	})
}

// Replicas starting together must queue on the lock, not fail or deadlock.
func TestMigrateConcurrentSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(context.Background(), path)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			_, err = database.Migrate(context.Background(), db)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every migration ran exactly once, whoever got there first.
	db, err := database.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var versions []string
	if err := db.NewSelect().Table("schema_migrations").Column("version").Order("version").Scan(context.Background(), &versions); err != nil {
		t.Fatal(err)
	}
	entries, err := fs.Glob(os.DirFS("migrations/sqlite"), "*.sql")
	if err != nil || len(entries) == 0 {
		t.Fatalf("migrations: %v, %v", entries, err)
	}
	if len(versions) != len(entries) {
		t.Fatalf("schema_migrations holds %v, want each of %v once", versions, entries)
	}
	for i, e := range entries {
		if versions[i] != strings.TrimSuffix(e, ".sql") {
			t.Fatalf("schema_migrations holds %v, want each of %v once", versions, entries)
		}
	}
	var tables int
	if err := db.NewRaw("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'files'").Scan(context.Background(), &tables); err != nil || tables != 1 {
		t.Fatalf("the files table: %d, %v", tables, err)
	}
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	if _, err := database.Open(context.Background(), "mysql://x"); err == nil {
		t.Fatal("want an error for mysql://")
	}
}
