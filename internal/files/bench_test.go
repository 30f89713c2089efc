package files_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

// seedFiles inserts n file rows for owner straight into the database.
func seedFiles(b *testing.B, db *database.DB, owner int64, n int) {
	b.Helper()
	ctx := context.Background()
	var q string
	if db.Postgres() {
		q = `INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter,
			row_count, columns, origin, system_tags, user_tags, created_at)
		SELECT md5(i::text)::uuid, ?, 'file_' || i || '.csv', 'files/x' || i, i * 10, md5(i::text), 'text/csv', 'utf-8', ',',
			i, '[{"name":"a","index":0,"type":"INTEGER","nullCount":0}]', 'UPLOADED', '["uploaded"]', '["t' || (i % 10) || '"]',
			now() - (i || ' seconds')::interval
		FROM generate_series(1, ?) AS s(i)`
	} else {
		q = `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?1)
		INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter,
			row_count, columns, origin, system_tags, user_tags, created_at)
		SELECT printf('%08x-0000-4000-8000-%012x', i, i), ?0, 'file_' || i || '.csv', 'files/x' || i, i * 10, hex(i), 'text/csv', 'utf-8', ',',
			i, '[{"name":"a","index":0,"type":"INTEGER","nullCount":0}]', 'UPLOADED', '["uploaded"]', '["t' || (i % 10) || '"]',
			datetime('now', '-' || i || ' seconds')
		FROM s`
	}
	if _, err := db.ExecContext(ctx, q, owner, n); err != nil {
		b.Fatal(err)
	}
	if db.Postgres() {
		db.ExecContext(ctx, "ANALYZE files")
	}
}

// BenchmarkList pages through the newest 50 files of a user who owns
// 100,000, reporting the median latency of one page.
func BenchmarkList(b *testing.B) {
	for _, d := range []string{"sqlite", "postgres"} {
		b.Run(d, func(b *testing.B) {
			var db *database.DB
			if d == "postgres" {
				db = dbtest.PostgresOrSkip(b)
			} else {
				db = dbtest.SQLite(b)
			}
			var owner int64
			if err := db.NewRaw("INSERT INTO users (username, username_key, password_hash, created_at) VALUES ('u', 'u', 'x', CURRENT_TIMESTAMP) RETURNING id").
				Scan(context.Background(), &owner); err != nil {
				b.Fatal(err)
			}
			seedFiles(b, db, owner, 100_000)
			svc := files.NewService(db, nil, files.Options{})
			ctx := context.Background()
			times := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				p, err := svc.List(ctx, owner, files.ListOptions{First: 50, Desc: true})
				if err != nil || len(p.Files) != 50 {
					b.Fatalf("list: %d files, %v", len(p.Files), err)
				}
				times = append(times, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkRows reads a filtered page of 50 rows from a 300-row file in a
// folder bucket, the shape of a `file { rows(first: 50, whereSql) }` query.
func BenchmarkRows(b *testing.B) {
	db := dbtest.SQLite(b)
	e := newEnv(b, db, "file://"+b.TempDir(), 1<<20)
	var body strings.Builder
	body.WriteString("id,name,age,city,score\n")
	cities := []string{"NYC", "LA", "SF", "Berlin", "Paris"}
	for i := range 300 {
		fmt.Fprintf(&body, "%d,person %d,%d,%s,%d.%02d\n", i, i, 18+i%60, cities[i%len(cities)], i%100, i%97)
	}
	f := e.upload(b, e.alice, "people.csv", body.String())
	where, err := filter.ParseSQL("age >= 30 AND city IN ('NYC', 'LA', 'SF')")
	if err != nil {
		b.Fatal(err)
	}
	sel, err := files.Select(f, nil, where)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := e.svc.Rows(ctx, f, sel, 50, "")
		if err != nil || len(p.Rows) != 50 {
			b.Fatalf("rows: %v, %v", p, err)
		}
	}
}
