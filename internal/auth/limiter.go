package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/clientaddr"
)

// failureLimiter counts failed logins per counter (an account, a client
// address) over a sliding window. The counts live in the database, so
// every replica sees the same ones and a restart forgets none; rows that
// left the window are pruned (store.pruneFailures).
//
// An attempt is counted when it starts, not when it fails, so a burst of
// parallel guesses cannot all slip in before the first failure is
// recorded; success or an error that says nothing about the password takes
// the tentative entry back. The entry is written before the counts are
// read: of two attempts racing on two replicas, at least one sees the
// other, so together they never exceed the limit (both may be refused).
type failureLimiter struct {
	st     *store
	window time.Duration
}

// limitKey is one counter and its limit; an empty key is not limited.
type limitKey struct {
	key   string
	limit int
}

// attempt remembers the tentative entries begin added.
type attempt struct {
	ids  []int64
	keys []string // of ids, in their order
}

// begin counts one tentative failure against every key, then refuses
// with *apperr.RateLimitError (taking the entries back) when any key
// already had its limit of failures in the window.
func (l *failureLimiter) begin(ctx context.Context, now time.Time, keys ...limitKey) (attempt, error) {
	var a attempt
	var limited []limitKey
	for _, k := range keys {
		if k.key != "" {
			c := counterOf(k.key)
			a.keys = append(a.keys, c)
			limited = append(limited, limitKey{c, k.limit})
		}
	}
	if len(a.keys) == 0 {
		return a, nil
	}
	ids, err := l.st.addFailures(ctx, a.keys, now)
	if err != nil {
		return attempt{}, fmt.Errorf("count login attempt: %w", err)
	}
	a.ids = ids
	var wait time.Duration
	for i, k := range limited {
		// The count drops below the limit when the failure limit places
		// from the newest leaves the window.
		at, over, err := l.st.nthFailure(ctx, k.key, now.Add(-l.window), ids[i], k.limit)
		if err != nil {
			l.cancel(ctx, a)
			return attempt{}, fmt.Errorf("read login failures: %w", err)
		}
		if d := at.Add(l.window).Sub(now); over && d > wait {
			wait = d
		}
	}
	if wait > 0 {
		l.cancel(ctx, a)
		return attempt{}, &apperr.RateLimitError{RetryAfter: wait}
	}
	return a, nil
}

// cancel takes back the tentative entries of a. It runs even when the
// request's context has ended, or the entries would count as failures.
func (l *failureLimiter) cancel(ctx context.Context, a attempt) error {
	if len(a.ids) == 0 {
		return nil
	}
	if err := l.st.deleteFailures(context.WithoutCancel(ctx), a.ids); err != nil {
		return fmt.Errorf("take back a login attempt: %w", err)
	}
	return nil
}

// succeed clears every failure of reset and takes back a's other entries.
func (l *failureLimiter) succeed(ctx context.Context, a attempt, reset string) error {
	if err := l.st.clearFailures(ctx, counterOf(reset)); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return l.cancel(ctx, a)
}

// maxCounter bounds the counters stored: a longer one (a username of up
// to maxLoginInput bytes), or one a text column cannot hold (NUL, invalid
// UTF-8), is kept as its hash.
const maxCounter = 200

func counterOf(key string) string {
	if len(key) <= maxCounter && utf8.ValidString(key) && strings.IndexByte(key, 0) < 0 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(sum[:])
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
	// An address already in its canonical form, as the peer's always is,
	// is its own key: no new string for every request.
	var buf [len("255.255.255.255")]byte
	if b := addr.AppendTo(buf[:0]); string(b) != ip {
		return string(b)
	}
	return ip
}
