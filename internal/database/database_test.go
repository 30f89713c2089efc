package database_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestMigrateIsIdempotent(t *testing.T) {
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
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	if _, err := database.Open(context.Background(), "mysql://x"); err == nil {
		t.Fatal("want an error for mysql://")
	}
}
