package blobstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/blobstore"
)

// A stream's deadline counts only the time spent in bucket calls: paused,
// it never ends the stream; running, it ends it with ErrTimeout.
func TestIdleCountsOnlyBucketCalls(t *testing.T) {
	ctx, idle := blobstore.NewIdle(context.Background(), 20*time.Millisecond)
	defer idle.Cancel()
	idle.Pause()
	time.Sleep(60 * time.Millisecond) // a slow client, between two calls
	if ctx.Err() != nil {
		t.Fatalf("paused deadline ended the stream: %v", context.Cause(ctx))
	}
	idle.Start() // a call that never returns
	<-ctx.Done()
	if !blobstore.TimedOut(ctx) {
		t.Fatalf("cause %v, want ErrTimeout", context.Cause(ctx))
	}
}

func TestCallTimesOut(t *testing.T) {
	ctx, cancel := blobstore.Call(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	if !blobstore.TimedOut(ctx) {
		t.Fatalf("cause %v, want ErrTimeout", context.Cause(ctx))
	}
	ctx, cancel = blobstore.Call(context.Background(), 0)
	cancel()
	if blobstore.TimedOut(ctx) {
		t.Fatal("a cancelled call is not a timeout")
	}
}
