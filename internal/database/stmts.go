package database

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Stmts runs the hot read queries as prepared statements. bun writes every
// argument into the query text, so PostgreSQL parses and plans each call
// afresh; for a page of files that planning cost several times the
// execution. A prepared statement is parsed once per pooled connection and
// its arguments travel separately.
//
// Query texts are written with ? placeholders (never inside a literal) and
// must come from a bounded set: each distinct text stays prepared for the
// life of the pool. Past maxStmts distinct texts, queries run unprepared.
type Stmts struct {
	db *sql.DB
	pg bool

	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

const maxStmts = 256

var tracer = otel.Tracer("github.com/cutline/cutline/internal/database")

// NewStmts prepares statements on db's pool.
func NewStmts(db *bun.DB) *Stmts {
	return &Stmts{db: db.DB, pg: IsPostgres(db), m: make(map[string]*sql.Stmt)}
}

// Query runs query with args bound by the database.
func (s *Stmts) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, span := tracer.Start(ctx, "db.query", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.statement", query)))
	defer span.End()
	args = s.bindable(args)
	st, err := s.stmt(ctx, query)
	if err != nil {
		span.RecordError(err)
		return nil, err
	}
	var rows *sql.Rows
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = s.db.QueryContext(ctx, s.numbered(query), args...)
	}
	if err != nil {
		span.RecordError(err)
	}
	return rows, err
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
