// Package deadline bounds a request's context by a deadline that costs
// nothing until something waits on it.
//
// context.WithDeadline arms a runtime timer and registers itself with its
// parent (a map made for its first child) at once, and undoes both when
// the request ends: about two microseconds for a request that never looks
// at its context, which most cheap answers (the caller's own fields, a
// cached refusal) never do. The context of this package makes the real
// one the first time anything needs it (Done, AfterFunc, a context derived
// with a cancel of its own, an Err or a Cause past the deadline), and from
// then on is that context: a database query, which always waits on Done,
// is bounded exactly as before.
package deadline

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// WithDeadline is context.WithDeadline(parent, d), with the timer armed
// only when something first waits on the context. As with the standard
// one, cancel releases it and must be called when the work is done; after
// that the context reads as cancelled (context.Canceled) whether or not
// anything had waited on it.
func WithDeadline(parent context.Context, d time.Time) (context.Context, context.CancelFunc) {
	if cur, ok := parent.Deadline(); ok && cur.Before(d) {
		// The parent ends first: nothing to gain.
		return context.WithDeadline(parent, d)
	}
	c := &lazy{parent: parent, deadline: d}
	return c, c.release
}

// WithTimeout is WithDeadline(parent, time.Now().Add(timeout)).
func WithTimeout(parent context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return WithDeadline(parent, time.Now().Add(timeout))
}

// lazy is the context WithDeadline returns.
type lazy struct {
	parent   context.Context
	deadline time.Time

	armed    atomic.Pointer[armedCtx] // set once, under mu
	released atomic.Bool
	mu       sync.Mutex
}

type armedCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// arm returns the real context, made on the first call: created after
// release, it is cancelled at once, as the standard one would be by then.
func (c *lazy) arm() context.Context {
	if a := c.armed.Load(); a != nil {
		return a.ctx
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.armed.Load(); a != nil {
		return a.ctx
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	if c.released.Load() {
		cancel()
	}
	c.armed.Store(&armedCtx{ctx: ctx, cancel: cancel})
	return ctx
}

func (c *lazy) release() {
	c.mu.Lock()
	c.released.Store(true)
	a := c.armed.Load()
	c.mu.Unlock()
	if a != nil {
		a.cancel()
	}
}

// Deadline implements context.Context without arming anything: the
// deadline is known from the start.
func (c *lazy) Deadline() (time.Time, bool) { return c.deadline, true }

// Done implements context.Context: waiting arms the deadline.
func (c *lazy) Done() <-chan struct{} { return c.arm().Done() }

// Err implements context.Context. Before anything has waited, it arms the
// deadline only once there is an error to report (past the deadline, the
// parent done, or the context released), so that the error is the real
// context's and stays the same from then on.
func (c *lazy) Err() error {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	if c.released.Load() || c.parent.Err() != nil || !time.Now().Before(c.deadline) {
		return c.arm().Err()
	}
	return nil
}

// Value implements context.Context. Values are the parent's; once armed,
// the real context answers, so that context.Cause and the context
// package's own bookkeeping (which looks itself up under a key of type
// *int) see it. Such a key arms the deadline: context.Cause asks before it
// may have waited, and must see the real context's cause.
func (c *lazy) Value(key any) any {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Value(key)
	}
	if _, internal := key.(*int); internal {
		return c.arm().Value(key)
	}
	return c.parent.Value(key)
}

// AfterFunc lets context.AfterFunc and contexts derived from this one
// follow it without a goroutine of their own.
func (c *lazy) AfterFunc(f func()) func() bool { return context.AfterFunc(c.arm(), f) }

// String names the context as the standard one does, for debugging.
func (c *lazy) String() string {
	return "deadline.WithDeadline(" + c.deadline.String() + " [" + time.Until(c.deadline).String() + "])"
}
