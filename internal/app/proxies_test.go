package app_test

import (
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/testwait"
)

// The client address comes from a forwarding header only when the direct
// peer (here 127.0.0.1) is a trusted proxy, read from the right past
// trusted hops; the access log shows the address decided.
func TestTrustedProxies(t *testing.T) {
	db := dbtest.SQLite(t)
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	others := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	servers := map[string]*server{}
	serverFor := func(trust bool, header string) *server {
		k := strconv.FormatBool(trust) + header
		if s := servers[k]; s != nil {
			return s
		}
		s := newServer(t, db, func(c *config.Config) {
			c.TrustedProxies, c.TrustedProxyHeader = others, header
			if trust {
				c.TrustedProxies = trusted
			}
		})
		servers[k] = s
		return s
	}
	const xff, fwd = "X-Forwarded-For", "Forwarded"
	cases := []struct {
		name    string
		trusted bool
		setting string   // TRUSTED_PROXY_HEADER
		header  string   // the header the request carries
		values  []string // its lines
		want    string
	}{
		{"untrusted peer's X-Forwarded-For", false, xff, xff, []string{"203.0.113.9"}, "127.0.0.1"},
		{"untrusted peer's Forwarded", false, fwd, fwd, []string{"for=203.0.113.9"}, "127.0.0.1"},
		{"no header", true, xff, "", nil, "127.0.0.1"},
		{"one hop", true, xff, xff, []string{"203.0.113.9"}, "203.0.113.9"},
		{"past trusted hops, not the client's own", true, xff, xff, []string{"198.51.100.1, 203.0.113.9, 10.0.0.5"}, "203.0.113.9"},
		{"every hop trusted", true, xff, xff, []string{"10.0.0.7, 10.0.0.5"}, "10.0.0.7"},
		{"several header lines", true, xff, xff, []string{"198.51.100.1", "203.0.113.9, 10.0.0.5"}, "203.0.113.9"},
		{"with a port", true, xff, xff, []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6", true, xff, xff, []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv6 in brackets with a port", true, xff, xff, []string{"[2001:db8::2]:443"}, "2001:db8::2"},
		{"garbage", true, xff, xff, []string{"not-an-address"}, "127.0.0.1"},
		{"empty value", true, xff, xff, []string{""}, "127.0.0.1"},
		{"garbage behind a trusted hop", true, xff, xff, []string{"203.0.113.9, <script>, 10.0.0.5"}, "10.0.0.5"},
		{"Forwarded", true, fwd, fwd, []string{"for=203.0.113.9;proto=https;by=10.0.0.1"}, "203.0.113.9"},
		{"Forwarded, several hops, quoted IPv6", true, fwd, fwd,
			[]string{`for=198.51.100.1, for="[2001:db8:cafe::17]:4711";proto=http, For=10.0.0.5`}, "2001:db8:cafe::17"},
		{"Forwarded, quoted IPv4 with a port", true, fwd, fwd, []string{`for="203.0.113.9:80"`}, "203.0.113.9"},
		{"Forwarded unknown", true, fwd, fwd, []string{"for=unknown"}, "127.0.0.1"},
		{"Forwarded obfuscated behind a trusted hop", true, fwd, fwd, []string{"for=_hidden, for=10.0.0.5"}, "10.0.0.5"},
		{"Forwarded without for", true, fwd, fwd, []string{"proto=https"}, "127.0.0.1"},
		{"X-Forwarded-For when Forwarded is the setting", true, fwd, xff, []string{"203.0.113.9"}, "127.0.0.1"},
		{"Forwarded when X-Forwarded-For is the setting", true, xff, fwd, []string{"for=203.0.113.9"}, "127.0.0.1"},
	}
	logged := regexp.MustCompile(`client=(\S+) request_id=(\S+)`)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := serverFor(tc.trusted, tc.setting)
			id := "proxy-case-" + strconv.Itoa(i)
			req, _ := http.NewRequest("GET", s.URL+"/api/v1/openapi.json", nil) // logged at info, unlike the probes
			req.Header.Set("X-Request-Id", id)
			for _, v := range tc.values {
				req.Header.Add(tc.header, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// The access log line is written once the handler returns,
			// which may be after the client has the answer.
			got := ""
			testwait.Until(t, "the request's access log line", func() bool {
				for _, m := range logged.FindAllStringSubmatch(s.logs.String(), -1) {
					if m[2] == id {
						got = m[1]
						return true
					}
				}
				return false
			})
			if got != tc.want {
				t.Fatalf("client %q, want %q", got, tc.want)
			}
		})
	}
}

// The per-address limits count the forwarded client behind a trusted
// proxy, and the proxy itself behind an untrusted one.
func TestTrustedProxyFeedsLimits(t *testing.T) {
	db := dbtest.SQLite(t)
	for _, tc := range []struct {
		name    string
		trusted string
		second  int // status of a second client's first request
	}{
		{"trusted", "127.0.0.1", http.StatusOK},
		{"untrusted", "192.0.2.1", http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, db, func(c *config.Config) {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(tc.trusted + "/32")}
				c.RatePerIP, c.RateBurstIP = 0.001, 1
			})
			get := func(client string) int {
				req, _ := http.NewRequest("POST", s.URL+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", client)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return resp.StatusCode
			}
			if c := get("203.0.113.1"); c != http.StatusOK {
				t.Fatalf("first client: %d", c)
			}
			if c := get("203.0.113.2"); c != tc.second {
				t.Fatalf("second client: %d, want %d", c, tc.second)
			}
			if c := get("203.0.113.1"); c != http.StatusTooManyRequests {
				t.Fatalf("first client again: %d, want 429", c)
			}
		})
	}
}

// The legacy throttle counts a logged-in user's requests apart from the
// other users' and from anonymous requests of the same address, and
// answers as before: DRF's body and Retry-After.
func TestShimThrottlePerUser(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.ShimRatePerMinute = 3 })
	ada, bob := s.register(t, "ada").AccessToken, s.register(t, "bob").AccessToken
	list := func(token string) (int, string, string) {
		status, h, body := bearerGet(t, s.URL+"/api/list_cutter/list_saved_files/", token)
		return status, h.Get("Retry-After"), strings.TrimSpace(body)
	}
	for i := range 3 {
		if c, _, b := list(ada); c != http.StatusOK {
			t.Fatalf("ada's request %d: %d %s", i, c, b)
		}
	}
	c, ra, b := list(ada)
	if c != http.StatusTooManyRequests || ra != "20" || b != `{"detail":"Request was throttled. Expected available in 20 seconds."}` {
		t.Fatalf("ada's 4th request: %d Retry-After=%q %s", c, ra, b)
	}
	for i := range 3 {
		if c, _, b := list(bob); c != http.StatusOK {
			t.Fatalf("bob's request %d from the same address: %d %s", i, c, b)
		}
	}
	// Anonymous requests of that address have their own budget.
	if c, _, b := list(""); c != http.StatusUnauthorized {
		t.Fatalf("anonymous request: %d %s", c, b)
	}
}
