package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// crashAfterCommit is a query hook that, once armed, stands for the process
// dying the moment a file change commits: when the COMMIT of a transaction
// that wrote a file row is answered, it cuts every connection of the
// replica to the database (as the kernel does for a killed process) and
// holds the goroutine that committed, so nothing that follows the commit in
// the process ever runs.
type crashAfterCommit struct {
	proxy   *dbtest.Proxy
	armed   atomic.Bool
	wrote   atomic.Bool
	crashed chan struct{}
	release chan struct{}
}

func (c *crashAfterCommit) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *crashAfterCommit) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if !c.armed.Load() || ev.Err != nil {
		return
	}
	q := strings.TrimSpace(ev.Query)
	if strings.HasPrefix(q, "INSERT INTO files ") || strings.HasPrefix(q, "UPDATE files ") {
		c.wrote.Store(true)
		return
	}
	if q == "COMMIT" && c.wrote.Load() && c.armed.CompareAndSwap(true, false) {
		c.proxy.Cut()
		close(c.crashed)
		<-c.release
	}
}

// A replica that dies right after a change commits, before it runs another
// instruction, cannot leave the subscribers of the other replicas without
// that change: the subscriber on B hears of it, or is told to resync,
// before it hears of any change committed later (C's marker). Each kind of
// change is tried on a replica of its own, crashed in turn.
func TestFileEventsSurviveCrashAfterCommit(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	c := eventsServer(t, db)
	b := eventsServer(t, dbtest.SameSchema(t, db, "", ""))
	ada := c.register(t, "ada").AccessToken
	seed := c.uploadOK(t, ada, "seed.csv", "a\n1\n")
	victim := c.uploadOK(t, ada, "victim.csv", "a\n1\n")
	w := mustDial(t, b, "graphql-transport-ws", ada)
	w.subscribe("1", eventsQuery)
	waitSubscribers(t, b, 1)
	// The setup's own events may still be on their way to B.
	c.tag(t, ada, seed, "ready")
	for {
		if got := w.expectEvent(); strings.Contains(got, `"UPDATED"`) && strings.Contains(got, `"ready"`) {
			break
		}
	}

	gqlBody := func(query string, vars map[string]any) string {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return string(body)
	}
	cases := []struct {
		name  string
		send  func(url string) *http.Request
		event []string
	}{
		{"upload", func(url string) *http.Request {
			ct, body := fileForm("crashed.csv", "a\n1\n")
			req, _ := http.NewRequest("POST", url+"/api/v1/files", body)
			req.Header.Set("Content-Type", ct)
			return req
		}, []string{`"CREATED"`, "crashed.csv"}},
		{"tag", func(url string) *http.Request {
			req, _ := http.NewRequest("POST", url+"/graphql", strings.NewReader(gqlBody(
				`mutation($id: ID!) { updateFileTags(id: $id, add: ["crashed"]) { id } }`, map[string]any{"id": seed})))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, []string{`"UPDATED"`, seed, `"crashed"`}},
		{"delete", func(url string) *http.Request {
			req, _ := http.NewRequest("POST", url+"/graphql", strings.NewReader(gqlBody(
				`mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": victim})))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, []string{`"DELETED"`, victim}},
	}
	sub := 1
	for i, tc := range cases {
		p := dbtest.NewProxy(t, dbtest.PostgresAddr(t))
		a := eventsServer(t, dbtest.SameSchema(t, db, p.Addr(), "timeout=2s"))
		crash := &crashAfterCommit{proxy: p, crashed: make(chan struct{}), release: make(chan struct{})}
		// Before the server's own cleanup, which waits for its requests.
		var once sync.Once
		t.Cleanup(func() { once.Do(func() { close(crash.release) }) })
		a.app.DB.AddQueryHook(crash)
		crash.armed.Store(true)
		req := tc.send(a.URL)
		req.Header.Set("Authorization", "Bearer "+ada)
		go func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		select {
		case <-crash.crashed:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: the change never committed", tc.name)
		}

		marker := "marker-" + tc.name
		c.tag(t, ada, seed, marker)
		got, err := w.next(30 * time.Second)
		var werr *wsError
		switch {
		case errors.As(err, &werr) && strings.Contains(string(werr.m.Payload), `"RESYNC"`):
			t.Logf("%s: the subscriber was told to resync", tc.name)
			sub++
			w.subscribe(string(rune('0'+sub)), eventsQuery)
			waitSubscribers(t, b, 1)
			continue
		case err != nil:
			t.Fatalf("%s: waiting for the crashed replica's change: %v", tc.name, err)
		}
		for _, s := range tc.event {
			if !strings.Contains(got, s) {
				t.Fatalf("%s (case %d): the change committed by the crashed replica was lost: "+
					"the subscriber heard of a later change first, and no RESYNC: %s", tc.name, i, got)
			}
		}
		w.expectEvent(`"UPDATED"`, marker)
	}
}

// A COMMIT whose answer is lost: the change committed, so the other
// replica's subscriber hears of it; the replica that sent it cannot know,
// and tells its own subscriber to resync rather than guess.
func TestFileEventsLostCommitAnswer(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	b := eventsServer(t, db)
	p := dbtest.NewProxy(t, dbtest.PostgresAddr(t))
	a := eventsServer(t, dbtest.SameSchema(t, db, p.Addr(), "timeout=2s"))
	ada := b.register(t, "ada").AccessToken
	wa, wb := mustDial(t, a, "graphql-transport-ws", ada), mustDial(t, b, "graphql-transport-ws", ada)
	wa.subscribe("1", eventsQuery)
	wb.subscribe("1", eventsQuery)
	waitSubscribers(t, a, 1)
	waitSubscribers(t, b, 1)

	committed := p.DropNextCommit()
	r := a.upload(t, ada, uploadMutation, map[string]any{}, "f", "unanswered.csv", "a\n1\n")
	assertUnavailable(t, "upload whose COMMIT answer was lost", r)
	<-committed
	wb.expectEvent(`"CREATED"`, "unanswered.csv")
	if got := wa.expectError(); !strings.Contains(got, `"RESYNC"`) {
		t.Fatalf("the replica that lost the answer: error %s, want RESYNC", got)
	}
	if st := b.app.Events.Stats(); st.Resyncs != 0 {
		t.Fatalf("the other replica resynced: %+v", st)
	}
}
