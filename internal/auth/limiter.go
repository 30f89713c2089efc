package auth

import (
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/clientaddr"
)

// failureLimiter counts failed logins per key over a sliding window. It is
// in memory: good enough for one process, and a restart merely forgives.
//
// An attempt is counted when it starts, not when it fails, so a burst of
// parallel guesses cannot all slip in before the first failure is
// recorded; success or an error that says nothing about the password takes
// the tentative entry back.
type failureLimiter struct {
	mu        sync.Mutex
	window    time.Duration
	hits      map[string][]time.Time // sorted, oldest first
	nextSweep int
}

const minSweep = 1024

func newFailureLimiter(window time.Duration) *failureLimiter {
	return &failureLimiter{window: window, hits: make(map[string][]time.Time), nextSweep: minSweep}
}

// limitKey is one counter and its limit; an empty key is not limited.
type limitKey struct {
	key   string
	limit int
}

// attempt remembers the tentative entries begin added.
type attempt struct {
	keys []string
	at   time.Time
}

// begin refuses with *apperr.RateLimitError when any key already has its
// limit of failures in the window; otherwise it counts one tentative failure
// against every key.
func (l *failureLimiter) begin(now time.Time, keys ...limitKey) (attempt, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if k.key == "" {
			continue
		}
		h := l.prune(k.key, now)
		if len(h) >= k.limit {
			// The count drops below the limit when the entry limit places
			// from the newest leaves the window.
			if d := h[len(h)-k.limit].Add(l.window).Sub(now); d > wait {
				wait = d
			}
		}
	}
	if wait > 0 {
		return attempt{}, &apperr.RateLimitError{RetryAfter: wait}
	}
	a := attempt{at: now}
	for _, k := range keys {
		if k.key == "" {
			continue
		}
		h := l.hits[k.key]
		i, _ := slices.BinarySearchFunc(h, now, time.Time.Compare)
		l.hits[k.key] = slices.Insert(h, i, now)
		a.keys = append(a.keys, k.key)
	}
	if len(l.hits) > l.nextSweep {
		l.sweep(now)
	}
	return a, nil
}

// cancel takes back the tentative entries of a.
func (l *failureLimiter) cancel(a attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range a.keys {
		l.remove(k, a.at)
	}
}

// succeed clears every failure of reset and takes back a's other entries.
func (l *failureLimiter) succeed(a attempt, reset string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, reset)
	for _, k := range a.keys {
		if k != reset {
			l.remove(k, a.at)
		}
	}
}

func (l *failureLimiter) remove(key string, at time.Time) {
	h := l.hits[key]
	if i := slices.IndexFunc(h, at.Equal); i >= 0 {
		h = slices.Delete(h, i, i+1)
	}
	if len(h) == 0 {
		delete(l.hits, key)
	} else {
		l.hits[key] = h
	}
}

// prune drops entries that left the window and returns what remains.
func (l *failureLimiter) prune(key string, now time.Time) []time.Time {
	h := l.hits[key]
	cut := now.Add(-l.window)
	i := 0
	for i < len(h) && !h[i].After(cut) {
		i++
	}
	if i == 0 {
		return h
	}
	h = h[i:]
	if len(h) == 0 {
		delete(l.hits, key)
		return nil
	}
	l.hits[key] = h
	return h
}

// sweep forgets stale keys, so guessing many usernames cannot grow the map
// for ever. It runs when the map has doubled since the last sweep, which
// keeps its cost amortised.
func (l *failureLimiter) sweep(now time.Time) {
	for k := range l.hits {
		l.prune(k, now)
	}
	l.nextSweep = max(minSweep, 2*len(l.hits))
}

// ClientIP is the address limits are counted against: the one package
// clientaddr decided (the direct peer, or what trusted proxies forwarded).
func ClientIP(r *http.Request) string { return clientaddr.Of(r) }

// ipKey is the failed-login limiter key for a client IP.
func ipKey(ip string) string {
	if ip == "" {
		return ""
	}
	return "ip:" + clientKey(ip)
}

// ClientKey is the client a request counts against in every limit: its
// address (a forwarded header only from a trusted proxy).
func ClientKey(r *http.Request) string { return clientKey(ClientIP(r)) }

// clientKey normalises an address. An IPv6 client usually owns a whole
// /64, so it is counted per /64; otherwise one host could rotate through
// addresses to escape a limit.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.WithZone("").Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
