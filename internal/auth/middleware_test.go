package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestMiddleware(t *testing.T) {
	db := dbtest.SQLite(t)
	s, clk := newTestService(t, db, nil)
	u := mustRegister(t, s, "mid", "correct horse battery")
	valid, _, err := s.issueAccess(u, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, _, _ := s.issueAccess(u, clk.Now().Add(-time.Hour))

	tests := []struct {
		name    string
		headers []string
		caller  bool
		tokErr  bool
	}{
		{"no header", nil, false, false},
		{"empty header", []string{""}, false, false},
		{"valid", []string{"Bearer " + valid}, true, false},
		{"scheme in lower case", []string{"bearer " + valid}, true, false},
		{"extra spaces", []string{"  Bearer   " + valid + " "}, true, false},
		{"expired", []string{"Bearer " + expired}, false, true},
		{"garbage token", []string{"Bearer nonsense"}, false, true},
		{"scheme only", []string{"Bearer"}, false, true},
		{"basic auth", []string{"Basic dXNlcjpwYXNz"}, false, true},
		{"token without scheme", []string{valid}, false, true},
		{"two headers", []string{"Bearer " + valid, "Bearer " + valid}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gotCtx context.Context
			h := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotCtx = r.Context()
				w.WriteHeader(http.StatusTeapot)
			}))
			req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
			for _, v := range tc.headers {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusTeapot || gotCtx == nil {
				t.Fatalf("middleware answered itself: %d", rec.Code)
			}
			c, ok := CallerFrom(gotCtx)
			if ok != tc.caller {
				t.Fatalf("caller = %v, %v; want present=%v", c, ok, tc.caller)
			}
			rc, rerr := RequireCaller(gotCtx)
			switch {
			case tc.caller:
				if c.UserID != u.ID || c.Username != "mid" || rc != c || rerr != nil || TokenError(gotCtx) != nil {
					t.Fatalf("caller = %+v, RequireCaller = %v, %v", c, rc, rerr)
				}
			case tc.tokErr:
				wantUnauth(t, TokenError(gotCtx), "invalid or expired token")
				wantUnauth(t, rerr, "invalid or expired token")
			default:
				if TokenError(gotCtx) != nil {
					t.Fatalf("TokenError = %v", TokenError(gotCtx))
				}
				wantUnauth(t, rerr, "authentication required")
			}
		})
	}
}

func TestAuthenticateInit(t *testing.T) {
	db := dbtest.SQLite(t)
	s, clk := newTestService(t, db, nil)
	u := mustRegister(t, s, "wsuser", "correct horse battery")
	valid, _, err := s.issueAccess(u, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		payload map[string]any
		caller  bool
		wantErr bool
	}{
		{"nil payload", nil, false, false},
		{"empty payload", map[string]any{}, false, false},
		{"unrelated keys", map[string]any{"foo": "bar"}, false, false},
		{"Authorization", map[string]any{"Authorization": "Bearer " + valid}, true, false},
		{"authorization lower case", map[string]any{"authorization": "bearer " + valid}, true, false},
		{"authToken", map[string]any{"authToken": valid}, true, false},
		{"AUTHTOKEN with Bearer", map[string]any{"AUTHTOKEN": "Bearer " + valid}, true, false},
		{"same token twice", map[string]any{"authToken": valid, "Authorization": "Bearer " + valid}, true, false},
		{"empty authToken", map[string]any{"authToken": ""}, false, false},
		{"null authToken", map[string]any{"authToken": nil}, false, false},
		{"bad token", map[string]any{"authToken": "nonsense"}, false, true},
		{"Authorization without scheme", map[string]any{"Authorization": valid}, false, true},
		{"not a string", map[string]any{"authToken": 42}, false, true},
		{"two different tokens", map[string]any{"authToken": valid, "Authorization": "Bearer other"}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := s.AuthenticateInit(context.Background(), tc.payload)
			if ctx == nil {
				t.Fatal("nil context")
			}
			c, ok := CallerFrom(ctx)
			if ok != tc.caller || (ok && (c.UserID != u.ID || c.Username != "wsuser")) {
				t.Fatalf("caller = %+v, %v", c, ok)
			}
			if tc.wantErr {
				wantUnauth(t, err, "invalid or expired token")
				wantUnauth(t, TokenError(ctx), "invalid or expired token")
			} else if err != nil || TokenError(ctx) != nil {
				t.Fatalf("err = %v, TokenError = %v", err, TokenError(ctx))
			}
		})
	}
}

func TestCallerContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := CallerFrom(ctx); ok {
		t.Fatal("caller in an empty context")
	}
	if got := WithCaller(ctx, nil); got != ctx {
		t.Fatal("WithCaller(nil) changed the context")
	}
	_, err := RequireCaller(ctx)
	wantUnauth(t, err, "authentication required")
	want := &Caller{UserID: 1, Username: "x"}
	got, err := RequireCaller(WithCaller(ctx, want))
	if err != nil || got != want {
		t.Fatalf("RequireCaller = %v, %v", got, err)
	}
	if !errors.Is(errBadToken, apperr.ErrUnauthenticated) {
		t.Fatal("errBadToken does not match ErrUnauthenticated")
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		remote, xff, want, key string
	}{
		{"192.0.2.1:1234", "", "192.0.2.1", "ip:192.0.2.1"},
		{"192.0.2.1:1234", "203.0.113.5", "192.0.2.1", "ip:192.0.2.1"}, // X-Forwarded-For ignored
		{"[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2:3:4:5:6", "ip:2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:80", "", "::ffff:192.0.2.9", "ip:192.0.2.9"},
		{"[fe80::1%eth0]:80", "", "fe80::1%eth0", "ip:fe80::/64"},
		{"not-an-address", "", "not-an-address", "ip:not-an-address"},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		got := ClientIP(r)
		if got != tc.want {
			t.Errorf("ClientIP(%q) = %q, want %q", tc.remote, got, tc.want)
		}
		if k := ipKey(got); k != tc.key {
			t.Errorf("ipKey(%q) = %q, want %q", got, k, tc.key)
		}
	}
	// Two addresses of one /64 share a counter.
	if ipKey("2001:db8::1") != ipKey("2001:db8::ffff:1") {
		t.Error("addresses of one /64 counted apart")
	}
}

// The failure counts are rows: a restart (a new Service on the same
// database) keeps them, RetryAfter counts from the entry whose expiry
// brings the count under the limit, and the sweep prunes what left the
// window.
func TestFailureLimiter(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s, _ := newTestService(t, db, nil)
		l := s.limiter
		now := time.Date(2030, 1, 1, 0, 0, 0, 123456000, time.UTC) // PostgreSQL keeps microseconds
		long := strings.Repeat("x", 3000)                          // longer than an index entry may be
		for _, at := range []time.Duration{0, 10*time.Second + 5*time.Millisecond} {
			if _, err := l.begin(ctx, now.Add(at), limitKey{"k", 2}, limitKey{long, 2}); err != nil {
				t.Fatal(err)
			}
		}
		restarted, _ := newTestService(t, db, nil)
		_, err := restarted.limiter.begin(ctx, now.Add(25*time.Second), limitKey{"k", 2})
		var rl *apperr.RateLimitError
		if !errors.As(err, &rl) || rl.RetryAfter != failureWindow-25*time.Second {
			t.Fatalf("err = %v, want retry after the window less 25s", err)
		}
		if _, err := restarted.limiter.begin(ctx, now.Add(25*time.Second), limitKey{long, 2}); !errors.As(err, &rl) {
			t.Fatalf("long key: err = %v, want a RateLimitError", err)
		}
		// Keys no text column holds are counted too.
		for _, k := range []string{"user:a\x00b", "user:\xff\xfe"} {
			if _, err := l.begin(ctx, now.Add(time.Minute), limitKey{k, 1}); err != nil {
				t.Fatalf("%q: %v", k, err)
			}
			if _, err := l.begin(ctx, now.Add(time.Minute), limitKey{k, 1}); !errors.As(err, &rl) {
				t.Fatalf("%q: err = %v, want a RateLimitError", k, err)
			}
		}
		// The refused attempts were taken back: once the first entry has
		// left the window there is room for one again.
		if _, err := l.begin(ctx, now.Add(failureWindow+time.Second), limitKey{"k", 2}); err != nil {
			t.Fatalf("after the first entry expired: %v", err)
		}
		n, err := s.SweepExpired(ctx, now.Add(failureWindow+time.Minute))
		if err != nil || n != 6 {
			t.Fatalf("swept %d rows (%v), want the 6 older than the window", n, err)
		}
		var left int
		if err := db.NewRaw("SELECT count(*) FROM login_failures").Scan(ctx, &left); err != nil || left != 1 {
			t.Fatalf("%d rows left (%v), want 1", left, err)
		}
	})
}
