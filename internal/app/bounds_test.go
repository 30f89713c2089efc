package app

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
)

// TestRequestContextEndsAtTheTimeout holds the deadline bounds puts on a
// request to REQUEST_TIMEOUT, however the handler looks at its context:
// waiting on it, deriving one of its own (as a database query does), or
// only asking for its error. Once the request is answered, its context has
// ended too.
func TestRequestContextEndsAtTheTimeout(t *testing.T) {
	const timeout = 60 * time.Millisecond
	a := &App{Config: config.Config{RequestTimeout: timeout, MaxRequestBody: 1 << 20}}
	for _, tc := range []struct {
		name string
		body string
		// end returns the error that ended the handler's work.
		end func(ctx context.Context) error
	}{
		{"waiting", "", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{"waiting, with a body", `{"query":"{ me { id } }"}`, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		{"a derived context", "", func(ctx context.Context) error {
			q, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			<-q.Done()
			return q.Err()
		}},
		{"asking", "", func(ctx context.Context) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			time.Sleep(2 * timeout)
			return ctx.Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			var kept context.Context
			var took time.Duration
			h := a.bounds(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				if d, ok := ctx.Deadline(); !ok || time.Until(d) > timeout {
					t.Errorf("deadline %v, %v; want within %v", d, ok, timeout)
				}
				start := time.Now()
				err = tc.end(ctx)
				took = time.Since(start)
				kept = ctx
			}))
			method, body := http.MethodGet, http.NoBody
			if tc.body != "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/graphql", body)
			if tc.body != "" {
				req = httptest.NewRequest(method, "/graphql", strings.NewReader(tc.body))
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("the work ended with %v, want the deadline", err)
			}
			if took > time.Second {
				t.Fatalf("the work ended after %v", took)
			}
			if kept.Err() == nil {
				t.Fatal("the request's context outlived its answer")
			}
		})
	}
}

// TestAnsweredRequestContextEnds: a request answered before its deadline
// leaves a context that has ended, for whatever outlives the answer.
func TestAnsweredRequestContextEnds(t *testing.T) {
	a := &App{Config: config.Config{RequestTimeout: time.Hour}}
	var kept context.Context
	a.bounds(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		if err := r.Context().Err(); err != nil {
			t.Errorf("Err during the request = %v", err)
		}
		kept = r.Context()
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/graphql", nil))
	if err := kept.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err after the answer = %v, want Canceled", err)
	}
	select {
	case <-kept.Done():
	case <-time.After(time.Second):
		t.Fatal("Done is open after the answer")
	}
}
