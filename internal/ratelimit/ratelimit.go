// Package ratelimit applies token-bucket limits per client address and per
// authenticated user, answering 429 with Retry-After when a bucket is empty.
package ratelimit

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a token bucket per key. Every limit of the server is taken
// through it: *Limiter keeps the buckets in this process (each replica
// counts for itself), and a backend shared by replicas plugs in here.
type Limit interface {
	// Take takes one token from key's bucket, or says how long until one
	// is available. A limit that cannot decide (its backend is down)
	// allows.
	Take(ctx context.Context, key string) (ok bool, wait time.Duration)
}

// Limiter holds one token bucket per key, forgetting idle keys.
type Limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*entry
	last  time.Time
}

type entry struct {
	l    *rate.Limiter
	seen time.Time
}

// New allows perSecond requests per key with bursts of burst. A
// non-positive rate disables the limiter.
func New(perSecond float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, m: map[string]*entry{}}
}

// Enabled reports whether the limiter limits anything.
func (l *Limiter) Enabled() bool { return l != nil && l.rate > 0 }

// Allow takes a token for key, or says how long until one is available.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) >= l.refill() {
		l.evict(now)
	}
	e := l.m[key]
	if e == nil {
		e = &entry{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[key] = e
	}
	e.seen = now
	r := e.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Take implements Limit with the current time.
func (l *Limiter) Take(_ context.Context, key string) (bool, time.Duration) {
	return l.Allow(key, time.Now())
}

// refill is how long an empty bucket takes to be full again.
func (l *Limiter) refill() time.Duration {
	return time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
}

// evict drops keys idle long enough for their bucket to be full again:
// forgetting them changes no answer, and a stream of distinct clients
// cannot grow the map for ever.
func (l *Limiter) evict(now time.Time) {
	l.last = now
	full := l.refill()
	for k, e := range l.m {
		if now.Sub(e.seen) >= full {
			delete(l.m, k)
		}
	}
}

// Len is how many clients the limiter remembers.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least one.
func RetryAfterSeconds(d time.Duration) int {
	return int(math.Max(1, math.Ceil(d.Seconds())))
}

// Reject writes a 429. GraphQL clients get a GraphQL-shaped body with
// extensions.code RATE_LIMITED; others a JSON error.
func Reject(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	secs := RetryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	msg := "too many requests, retry in " + strconv.Itoa(secs) + "s"
	if r.URL.Path == "/graphql" {
		w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"RATE_LIMITED","retryAfterSeconds":` + strconv.Itoa(secs) + `}}]}`))
		return
	}
	w.Write([]byte(`{"error":"` + msg + `","code":"RATE_LIMITED"}`))
}
