// Command soak drives a running Cutline server at a steady request rate for
// a fixed duration with a realistic mix (me, files, lineage, rows, small
// uploads), samples the server's resident memory (VmRSS from /proc) and its
// goroutine count (from /metrics, when exposed) every interval, and prints
// PASS when no request failed and memory stayed flat: the mean of the last
// third of the samples (after warm-up) within tolerance of the first third's.
// scripts/faults/soak.sh starts the server and runs it.
//
//	soak -base http://127.0.0.1:18413 -pid 1234 -seconds 600 -token ... -upload-token ...
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	base, token, uploadToken  string
	lineageFile, rowsFile     string
	pid                       int
	seconds                   int
	rate                      float64
	interval, warmup, timeout time.Duration
	tolerance                 float64
	maxInFlight               int
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "http://127.0.0.1:18413", "the server (loopback only)")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id, for VmRSS")
	flag.IntVar(&o.seconds, "seconds", 600, "how long to run")
	flag.Float64Var(&o.rate, "rate", 100, "requests per second")
	flag.StringVar(&o.token, "token", "", "access token of the user whose files are read")
	flag.StringVar(&o.uploadToken, "upload-token", "", "access token for the uploads (another user)")
	flag.StringVar(&o.lineageFile, "lineage-file", "", "file id for the lineage query")
	flag.StringVar(&o.rowsFile, "rows-file", "", "file id for the rows query")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "sampling interval")
	flag.DurationVar(&o.warmup, "warmup", 30*time.Second, "samples before this are not judged")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.Float64Var(&o.tolerance, "tolerance", 0.10, "allowed relative change of mean RSS, last third vs first third")
	flag.IntVar(&o.maxInFlight, "max-in-flight", 64, "requests in flight at most; a tick finding all busy counts as a failure")
	flag.Parse()
	u, err := url.Parse(o.base)
	if err != nil || u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
		fmt.Fprintln(os.Stderr, "soak: -base must be a loopback URL")
		os.Exit(2)
	}
	if o.pid <= 0 || o.token == "" || o.uploadToken == "" || o.lineageFile == "" || o.rowsFile == "" || o.seconds <= 0 || o.rate <= 0 {
		fmt.Fprintln(os.Stderr, "soak: -pid, -token, -upload-token, -lineage-file, -rows-file, positive -seconds and -rate are required")
		os.Exit(2)
	}
	if !run(o) {
		os.Exit(1)
	}
}

type kind struct {
	name   string
	weight int
	do     func(ctx context.Context, c *http.Client, n int64) error
}

type stats struct {
	mu        sync.Mutex
	latencies []time.Duration
	perKind   map[string]*[2]int64 // ok, failed
	firstErrs []string
}

func (s *stats) add(k string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, d)
	c := s.perKind[k]
	if c == nil {
		c = new([2]int64)
		s.perKind[k] = c
	}
	if err != nil {
		c[1]++
		if len(s.firstErrs) < 10 {
			s.firstErrs = append(s.firstErrs, k+": "+err.Error())
		}
	} else {
		c[0]++
	}
}

