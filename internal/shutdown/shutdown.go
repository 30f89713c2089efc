// Package shutdown closes an HTTP server without losing a request that a
// client already sent.
//
// http.Server.Shutdown closes the listener, with whatever connections the
// kernel had accepted but the server had not, and every idle kept-alive
// connection, while clients may be writing their next request on any of
// them; and a request read after Shutdown began is dropped unanswered.
// Tracker.Close closes in another order:
//
//  1. Every answer says Connection: close (Tracker.Middleware), so each
//     client's connection ends after the answer to the request it is
//     sending.
//  2. The listener is closed when nothing waits in its accept queue and no
//     connection is idle (an idle one may be carrying a request the server
//     has not read yet). Where the platform allows (Linux with socket
//     filters) the listening socket first stops completing handshakes, so
//     the queue stays empty and a client retrying meets a closed port, a
//     refusal it can act on. Elsewhere a connection completed in the
//     microseconds between the last look at the queue and the close is
//     reset.
//  3. The connections left each get their answer and close (an idle one
//     may still carry a request); then http.Server.Shutdown lets anything
//     still running finish and closes what stayed idle.
//
// The waits end after a grace period, for clients that hold connections
// open without using them.
package shutdown

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker counts a server's open connections and, once closing, asks
// every client to close its connection after the answer.
type Tracker struct {
	open atomic.Int64
	idle atomic.Int64
	// idleSet holds the idle connections. A plain map under a mutex: each
	// request takes its connection out and puts it back, which a sync.Map
	// pays for with a new entry every time.
	mu      sync.Mutex
	idleSet map[net.Conn]struct{}
	closing atomic.Bool
}

// ConnState is the http.Server.ConnState hook.
func (t *Tracker) ConnState(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		t.open.Add(1)
	case http.StateIdle:
		t.mu.Lock()
		if _, was := t.idleSet[c]; !was {
			if t.idleSet == nil {
				t.idleSet = map[net.Conn]struct{}{}
			}
			t.idleSet[c] = struct{}{}
			t.idle.Add(1)
		}
		t.mu.Unlock()
		return
	case http.StateClosed, http.StateHijacked:
		t.open.Add(-1)
	}
	t.mu.Lock()
	if _, was := t.idleSet[c]; was {
		delete(t.idleSet, c)
		t.idle.Add(-1)
	}
	t.mu.Unlock()
}

// Open is the number of connections the server holds (hijacked ones, such
// as websockets, excluded).
func (t *Tracker) Open() int64 { return t.open.Load() }

// Middleware adds Connection: close to every answer once closing began.
func (t *Tracker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t.closing.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Close shuts srv down as the package comment describes: ln is the
// listener srv serves (srv.Serve then returns an error wrapping
// net.ErrClosed), grace bounds each wait for clients, ctx bounds the whole.
// It reports whether the listener could refuse new connections, then the
// first error met.
func (t *Tracker) Close(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) (refused bool, err error) {
	refused = refuse(ln) == nil
	t.closing.Store(true)
	wait := func(busy func() bool, every time.Duration) {
		deadline := time.Now().Add(grace)
		for busy() && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(every)
		}
	}
	wait(func() bool { return t.idle.Load() > 0 }, time.Millisecond)
	wait(func() bool { return queued(ln) > 0 }, 100*time.Microsecond)
	if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return refused, fmt.Errorf("close listener: %w", err)
	}
	// Every connection left either finishes its request and closes, or is
	// idle: one answered just before closing began, without Connection:
	// close, may carry its client's next request at any moment, so it is
	// given the grace period too. Shutdown closes what is still idle then.
	wait(func() bool { return t.Open() > 0 }, 5*time.Millisecond)
	// Shutdown closes the listeners srv still tracks; until srv.Serve has
	// seen ln closed and returned, that includes ln, closed above.
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		return refused, err
	}
	return refused, nil
}
