package database_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
)

func openPostgres(t *testing.T, o database.Options) *database.DB {
	t.Helper()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	db, err := database.OpenWith(context.Background(), dsn, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sleeping counts the backends of this test still running marker's sleep.
func sleeping(t *testing.T, db *database.DB, marker string) int {
	t.Helper()
	var n int
	if err := db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE ? AND pid <> pg_backend_pid()",
		"%"+marker+"%").Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A statement stops with its context, deadline or cancellation, on the
// server too, whether it was prepared or not; its connection never serves
// the next statement the answer of the last one.
func TestStatementStopsWithItsContext(t *testing.T) {
	db := openPostgres(t, database.Options{})
	db.SQL().SetMaxOpenConns(1) // the next statement gets the same connection
	for _, tc := range []struct {
		name     string
		prepared bool
		cancel   bool
	}{
		{"deadline", false, false}, {"deadline, prepared", true, false},
		{"cancelled", false, true}, {"cancelled, prepared", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := strings.NewReplacer(" ", "_", ",", "").Replace(tc.name)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			if tc.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			defer cancel()
			q := "SELECT 1 FROM pg_sleep(5) /* " + marker + " */"
			var err error
			start := time.Now()
			if tc.prepared {
				var rows interface{ Close() error }
				rows, err = db.Prepared().Query(ctx, q)
				if err == nil {
					rows.Close()
				}
			} else {
				_, err = db.ExecContext(ctx, q)
			}
			if err == nil || time.Since(start) > 3*time.Second {
				t.Fatalf("a 5 s sleep under a 300 ms context: %v after %s", err, time.Since(start))
			}
			var one int
			if err := db.NewRaw("SELECT 42").Scan(context.Background(), &one); err != nil || one != 42 {
				t.Fatalf("the next statement: %d, %v", one, err)
			}
			time.Sleep(time.Second)
			if n := sleeping(t, db, marker); n != 0 {
				t.Fatalf("%d backends still run the statement a second after it was given up", n)
			}
		})
	}
}

// DATABASE_STATEMENT_TIMEOUT is the server's own backstop, for a
// statement whose context has no deadline.
func TestStatementTimeout(t *testing.T) {
	db := openPostgres(t, database.Options{StatementTimeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := db.ExecContext(context.Background(), "SELECT pg_sleep(5)")
	if err == nil || !strings.Contains(err.Error(), "57014") || time.Since(start) > 3*time.Second {
		t.Fatalf("a 5 s sleep with a 300 ms statement timeout: %v after %s", err, time.Since(start))
	}
}

// Parameters the database URL carries (search_path, a statement_timeout of
// the operator's) reach every connection beside the server's own session
// settings; on a clash the URL wins, as the operator wrote it.
func TestOpenKeepsURLParameters(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("TEST_DATABASE_URL")
	if dsn == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	db, err := database.OpenWith(context.Background(), dsn+sep+"search_path=cutline_url_schema&statement_timeout=7000",
		database.Options{StatementTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ setting, want string }{
		{"search_path", "cutline_url_schema"},
		{"statement_timeout", "7s"},
		{"client_connection_check_interval", "250ms"},
	} {
		var got string
		if err := db.NewRaw("SELECT current_setting(?)", tc.setting).Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.setting, got, tc.want)
		}
	}
}
