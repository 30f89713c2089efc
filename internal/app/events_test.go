package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/events/wsconn"
	"github.com/cutline/cutline/internal/testwait"
)

// eventsServer is newServer whose event broker is closed with the test, so
// a PostgreSQL relay does not outlive its schema.
func eventsServer(t *testing.T, db *database.DB) *server {
	t.Helper()
	s := newServer(t, db, nil)
	t.Cleanup(func() { s.app.Events.Close() })
	return s
}

func bearer(tok string) map[string]any { return map[string]any{"Authorization": "Bearer " + tok} }

// mustDial is dialWS that fails the test on a refused connection.
func mustDial(t *testing.T, s *server, proto, tok string) *wsClient {
	t.Helper()
	w, err := dialWS(t, s, proto, bearer(tok))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// expectEvent reads the next data message and checks it mentions every one
// of want.
func (w *wsClient) expectEvent(want ...string) string {
	w.t.Helper()
	got, err := w.next(10 * time.Second)
	if err != nil {
		w.t.Fatalf("waiting for %v: %v", want, err)
	}
	for _, s := range want {
		if !strings.Contains(got, s) {
			w.t.Fatalf("event %s does not mention %q", got, s)
		}
	}
	return got
}

// expectError reads until an error message for the operation and returns
// its payload; data first is a failure.
func (w *wsClient) expectError() string {
	w.t.Helper()
	for {
		m, err := w.read(10 * time.Second)
		if err != nil {
			w.t.Fatalf("waiting for an error: %v", err)
		}
		switch m.Type {
		case "ka", "ping", "pong":
			continue
		case "error":
			return string(m.Payload)
		default:
			w.t.Fatalf("got %s %s, want an error", m.Type, m.Payload)
		}
	}
}

func (s *server) tag(t *testing.T, tok, id, tag string) {
	t.Helper()
	s.ok(t, tok, `mutation($id: ID!, $t: String!) { updateFileTags(id: $id, add: [$t]) { id } }`,
		map[string]any{"id": id, "t": tag}, nil)
}

func (s *server) derive(t *testing.T, tok, source, name string) string {
	t.Helper()
	var d struct{ DeriveFile struct{ ID string } }
	s.ok(t, tok, `mutation($id: ID!, $n: String!) { deriveFile(input: {sourceId: $id, name: $n}) { id } }`,
		map[string]any{"id": source, "n": name}, &d)
	return d.DeriveFile.ID
}

const eventsQuery = `subscription { fileEvents { type file { id name userTags } } }`

// No event for work that was rolled back, nor for anyone else's files: the
// first event the subscriber sees is the marker committed after them.
func TestFileEventsOnlyCommittedAndOwn(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := eventsServer(t, db)
		ada, bob := s.register(t, "ada").AccessToken, s.register(t, "bob").AccessToken
		id := s.uploadOK(t, ada, "a.csv", "a\n1\n")
		bobs := s.uploadOK(t, bob, "b.csv", "b\n2\n")
		w := mustDial(t, s, "graphql-transport-ws", ada)
		w.subscribe("1", eventsQuery)
		waitSubscribers(t, s, 1)

		// Refused inside the transaction, after the row was locked.
		if r := s.gql(t, ada, `mutation($id: ID!) { updateFileTags(id: $id, add: ["ok", "uploaded"]) { id } }`,
			map[string]any{"id": id}); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("system tag: %+v", r.Errors)
		}
		if r := s.gql(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": bobs}); r.code() != "NOT_FOUND" {
			t.Fatalf("deleting bob's file: %+v", r.Errors)
		}
		s.tag(t, bob, bobs, "bobs")
		s.tag(t, ada, id, "marker")
		if got := w.expectEvent(`"UPDATED"`, id, `"marker"`); strings.Contains(got, `"ok"`) {
			t.Fatalf("a rolled-back tag shows: %s", got)
		}
	})
}

func TestFileEventsNeedAuthentication(t *testing.T) {
	s := eventsServer(t, dbtest.SQLite(t))
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			w, err := dialWS(t, s, proto, map[string]any{})
			if err != nil {
				t.Fatal(err)
			}
			w.subscribe("1", eventsQuery)
			got, err := w.next(10 * time.Second)
			if err != nil || !strings.Contains(got, "UNAUTHENTICATED") {
				t.Fatalf("anonymous subscription: %s %v", got, err)
			}
		})
	}
}

