package lineage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// Synthetic graphs, all of owner 1, built once per database:
//
//	chain: 10,000 files, c(i) -> c(i+1)
//	star:  one hub with 10,000 children
//	dag:   100,000 files, each after the first with 2-3 distinct parents
//	       drawn uniformly among the earlier files (seed 1)
const (
	chainSize = 10_000
	starSize  = 10_000
	dagSize   = 100_000
	benchMax  = 1_000_000 // service maxima: depth "unlimited" means this
)

// benchID is the id of file i of graph g (1 chain, 2 star, 3 dag).
func benchID(g, i int) string { return fmt.Sprintf("0000000%d-0000-4000-8000-%012d", g, i) }

// uuidExpr is benchID as SQL over an integer expression.
func uuidExpr(pg bool, g int, expr string) string {
	if pg {
		return fmt.Sprintf("('0000000%d-0000-4000-8000-' || lpad((%s)::text, 12, '0'))::uuid", g, expr)
	}
	return fmt.Sprintf("'0000000%d-0000-4000-8000-' || printf('%%012d', %s)", g, expr)
}

func seedBench(b *testing.B, db *database.DB) {
	b.Helper()
	pg := db.Postgres()
	start := time.Now()
	ctx := context.Background()
	// One connection for the whole load, so that session settings hold.
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			b.Fatalf("%.200s: %v", q, err)
		}
	}
	// Foreign-key checks cost more than the inserts themselves (PostgreSQL
	// locks each referenced file row), and the data is known to be
	// consistent. PostgreSQL skips them for a superuser's replica session;
	// under another role the load is only slower.
	if pg {
		if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
			b.Logf("loading with foreign-key checks: %v", err)
		}
		defer func() { _, _ = conn.ExecContext(ctx, "RESET session_replication_role") }()
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
	}
	exec(`INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (1, 'bench', 'bench', 'x', ?)`, at)
	// One recursive INSERT ... SELECT per graph: a counter CTE works on both
	// dialects (SQLite has no generate_series built in).
	files := func(g, n int, prefix string) {
		exec(fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO files (id, owner_id, name, size, sha256, content_type, encoding, delimiter, row_count, columns,
	origin, system_tags, user_tags, created_at)
SELECT %s, 1, '%s' || i, 0, '', 'text/csv', 'utf-8', ',', 0, '[]', 'UPLOADED', '[]', '[]', ? FROM s`,
			n-1, uuidExpr(pg, g, "i"), prefix), at)
	}
	files(1, chainSize, "chain-")
	files(2, starSize+1, "star-")
	files(3, dagSize, "dag-")
	exec(fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO edges (parent_id, child_id, kind, created_at) SELECT %s, %s, 'CUT_TO', ? FROM s`,
		chainSize-2, uuidExpr(pg, 1, "i"), uuidExpr(pg, 1, "i + 1")), at)
	exec(fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO edges (parent_id, child_id, kind, created_at) SELECT %s, %s, 'CUT_TO', ? FROM s`,
		starSize, uuidExpr(pg, 2, "0"), uuidExpr(pg, 2, "i")), at)

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
			uuidExpr(pg, 3, "column1"), uuidExpr(pg, 3, "column2"), strings.Join(pairs, ",")), at)
		pairs = pairs[:0]
	}
	for i := 1; i < dagSize; i++ {
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
	b.Logf("seeded %d files in %s", chainSize+starSize+1+dagSize, time.Since(start).Round(time.Millisecond))
}

type benchCase struct {
	name         string
	root         string
	dir          Direction
	depth, limit int
}

func benchCases() []benchCase {
	var cs []benchCase
	add := func(graph, where, root string, dir Direction, depth, limit int) {
		d := fmt.Sprint(depth)
		if depth == benchMax {
			d = "max"
		}
		l := fmt.Sprint(limit)
		if limit == benchMax {
			l = "max"
		}
		cs = append(cs, benchCase{fmt.Sprintf("%s/%s-%s-d%s-l%s", graph, where, strings.ToLower(string(dir)), d, l), root, dir, depth, limit})
	}
	for _, depth := range []int{10, 50, benchMax} {
		add("chain", "middle", benchID(1, chainSize/2), Both, depth, 1000)
		add("star", "hub", benchID(2, 0), Downstream, depth, 1000)
		add("star", "leaf", benchID(2, starSize/2), Both, depth, 1000)
		add("dag", "middle", benchID(3, dagSize/2), Both, depth, 1000)
		add("dag", "early", benchID(3, 100), Downstream, depth, 1000)
	}
	// Whole walks, no limit to speak of: the cost per node returned.
	add("chain", "first", benchID(1, 0), Downstream, benchMax, benchMax)
	add("star", "hub", benchID(2, 0), Downstream, 1, benchMax)
	add("dag", "middle", benchID(3, dagSize/2), Upstream, benchMax, benchMax)
	add("dag", "early", benchID(3, 100), Downstream, benchMax, benchMax)
	return cs
}

// BenchmarkGraph times Graph on the synthetic graphs and reports the p50 and
// p95 latency in ms, the CPU time per call in ms on the client (this
// process: Go, bun, the driver, and for SQLite the engine itself) and on the
// PostgreSQL backend, and the nodes returned. The PostgreSQL half runs only
// with TEST_DATABASE_URL set. Run with:
//
//	TEST_DATABASE_URL=... go test -run '^$' -bench Graph -benchtime 50x ./internal/lineage/
//
// -bench 'Graph/postgres/dag' and the like pick cases.
func BenchmarkGraph(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var db *database.DB
			if dialect == "postgres" {
				db = dbtest.PostgresOrSkip(b)
			} else {
				db = dbtest.SQLite(b)
			}
			seedBench(b, db)
			svc := NewService(db, benchMax, benchMax)
			meter := newCPUMeter(b, db)
			for _, c := range benchCases() {
				b.Run(c.name, func(b *testing.B) {
					ctx := context.Background()
					times := make([]time.Duration, 0, b.N)
					var g *Graph
					meter.start()
					for b.Loop() {
						t0 := time.Now()
						var err error
						if g, err = svc.Graph(ctx, 1, c.root, c.dir, c.depth, c.limit); err != nil {
							b.Fatal(err)
						}
						times = append(times, time.Since(t0))
					}
					client, server := meter.stop()
					slices.Sort(times)
					b.ReportMetric(ms(times[len(times)/2]), "p50-ms")
					b.ReportMetric(ms(times[len(times)*95/100]), "p95-ms")
					b.ReportMetric(ms(client)/float64(len(times)), "client-cpu-ms/op")
					b.ReportMetric(ms(server)/float64(len(times)), "server-cpu-ms/op")
					b.ReportMetric(float64(len(g.Nodes)), "nodes")
				})
			}
		})
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuMeter measures CPU time instead of wall time: the benchmark machines
// are shared, and wall time there swings with the neighbours' load. The
// client side is this process (all of SQLite's work, bun's scanning); the
// server side is the PostgreSQL backend serving the one pooled connection,
// read from /proc (same machine only; zero when not readable).
type cpuMeter struct {
	backend    int
	c0, s0     time.Duration
	haveServer bool
}

func newCPUMeter(tb testing.TB, db *database.DB) *cpuMeter {
	m := &cpuMeter{}
	if db.Postgres() {
		db.SetMaxOpenConns(1)
		if err := db.NewRaw("SELECT pg_backend_pid()").Scan(context.Background(), &m.backend); err != nil {
			tb.Fatal(err)
		}
		_, m.haveServer = schedTime(m.backend)
	}
	return m
}

func (m *cpuMeter) start() {
	m.c0 = processCPU()
	if m.haveServer {
		m.s0, _ = schedTime(m.backend)
	}
}

func (m *cpuMeter) stop() (client, server time.Duration) {
	client = processCPU() - m.c0
	if m.haveServer {
		s, _ := schedTime(m.backend)
		server = s - m.s0
	}
	return client, server
}

// schedTime is the CPU time of a process from /proc/PID/schedstat, in ns.
func schedTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		return 0, false
	}
	var ns int64
	if _, err := fmt.Sscan(string(b), &ns); err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}
