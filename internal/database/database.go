// Package database opens bun over PostgreSQL or SQLite from one URL,
// applies the embedded migrations, and is the one place that knows how the
// dialects differ: the stores of the feature packages ask the handle (DB)
// for id sets, row and advisory locks, prepared statements, and get
// unique violations and missing rows as ErrDuplicate and ErrNotFound.
// Both dialects carry the same schema.
package database

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

//go:embed migrations
var migrations embed.FS

// Open connects to dsn: postgres:// or postgresql:// selects PostgreSQL
// through pgdriver; sqlite://PATH, file:PATH or a bare path selects SQLite.
// It checks the connection before returning.
func Open(ctx context.Context, dsn string) (*DB, error) { return OpenWith(ctx, dsn, Options{}) }

// Options bound what the database spends on one statement (PostgreSQL).
type Options struct {
	// StatementTimeout is the server-side backstop of every statement
	// (PostgreSQL's statement_timeout); 0 leaves the server's own setting.
	// Requests cancel their statements at their deadline before that.
	StatementTimeout time.Duration
}

// ClientCheckInterval is how often PostgreSQL checks, while it runs a
// statement, that the connection that sent it is still open: a request
// whose deadline passed closes its connection, and the statement stops
// within this interval instead of running to its end.
const ClientCheckInterval = 250 * time.Millisecond

// PostgresParams are the session settings every PostgreSQL connection of
// the server starts with.
func PostgresParams(o Options) map[string]any {
	p := map[string]any{"client_connection_check_interval": strconv.FormatInt(ClientCheckInterval.Milliseconds(), 10)}
	if o.StatementTimeout > 0 {
		p["statement_timeout"] = strconv.FormatInt(o.StatementTimeout.Milliseconds(), 10)
	}
	return p
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, o Options) (*DB, error) {
	var db *bun.DB
	switch {
	case IsPostgresURL(dsn):
		var err error
		if db, err = openPostgres(dsn, PostgresParams(o)); err != nil {
			return nil, err
		}
	default:
		path, err := sqlitePath(dsn)
		if err != nil {
			return nil, err
		}
		db, err = openSQLite(path)
		if err != nil {
			return nil, err
		}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		err := db.PingContext(pingCtx)
		if err == nil {
			return New(db), nil
		}
		// A new SQLite connection switches the file to WAL, which needs a
		// moment of exclusive access: another process starting at the same
		// time (or migrating) makes it fail at once instead of waiting.
		if !strings.Contains(err.Error(), "SQLITE_BUSY") || pingCtx.Err() != nil {
			db.Close()
			return nil, fmt.Errorf("connect to database: %w", err)
		}
		select {
		case <-pingCtx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ErrNoSchema is OpenExisting's answer for a database that does not exist
// yet or that no migration ran on.
var ErrNoSchema = errors.New("the database does not exist or has no schema")

// OpenExisting is Open for a tool that must find the database as it is: it
// creates nothing (Open creates a missing SQLite file and its folder) and
// migrates nothing. A database without the schema is ErrNoSchema.
func OpenExisting(ctx context.Context, dsn string) (*DB, error) {
	if path, ok := SQLiteFile(dsn); ok {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, ErrNoSchema
		}
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	var n int
	if err := db.NewSelect().Table("schema_migrations").ColumnExpr("count(*)").Scan(ctx, &n); err != nil || n == 0 {
		db.Close()
		return nil, ErrNoSchema
	}
	return db, nil
}

// IsPostgresURL reports whether dsn names a PostgreSQL database (Open's
// postgres:// and postgresql://).
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openPostgres(dsn string, params map[string]any) (*bun.DB, error) {
	c, err := PostgresConnector(dsn, params)
	if err != nil {
		return nil, err
	}
	sqldb := sql.OpenDB(c)
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(20)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

// sqlitePath turns the accepted SQLite spellings into a file path.
func sqlitePath(dsn string) (string, error) {
	p := dsn
	switch {
	case strings.HasPrefix(p, "sqlite://"):
		p = strings.TrimPrefix(p, "sqlite://")
	case strings.HasPrefix(p, "sqlite:"):
		p = strings.TrimPrefix(p, "sqlite:")
	case strings.HasPrefix(p, "file:"):
		p = strings.TrimPrefix(p, "file:")
	case strings.Contains(p, "://"):
		return "", fmt.Errorf("unsupported database URL %q: use postgres://... or a SQLite path", Redact(dsn))
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "", errors.New("empty SQLite path")
	}
	return p, nil
}

func openSQLite(path string) (*bun.DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create database folder: %w", err)
		}
	}
	// WAL lets readers run beside the one writer; immediate transactions take
	// the write lock up front, so two writers queue on busy_timeout instead of
	// failing on a read-to-write upgrade.
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// migrationLockKey is an arbitrary constant shared by every replica.
const migrationLockKey = 0x6375746c696e65 // "cutline"

// Migrate applies the embedded migrations that are not applied yet. It runs
// in one transaction under a lock (a transaction-scoped advisory lock on
// PostgreSQL, the write lock on SQLite): replicas starting together queue up,
// and the lock is released by commit, rollback or a dropped connection, so it
// cannot be left behind.
func Migrate(ctx context.Context, db *DB) (applied []string, err error) {
	dir := db.eng.migrations()
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)

	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if db.Postgres() {
			// Waiting for another replica's migrations, or running a long
			// one, is no runaway statement.
			if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
				return fmt.Errorf("lift the statement timeout: %w", err)
			}
		}
		if err := db.eng.lock(ctx, tx, 0, int64(migrationLockKey)); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var done []string
		if err := tx.NewSelect().Table("schema_migrations").Column("version").Scan(ctx, &done); err != nil {
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		have := make(map[string]bool, len(done))
		for _, v := range done {
			have[v] = true
		}
		for _, name := range names {
			version := strings.TrimSuffix(name, ".sql")
			if have[version] {
				continue
			}
			body, err := fs.ReadFile(migrations, dir+"/"+name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
				version, time.Now().UTC()); err != nil {
				return fmt.Errorf("record migration %s: %w", name, err)
			}
			applied = append(applied, version)
		}
		return nil
	})
	return applied, err
}

// Redact hides a password in a database URL for logging.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}