// lineageOf narrows the stream to the files connected to one file, and
// follows files derived later.
func TestFileEventsLineageOf(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := eventsServer(t, db)
		ada, bob := s.register(t, "ada").AccessToken, s.register(t, "bob").AccessToken
		root := s.uploadOK(t, ada, "root.csv", "a,b\n1,2\n")
		child := s.derive(t, ada, root, "child.csv")
		other := s.uploadOK(t, ada, "other.csv", "a\n1\n")

		wb := mustDial(t, s, "graphql-transport-ws", bob)
		wb.subscribe("1", `subscription { fileEvents(lineageOf: "`+child+`") { type } }`)
		if got, err := wb.next(10 * time.Second); err != nil || !strings.Contains(got, "NOT_FOUND") {
			t.Fatalf("lineage of someone else's file: %s %v", got, err)
		}

		w := mustDial(t, s, "graphql-ws", ada)
		w.subscribe("1", `subscription { fileEvents(lineageOf: "`+child+`") { type file { name } } }`)
		waitSubscribers(t, s, 1)
		s.tag(t, ada, other, "x")                     // unrelated
		s.derive(t, ada, root, "sibling.csv")         // the root's other child: not connected to child
		grand := s.derive(t, ada, child, "grand.csv") // a new descendant
		s.tag(t, ada, grand, "x")
		s.tag(t, ada, root, "x") // an ancestor
		s.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": other}, nil)
		s.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": child}, nil)
		w.expectEvent(`"CREATED"`, "grand.csv")
		w.expectEvent(`"UPDATED"`, "grand.csv")
		w.expectEvent(`"UPDATED"`, "root.csv")
		w.expectEvent(`"DELETED"`, "child.csv")
	})
}

// Two servers on one PostgreSQL database each deliver the events caused
// through the other, over both protocols.
func TestFileEventsAcrossReplicas(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a, b := eventsServer(t, db), eventsServer(t, db)
	ada := a.register(t, "ada").AccessToken
	bob := b.register(t, "bob").AccessToken
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			wa, wb := mustDial(t, a, proto, ada), mustDial(t, b, proto, ada)
			bobOnA := mustDial(t, a, proto, bob)
			wa.subscribe("1", eventsQuery)
			wb.subscribe("1", eventsQuery)
			bobOnA.subscribe("1", eventsQuery)
			waitSubscribers(t, a, 2)
			waitSubscribers(t, b, 1)

			id := b.uploadOK(t, ada, proto+".csv", "a\n1\n")
			wa.expectEvent(`"CREATED"`, proto+".csv")
			wb.expectEvent(`"CREATED"`, proto+".csv")
			a.tag(t, ada, id, "from-a")
			wa.expectEvent(`"UPDATED"`, `"from-a"`)
			wb.expectEvent(`"UPDATED"`, `"from-a"`)
			b.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": id}, nil)
			wa.expectEvent(`"DELETED"`, id)
			wb.expectEvent(`"DELETED"`, id)

			// Bob, on A, heard nothing of Ada's files; his own arrive.
			mine := b.uploadOK(t, bob, "bob-"+proto+".csv", "b\n1\n")
			bobOnA.expectEvent(`"CREATED"`, mine)
		})
	}
}

