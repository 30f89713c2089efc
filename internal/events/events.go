// Package events fans committed file changes out to subscribers.
//
// A Broker delivers to the subscriptions of this process. Built with
// NewBroker that is all it does, which is enough for one process over
// SQLite. Built with NewPostgres it also relays events through PostgreSQL
// LISTEN/NOTIFY, so replicas sharing one database deliver each other's
// events: the transaction that makes a change announces it (Announce), so
// a change that commits is announced even if its process dies at once;
// see postgres.go for how a listener notices events it may have missed.
//
// Publishing never blocks: each subscription has a bounded buffer, and one
// that falls too far behind is ended with ErrResync instead of slowing the
// publisher or the other subscribers.
package events

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/files"
)

// Buffer is how many undelivered events a subscription may hold before it
// is ended as lagging. Events are small (ids only), so the buffer is cheap,
// and 64 absorbs the burst of a bulk upload while the reader loads files.
const Buffer = 64

// ErrResync ends a subscription that may have missed events: the reader fell
// too far behind, or the relay between replicas lost events. The subscriber
// should refetch what it shows and subscribe again. Errors returned by
// Subscription.Err wrap it with the reason.
var ErrResync = errors.New("events may have been missed; refetch and subscribe again")

// ErrClosed ends the subscriptions of a broker that is shutting down. It
// wraps ErrResync: the client should subscribe again (through another
// replica), and what happens meanwhile it cannot hear.
var ErrClosed = fmt.Errorf("the server is shutting down: %w", ErrResync)

var errLagged = fmt.Errorf("subscriber fell more than %d events behind: %w", Buffer, ErrResync)

// Broker is a publish/subscribe hub keyed by owner. The zero value is not
// usable; call NewBroker or NewPostgres.
type Broker struct {
	mu     sync.Mutex
	subs   map[int64]map[*Subscription]struct{}
	n      int
	seq    uint64
	closed bool

	// Shared reads, see Load.
	lmu     sync.Mutex
	loads   map[loadKey]*load
	recent  [keepLoads]loadKey
	nextOld int

	relay *pgRelay // nil for an in-process broker

	lagged  atomic.Int64
	resyncs atomic.Int64
}

// NewBroker returns an in-process broker: events reach the subscriptions of
// this process only.
func NewBroker() *Broker { return &Broker{subs: map[int64]map[*Subscription]struct{}{}} }

// Delivery is an event as handed to subscriptions. Seq numbers the
// deliveries of a broker: the subscriptions that receive the same event see
// the same Seq, which lets Load share one read among them.
type Delivery struct {
	files.Event
	Seq uint64
}

// Subscription receives the events of one owner on C until C is closed;
// Err then says why.
type Subscription struct {
	C     <-chan Delivery
	c     chan Delivery
	owner int64
	b     *Broker
	ended bool  // guarded by b.mu
	err   error // guarded by b.mu; why C was closed
}

// Subscribe starts receiving owner's events. The caller must Close the
// subscription when done with it.
func (b *Broker) Subscribe(owner int64) *Subscription {
	c := make(chan Delivery, Buffer)
	s := &Subscription{C: c, c: c, owner: owner, b: b}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.end(s, ErrClosed)
		return s
	}
	if b.subs[owner] == nil {
		b.subs[owner] = map[*Subscription]struct{}{}
	}
	b.subs[owner][s] = struct{}{}
	b.n++
	return s
}

// Close stops the subscription; it is safe to call more than once and
// concurrently with publishing.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	s.b.end(s, nil)
	s.b.mu.Unlock()
}

// Err reports why C was closed: nil after Close, an error wrapping
// ErrResync when events may have been missed, including ErrClosed when the
// broker shut down. It returns nil while the subscription is live.
func (s *Subscription) Err() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.err
}

// end removes s and closes its channel once; b.mu must be held.
func (b *Broker) end(s *Subscription, err error) {
	if s.ended {
		return
	}
	s.ended, s.err = true, err
	if m := b.subs[s.owner]; m != nil {
		if _, ok := m[s]; ok {
			delete(m, s)
			b.n--
			if len(m) == 0 {
				delete(b.subs, s.owner)
			}
		}
	}
	close(s.c)
}

// Publish delivers ev to this process's subscriptions of its owner without
// waiting. The files service calls it after the change committed. Other
// replicas hear of the change from the change's own transaction, which
// must have passed it to Announce: Publish sends nothing between
// processes.
func (b *Broker) Publish(ev files.Event) {
	b.deliver(ev)
}

// Announce records evs in db, the transaction that makes the change they
// describe, as its last statement: the other replicas deliver them when,
// and only if, that transaction commits (see postgres.go). A broker for
// one process has no one to tell. An error fails the change, as any
// failed statement of its transaction does.
func (b *Broker) Announce(ctx context.Context, db bun.IDB, evs ...files.Event) error {
	if b.relay == nil {
		return nil
	}
	return b.relay.announce(ctx, db, evs...)
}

