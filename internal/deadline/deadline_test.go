package deadline

import (
	"context"
	"errors"
	"testing"
	"time"
)

const short = 30 * time.Millisecond

type otherKey struct{}

// wait fails the test unless ctx is done within a second.
func wait(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("the context did not end")
	}
}

func TestEndsAtTheDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		// end waits until the context has ended and returns what ended it.
		end func(t *testing.T, ctx context.Context) context.Context
	}{
		{"Done", func(t *testing.T, ctx context.Context) context.Context { wait(t, ctx); return ctx }},
		{"Err without waiting", func(t *testing.T, ctx context.Context) context.Context {
			if err := ctx.Err(); err != nil {
				t.Fatalf("Err before the deadline = %v", err)
			}
			time.Sleep(2 * short)
			return ctx
		}},
		{"Cause without waiting", func(t *testing.T, ctx context.Context) context.Context {
			time.Sleep(2 * short)
			if err := context.Cause(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Cause past the deadline = %v", err)
			}
			return ctx
		}},
		{"a derived context", func(t *testing.T, ctx context.Context) context.Context {
			child, cancel := context.WithCancel(ctx)
			t.Cleanup(cancel)
			wait(t, child)
			if err := child.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("child's Err = %v", err)
			}
			return ctx
		}},
		{"a derived context with a value", func(t *testing.T, ctx context.Context) context.Context {
			child, cancel := context.WithTimeout(context.WithValue(ctx, t, 1), time.Hour)
			t.Cleanup(cancel)
			wait(t, child)
			if err := context.Cause(child); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("child's Cause = %v", err)
			}
			return ctx
		}},
		{"AfterFunc", func(t *testing.T, ctx context.Context) context.Context {
			ran := make(chan struct{})
			context.AfterFunc(ctx, func() { close(ran) })
			select {
			case <-ran:
			case <-time.After(time.Second):
				t.Fatal("AfterFunc did not run")
			}
			return ctx
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			ctx, cancel := WithTimeout(context.Background(), short)
			defer cancel()
			tc.end(t, ctx)
			if took := time.Since(start); took < short {
				t.Fatalf("ended after %v, before the deadline of %v", took, short)
			}
			for i := 0; i < 2; i++ { // and stays ended, the same way, even once released
				if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Err = %v, want the deadline", err)
				}
				if err := context.Cause(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Cause = %v, want the deadline", err)
				}
				select {
				case <-ctx.Done():
				default:
					t.Fatal("Done is open past the deadline")
				}
				cancel()
			}
		})
	}
}

func TestFollowsItsParent(t *testing.T) {
	cause := errors.New("client gone")
	for _, armFirst := range []bool{false, true} {
		parent, stop := context.WithCancelCause(context.Background())
		ctx, cancel := WithTimeout(context.WithValue(parent, t, "v"), time.Hour)
		if armFirst {
			_ = ctx.Done()
		}
		if err := ctx.Err(); err != nil {
			t.Fatalf("armed first %v: Err before anything ended = %v", armFirst, err)
		}
		stop(cause)
		if !armFirst {
			if err := ctx.Err(); !errors.Is(err, context.Canceled) {
				t.Fatalf("Err after the parent ended = %v", err)
			}
		}
		wait(t, ctx)
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("armed first %v: Err = %v", armFirst, err)
		}
		if err := context.Cause(ctx); !errors.Is(err, cause) {
			t.Fatalf("armed first %v: Cause = %v", armFirst, err)
		}
		if v := ctx.Value(t); v != "v" {
			t.Fatalf("armed first %v: Value = %v", armFirst, v)
		}
		cancel()
	}
}

func TestReleased(t *testing.T) {
	for _, armFirst := range []bool{false, true} {
		ctx, cancel := WithTimeout(context.Background(), time.Hour)
		if armFirst {
			_ = ctx.Done()
		}
		cancel()
		if err := ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("armed first %v: Err after release = %v", armFirst, err)
		}
		wait(t, ctx)
		child, stop := context.WithCancel(ctx)
		wait(t, child)
		stop()
	}
}

func TestIsLazy(t *testing.T) {
	d := time.Now().Add(time.Hour)
	ctx, cancel := WithDeadline(context.WithValue(context.Background(), t, 1), d)
	defer cancel()
	if got, ok := ctx.Deadline(); !ok || !got.Equal(d) {
		t.Fatalf("Deadline = %v, %v; want %v", got, ok, d)
	}
	if ctx.Err() != nil || ctx.Value(t) != 1 || context.WithValue(ctx, otherKey{}, 2).Value(t) != 1 {
		t.Fatal("the context lost its parent's values or ended early")
	}
	if ctx.(*lazy).armed.Load() != nil {
		t.Fatal("Deadline, Err or Value armed the timer")
	}
	_ = ctx.Done()
	if ctx.(*lazy).armed.Load() == nil {
		t.Fatal("Done did not arm the timer")
	}
}

func TestParentEndsFirst(t *testing.T) {
	parent, stop := context.WithTimeout(context.Background(), short)
	defer stop()
	ctx, cancel := WithTimeout(parent, time.Hour)
	defer cancel()
	if got, _ := ctx.Deadline(); !got.Before(time.Now().Add(time.Minute)) {
		t.Fatalf("Deadline = %v, later than the parent's", got)
	}
	wait(t, ctx)
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err = %v", err)
	}
}
