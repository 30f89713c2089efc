package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// olReceiver is an OpenLineage receiver that can be down (503) and counts
// the events it accepted by run id, as a receiver that dedupes would see
// them.
type olReceiver struct {
	*httptest.Server
	down     atomic.Bool
	rejected atomic.Int64
	mu       sync.Mutex
	runs     map[string]int    // run id -> events accepted
	jobs     map[string]string // run id -> job name
	badAuth  int
}

func newOLReceiver(t *testing.T, v *olValidator) *olReceiver {
	r := &olReceiver{runs: map[string]int{}, jobs: map[string]string{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.down.Load() {
			r.rejected.Add(1)
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		var ev struct {
			Run struct{ RunID string }
			Job struct{ Name string }
		}
		if err := json.Unmarshal(body, &ev); err != nil || req.Method != "POST" || req.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not an event", http.StatusBadRequest)
			return
		}
		v.check(t, body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Header.Get("Authorization") != "Bearer k3y" {
			r.badAuth++
		}
		r.runs[ev.Run.RunID]++
		r.jobs[ev.Run.RunID] = ev.Job.Name
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(r.Close)
	return r
}

// accepted is the job names of the events accepted, each with the number
// of distinct run ids it came with: what a receiver that dedupes by run id
// sees. Delivery is at least once (a POST cut short by a stopping server
// may still reach the receiver, and is sent again), so a resend must carry
// the same run id and counts once.
func (r *olReceiver) accepted() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for run := range r.runs {
		out[r.jobs[run]]++
	}
	return out
}

// waitFor polls cond until it holds, failing t after a generous while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var olGauge = regexp.MustCompile(`(?m)^cutline_openlineage_(pending|failed)_deliveries (\d+)$`)

// outboxGauges reads the two OpenLineage gauges of /metrics.
func outboxGauges(t *testing.T, s *server) (pending, failed int) {
	t.Helper()
	status, body := getMetrics(t, s.URL+"/metrics", "scrape-me")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	m := olGauge.FindAllStringSubmatch(body, -1)
	if len(m) != 2 {
		t.Fatalf("/metrics has %d openlineage gauges:\n%s", len(m), body)
	}
	for _, g := range m {
		n, _ := strconv.Atoi(g[2])
		if g[1] == "pending" {
			pending = n
		} else {
			failed = n
		}
	}
	return pending, failed
}

// The emitter, on every database: derivations made while the receiver is
// down wait in the outbox (and /metrics says so); the server is stopped
// and two replicas start on the same database with the receiver up; each
// derivation reaches the receiver exactly once as a receiver that dedupes
// by run id sees it, a new one too; a receiver
// that never comes back makes a delivery fail after OPENLINEAGE_MAX_ATTEMPTS.
func TestOpenLineageEmitter(t *testing.T) {
	t.Parallel()
	v := newOLValidator(t)
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		rcv := newOLReceiver(t, v)
		settings := func(attempts int) func(*config.Config) {
			return func(c *config.Config) {
				c.MetricsToken = "scrape-me"
				c.OpenLineageURL, c.OpenLineageAPIKey = rcv.URL, "k3y"
				c.OpenLineageRetryMin, c.OpenLineageRetryMax = 5*time.Millisecond, 40*time.Millisecond
				c.OpenLineageTimeout, c.OpenLineageMaxAttempts = 5*time.Second, attempts
			}
		}
		rcv.down.Store(true)
		first := newServer(t, db, settings(1000))
		ada := first.register(t, "ada").AccessToken
		c := buildColumnChain(t, first, ada)
		waitFor(t, "the receiver to refuse deliveries", func() bool { return rcv.rejected.Load() >= 6 })
		if p, f := outboxGauges(t, first); p != 3 || f != 0 {
			t.Errorf("during the outage: pending %d, failed %d", p, f)
		}
		// A restart: the first server stops, two replicas take over.
		first.app.Stop()
		rcv.down.Store(false)
		a := newServer(t, db, settings(1000))
		b := newServer(t, db, settings(1000))
		want := map[string]int{"deriveFile." + c.adults: 1, "deriveFile." + c.anames: 1, "saveGeneratedFile." + c.nyc: 1}
		waitFor(t, "the three derivations", func() bool { return len(rcv.accepted()) == 3 })
		waitFor(t, "an empty outbox", func() bool { p, _ := outboxGauges(t, a); return p == 0 })
		// Each test server has a bucket of its own: b derives from what it stored.
		var d struct{ DeriveFile struct{ ID string } }
		src := b.uploadOK(t, ada, "more.csv", "id,name\n1,Ann\n")
		b.ok(t, ada, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "ids.csv", columns: ["id"]}) { id } }`, map[string]any{"s": src}, &d)
		want["deriveFile."+d.DeriveFile.ID] = 1
		waitFor(t, "the new derivation", func() bool { return len(rcv.accepted()) == 4 })
		waitFor(t, "an empty outbox", func() bool { p, _ := outboxGauges(t, b); return p == 0 })
		a.app.Stop()
		b.app.Stop()
		got := rcv.accepted()
		for job, n := range want {
			if got[job] != n {
				t.Errorf("%s reached the receiver %d times, want %d (all: %v)", job, got[job], n, got)
			}
		}
		if rcv.badAuth != 0 {
			t.Errorf("%d events without the API key", rcv.badAuth)
		}

		// Given up: two attempts, then failed_at, the gauge and the log.
		rcv.down.Store(true)
		quick := newServer(t, db, settings(2))
		src = quick.uploadOK(t, ada, "again.csv", "id,name\n1,Ann\n")
		quick.ok(t, ada, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "names.csv", columns: ["name"]}) { id } }`, map[string]any{"s": src}, &d)
		waitFor(t, "the delivery to be given up", func() bool { _, f := outboxGauges(t, quick); return f == 1 })
		if p, _ := outboxGauges(t, quick); p != 0 {
			t.Errorf("after giving up: %d pending", p)
		}
		quick.app.Stop()
		if !regexp.MustCompile(`openlineage: delivery given up.*attempts=2`).MatchString(quick.logs.String()) {
			t.Errorf("no log line for the given-up delivery:\n%s", quick.logs.String())
		}
		if n := rcv.accepted()["deriveFile."+d.DeriveFile.ID]; n != 0 {
			t.Errorf("the given-up delivery reached the receiver %d times", n)
		}
	})
}

