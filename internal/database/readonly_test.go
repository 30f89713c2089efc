package database_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
)

// A database opened read-only answers reads and refuses every write, on
// both dialects; a SQLite file that is not there is an error, not a new
// empty database.
func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "source.db")
	rw, err := database.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.ExecContext(ctx, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	dsns := map[string]string{"sqlite path": path, "sqlite URL": "sqlite://" + path}
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		admin, err := database.Open(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close() })
		schema := "t_read_only_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema+"; CREATE TABLE "+schema+".t (x integer); INSERT INTO "+schema+".t VALUES (7)"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		dsns["postgres"] = base + sep + "search_path=" + schema
	}
	for name, dsn := range dsns {
		db, err := database.OpenReadOnly(ctx, dsn, "cutline-test")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var x int
		if err := db.QueryRowContext(ctx, "SELECT x FROM t").Scan(&x); err != nil || x != 7 {
			t.Errorf("%s: read %d, %v", name, x, err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (8)"); err == nil {
			t.Errorf("%s: a write was accepted", name)
		}
		db.Close()
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	if _, err := database.OpenReadOnly(ctx, missing, ""); err == nil {
		t.Error("a missing SQLite file was opened")
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("the missing SQLite file was created")
	}
}
