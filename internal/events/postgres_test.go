package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/testwait"
)

func newPG(t *testing.T, db *database.DB, opts PostgresOptions) *Broker {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := NewPostgres(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// listenerPIDs returns the backends listening on channel.
func listenerPIDs(t *testing.T, db *database.DB, channel string) []int {
	t.Helper()
	var pids []int
	err := db.NewRaw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = ?`,
		"LISTEN "+strconv.Quote(channel)).Scan(context.Background(), &pids)
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// onlyListener returns the one backend listening on channel.
func onlyListener(t *testing.T, db *database.DB, channel string) int {
	t.Helper()
	pids := listenerPIDs(t, db, channel)
	if len(pids) != 1 {
		t.Fatalf("%d backends listen on %s, want 1", len(pids), channel)
	}
	return pids[0]
}

func terminate(t *testing.T, db *database.DB, pid int) {
	t.Helper()
	var ok bool
	if err := db.NewRaw("SELECT pg_terminate_backend(?)", pid).Scan(context.Background(), &ok); err != nil || !ok {
		t.Fatalf("terminate backend %d: %v %v", pid, ok, err)
	}
}

func notify(t *testing.T, db *database.DB, channel, payload string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), "SELECT pg_notify(?, ?)", channel, payload); err != nil {
		t.Fatal(err)
	}
}

// await polls a condition that another goroutine will make true.

func recv(t *testing.T, s *Subscription) files.Event {
	t.Helper()
	select {
	case d, ok := <-s.C:
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return d.Event
	case <-time.After(30 * time.Second):
		t.Fatal("no event")
	}
	return files.Event{}
}

// ended waits for s to end and returns why, failing on any event first.
func ended(t *testing.T, s *Subscription) error {
	t.Helper()
	select {
	case e, ok := <-s.C:
		if ok {
			t.Fatalf("got %+v, want the subscription to end", e)
		}
		return s.Err()
	case <-time.After(30 * time.Second):
		t.Fatal("subscription still open")
	}
	return nil
}

func TestNewPostgresNeedsPostgres(t *testing.T) {
	if _, err := NewPostgres(context.Background(), dbtest.SQLite(t), PostgresOptions{}); err == nil {
		t.Fatal("NewPostgres accepted SQLite")
	}
}

// Two brokers on one database stand for two replicas.
func TestPostgresRelaysBetweenReplicas(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a, b := newPG(t, db, PostgresOptions{}), newPG(t, db, PostgresOptions{})
	if a.Channel() == "" || a.Channel() != b.Channel() {
		t.Fatalf("channels %q and %q", a.Channel(), b.Channel())
	}
	onA, onB, otherOnA := a.Subscribe(1), b.Subscribe(1), a.Subscribe(2)
	b.Publish(ev(1, "x"))
	if e := recv(t, onA); e != ev(1, "x") {
		t.Fatalf("A got %+v", e)
	}
	if e := recv(t, onB); e != ev(1, "x") {
		t.Fatalf("B got %+v", e)
	}
	a.Publish(ev(2, "y"))
	if e := recv(t, otherOnA); e != ev(2, "y") {
		t.Fatalf("A's owner 2 got %+v", e)
	}
	// In order, each once: B hears its own notifications but does not
	// deliver them again.
	for i := 0; i < 50; i++ {
		b.Publish(ev(1, fmt.Sprint(i)))
	}
	for i := 0; i < 50; i++ {
		if e := recv(t, onA); e.FileID != fmt.Sprint(i) {
			t.Fatalf("A got %+v, want event %d", e, i)
		}
		if e := recv(t, onB); e.FileID != fmt.Sprint(i) {
			t.Fatalf("B got %+v, want event %d", e, i)
		}
	}
	select {
	case e := <-otherOnA.C:
		t.Fatalf("owner 2 got owner 1's %+v", e)
	default:
	}
	for _, br := range []*Broker{a, b} {
		// Each hears of the other through its events or heartbeats.
		testwait.Until(t, "the replicas to know each other", func() bool { return br.Stats().Peers == 1 })
		if st := br.Stats(); st.Resyncs != 0 || !st.Listening {
			t.Fatalf("stats %+v", st)
		}
	}
}

// A listener whose connection is killed reconnects by itself; when the
// other replica reports that it published nothing meanwhile, subscriptions
// carry on.
func TestPostgresListenerRecovers(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{})
	pid := onlyListener(t, db, a.Channel())
	b := newPG(t, db, PostgresOptions{})
	testwait.Until(t, "A to know B", func() bool { return a.Stats().Peers == 1 })
	sub := a.Subscribe(1)
	b.Publish(ev(1, "before"))
	if e := recv(t, sub); e.FileID != "before" {
		t.Fatalf("got %+v", e)
	}

	terminate(t, db, pid)
	testwait.Until(t, "A to recover", func() bool { return a.Stats().Recovered == 1 })
	if pids := listenerPIDs(t, db, a.Channel()); len(pids) != 2 || pids[0] == pid || pids[1] == pid {
		t.Fatalf("listeners after reconnect: %v (old %d)", pids, pid)
	}
	b.Publish(ev(1, "after"))
	if e := recv(t, sub); e.FileID != "after" {
		t.Fatalf("got %+v", e)
	}
	if st := a.Stats(); st.Resyncs != 0 || st.Reconnects != 1 || !st.Listening {
		t.Fatalf("stats %+v", st)
	}
}

// An event published while the listener was down is lost to it: after the
// reconnect, the other replica's report shows the hole and subscriptions
// end with ErrResync.
func TestPostgresResyncAfterMissedEvent(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	hold := make(chan struct{})
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(hold) }) })
	var listens atomic.Int32
	a := newPG(t, db, PostgresOptions{beforeListen: func() {
		if listens.Add(1) == 2 {
			<-hold // keep the second connection back
		}
	}})
	pid := onlyListener(t, db, a.Channel())
	b := newPG(t, db, PostgresOptions{})
	testwait.Until(t, "A to know B", func() bool { return a.Stats().Peers == 1 })
	sub := a.Subscribe(1)

	terminate(t, db, pid)
	testwait.Until(t, "A to notice", func() bool { return !a.Stats().Listening })
	b.Publish(ev(1, "missed"))
	testwait.Until(t, "B to send", func() bool { return b.Stats().Sent == 1 })
	release.Do(func() { close(hold) })

	if err := ended(t, sub); !errors.Is(err, ErrResync) {
		t.Fatalf("ended with %v, want ErrResync", err)
	}
	testwait.Until(t, "A to listen again", func() bool { return a.Stats().Listening })
	if st := a.Stats(); st.Recovered != 0 || st.Resyncs != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Subscriptions made afterwards work normally.
	again := a.Subscribe(1)
	b.Publish(ev(1, "next"))
	if e := recv(t, again); e.FileID != "next" {
		t.Fatalf("got %+v", e)
	}
}

// A replica whose numbers jump (its NOTIFY failed, or its queue
// overflowed) makes the others resync.
func TestPostgresResyncOnHole(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{})
	sub := a.Subscribe(7)
	ch := a.Channel()
	notify(t, db, ch, `{"k":"h","i":"fake","s":0}`)
	notify(t, db, ch, `{"k":"e","i":"fake","s":1,"e":[{"s":1,"t":"UPDATED","o":7,"f":"f1"}]}`)
	if e := recv(t, sub); e != ev(7, "f1") {
		t.Fatalf("got %+v", e)
	}
	notify(t, db, ch, `not json`) // ignored
	notify(t, db, ch, `{"k":"e","i":"fake","s":3,"e":[{"s":3,"t":"UPDATED","o":7,"f":"f3"}]}`)
	if err := ended(t, sub); !errors.Is(err, ErrResync) {
		t.Fatalf("ended with %v, want ErrResync", err)
	}
}

// A replica that does not report after a reconnect may have published
// meanwhile and died: resync rather than hope.
func TestPostgresResyncWhenPeerSilent(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	// The fake peer stays "active" for three heartbeats after it spoke,
	// which is the window for the reconnect to start.
	a := newPG(t, db, PostgresOptions{Heartbeat: 2 * time.Second, SyncTimeout: time.Second})
	pid := onlyListener(t, db, a.Channel())
	sub := a.Subscribe(1)
	notify(t, db, a.Channel(), `{"k":"h","i":"fake","s":0}`)
	testwait.Until(t, "A to know the peer", func() bool { return a.Stats().Peers == 1 })
	terminate(t, db, pid)
	if err := ended(t, sub); !errors.Is(err, ErrResync) {
		t.Fatalf("ended with %v, want ErrResync", err)
	}
	if st := a.Stats(); st.Recovered != 0 || st.Reconnects != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A replica that shut down cleanly said goodbye, so a later reconnect does
// not wait for it or resync because of it.
func TestPostgresByeForgetsReplica(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{})
	pid := onlyListener(t, db, a.Channel())
	b := newPG(t, db, PostgresOptions{})
	testwait.Until(t, "A to know B", func() bool { return a.Stats().Peers == 1 })
	b.Publish(ev(1, "x"))
	b.Close()
	testwait.Until(t, "A to forget B", func() bool { return a.Stats().Peers == 0 })
	sub := a.Subscribe(1)
	terminate(t, db, pid)
	testwait.Until(t, "A to recover", func() bool { return a.Stats().Recovered == 1 })
	select {
	case e, ok := <-sub.C:
		t.Fatalf("subscription got %+v (open %v, err %v)", e, ok, sub.Err())
	default:
	}
}

// A replica killed between a commit and its NOTIFY leaves no hole in its
// numbers: the event is simply never sent. Its silence (no heartbeat, no
// bye) is what tells the others, whose subscriptions then end with
// ErrResync instead of staying open on a stream that missed a change.
func TestPostgresResyncWhenPeerDiesWithoutBye(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{Heartbeat: 500 * time.Millisecond})
	sub := a.Subscribe(7)
	ch := a.Channel()
	// The peer announces one event, then dies before announcing its next.
	notify(t, db, ch, `{"k":"h","i":"doomed","s":0}`)
	notify(t, db, ch, `{"k":"e","i":"doomed","s":1,"e":[{"s":1,"t":"UPDATED","o":7,"f":"f1"}]}`)
	if e := recv(t, sub); e != ev(7, "f1") {
		t.Fatalf("got %+v", e)
	}
	if err := ended(t, sub); !errors.Is(err, ErrResync) {
		t.Fatalf("ended with %v, want ErrResync", err)
	}
}
