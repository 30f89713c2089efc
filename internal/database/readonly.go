package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/uptrace/bun/driver/pgdriver"
)

// OpenReadOnly opens the database dsn names (a URL as Open takes it, or a
// SQLite file's path) for reading only, with database/sql alone:
// PostgreSQL with default_transaction_read_only, SQLite with mode=ro, so
// that a bug in the reader cannot change it. It serves tools that read
// another system's database (the importer's sources); name is the
// application name PostgreSQL shows. A SQLite file must exist already.
func OpenReadOnly(ctx context.Context, dsn, name string) (*sql.DB, error) {
	var db *sql.DB
	switch p, sqlite := SQLiteFile(dsn); {
	case sqlite:
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
		q := url.Values{}
		q.Set("mode", "ro")
		q.Add("_pragma", "busy_timeout(10000)")
		var err error
		if db, err = sql.Open("sqlite", "file:"+p+"?"+q.Encode()); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	case IsPostgresURL(dsn):
		u, err := url.Parse(dsn)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // without the URL, which may hold a password
			}
			return nil, fmt.Errorf("invalid PostgreSQL URL: %w", err)
		}
		// As a query parameter, not WithConnParams: that would replace the
		// parameters the URL already carries (search_path...).
		q := u.Query()
		q.Set("default_transaction_read_only", "on")
		u.RawQuery = q.Encode()
		c, err := newConnector([]pgdriver.Option{pgdriver.WithDSN(u.String()), pgdriver.WithApplicationName(name)})
		if err != nil {
			return nil, err
		}
		db = sql.OpenDB(c)
	default:
		return nil, fmt.Errorf("unsupported database URL %q: use postgres://... or a SQLite path", Redact(dsn))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return db, nil
}
