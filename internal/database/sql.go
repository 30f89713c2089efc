package database

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
)

// The errors stores see, whatever the dialect.
var (
	// ErrNotFound: the statement matched no row.
	ErrNotFound = errors.New("no such row")
	// ErrDuplicate: a unique index refused the row (*DuplicateError says which).
	ErrDuplicate = errors.New("duplicate key")
)

// DuplicateError is a unique violation. Constraint is the engine's account
// of what was hit (PostgreSQL's constraint name and message, SQLite's
// column list); both name the index after its columns.
type DuplicateError struct {
	Constraint string
	Err        error
}

func (e *DuplicateError) Error() string { return "duplicate key: " + e.Constraint }

// Unwrap makes errors.Is(err, ErrDuplicate) true and keeps the driver's error.
func (e *DuplicateError) Unwrap() []error { return []error{ErrDuplicate, e.Err} }

// Normalize turns a driver error into the errors above: no rows is
// ErrNotFound, a unique violation in either dialect a *DuplicateError, a
// full disk apperr.ErrStorageFull. Anything else, nil included, comes back
// as it is.
func Normalize(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	for _, e := range []engine{postgresEngine{}, sqliteEngine{}} {
		if c, ok := e.duplicate(err); ok {
			return &DuplicateError{Constraint: c, Err: err}
		}
	}
	return storageFull(err)
}

// storageFull marks an engine's own full-disk error as
// apperr.ErrStorageFull, so every adapter answers it as a full disk
// (507, INSUFFICIENT_STORAGE). The driver's message names no path.
func storageFull(err error) error {
	if err == nil || errors.Is(err, apperr.ErrStorageFull) {
		return err
	}
	for _, e := range []engine{postgresEngine{}, sqliteEngine{}} {
		if e.full(err) {
			return fmt.Errorf("%w: %w", apperr.ErrStorageFull, err)
		}
	}
	return err
}

// IsDuplicate reports whether err is a unique violation, normalised or not,
// and what it hit.
func IsDuplicate(err error) (constraint string, ok bool) {
	var d *DuplicateError
	if errors.As(Normalize(err), &d) {
		return d.Constraint, true
	}
	return "", false
}

// CanonicalID accepts a UUID in its 8-4-4-4-12 spelling in either case and
// returns it in lower case. PostgreSQL stores ids as uuid and would fail the
// whole statement on a malformed one, while SQLite stores TEXT and compares
// case-sensitively; checking first makes both behave alike: a malformed id
// is simply a row that does not exist.
func CanonicalID(id string) (string, bool) {
	if len(id) != 36 {
		return "", false
	}
	var b [36]byte
	lower := true
	for i := 0; i < 36; i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			switch {
			case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
			case c >= 'A' && c <= 'F':
				c += 'a' - 'A'
				lower = false
			default:
				return "", false
			}
		}
		b[i] = c
	}
	if lower {
		return id, true // already canonical: no copy
	}
	return string(b[:]), true
}

// CanonicalIDs keeps the ids that are UUIDs, canonical and each once, in
// the order given.
func CanonicalIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if c, ok := CanonicalID(id); ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// IDSet is the condition "column is one of ids" with the ids in a single
// argument, so that a statement is one prepared text however many ids it
// is given (an IN list would be a new text, parsed and planned afresh, for
// every count). ids must be canonical (CanonicalID): nothing in them needs
// quoting in either list syntax.
func (db *DB) IDSet(column string, ids []string) (cond string, arg any) {
	return db.eng.idSet(column, ids)
}

// TextSet is the condition "column is one of values" with the values in
// a single argument, so that a statement is one prepared text however many
// values it is given. Values are any text: they travel as a JSON array.
func (db *DB) TextSet(column string, values []string) (cond string, arg any) {
	b, _ := json.Marshal(values)
	if values == nil {
		b = []byte("[]")
	}
	return db.eng.textSet(column), string(b)
}

// ForUpdate is the clause that locks the rows a SELECT reads until the
// transaction ends, or "" where transactions are serial anyway.
func (db *DB) ForUpdate() string { return db.eng.forUpdate() }

// ForUpdateSkipLocked is ForUpdate passing over the rows other
// transactions hold, so that workers on several replicas claim different
// rows of a queue; "" where transactions are serial anyway.
func (db *DB) ForUpdateSkipLocked() string { return db.eng.forUpdateSkipLocked() }

// Lock takes a lock on (class, key) held until q's transaction ends, for
// work that must not interleave with itself (two lineage writes of one
// owner). class keeps unrelated users of locks apart. On SQLite a write
// transaction already excludes every other, and Lock does nothing.
func (db *DB) Lock(ctx context.Context, q bun.IDB, class int32, key int32) error {
	if err := db.eng.lock(ctx, q, class, key); err != nil {
		return fmt.Errorf("take lock: %w", err)
	}
	return nil
}

// LockName is Lock with a text key (hashed by the database).
func (db *DB) LockName(ctx context.Context, q bun.IDB, class int32, key string) error {
	if err := db.eng.lock(ctx, q, class, key); err != nil {
		return fmt.Errorf("take lock: %w", err)
	}
	return nil
}

// AdvanceSequence makes the ids the database generates for table.column
// continue past id, a row inserted with an explicit id (an import keeping
// the ids of the system it came from), so that a concurrent insert cannot
// be handed the same id and later ones follow the highest.
func (db *DB) AdvanceSequence(ctx context.Context, q bun.IDB, table, column string, id int64) error {
	if err := db.eng.advanceSequence(ctx, q, table, column, id); err != nil {
		return fmt.Errorf("advance %s.%s sequence: %w", table, column, err)
	}
	return nil
}
