package legacy

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cutline/cutline/internal/auth"
)

// throttle is a token bucket per client: perMinute requests of burst,
// refilled continuously. It lives in memory, like the old server's cache
// throttle; each replica counts on its own.
type throttle struct {
	mu        sync.Mutex
	perMinute int
	idle      time.Duration // a bucket untouched this long is full again
	clients   map[string]*bucket
	nextSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newThrottle(perMinute int) *throttle {
	return &throttle{
		perMinute: perMinute,
		// Refilling a whole burst takes exactly one minute, so forgetting a
		// client idle that long changes no answer.
		idle:    time.Minute,
		clients: make(map[string]*bucket),
	}
}

// wait takes one request from key's bucket and returns zero, or, when the
// bucket is empty, how long until it holds one again (nothing is taken).
func (t *throttle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now.After(t.nextSweep) {
		// Evict idle clients, so a stream of distinct addresses cannot grow
		// the map for ever: it holds at most the clients of the last minute
		// or two.
		for k, b := range t.clients {
			if now.Sub(b.seen) >= t.idle {
				delete(t.clients, k)
			}
		}
		t.nextSweep = now.Add(t.idle)
	}
	b := t.clients[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(float64(t.perMinute)/60), t.perMinute)}
		t.clients[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return d
	}
	return 0
}

// clientKey is the client a request counts against: its address (never a
// forwarded header, which any client can set), with an IPv6 client's whole
// /64 as one client, since it usually owns all of it.
func clientKey(r *http.Request) string {
	ip := auth.ClientIP(r)
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
