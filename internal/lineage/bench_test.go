package lineage

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/benchdata"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// The synthetic graphs of benchdata.SeedLineage, of owner 1, built once
// per database.
const (
	chainSize = benchdata.ChainSize
	starSize  = benchdata.StarSize
	dagSize   = benchdata.DAGSize
	benchMax  = 1_000_000 // service maxima: depth "unlimited" means this
)

// benchID is the id of file i of graph g (1 chain, 2 star, 3 dag).
func benchID(g, i int) string { return benchdata.LineageID(g, i) }

func seedBench(b *testing.B, db *database.DB) {
	b.Helper()
	start := time.Now()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, username, username_key, password_hash, created_at) VALUES (1, 'bench', 'bench', 'x', ?)`,
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	if err := benchdata.SeedLineage(ctx, db, 1); err != nil {
		b.Fatal(err)
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
