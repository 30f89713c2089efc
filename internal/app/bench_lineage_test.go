package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/benchdata"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// The lineage the benchmarks ask for: the 453 nodes within 10 edges
// upstream of one file of benchdata's 100,000-file DAG (1,121 edges among
// them), with the selection clients use.
var (
	lineageRoot  = benchdata.LineageID(benchdata.DAG, 10397)
	lineageQuery = `query($id: ID!) { lineage(fileId: $id, direction: UPSTREAM, depth: 10) {
		nodes { distance file { id name } } edges { parent { id } child { id } } truncated } }`
)

// lineageSQL is the reference: the plain recursive statement that returns
// the same ids, names and (unsigned) distances, in the answer's order, and
// nothing else (no edges, no deduplication beyond the UNION of (id,
// distance) rows). Arguments: root, owner, depth, owner.
const lineageSQL = `WITH RECURSIVE up(id, d) AS (
	SELECT f.id, 0 FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.parent_id, up.d + 1 FROM up JOIN edges e ON e.child_id = up.id WHERE up.d < ?
)
SELECT f.id, f.name, min(up.d) AS distance FROM up JOIN files f ON f.id = up.id AND f.owner_id = ?
GROUP BY f.id, f.name ORDER BY 3 DESC, 2, 1`

type sqlNode struct {
	ID, Name string
	Distance int
}

// referenceLineage runs lineageSQL and reads every row.
func referenceLineage(ctx context.Context, db *database.DB, owner int64, root string, depth int) ([]sqlNode, error) {
	rows, err := db.Prepared().Query(ctx, lineageSQL, root, owner, depth, owner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqlNode
	for rows.Next() {
		var n sqlNode
		if err := rows.Scan(&n.ID, &n.Name, &n.Distance); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// lineageBench is a server over one database holding benchdata's graphs
// as files of a registered user.
type lineageBench struct {
	*server
	db    *database.DB
	token string
	owner int64
}

func newLineageBench(b *testing.B, dialect string, edit func(*config.Config)) *lineageBench {
	var db *database.DB
	if dialect == "postgres" {
		db = dbtest.PostgresOrSkip(b)
	} else {
		db = dbtest.SQLite(b)
	}
	s := newServerTB(b, db, edit)
	lb := &lineageBench{server: s, db: db, token: s.registerB(b, "bench")}
	ctx := context.Background()
	if err := db.NewRaw(`SELECT id FROM users WHERE username = 'bench'`).Scan(ctx, &lb.owner); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := benchdata.SeedLineage(ctx, db, lb.owner); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded in %s", time.Since(start).Round(time.Millisecond))
	return lb
}

// post sends a GraphQL request straight into the handler (no network) and
// returns the body, failing on any error answer.
func (lb *lineageBench) post(b *testing.B, w http.ResponseWriter, body []byte) {
	req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+lb.token)
	lb.app.Handler.ServeHTTP(w, req)
}

func (lb *lineageBench) answer(b *testing.B, body []byte) []byte {
	w := httptest.NewRecorder()
	lb.post(b, w, body)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("%d %.300s", w.Code, w.Body.String())
	}
	return w.Body.Bytes()
}

// BenchmarkLineageAgainstSQL times, side by side in one run and
// alternating call by call, the reference statement (lineageSQL) and the
// same lineage through the whole HTTP handler, on SQLite and (with
// TEST_DATABASE_URL) on PostgreSQL: "direct" as the server answers it,
// "executor" with the answer left to the GraphQL executor (as before the
// direct answers). Each reports both p50s, their ratio (api/sql) and the
// CPU time per call in this process. Run with:
//
//	TEST_DATABASE_URL=... go test ./internal/app -run '^$' -bench LineageAgainstSQL -benchtime 200x
func BenchmarkLineageAgainstSQL(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			lb := newLineageBench(b, dialect, nil)
			ctx := context.Background()
			body, _ := json.Marshal(map[string]any{"query": lineageQuery, "variables": map[string]any{"id": lineageRoot}})
			want, err := referenceLineage(ctx, lb.db, lb.owner, lineageRoot, 10)
			if err != nil {
				b.Fatal(err)
			}
			// The three must agree before they are timed.
			for _, direct := range []bool{true, false} {
				lb.app.SetDirectLineage(direct)
				if got := lineageNodes(b, lb.answer(b, body)); !slices.Equal(got, want) {
					b.Fatalf("direct %v: the answer's %d nodes are not the reference's %d", direct, len(got), len(want))
				}
			}
			sql := func() {
				if _, err := referenceLineage(ctx, lb.db, lb.owner, lineageRoot, 10); err != nil {
					b.Fatal(err)
				}
			}
			api := func() { lb.answer(b, body) }
			for _, direct := range []bool{true, false} {
				name := "executor"
				if direct {
					name = "direct"
				}
				b.Run(name, func(b *testing.B) {
					lb.app.SetDirectLineage(direct)
					defer lb.app.SetDirectLineage(true)
					alternate(b, map[string]func(){"sql": sql, "api": api}, "sql", "api")
					b.ReportMetric(float64(len(want)), "nodes")
				})
			}
		})
	}
}

