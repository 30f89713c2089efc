package database

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"modernc.org/sqlite"
)

const pgName = dialect.PG

// engine is everything that differs between the dialects below the
// stores: a new dialect is one more implementation (and its migrations).
type engine interface {
	// numbered rewrites ? placeholders as the driver binds them.
	numbered(query string) string
	// bindable converts arguments the way bun writes them into text.
	bindable(args []any) []any
	// idSet is the condition "column is one of the ids", with the ids in
	// one argument.
	idSet(column string, ids []string) (string, any)
	// textSet is the condition "column is one of the values", with the
	// values in one argument (a JSON array).
	textSet(column string) string
	// forUpdate is the clause that locks the rows a SELECT reads.
	forUpdate() string
	// forUpdateSkipLocked locks the rows a SELECT reads, passing over rows
	// another transaction holds.
	forUpdateSkipLocked() string
	// lock takes a transaction-scoped lock on (class, key).
	lock(ctx context.Context, q bun.IDB, class int32, key any) error
	// duplicate reports a unique violation and what it hit.
	duplicate(err error) (constraint string, ok bool)
	// full reports the engine's own "the disk is full" where apperr cannot
	// see it (PostgreSQL's SQLSTATE it can).
	full(err error) bool
	// migrations is the folder of the dialect's migrations.
	migrations() string
	// advanceSequence makes sure table's generated ids continue past id,
	// which was inserted explicitly.
	advanceSequence(ctx context.Context, q bun.IDB, table, column string, id int64) error
}

// postgresEngine: pgdriver.
type postgresEngine struct{}

func (postgresEngine) numbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (postgresEngine) bindable(args []any) []any { return args }

func (postgresEngine) idSet(column string, ids []string) (string, any) {
	return column + " = ANY(CAST(? AS uuid[]))", "{" + strings.Join(ids, ",") + "}"
}

func (postgresEngine) textSet(column string) string {
	return column + " IN (SELECT jsonb_array_elements_text(CAST(? AS jsonb)))"
}

func (postgresEngine) forUpdate() string { return " FOR UPDATE" }

func (postgresEngine) forUpdateSkipLocked() string { return " FOR UPDATE SKIP LOCKED" }

func (postgresEngine) lock(ctx context.Context, q bun.IDB, class int32, key any) error {
	var err error
	switch k := key.(type) {
	case string:
		_, err = q.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, hashtext(?))", class, k)
	case int32:
		_, err = q.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", class, k)
	case int64:
		// The single-key form: a 64-bit key has no room for a class.
		_, err = q.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", k)
	default:
		return fmt.Errorf("lock key of type %T", key)
	}
	return err
}

func (postgresEngine) duplicate(err error) (string, bool) {
	var pgErr pgdriver.Error
	if errors.As(err, &pgErr) && pgErr.Field('C') == "23505" {
		return pgErr.Field('n') + " " + pgErr.Field('M'), true
	}
	return "", false
}

// full leaves PostgreSQL's disk_full (53100) to apperr.IsStorageFull,
// which reads SQLSTATEs.
func (postgresEngine) full(error) bool { return false }

func (postgresEngine) migrations() string { return "migrations/postgres" }

// advanceSequence moves the identity sequence to at least id and at least
// the highest id in use, never backwards: an id once handed out is never
// handed out again.
func (postgresEngine) advanceSequence(ctx context.Context, q bun.IDB, table, column string, id int64) error {
	_, err := q.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), GREATEST(
		?,
		(SELECT COALESCE(max(?), 1) FROM ?),
		COALESCE(pg_sequence_last_value(pg_get_serial_sequence(?, ?)::regclass), 1)))`,
		table, column, id, bun.Ident(column), bun.Ident(table), table, column)
	return err
}

// sqliteEngine: modernc.org/sqlite, write transactions taken up front
// (_txlock=immediate), so they run one at a time.
type sqliteEngine struct{}

func (sqliteEngine) numbered(query string) string { return query }

// sqliteTime is how bun writes times into SQLite; SQLite compares them as
// text, so arguments must be written the same way.
const sqliteTime = "2006-01-02 15:04:05.999999-07:00"

func (sqliteEngine) bindable(args []any) []any {
	out := args
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			if &out[0] == &args[0] { // the caller's slice stays as it was
				out = append([]any(nil), args...)
			}
			out[i] = t.UTC().Format(sqliteTime)
		}
	}
	return out
}

func (sqliteEngine) idSet(column string, ids []string) (string, any) {
	return column + " IN (SELECT value FROM json_each(?))", `["` + strings.Join(ids, `","`) + `"]`
}

func (sqliteEngine) textSet(column string) string {
	return column + " IN (SELECT value FROM json_each(?))"
}

func (sqliteEngine) forUpdate() string { return "" }

func (sqliteEngine) forUpdateSkipLocked() string { return "" }

// lock needs nothing: a write transaction holds the database's one write
// lock from its start.
func (sqliteEngine) lock(context.Context, bun.IDB, int32, any) error { return nil }

func (sqliteEngine) duplicate(err error) (string, bool) {
	var sqErr *sqlite.Error
	// SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
	if errors.As(err, &sqErr) && (sqErr.Code() == 2067 || sqErr.Code() == 1555) {
		return sqErr.Error(), true
	}
	return "", false
}

// full is SQLITE_FULL (13): the disk, or the database's max_page_count, is
// full. The driver's extended codes keep the primary code in the low byte.
func (sqliteEngine) full(err error) bool {
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code()&0xff == 13
}

func (sqliteEngine) migrations() string { return "migrations/sqlite" }

// advanceSequence needs nothing: an INTEGER PRIMARY KEY continues after the
// highest id in the table.
func (sqliteEngine) advanceSequence(context.Context, bun.IDB, string, string, int64) error {
	return nil
}
