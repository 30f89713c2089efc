package blobstore

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrTimeout is the cause of a bucket call's context when the bucket did
// not answer within its deadline (BLOB_TIMEOUT): a stopped or unreachable
// server hangs a call instead of failing it.
var ErrTimeout = errors.New("the bucket did not answer in time")

// Call bounds one bucket call that moves no stream (attributes, delete, a
// page of a listing, a small object read or written whole) by d; 0 leaves
// it to ctx.
func Call(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, ErrTimeout)
}

// TimedOut reports whether ctx (from Call or NewIdle) ended because the
// bucket did not answer in time.
func TimedOut(ctx context.Context) bool { return errors.Is(context.Cause(ctx), ErrTimeout) }

// Idle is the deadline of a stream, which may last as long as its bytes
// keep moving: each bucket call on it (a Read, a Write, the Close that
// finishes an upload) must return within d, while the time between calls,
// spent waiting for a client, does not count.
type Idle struct {
	d      time.Duration
	cancel context.CancelCauseFunc
	mu     sync.Mutex
	timer  *time.Timer
}

// NewIdle returns the context a stream is opened with and its deadline,
// running until the first Pause; d <= 0 sets none.
func NewIdle(ctx context.Context, d time.Duration) (context.Context, *Idle) {
	ctx, cancel := context.WithCancelCause(ctx)
	i := &Idle{d: d, cancel: cancel}
	if d > 0 {
		i.timer = time.AfterFunc(d, func() { cancel(ErrTimeout) })
	}
	return ctx, i
}

// Start gives the next bucket call on the stream d to return.
func (i *Idle) Start() {
	if i.timer != nil {
		i.mu.Lock()
		i.timer.Reset(i.d)
		i.mu.Unlock()
	}
}

// Pause stops the clock after a bucket call returned.
func (i *Idle) Pause() {
	if i.timer != nil {
		i.mu.Lock()
		i.timer.Stop()
		i.mu.Unlock()
	}
}

// Cancel ends the stream's context, which aborts an unfinished upload.
func (i *Idle) Cancel() {
	i.Pause()
	i.cancel(context.Canceled)
}