func listenerPID(t *testing.T, db *database.DB, channel string) int {
	t.Helper()
	var pids []int
	if err := db.NewRaw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = ?`,
		"LISTEN "+strconv.Quote(channel)).Scan(context.Background(), &pids); err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 {
		t.Fatalf("%d backends listen on %q", len(pids), channel)
	}
	return pids[0]
}

// Killing the listener's connection does not end subscriptions: the server
// reconnects, finds that nothing was published meanwhile, and carries on.
func TestFileEventsSurviveListenerReconnect(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := eventsServer(t, db)
	pid := listenerPID(t, db, a.app.Events.Channel()) // before b listens too
	b := eventsServer(t, db)
	testwait.Until(t, "the servers to know each other", func() bool { return a.app.Events.Stats().Peers == 1 })
	ada := a.register(t, "ada").AccessToken
	w := mustDial(t, a, "graphql-transport-ws", ada)
	w.subscribe("1", eventsQuery)
	waitSubscribers(t, a, 1)

	if _, err := db.ExecContext(context.Background(), "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, "the listener to recover", func() bool { return a.app.Events.Stats().Recovered == 1 })
	b.uploadOK(t, ada, "after.csv", "a\n1\n")
	w.expectEvent(`"CREATED"`, "after.csv")
	if st := a.app.Events.Stats(); st.Resyncs != 0 || st.Reconnects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// When events may have been lost between replicas, subscriptions end with
// a RESYNC error; subscribing again works.
func TestFileEventsResync(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	s := eventsServer(t, db)
	ada := s.register(t, "ada").AccessToken
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) {
			w := mustDial(t, s, proto, ada)
			w.subscribe("1", eventsQuery)
			waitSubscribers(t, s, 1)
			// A replica whose second event never arrived.
			ch, peer := s.app.Events.Channel(), "peer-"+proto
			for _, p := range []string{
				`{"k":"h","i":"` + peer + `","s":0}`,
				`{"k":"e","i":"` + peer + `","s":2,"e":[{"s":2,"t":"UPDATED","o":1,"f":"00000000-0000-0000-0000-000000000000"}]}`,
			} {
				if _, err := db.ExecContext(context.Background(), "SELECT pg_notify(?, ?)", ch, p); err != nil {
					t.Fatal(err)
				}
			}
			if got := w.expectError(); !strings.Contains(got, `"RESYNC"`) {
				t.Fatalf("error %s, want code RESYNC", got)
			}
			w.subscribe("2", eventsQuery)
			waitSubscribers(t, s, 1)
			s.uploadOK(t, ada, "again-"+proto+".csv", "a\n1\n")
			w.expectEvent(`"CREATED"`, "again-"+proto+".csv")
		})
	}
}

// A client that stops reading is closed with a clear reason once its
// queue overflows, while publishers and a client that keeps up carry on.
func TestFileEventsSlowConsumer(t *testing.T) {
	s := eventsServer(t, dbtest.SQLite(t))
	ada := s.register(t, "ada").AccessToken
	parent := s.uploadOK(t, ada, "parent.csv", "a\n1\n")
	// Big events make the slow client's buffers fill quickly.
	r := s.upload(t, ada, `mutation($f: Upload!, $p: [ID!]!, $m: JSON) { saveGeneratedFile(file: $f, name: "big.csv", parentIds: $p, metadata: $m) { id } }`,
		map[string]any{"p": []string{parent}, "m": map[string]any{"blob": strings.Repeat("x", 60_000)}}, "f", "big.csv", "a\n1\n")
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	var d struct{ SaveGeneratedFile struct{ ID string } }
	json.Unmarshal(r.Data, &d)
	id := d.SaveGeneratedFile.ID

	const query = `subscription { fileEvents { type file { userTags metadata } } }`
	fast := mustDial(t, s, "graphql-transport-ws", ada)
	fast.c.SetReadLimit(-1)
	fast.subscribe("1", query)
	slow := dialSmallBuffer(t, s, ada)
	slow.subscribe("1", query)
	waitSubscribers(t, s, 2)

	const n = 150
	start := time.Now()
	for i := 0; i < n; i++ {
		s.ok(t, ada, `mutation($id: ID!, $t: [String!]) { updateFileTags(id: $id, set: $t) { id } }`,
			map[string]any{"id": id, "t": []string{fmt.Sprint("v", i)}}, nil)
		fast.expectEvent(fmt.Sprintf(`"v%d"`, i))
	}

	t.Logf("flood took %s", time.Since(start))
	got := 0
	for {
		m, err := slow.read(30 * time.Second)
		if err != nil {
			var ce coderws.CloseError
			if !errors.As(err, &ce) || ce.Code != wsconn.CloseSlowConsumer || !strings.HasPrefix(ce.Reason, "slow consumer") {
				t.Fatalf("slow client ended with %v after %d events, want close %d \"slow consumer...\"", err, got, wsconn.CloseSlowConsumer)
			}
			break
		}
		if m.Type == "next" {
			got++
		}
	}
	if got >= n {
		t.Fatalf("slow client received all %d events", got)
	}
	t.Logf("slow client received %d of %d events before being closed", got, n)
}

// dialSmallBuffer connects with a tiny socket receive buffer, so a client
// that does not read backs up to the server quickly.
func dialSmallBuffer(t *testing.T, s *server, tok string) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Set before connecting, so the window advertised from the start is small.
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	w := &wsClient{t: t, c: c, proto: "graphql-transport-ws"}
	p, _ := json.Marshal(bearer(tok))
	w.send(wsMsg{Type: "connection_init", Payload: p})
	if m, err := w.read(10 * time.Second); err != nil || m.Type != "connection_ack" {
		t.Fatalf("init: %+v %v", m, err)
	}
	return w
}

// Each event is answered afresh: what a subscription read for one event
// (here the children of a file) is not served again, stale, for the next.
func TestFileEventsReadEachEventAfresh(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := eventsServer(t, db)
		ada := s.register(t, "ada").AccessToken
		parent := s.uploadOK(t, ada, "p.csv", "a\n1\n")
		w := mustDial(t, s, "graphql-transport-ws", ada)
		w.subscribe("1", `subscription { fileEvents { type file { id children { name } } } }`)
		waitSubscribers(t, s, 1)

		s.tag(t, ada, parent, "first")
		if got := w.expectEvent(`"UPDATED"`, parent); strings.Contains(got, "c.csv") {
			t.Fatalf("a child before there is one: %s", got)
		}
		s.derive(t, ada, parent, "c.csv")
		w.expectEvent(`"CREATED"`)
		s.tag(t, ada, parent, "second")
		w.expectEvent(`"UPDATED"`, parent, `"c.csv"`)
	})
}