// Uncertain is told of a change whose COMMIT went unanswered, so that
// nobody knows whether ev happened: the other replicas deliver it if it
// did, but this process cannot, so it ends its subscriptions of the owner
// with ErrResync and their clients refetch.
func (b *Broker) Uncertain(ev files.Event) {
	b.resyncs.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[ev.OwnerID] {
		b.end(s, errUncertain)
	}
}

var errUncertain = fmt.Errorf("a change's commit went unanswered, so whether it happened is unknown: %w", ErrResync)

// deliver hands ev to this process's subscriptions of its owner. A full
// buffer ends that subscription rather than waiting for its reader.
func (b *Broker) deliver(ev files.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	d := Delivery{Event: ev, Seq: b.seq}
	for s := range b.subs[ev.OwnerID] {
		select {
		case s.c <- d:
		default:
			b.lagged.Add(1)
			b.end(s, errLagged)
		}
	}
}

// keepLoads is how many recent deliveries keep their shared read, so that a
// subscriber a little behind the others still finds it.
const keepLoads = 256

// loadTimeout bounds a shared read, which runs detached from its callers.
const loadTimeout = 30 * time.Second

type loadKey struct {
	seq   uint64
	owner int64
}

type load struct {
	done chan struct{}
	f    *files.File
	err  error
}

// Load returns read's result for d, calling read once for all the
// subscriptions that received d: a fan-out to a thousand subscriptions of
// one user reads the file once, not a thousand times. The result is shared,
// so read must depend on nothing but d (it runs with the owner's
// permissions, which every subscription receiving d shares) and callers
// must not modify the file. read runs detached from ctx's cancellation, so
// one subscriber leaving does not fail the others; ctx still bounds the
// wait.
func (b *Broker) Load(ctx context.Context, d Delivery, read func(context.Context) (*files.File, error)) (*files.File, error) {
	key := loadKey{d.Seq, d.OwnerID}
	b.lmu.Lock()
	if b.loads == nil {
		b.loads = map[loadKey]*load{}
	}
	l, found := b.loads[key]
	if !found {
		l = &load{done: make(chan struct{})}
		b.loads[key] = l
		delete(b.loads, b.recent[b.nextOld])
		b.recent[b.nextOld] = key
		b.nextOld = (b.nextOld + 1) % keepLoads
	}
	b.lmu.Unlock()
	if !found {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		l.f, l.err = read(rctx)
		cancel()
		close(l.done)
	}
	select {
	case <-l.done:
		return l.f, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// resyncAll ends every live subscription with cause, which wraps
// ErrResync: used when events may have been lost without knowing whose.
func (b *Broker) resyncAll(cause error) {
	b.resyncs.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.subs {
		for s := range m {
			b.end(s, cause)
		}
	}
}

// Count returns the number of live subscriptions.
func (b *Broker) Count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// Close stops the relay, if any, and ends every subscription with
// ErrClosed. Publishing after Close still reaches nobody, harmlessly.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	if b.relay != nil {
		b.relay.close()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.subs {
		for s := range m {
			b.end(s, ErrClosed)
		}
	}
	return nil
}

// Channel is the PostgreSQL NOTIFY channel the broker relays through, or ""
// for an in-process broker. Operators and tests use it to find the
// listener's connection in pg_stat_activity.
func (b *Broker) Channel() string {
	if b.relay == nil {
		return ""
	}
	return b.relay.channel
}

// Stats is a snapshot of a broker's health, for tests and operators.
type Stats struct {
	// Subscribers is the number of live subscriptions.
	Subscribers int
	// Lagged counts subscriptions ended because their reader fell behind.
	Lagged int64
	// Resyncs counts the times subscriptions were ended with ErrResync
	// because events may have been lost: every subscription, when the
	// relay may have missed some, or one owner's, when a change's commit
	// went unanswered (Uncertain).
	Resyncs int64

	// The fields below are zero for an in-process broker.

	// Listening is true while the relay's listener connection is up and has
	// been seen to receive.
	Listening bool
	// Reconnects counts listener connections re-established after a loss.
	Reconnects int64
	// Recovered counts reconnects after which every other replica was
	// accounted for and nothing had been missed, so no resync was needed.
	Recovered int64
	// Checks counts the rounds in which the listener compared what it
	// heard with every replica's count in the database (after each
	// connection, and when a replica fell silent).
	Checks int64
	// Peers is the number of other replicas heard within three heartbeats.
	Peers int
	// Sent counts events this process announced in their transactions
	// (some of which may have rolled back since).
	Sent int64
	// SendFailures counts events whose announcement failed, which failed
	// their change too.
	SendFailures int64
}

// Stats returns current counters.
func (b *Broker) Stats() Stats {
	st := Stats{Subscribers: b.Count(), Lagged: b.lagged.Load(), Resyncs: b.resyncs.Load()}
	if r := b.relay; r != nil {
		r.stats(&st)
	}
	return st
}
