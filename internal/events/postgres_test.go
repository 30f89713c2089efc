package events

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

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

// publish announces ev on db as its own transaction and delivers it
// locally, as the files service does with a change.
func publish(t *testing.T, db *database.DB, b *Broker, ev files.Event) {
	t.Helper()
	if err := b.Announce(context.Background(), db, ev); err != nil {
		t.Fatal(err)
	}
	b.Publish(ev)
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
	publish(t, db, b, ev(1, "x"))
	if e := recv(t, onA); e != ev(1, "x") {
		t.Fatalf("A got %+v", e)
	}
	if e := recv(t, onB); e != ev(1, "x") {
		t.Fatalf("B got %+v", e)
	}
	publish(t, db, a, ev(2, "y"))
	if e := recv(t, otherOnA); e != ev(2, "y") {
		t.Fatalf("A's owner 2 got %+v", e)
	}
	// In order, each once: B hears its own notifications but does not
	// deliver them again.
	for i := 0; i < 50; i++ {
		publish(t, db, b, ev(1, fmt.Sprint(i)))
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
	publish(t, db, b, ev(1, "before"))
	if e := recv(t, sub); e.FileID != "before" {
		t.Fatalf("got %+v", e)
	}

	terminate(t, db, pid)
	testwait.Until(t, "A to recover", func() bool { return a.Stats().Recovered == 1 })
	if pids := listenerPIDs(t, db, a.Channel()); len(pids) != 2 || pids[0] == pid || pids[1] == pid {
		t.Fatalf("listeners after reconnect: %v (old %d)", pids, pid)
	}
	publish(t, db, b, ev(1, "after"))
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
	publish(t, db, b, ev(1, "missed"))
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
	publish(t, db, b, ev(1, "next"))
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

// A replica known before a disconnect whose row is gone after it left
// meanwhile (a bye the listener could not hear), and what it published
// before leaving can no longer be counted: resync rather than hope.
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
	publish(t, db, b, ev(1, "x"))
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

// A replica that falls silent without a bye makes the others check its
// count in the database against what they heard from it. A count ahead of
// it (here written directly, standing for any notification that went
// unheard) ends the subscriptions with ErrResync.
func TestPostgresResyncWhenPeerDiesWithoutBye(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{Heartbeat: 500 * time.Millisecond})
	sub := a.Subscribe(7)
	ch := a.Channel()
	exec(t, db, `INSERT INTO event_sources (instance, seq) VALUES ('doomed', 1)`)
	notify(t, db, ch, `{"k":"e","i":"doomed","s":1,"e":[{"t":"UPDATED","o":7,"f":"f1"}]}`)
	if e := recv(t, sub); e != ev(7, "f1") {
		t.Fatalf("got %+v", e)
	}
	exec(t, db, `UPDATE event_sources SET seq = 2 WHERE instance = 'doomed'`)
	if err := ended(t, sub); !errors.Is(err, ErrResync) {
		t.Fatalf("ended with %v, want ErrResync", err)
	}
}

// A replica killed right after a commit had announced it with the commit:
// its silence makes the others check, they find they heard everything, and
// their subscriptions carry on.
func TestPostgresSilentPeerWithNothingMissed(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{Heartbeat: 200 * time.Millisecond})
	sub := a.Subscribe(7)
	ch := a.Channel()
	// What Announce does, by a process that then dies without a bye.
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO event_sources (instance, seq) VALUES ('killed', 1)`,
		`SELECT pg_notify('` + ch + `', '{"k":"e","i":"killed","s":1,"e":[{"t":"UPDATED","o":7,"f":"f1"}]}')`,
	} {
		if _, err := tx.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, sub); e != ev(7, "f1") {
		t.Fatalf("got %+v", e)
	}
	checks := a.Stats().Checks
	testwait.Until(t, "A to notice the silence and check", func() bool {
		st := a.Stats()
		return st.Peers == 0 && st.Checks > checks
	})
	// A round after the silence: a later event still reaches the
	// subscription, which proves it was not ended.
	b := newPG(t, db, PostgresOptions{})
	publish(t, db, b, ev(7, "later"))
	if e := recv(t, sub); e != ev(7, "later") {
		t.Fatalf("got %+v", e)
	}
	if st := a.Stats(); st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A transaction that announced events and rolled back takes its numbers
// with it: the next one reuses them, and nobody resyncs.
func TestPostgresRollbackLeavesNoHole(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a := newPG(t, db, PostgresOptions{Heartbeat: 200 * time.Millisecond})
	b := newPG(t, db, PostgresOptions{Heartbeat: 200 * time.Millisecond})
	sub := a.Subscribe(1)
	for i := range 3 {
		err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
			if err := b.Announce(ctx, tx, ev(1, "rolled back")); err != nil {
				return err
			}
			return errors.New("changed its mind")
		})
		if err == nil {
			t.Fatal("the transaction committed")
		}
		publish(t, db, b, ev(1, fmt.Sprint("committed ", i)))
		if e := recv(t, sub); e != ev(1, fmt.Sprint("committed ", i)) {
			t.Fatalf("got %+v", e)
		}
	}
	if st := a.Stats(); st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// One process's transactions announcing at once are numbered in the order
// they commit, so a listener sees no hole; a transaction with many events
// is split into several notifications, numbered in turn.
func TestPostgresConcurrentAnnouncements(t *testing.T) {
	db := dbtest.PostgresOrSkip(t)
	a, b := newPG(t, db, PostgresOptions{}), newPG(t, db, PostgresOptions{})
	sub := a.Subscribe(1)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
				return b.Announce(ctx, tx, ev(1, fmt.Sprint("concurrent ", i)))
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for range 20 {
		seen[recv(t, sub).FileID] = true
	}
	// Long ids, so that fewer events than a subscription holds still
	// take several notifications.
	var many []files.Event
	for i := range 60 {
		many = append(many, ev(1, fmt.Sprintf("bulk %03d %s", i, strings.Repeat("x", 200))))
	}
	if n := len(encodeEvents("0123456789abcdef", many)); n < 2 {
		t.Fatalf("%d notifications for the bulk events", n)
	}
	if err := b.Announce(context.Background(), db, many...); err != nil {
		t.Fatal(err)
	}
	for i := range many {
		if e := recv(t, sub); e != many[i] {
			t.Fatalf("event %d: got %+v", i, e)
		}
	}
	if len(seen) != 20 {
		t.Fatalf("%d distinct events of 20", len(seen))
	}
	if st := a.Stats(); st.Resyncs != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A change whose COMMIT went unanswered may or may not have happened: this
// process's subscriptions of its owner end with ErrResync, the others'
// carry on.
func TestUncertainResyncsTheOwner(t *testing.T) {
	b := NewBroker()
	mine, other := b.Subscribe(1), b.Subscribe(2)
	b.Uncertain(ev(1, "x"))
	if err := ended(t, mine); !errors.Is(err, ErrResync) {
		t.Fatalf("ended with %v, want ErrResync", err)
	}
	b.Publish(ev(2, "y"))
	if e := recv(t, other); e != ev(2, "y") {
		t.Fatalf("got %+v", e)
	}
}

func exec(t *testing.T, db *database.DB, query string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query); err != nil {
		t.Fatal(err)
	}
}
