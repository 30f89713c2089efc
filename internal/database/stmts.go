package database

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
)

// Stmts runs the hot read queries as prepared statements. bun writes every
// argument into the query text, so PostgreSQL parses and plans each call
// afresh; for a page of files that planning cost several times the
// execution. A prepared statement is parsed once per pooled connection and
// its arguments travel separately.
//
// Query texts are written with ? placeholders (never inside a literal).
// Query prepares: its texts must come from a bounded set, as each distinct
// text stays prepared for the life of the pool (past maxStmts of them,
// queries run unprepared). A text shaped by user input, such as one
// condition per requested tag, goes through QueryOnce instead, so that it
// cannot crowd the others out.
type Stmts struct {
	bun   *bun.DB
	db    *sql.DB
	pg    bool
	hooks atomic.Pointer[[]bun.QueryHook]

	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

const maxStmts = 256

// shared holds one Stmts per database handle, so that every feature
// prepares on the same pool and one hook sees all their queries.
var shared sync.Map // *bun.DB -> *Stmts

// Prepared returns the Stmts of db, creating it on first use.
func Prepared(db *bun.DB) *Stmts {
	if s, ok := shared.Load(db); ok {
		return s.(*Stmts)
	}
	s, _ := shared.LoadOrStore(db, NewStmts(db))
	return s.(*Stmts)
}

// NewStmts prepares statements on db's pool; most callers want Prepared.
func NewStmts(db *bun.DB) *Stmts {
	return &Stmts{bun: db, db: db.DB, pg: IsPostgres(db), m: make(map[string]*sql.Stmt)}
}

// AddQueryHook has hook see every query run here, as bun's own hooks see
// the queries bun runs (tracing, counting in tests). Add hooks before use.
func (s *Stmts) AddQueryHook(hook bun.QueryHook) {
	for {
		old := s.hooks.Load()
		var next []bun.QueryHook
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, hook)
		if s.hooks.CompareAndSwap(old, &next) {
			return
		}
	}
}

// Query runs query, prepared once per pooled connection, with args bound
// by the database.
func (s *Stmts) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.run(ctx, true, query, args)
}

// QueryOnce runs query unprepared, with args bound by the database.
func (s *Stmts) QueryOnce(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.run(ctx, false, query, args)
}

func (s *Stmts) run(ctx context.Context, prepare bool, query string, args []any) (rows *sql.Rows, err error) {
	if hooks := s.hooks.Load(); hooks != nil {
		ev := &bun.QueryEvent{DB: s.bun, QueryTemplate: query, Query: query, QueryArgs: args, StartTime: time.Now()}
		for _, h := range *hooks {
			ctx = h.BeforeQuery(ctx, ev)
		}
		defer func() {
			ev.Err = err
			for i := len(*hooks) - 1; i >= 0; i-- {
				(*hooks)[i].AfterQuery(ctx, ev)
			}
		}()
	}
	args = s.bindable(args)
	var st *sql.Stmt
	if prepare {
		if st, err = s.stmt(ctx, query); err != nil {
			return nil, err
		}
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, s.numbered(query), args...)
}

func (s *Stmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	st, ok := s.m[query]
	n := len(s.m)
	s.mu.RUnlock()
	if ok || n >= maxStmts {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.numbered(query))
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[query]; ok { // prepared meanwhile by another caller
		st.Close()
		return old, nil
	}
	if len(s.m) >= maxStmts {
		st.Close()
		return nil, nil
	}
	s.m[query] = st
	return st, nil
}

// numbered turns ? placeholders into PostgreSQL's $1, $2, ...
func (s *Stmts) numbered(query string) string {
	if !s.pg {
		return query
	}
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

// sqliteTime is how bun writes times into SQLite; SQLite compares them as
// text, so arguments must be written the same way.
const sqliteTime = "2006-01-02 15:04:05.999999-07:00"

func (s *Stmts) bindable(args []any) []any {
	if s.pg {
		return args
	}
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

// Close releases every prepared statement.
func (s *Stmts) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for q, st := range s.m {
		st.Close()
		delete(s.m, q)
	}
	return nil
}

// Len is how many statements are prepared.
func (s *Stmts) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
