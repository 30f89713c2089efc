package benchdata

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/database"
)

// The synthetic lineage graphs, all of one owner:
//
//	chain: ChainSize files, c(i) -> c(i+1)
//	star:  one hub with StarSize children
//	dag:   DAGSize files, each after the first with 2-3 distinct parents
//	       drawn uniformly among the earlier files (seed 1)
const (
	ChainSize = 10_000
	StarSize  = 10_000
	DAGSize   = 100_000
)

// The graphs' numbers in LineageID.
const (
	Chain = 1
	Star  = 2
	DAG   = 3
)

// LineageID is the id of file i of graph g (Chain, Star or DAG); its name
// is "chain-i", "star-i" or "dag-i".
func LineageID(g, i int) string { return fmt.Sprintf("0000000%d-0000-4000-8000-%012d", g, i) }

// uuidExpr is LineageID as SQL over an integer expression.
func uuidExpr(pg bool, g int, expr string) string {
	if pg {
		return fmt.Sprintf("('0000000%d-0000-4000-8000-' || lpad((%s)::text, 12, '0'))::uuid", g, expr)
	}
	return fmt.Sprintf("'0000000%d-0000-4000-8000-' || printf('%%012d', %s)", g, expr)
}

// SeedLineage inserts the three graphs as files of owner, which must
// exist, with their edges; the same graphs on every database and every
// run. The load skips foreign-key checks: the data is consistent.
func SeedLineage(ctx context.Context, db *database.DB, owner int64) (err error) {
	pg := db.Postgres()
	// One connection for the whole load, so that session settings hold.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("seed lineage: %w", err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		if err != nil {
			return
		}
		if _, e := conn.ExecContext(ctx, q, args...); e != nil {
			err = fmt.Errorf("seed lineage: %.200s: %w", q, e)
		}
	}
	// Foreign-key checks cost more than the inserts themselves (PostgreSQL
	// locks each referenced file row). PostgreSQL skips them for a
	// superuser's replica session; under another role the load is only
	// slower.
	if pg {
		if _, e := conn.ExecContext(ctx, "SET session_replication_role = replica"); e == nil {
			defer func() { _, _ = conn.ExecContext(ctx, "RESET session_replication_role") }()
		}
	} else {
		exec("PRAGMA foreign_keys = OFF")
		defer func() { _, _ = conn.ExecContext(ctx, "PRAGMA foreign_keys = ON") }()
		// Random UUID keys touch pages all over the indexes: keep them in
		// memory for the load instead of the default 2 MiB.
		exec("PRAGMA cache_size = -262144")
		defer func() { _, _ = conn.ExecContext(ctx, "PRAGMA cache_size = -2000") }()
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if !pg {
		exec("BEGIN") // one transaction: SQLite commits each statement otherwise
		defer func() {
			if err != nil {
				_, _ = conn.ExecContext(ctx, "ROLLBACK")
			}
		}()
	}
	// One recursive INSERT ... SELECT per graph: a counter CTE works on both
	// dialects (SQLite has no generate_series built in).
	files := func(g, n int, prefix string) {
		exec(fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO files (id, owner_id, name, size, sha256, content_type, encoding, delimiter, row_count, columns,
	origin, system_tags, user_tags, created_at)
SELECT %s, ?, '%s' || i, 0, '', 'text/csv', 'utf-8', ',', 0, '[]', 'UPLOADED', '[]', '[]', ? FROM s`,
			n-1, uuidExpr(pg, g, "i"), prefix), owner, at)
	}
	files(Chain, ChainSize, "chain-")
	files(Star, StarSize+1, "star-")
	files(DAG, DAGSize, "dag-")
	exec(fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO edges (parent_id, child_id, kind, created_at) SELECT %s, %s, 'CUT_TO', ? FROM s`,
		ChainSize-2, uuidExpr(pg, Chain, "i"), uuidExpr(pg, Chain, "i + 1")), at)
	exec(fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO edges (parent_id, child_id, kind, created_at) SELECT %s, %s, 'CUT_TO', ? FROM s`,
		StarSize, uuidExpr(pg, Star, "0"), uuidExpr(pg, Star, "i")), at)

	// The DAG's parents come from a seeded generator in Go and go in as
	// integer pairs, 20,000 per multi-row INSERT.
	rng := rand.New(rand.NewPCG(1, 1))
	var pairs []string
	flush := func() {
		if len(pairs) == 0 {
			return
		}
		exec(fmt.Sprintf(`INSERT INTO edges (parent_id, child_id, kind, created_at)
SELECT %s, %s, 'CUT_TO', ? FROM (VALUES %s) AS v`,
			uuidExpr(pg, DAG, "column1"), uuidExpr(pg, DAG, "column2"), strings.Join(pairs, ",")), at)
		pairs = pairs[:0]
	}
	for i := 1; i < DAGSize; i++ {
		want := min(i, 2+rng.IntN(2))
		var chosen []int
		for len(chosen) < want {
			p := rng.IntN(i)
			if !slices.Contains(chosen, p) {
				chosen = append(chosen, p)
			}
		}
		for _, p := range chosen {
			pairs = append(pairs, fmt.Sprintf("(%d,%d)", p, i))
		}
		if len(pairs) >= 20_000 {
			flush()
		}
	}
	flush()
	if pg {
		// As after autovacuum: index-only scans need the visibility map.
		exec("VACUUM ANALYZE files")
		exec("VACUUM ANALYZE edges")
	} else {
		exec("COMMIT")
	}
	return err
}
