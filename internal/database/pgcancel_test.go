package database_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// driverLog collects what pgdriver logs through its package logger.
type driverLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *driverLog) Printf(_ context.Context, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *driverLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// captureDriverLog has pgdriver's package logger write to the returned
// log until t ends. The logger is the package's own, so a test that
// captures it does not run in parallel.
func captureDriverLog(t *testing.T) *driverLog {
	t.Helper()
	l := &driverLog{}
	old := pgdriver.Logger
	pgdriver.Logger = l
	t.Cleanup(func() { pgdriver.Logger = old })
	return l
}

// A connection that a cancelled statement closed is dropped from the pool
// with its prepared statements and nothing is written to it: the server
// frees a session's statements with the session, and a write on the closed
// socket is what pgdriver logs as "Conn.Write failed".
func TestCancelledConnectionIsNotWrittenTo(t *testing.T) {
	db := openPostgres(t, database.Options{})
	logs := captureDriverLog(t)
	db.SQL().SetMaxOpenConns(1) // the cancelled statement's connection has the prepared ones
	queries := []string{"SELECT 1 + ?", "SELECT 2 + ?", "SELECT 3 + ?"}
	for round := 0; round < 3; round++ {
		for _, q := range queries {
			var n int
			rows, err := db.Prepared().Query(context.Background(), q, 1)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if _, err := db.ExecContext(ctx, "SELECT pg_sleep(5)"); err == nil {
			t.Fatal("a 5 s sleep cancelled after 100 ms succeeded")
		}
		cancel()
		var one int
		if err := db.NewRaw("SELECT 1").Scan(context.Background(), &one); err != nil {
			t.Fatalf("after the cancelled statement: %v", err)
		}
	}
	if s := logs.String(); s != "" {
		t.Errorf("pgdriver logged:\n%s", s)
	}
}

// A statement whose context is cancelled as it ends leaves its connection
// closed before the connection is back in the pool, or open and in order:
// the next user of the pool never has it closed under its statement. On
// one thread the goroutine that the cancellation starts to close the
// connection runs only when the test blocks, which is when the next
// statement waits for its answer: a connection closed that late is closed
// in the middle of that statement.
func TestCancelledConnectionIsClosedBeforeReuse(t *testing.T) {
	db := openPostgres(t, database.Options{})
	db.SQL().SetMaxOpenConns(1) // the next statement gets the same connection
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		rows, err := db.QueryContext(ctx, "SELECT 1")
		cancel() // before the rows are read: the statement is still the connection's
		if err == nil {
			rows.Close()
		}
		var n int
		if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM generate_series(1, 2000)").Scan(&n); err != nil || n != 2000 {
			t.Fatalf("round %d: the statement after a cancelled one: %d, %v", i, n, err)
		}
	}
}

// A statement whose caller cancels it fails with the cancellation, not
// with the closed socket the cancellation leaves: that would read as the
// database going away (an outage, answered 503 and logged as one) when it
// is only a client that left.
func TestCancelledStatementFailsAsCancelled(t *testing.T) {
	db := openPostgres(t, database.Options{})
	for _, tc := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"exec", func(ctx context.Context) error {
			_, err := db.ExecContext(ctx, "SELECT pg_sleep(5)")
			return err
		}},
		{"query", func(ctx context.Context) error {
			rows, err := db.QueryContext(ctx, "SELECT pg_sleep(5)")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		}},
		{"prepared query", func(ctx context.Context) error {
			rows, err := db.Prepared().Query(ctx, "SELECT pg_sleep(?)", 5)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
			}
			return rows.Err()
		}},
		{"bun scan", func(ctx context.Context) error {
			var n int
			return db.NewRaw("SELECT 1 FROM pg_sleep(5)").Scan(ctx, &n)
		}},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		err := tc.run(ctx)
		cancel()
		if !errors.Is(err, context.Canceled) || apperr.IsUnavailable(err) {
			t.Errorf("%s: cancelled after 100 ms: %v (cancelled: %v, an outage: %v)", tc.name, err, errors.Is(err, context.Canceled), apperr.IsUnavailable(err))
		}
	}
}