// alternate runs the calls of order in turn b.N times and reports the p50
// and the CPU time per call (this process) of each, and the ratio of each
// p50 to the first one's.
func alternate(b *testing.B, calls map[string]func(), order ...string) {
	times := make([][]time.Duration, len(order))
	cpu := make([]time.Duration, len(order))
	for b.Loop() {
		for i, name := range order {
			c0, t0 := processCPU(), time.Now()
			calls[name]()
			times[i] = append(times[i], time.Since(t0))
			cpu[i] += processCPU() - c0
		}
	}
	var ref float64
	for i, name := range order {
		slices.Sort(times[i])
		p50 := float64(times[i][len(times[i])/2].Microseconds()) / 1000
		b.ReportMetric(p50, name+"-p50-ms")
		b.ReportMetric(float64(cpu[i].Microseconds())/1000/float64(len(times[i])), name+"-cpu-ms/op")
		if i == 0 {
			ref = p50
		} else {
			b.ReportMetric(p50/ref, name+"/"+order[0])
		}
	}
}

// lineageNodes reads an answer's nodes as the reference gives them.
func lineageNodes(b *testing.B, body []byte) []sqlNode {
	var r struct {
		Data struct {
			Lineage struct {
				Nodes []struct {
					Distance int
					File     struct{ ID, Name string }
				}
			}
		}
	}
	if err := json.Unmarshal(body, &r); err != nil {
		b.Fatal(err)
	}
	out := make([]sqlNode, len(r.Data.Lineage.Nodes))
	for i, n := range r.Data.Lineage.Nodes {
		out[i] = sqlNode{ID: n.File.ID, Name: n.File.Name, Distance: -n.Distance}
	}
	return out
}

// The large answer: the files within 10 edges downstream of an early file
// of the DAG, cut by the limit to 65,879 nodes (the root and 65,878 more).
var (
	largeRoot  = benchdata.LineageID(benchdata.DAG, 100)
	largeLimit = 65_878
	largeQuery = fmt.Sprintf(`query($id: ID!) { lineage(fileId: $id, direction: DOWNSTREAM, depth: 10, limit: %d) {
		nodes { distance file { id name } } edges { parent { id } child { id } } truncated } }`, largeLimit)
)

// countingWriter is a client that reads the answer and keeps none of it.
type countingWriter struct {
	header http.Header
	status int
	n      int
	tail   []byte // the last bytes, to see the answer has no errors
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	w.tail = append(w.tail, p[max(0, len(p)-64):]...)
	w.tail = w.tail[max(0, len(w.tail)-64):]
	return len(p), nil
}

// BenchmarkLineageLargeAnswer measures what a 65,879-node lineage answer
// costs the server's memory, answered directly and by the executor, on
// SQLite and (with TEST_DATABASE_URL) PostgreSQL: the bytes allocated per
// answer (B/op, and per node), how far the heap rose above where it stood
// (sampled every millisecond, GOGC as set), and how much of it is still
// in use after a collection once the answer is written. The client keeps
// none of the answer. Run with:
//
//	TEST_DATABASE_URL=... go test ./internal/app -run '^$' -bench LineageLargeAnswer -benchtime 3x -benchmem
func BenchmarkLineageLargeAnswer(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			lb := newLineageBench(b, dialect, func(cfg *config.Config) {
				cfg.LineageMaxLimit = 100_000
				cfg.MaxComplexity = 10_000_000
			})
			body, _ := json.Marshal(map[string]any{"query": largeQuery, "variables": map[string]any{"id": largeRoot}})
			nodes := largeLimit + 1
			for _, direct := range []bool{true, false} {
				name := "executor"
				if direct {
					name = "direct"
				}
				b.Run(name, func(b *testing.B) {
					lb.app.SetDirectLineage(direct)
					defer lb.app.SetDirectLineage(true)
					var w *countingWriter
					serve := func() {
						w = &countingWriter{header: http.Header{}}
						lb.post(b, w, body)
						if w.status != http.StatusOK || !bytes.HasSuffix(w.tail, []byte(`"truncated":true}}}`)) {
							b.Fatalf("%d, %d bytes ending %q", w.status, w.n, w.tail)
						}
					}
					serve() // statements prepared, caches warm
					runtime.GC()
					before, allocs0 := heapObjects(), allocated()
					var peak uint64
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						peak = max(peak, peakHeap(serve))
					}
					b.StopTimer()
					allocs := allocated() - allocs0
					runtime.GC()
					after := heapObjects()
					b.ReportMetric(float64(allocs)/float64(b.N)/float64(nodes), "alloc-B/node")
					b.ReportMetric(float64(nodes), "nodes")
					b.ReportMetric(float64(w.n)/(1<<20), "answer-MiB")
					b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
					b.ReportMetric(float64(peak)/float64(nodes), "peak-heap-B/node")
					b.ReportMetric((float64(after)-float64(before))/(1<<20), "kept-MiB")
					b.ReportMetric(float64(rss())/(1<<20), "rss-MiB")
				})
			}
		})
	}
}

// allocated is the bytes allocated on the heap so far.
func allocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// rss is the process's resident memory, from /proc (0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident uint64
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &size, &resident); err != nil {
		return 0
	}
	return resident * uint64(os.Getpagesize())
}
