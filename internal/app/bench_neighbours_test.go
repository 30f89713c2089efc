package app_test

import (
	"context"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// BenchmarkFilesPageWithParents measures a listing that asks each file for
// its parents, what a file browser with a lineage column asks: 20 of 2,000
// files, each derived from the one before it, on SQLite and, with
// TEST_DATABASE_URL, on PostgreSQL. It reports the statements per request,
// which must not grow with the page.
func BenchmarkFilesPageWithParents(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "sqlite" {
				db = dbtest.SQLite(b)
			} else {
				db = dbtest.PostgresOrSkip(b)
			}
			s := newServerB(b, db)
			tok := s.registerB(b, "ada")
			seed := []string{
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
				INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter, row_count,
					columns, origin, system_tags, user_tags, created_at)
				SELECT printf('%08x-0000-4000-8000-%012x', i, i), 1, 'f' || i || '.csv', 'files/x', 10, 'ab', 'text/csv', 'utf-8', ',', 5,
					'[{"name":"a","index":0,"type":"INTEGER","nullCount":0,"min":"1","max":"9"}]',
					'GENERATED', '["generated"]', '[]', datetime('now', '-' || i || ' seconds') FROM n`,
				`WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
				INSERT INTO edges (parent_id, child_id, kind, created_at)
				SELECT printf('%08x-0000-4000-8000-%012x', i - 1, i - 1), printf('%08x-0000-4000-8000-%012x', i, i), 'CUT_TO',
					datetime('now', '-' || i || ' seconds') FROM n`,
			}
			if db.Postgres() {
				seed = []string{
					`INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter, row_count,
						columns, origin, system_tags, user_tags, created_at)
					SELECT (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 1, 'f' || i || '.csv',
						'files/x', 10, 'ab', 'text/csv', 'utf-8', ',', 5,
						'[{"name":"a","index":0,"type":"INTEGER","nullCount":0,"min":"1","max":"9"}]',
						'GENERATED', '["generated"]', '[]', now() - i * interval '1 second' FROM generate_series(1, 2000) i`,
					`INSERT INTO edges (parent_id, child_id, kind, created_at)
					SELECT (lpad(to_hex(i - 1), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i - 1), 12, '0'))::uuid,
						(lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'CUT_TO',
						now() - i * interval '1 second' FROM generate_series(2, 2000) i`,
				}
			}
			for _, q := range seed {
				if _, err := db.ExecContext(context.Background(), q); err != nil {
					b.Fatal(err)
				}
			}
			before := s.queries.Load()
			s.benchQuery(b, tok, `{ files(first: 20) { edges { node { id name parents { id name } } } } }`)
			b.ReportMetric(float64(s.queries.Load()-before)/float64(b.N), "statements/op")
		})
	}
}
