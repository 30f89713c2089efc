// Package events fans file changes out to subscribers. Publishing never
// blocks: each subscriber has a bounded buffer, and one that falls too far
// behind is dropped with its channel closed, so a slow client cannot hold
// up publishers or other subscribers.
package events

import (
	"sync"

	"github.com/cutline/cutline/internal/files"
)

// Buffer is how many undelivered events a subscriber may have.
const Buffer = 64

// Broker is an in-process publish/subscribe hub keyed by owner.
type Broker struct {
	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}
}

// NewBroker returns an empty broker.
func NewBroker() *Broker { return &Broker{subs: map[int64]map[*Subscription]struct{}{}} }

// Subscription receives the events of one owner on C until closed.
type Subscription struct {
	C       <-chan files.Event
	c       chan files.Event
	owner   int64
	b       *Broker
	once    sync.Once
	Dropped bool // set when the broker gave up on a slow reader
}

// Subscribe starts receiving owner's events.
func (b *Broker) Subscribe(owner int64) *Subscription {
	c := make(chan files.Event, Buffer)
	s := &Subscription{C: c, c: c, owner: owner, b: b}
	b.mu.Lock()
	if b.subs[owner] == nil {
		b.subs[owner] = map[*Subscription]struct{}{}
	}
	b.subs[owner][s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close stops the subscription; it is safe to call more than once.
func (s *Subscription) Close() {
	s.b.mu.Lock()
	s.b.remove(s)
	s.b.mu.Unlock()
}

// remove must be called with b.mu held.
func (b *Broker) remove(s *Subscription) {
	s.once.Do(func() {
		delete(b.subs[s.owner], s)
		if len(b.subs[s.owner]) == 0 {
			delete(b.subs, s.owner)
		}
		close(s.c)
	})
}

// Publish delivers ev to the owner's subscribers without waiting.
func (b *Broker) Publish(ev files.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[ev.OwnerID] {
		select {
		case s.c <- ev:
		default:
			s.Dropped = true
			b.remove(s)
		}
	}
}

// Count returns the number of live subscriptions.
func (b *Broker) Count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, m := range b.subs {
		n += len(m)
	}
	return n
}
