// Package dbtest runs a test against every database that is available: an
// SQLite file always, and PostgreSQL when TEST_DATABASE_URL is set. Each run
// gets a fresh, migrated database of its own, so tests may use t.Parallel.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/cutline/cutline/internal/database"

	"database/sql"
)

// Each runs fn as a subtest named "sqlite" and, when TEST_DATABASE_URL is
// set, "postgres". Under CI=true a missing TEST_DATABASE_URL fails the test:
// CI must never silently skip PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	if havePostgres(t) {
		t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	}
}

// PostgresOrSkip is Postgres for tests and benchmarks that only make sense
// on PostgreSQL: without TEST_DATABASE_URL it skips t, but fails it under
// CI=true, as Each does.
func PostgresOrSkip(t testing.TB) *database.DB {
	t.Helper()
	if !havePostgres(t) {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	return Postgres(t)
}

// havePostgres reports whether TEST_DATABASE_URL is set; under CI=true its
// absence fails t: CI must never silently skip PostgreSQL.
func havePostgres(t testing.TB) bool {
	t.Helper()
	if os.Getenv("TEST_DATABASE_URL") != "" {
		return true
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests cannot be skipped under CI")
	}
	return false
}

// SQLite returns a migrated SQLite database in a temporary folder.
func SQLite(t testing.TB) *database.DB {
	t.Helper()
	return openSQLite(t, filepath.Join(t.TempDir(), "test.db"))
}

// openSQLite opens the SQLite file at path and migrates it.
func openSQLite(t testing.TB, path string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), "sqlite://"+path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := database.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// EachPair is Each with two handles on one database, as two replicas of
// the server have: one SQLite file opened twice, one PostgreSQL schema
// reached through two pools.
func EachPair(t *testing.T, fn func(t *testing.T, a, b *database.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "test.db")
		a := openSQLite(t, path)
		fn(t, a, openSQLite(t, path))
	})
	if havePostgres(t) {
		t.Run("postgres", func(t *testing.T) {
			a := Postgres(t)
			var schema string
			if err := a.NewRaw("SELECT current_schema()").Scan(context.Background(), &schema); err != nil {
				t.Fatalf("current schema: %v", err)
			}
			params := database.PostgresParams(database.Options{StatementTimeout: time.Minute})
			params["search_path"] = schema
			fn(t, a, open(t, os.Getenv("TEST_DATABASE_URL"), params))
		})
	}
}

// Postgres returns a migrated PostgreSQL database living in a schema of its
// own inside TEST_DATABASE_URL, dropped when the test ends.
func Postgres(t testing.TB) *database.DB {
	t.Helper()
	return PostgresAt(t, "", "")
}

// PostgresAddr is the host:port of TEST_DATABASE_URL's server, for a Proxy
// to forward to.
func PostgresAddr(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(os.Getenv("TEST_DATABASE_URL"))
	if err != nil || u.Host == "" {
		t.Fatalf("TEST_DATABASE_URL names no server: %v", err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

// PostgresAt is Postgres with every connection made to addr (host:port,
// such as a Proxy's) instead of TEST_DATABASE_URL's server, and with the
// URL parameters query added (pgdriver's own, such as timeout=2s); the
// schema is created and migrated directly. An empty addr is Postgres.
func PostgresAt(t testing.TB, addr, query string) *database.DB {
	t.Helper()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		t.Fatal("TEST_DATABASE_URL is not set")
	}
	ctx := context.Background()
	admin, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL is set but PostgreSQL is unreachable: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := "t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	params := database.PostgresParams(database.Options{StatementTimeout: time.Minute})
	params["search_path"] = schema
	// The URL's own parameters win over params: one naming a search_path
	// would put every test in the same schema.
	direct := open(t, withoutParam(dsn, "search_path"), params)
	if _, err := database.Migrate(ctx, direct); err != nil {
		t.Fatalf("migrate postgres: %v", err)
	}
	if addr == "" {
		return direct
	}
	return open(t, withHost(dsn, addr, query), params)
}

// SameSchema is a second pool on db's PostgreSQL schema, as another
// replica would open, its connections made to addr (a Proxy's) when addr
// is not empty, with the URL parameters query added. The pool closes with
// the test; the schema stays db's.
func SameSchema(t testing.TB, db *database.DB, addr, query string) *database.DB {
	t.Helper()
	var schema string
	if err := db.NewRaw("SELECT current_schema()").Scan(context.Background(), &schema); err != nil {
		t.Fatalf("current schema: %v", err)
	}
	params := database.PostgresParams(database.Options{StatementTimeout: time.Minute})
	params["search_path"] = schema
	dsn := os.Getenv("TEST_DATABASE_URL")
	if addr != "" {
		dsn = withHost(dsn, addr, query)
	}
	return open(t, dsn, params)
}

// open opens a pool on a PostgreSQL URL with the session parameters.
func open(t testing.TB, dsn string, params map[string]any) *database.DB {
	t.Helper()
	c, err := database.PostgresConnector(withoutParam(dsn, "search_path"), params)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	sqldb := sql.OpenDB(c)
	sqldb.SetMaxOpenConns(10)
	db := database.New(bun.NewDB(sqldb, pgdialect.New()))
	t.Cleanup(func() { db.Close() })
	return db
}

// withHost is dsn with its server replaced by addr and the parameters of
// query added.
func withHost(dsn, addr, query string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Host = addr
	q := u.Query()
	extra, _ := url.ParseQuery(query)
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// withoutParam is dsn without the query parameter name.
func withoutParam(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // Open reports what is wrong with it
	}
	q := u.Query()
	q.Del(name)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
