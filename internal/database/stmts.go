package database

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
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
//
// A Stmts belongs to its DB (DB.Prepared) and is closed with it.
type Stmts struct {
	db *DB

	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

const maxStmts = 256

func newStmts(db *DB) *Stmts { return &Stmts{db: db, m: make(map[string]*sql.Stmt)} }

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
	if h := s.db.hooks; h.active() {
		ev := &bun.QueryEvent{DB: s.db.DB, QueryTemplate: query, Query: query, QueryArgs: args, StartTime: time.Now()}
		ctx = h.BeforeQuery(ctx, ev)
		defer func() {
			ev.Err = err
			h.AfterQuery(ctx, ev)
		}()
	}
	args = s.db.eng.bindable(args)
	var st *sql.Stmt
	if prepare {
		if st, err = s.stmt(ctx, query); err != nil {
			return nil, err
		}
	}
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.SQL().QueryContext(ctx, s.db.eng.numbered(query), args...)
}

func (s *Stmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.RLock()
	st, ok := s.m[query]
	n := len(s.m)
	s.mu.RUnlock()
	if ok || n >= maxStmts {
		return st, nil
	}
	st, err := s.db.SQL().PrepareContext(ctx, s.db.eng.numbered(query))
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
