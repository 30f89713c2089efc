package database

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
)

// DB is the handle every store works through: bun for the query builder and
// transactions, the dialect's differences, the prepared statements (which
// live as long as the pool) and the query hooks that see both.
//
// It embeds *bun.DB, so a store builds queries as with bun itself; what
// differs between dialects it asks of the handle instead of branching.
type DB struct {
	*bun.DB
	eng   engine
	hooks *hooks
	stmts *Stmts
}

// New wraps a bun handle opened elsewhere (Open opens one from a URL).
// Every query bun runs on it, and every prepared statement, passes the
// hooks added with AddQueryHook.
func New(db *bun.DB) *DB {
	h := &hooks{}
	out := &DB{DB: db.WithQueryHook(h), hooks: h}
	if db.Dialect().Name() == pgName {
		out.eng = postgresEngine{}
	} else {
		out.eng = sqliteEngine{}
	}
	out.stmts = newStmts(out)
	return out
}

// Postgres reports whether the database is PostgreSQL. Only stores whose
// statements differ in more than a phrase the handle supplies (the
// lineage walks) ask it.
func (db *DB) Postgres() bool { _, ok := db.eng.(postgresEngine); return ok }

// CanNotify reports whether the database carries notifications between
// the processes that share it (PostgreSQL's LISTEN/NOTIFY), so that events
// can be relayed through it.
func (db *DB) CanNotify() bool { return db.Postgres() }

// Prepared is the handle's statement cache.
func (db *DB) Prepared() *Stmts { return db.stmts }

// AddQueryHook has hook see every query run through the handle from now on,
// bun's and the prepared statements alike (tracing, counting in tests).
func (db *DB) AddQueryHook(hook bun.QueryHook) {
	if initer, ok := hook.(interface{ Init(*bun.DB) }); ok {
		initer.Init(db.DB) // as bun's own WithQueryHook does
	}
	db.hooks.add(hook)
}

// Close releases the prepared statements, then the pool.
func (db *DB) Close() error {
	db.stmts.Close()
	return db.DB.Close()
}

// ErrCommitUnknown is matched by the error of a transaction whose COMMIT
// was sent but never answered: the connection broke or timed out on the
// way, so the transaction may or may not have committed. Whoever wrote
// something outside the database for it must not undo that then.
var ErrCommitUnknown = errors.New("the outcome of the commit is unknown")

type commitUnknownError struct{ err error }

func (e *commitUnknownError) Error() string   { return ErrCommitUnknown.Error() + ": " + e.err.Error() }
func (e *commitUnknownError) Unwrap() []error { return []error{ErrCommitUnknown, e.err} }

// RunInTx is bun's RunInTx, except that a COMMIT that failed for want of an
// answer (apperr.IsUnavailable) also matches ErrCommitUnknown, and that the
// engine's own full-disk error matches apperr.ErrStorageFull. Every other
// failure rolled the transaction back, as bun reports it.
func (db *DB) RunInTx(ctx context.Context, opts *sql.TxOptions, fn func(context.Context, bun.Tx) error) error {
	committing := false
	err := db.DB.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		if err := fn(ctx, tx); err != nil {
			return err
		}
		committing = true
		return nil
	})
	if err != nil && committing && apperr.IsUnavailable(err) {
		return &commitUnknownError{err}
	}
	return storageFull(err)
}

// SQL is the pool under the handle, for what speaks database/sql (pool
// statistics).
func (db *DB) SQL() *sql.DB { return db.DB.DB }

// hooks is the one bun hook a handle installs; it hands every query on to
// the hooks added since, so hooks can be added after the stores were built.
type hooks struct {
	list atomic.Pointer[[]bun.QueryHook]
}

func (h *hooks) add(hook bun.QueryHook) {
	for {
		old := h.list.Load()
		var next []bun.QueryHook
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, hook)
		if h.list.CompareAndSwap(old, &next) {
			return
		}
	}
}

// BeforeQuery passes the event to every hook in order.
func (h *hooks) BeforeQuery(ctx context.Context, ev *bun.QueryEvent) context.Context {
	if l := h.list.Load(); l != nil {
		for _, hk := range *l {
			ctx = hk.BeforeQuery(ctx, ev)
		}
	}
	return ctx
}

// AfterQuery passes the event to every hook in reverse order, as bun does.
func (h *hooks) AfterQuery(ctx context.Context, ev *bun.QueryEvent) {
	if l := h.list.Load(); l != nil {
		for i := len(*l) - 1; i >= 0; i-- {
			(*l)[i].AfterQuery(ctx, ev)
		}
	}
}

func (h *hooks) active() bool {
	l := h.list.Load()
	return l != nil && len(*l) > 0
}
