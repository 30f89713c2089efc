package database_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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

// A database URL that cannot be used is an error that says why, never a
// panic, and never shows the password.
func TestOpenRejectsMalformedURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:sekr%et@127.0.0.1:5432/x", "invalid URL escape"},
		{"postgresql://u:sekret@127.0.0.1:5432/x?sslmode=sometimes", "sslmode"},
		{"mysql://u:sekret@127.0.0.1/x", "unsupported database URL"},
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: panic %v", tc.dsn, p)
				}
			}()
			_, err := database.Open(context.Background(), tc.dsn)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "sekr") {
				t.Errorf("%s: %v, want an error naming %q without the password", tc.dsn, err, tc.want)
			}
		}()
	}
}

// OpenExisting finds a database as it is: a missing one or one without
// the schema is ErrNoSchema, and nothing is created or migrated on the way.
func TestOpenExisting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	migrated := filepath.Join(dir, "migrated.db")
	db, err := database.Open(ctx, "sqlite://"+migrated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := database.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	db.Close()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no", "such.db")

	cases := []struct {
		name, dsn string
		err       error
	}{
		{"migrated", "sqlite://" + migrated, nil},
		{"migrated, bare path", migrated, nil},
		{"empty file", "file:" + empty, database.ErrNoSchema},
		{"missing file", "sqlite://" + missing, database.ErrNoSchema},
	}
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		admin, err := database.Open(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close() }) // after the schema is dropped
		// A schema of its own: other runs share the database.
		schema := "t_open_existing_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		cases = append(cases, struct {
			name, dsn string
			err       error
		}{"postgres without the schema", base + sep + "search_path=" + schema, database.ErrNoSchema})
	}
	for _, tc := range cases {
		db, err := database.OpenExisting(ctx, tc.dsn)
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
		if err == nil {
			db.Close()
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing database's folder was created: %v", err)
	}
	if _, err := database.OpenExisting(ctx, "mysql://x"); err == nil || errors.Is(err, database.ErrNoSchema) {
		t.Errorf("mysql://: %v, want an unsupported URL", err)
	}
}