func run(o options) bool {
	client := &http.Client{Timeout: o.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: o.maxInFlight, MaxConnsPerHost: o.maxInFlight}}
	gqlBody := func(q string, vars map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"query": q, "variables": vars})
		return b
	}
	graphql := func(body []byte, token string) func(ctx context.Context, c *http.Client, n int64) error {
		return func(ctx context.Context, c *http.Client, _ int64) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, o.base+"/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			return do(c, req, http.StatusOK, true)
		}
	}
	csv := []byte("id,name,age,city\n1,Ada,36,NYC\n2,Grace,45,LA\n3,Alan,41,SF\n")
	kinds := []kind{
		{"me", 30, graphql(gqlBody(`{ me { id username } }`, nil), o.token)},
		{"files", 30, graphql(gqlBody(`{ files(first: 20) { edges { node { id name size rowCount userTags systemTags createdAt } } } }`, nil), o.token)},
		{"lineage", 15, graphql(gqlBody(`query($id: ID!) { file(id: $id) { lineage(depth: 5) { nodes { distance file { id name } } } } }`,
			map[string]any{"id": o.lineageFile}), o.token)},
		{"rows", 15, graphql(gqlBody(`query($id: ID!, $w: String) { file(id: $id) { rows(first: 50, whereSql: $w) { edges { node { values } } } } }`,
			map[string]any{"id": o.rowsFile, "w": "age >= 30 AND city IN ('NYC', 'LA', 'SF')"}), o.token)},
		{"upload", 10, func(ctx context.Context, c *http.Client, n int64) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost,
				fmt.Sprintf("%s/api/v1/files?name=soak-%d.csv&tags=soak", o.base, n), bytes.NewReader(csv))
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Authorization", "Bearer "+o.uploadToken)
			return do(c, req, http.StatusCreated, false)
		}},
	}
	var wheel []int
	for i, k := range kinds {
		for j := 0; j < k.weight; j++ {
			wheel = append(wheel, i)
		}
	}

	st := &stats{perKind: map[string]*[2]int64{}}
	var busy atomic.Int64
	sem := make(chan struct{}, o.maxInFlight)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.seconds)*time.Second)
	defer cancel()

	type sample struct {
		at         time.Duration
		rssKiB     int64
		goroutines int64
	}
	var samples []sample
	start := time.Now()
	sampler := time.NewTicker(o.interval)
	defer sampler.Stop()
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.rate))
	defer tick.Stop()
	fmt.Printf("soak: %.0f req/s for %ds (mix: me 30%%, files 30%%, lineage 15%%, rows 15%%, upload 10%%), RSS sampled every %s\n",
		o.rate, o.seconds, o.interval)
	fmt.Printf("%8s %10s %11s %10s %8s\n", "t", "RSS MiB", "goroutines", "requests", "failed")
	var n int64
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-sampler.C:
			s := sample{at: time.Since(start), rssKiB: vmRSS(o.pid), goroutines: goroutines(client, o.base)}
			samples = append(samples, s)
			ok, failed := totals(st)
			fmt.Printf("%7.0fs %10.1f %11s %10d %8d\n", s.at.Seconds(), float64(s.rssKiB)/1024, orDash(s.goroutines), ok+failed, failed+busy.Load())
			if s.rssKiB == 0 {
				fmt.Println("FAIL soak: the server process is gone")
				return false
			}
		case <-tick.C:
			n++
			k := kinds[wheel[int(n)%len(wheel)]]
			select {
			case sem <- struct{}{}:
			default:
				busy.Add(1) // the server is not keeping up with the rate
				continue
			}
			wg.Add(1)
			go func(n int64) {
				defer wg.Done()
				defer func() { <-sem }()
				rctx, rcancel := context.WithTimeout(context.Background(), o.timeout)
				defer rcancel()
				t0 := time.Now()
				err := k.do(rctx, client, n)
				st.add(k.name, time.Since(t0), err)
			}(n)
		}
	}
	wg.Wait()

	ok, failed := totals(st)
	sort.Slice(st.latencies, func(i, j int) bool { return st.latencies[i] < st.latencies[j] })
	pct := func(p float64) time.Duration {
		if len(st.latencies) == 0 {
			return 0
		}
		return st.latencies[int(math.Min(float64(len(st.latencies)-1), p*float64(len(st.latencies))))]
	}
	fmt.Printf("requests: %d ok, %d failed, %d not sent because %d were already in flight; latency p50 %s, p99 %s\n",
		ok, failed, busy.Load(), o.maxInFlight, pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond))
	names := make([]string, 0, len(st.perKind))
	for k := range st.perKind {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Printf("  %-8s %7d ok %5d failed\n", k, st.perKind[k][0], st.perKind[k][1])
	}
	for _, e := range st.firstErrs {
		fmt.Println("  error:", e)
	}

	var judged []sample
	for _, s := range samples {
		if s.at >= o.warmup {
			judged = append(judged, s)
		}
	}
	if len(judged) < 3 {
		fmt.Printf("FAIL soak: only %d samples after the %s warm-up; run longer\n", len(judged), o.warmup)
		return false
	}
	third := len(judged) / 3
	mean := func(ss []sample, f func(sample) int64) float64 {
		var t float64
		for _, s := range ss {
			t += float64(f(s))
		}
		return t / float64(len(ss))
	}
	rss := func(s sample) int64 { return s.rssKiB }
	first, last := mean(judged[:third], rss), mean(judged[len(judged)-third:], rss)
	change := (last - first) / first
	gFirst, gLast := mean(judged[:third], func(s sample) int64 { return s.goroutines }), mean(judged[len(judged)-third:], func(s sample) int64 { return s.goroutines })
	gr := "goroutines not exposed"
	if gFirst >= 0 {
		gr = fmt.Sprintf("goroutines %.0f -> %.0f", gFirst, gLast)
	}
	fmt.Printf("RSS after warm-up: first third %.1f MiB, last third %.1f MiB (%+.1f%%); %s\n",
		first/1024, last/1024, change*100, gr)
	var problems []string
	if failed > 0 {
		problems = append(problems, fmt.Sprintf("%d requests failed", failed))
	}
	if busy.Load() > 0 {
		problems = append(problems, fmt.Sprintf("%d requests not sent: the server fell behind the rate", busy.Load()))
	}
	if math.Abs(change) > o.tolerance {
		problems = append(problems, fmt.Sprintf("RSS changed %+.1f%% (tolerance %.0f%%)", change*100, o.tolerance*100))
	}
	if len(problems) > 0 {
		fmt.Println("FAIL soak: " + strings.Join(problems, "; "))
		return false
	}
	fmt.Printf("PASS soak: %d requests in %ds, zero errors, RSS flat (%+.1f%%)\n", ok, o.seconds, change*100)
	return true
}

func totals(st *stats) (ok, failed int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, c := range st.perKind {
		ok += c[0]
		failed += c[1]
	}
	return
}

func orDash(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// do sends req and checks the status and, for GraphQL, that the answer
// carries no errors.
func do(c *http.Client, req *http.Request, want int, gql bool) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	if gql && bytes.Contains(body, []byte(`"errors"`)) {
		return fmt.Errorf("GraphQL errors: %.200s", body)
	}
	return nil
}

// vmRSS reads a process's resident memory in KiB; 0 when it is gone.
func vmRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb
		}
	}
	return 0
}

// goroutines reads go_goroutines from the server's /metrics; -1 when absent.
func goroutines(c *http.Client, base string) int64 {
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}