// Stopping the server while a delivery hangs: Stop does not wait for the
// receiver's answer beyond the cancelled request, and the delivery goes
// back to the queue unattempted, for the next server to send.
func TestOpenLineageEmitterStopsMidDelivery(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		inFlight := make(chan struct{}, 1)
		var hang atomic.Bool
		hang.Store(true)
		var delivered atomic.Int64
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			io.Copy(io.Discard, req.Body)
			if hang.Load() {
				select {
				case inFlight <- struct{}{}:
				default:
				}
				<-req.Context().Done()
				return
			}
			delivered.Add(1)
		}))
		t.Cleanup(rcv.Close)
		settings := func(c *config.Config) {
			c.OpenLineageURL = rcv.URL
			c.OpenLineageRetryMin, c.OpenLineageTimeout = 5*time.Millisecond, time.Minute
		}
		s := newServer(t, db, settings)
		ada := s.register(t, "ada").AccessToken
		src := s.uploadOK(t, ada, "a.csv", "x\n1\n")
		s.ok(t, ada, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "b.csv"}) { id } }`, map[string]any{"s": src}, nil)
		<-inFlight
		s.app.Stop()
		var attempts int
		if err := db.NewRaw("SELECT attempts FROM openlineage_outbox").Scan(context.Background(), &attempts); err != nil || attempts != 0 {
			t.Errorf("after a stop mid-delivery: attempts %d (%v), want 0", attempts, err)
		}
		hang.Store(false)
		newServer(t, db, settings)
		waitFor(t, "the delivery after the restart", func() bool { return delivered.Load() == 1 })
	})
}
