package app_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/testwait"
)

// testRedis is TEST_REDIS_URL. Without it the test is skipped, except under
// CI=true, where a missing Redis is a failure.
func testRedis(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set: Redis tests cannot be skipped under CI")
		}
		t.Skip("TEST_REDIS_URL is not set")
	}
	return u
}

// redisPrefix is a key prefix no other test (or parallel run) uses.
func redisPrefix(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + strings.ReplaceAll(t.Name(), "/", ".") + ":" + hex.EncodeToString(b) + ":"
}

// withRedis points a server's rate limits at url under prefix.
func withRedis(url, prefix string, edit func(*config.Config)) func(*config.Config) {
	return func(c *config.Config) {
		c.RedisURL, c.RedisPrefix = url, prefix
		// A loaded test machine must not fall back by being slow.
		c.RedisTimeout = 5e9
		if edit != nil {
			edit(c)
		}
	}
}

func status(t *testing.T, req *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Two replicas with one Redis draw on the same buckets: the per-address
// limit and the shim's throttle, whose users still count apart.
func TestReplicasShareRateLimits(t *testing.T) {
	url := testRedis(t)
	dbtest.EachPair(t, func(t *testing.T, dbA, dbB *database.DB) {
		share := withRedis(url, redisPrefix(t), func(c *config.Config) { c.ShimRatePerMinute = 3 })
		a, b := newServer(t, dbA, share), newServer(t, dbB, share)
		ada, bob := a.register(t, "ada").AccessToken, b.register(t, "bob").AccessToken
		list := func(s *server, token string) int {
			code, _, _ := bearerGet(t, s.URL+"/api/list_cutter/list_saved_files/", token)
			return code
		}
		for i, s := range []*server{a, b, a} {
			if c := list(s, ada); c != http.StatusOK {
				t.Fatalf("ada's request %d: %d", i, c)
			}
		}
		if c := list(b, ada); c != http.StatusTooManyRequests {
			t.Fatalf("ada's 4th request, on the other replica: %d, want 429", c)
		}
		for i, s := range []*server{b, a, b} {
			if c := list(s, bob); c != http.StatusOK {
				t.Fatalf("bob's request %d from ada's address: %d", i, c)
			}
		}

		perIP := withRedis(url, redisPrefix(t), func(c *config.Config) { c.RatePerIP, c.RateBurstIP = 0.001, 3 })
		a, b = newServer(t, dbA, perIP), newServer(t, dbB, perIP)
		for i, s := range []*server{a, b, a} {
			if c := status(t, mustRequest(t, "GET", s.URL+"/api/v1/openapi.json")); c != http.StatusOK {
				t.Fatalf("request %d: %d", i, c)
			}
		}
		if c := status(t, mustRequest(t, "GET", b.URL+"/api/v1/openapi.json")); c != http.StatusTooManyRequests {
			t.Fatalf("4th request of the address, on the other replica: %d, want 429", c)
		}
	})
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// startRedis runs a redis-server of the test's own on a unix socket and
// returns its URL and a function that kills it.
func startRedis(t *testing.T, dir string) (string, func()) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed: %v", err)
	}
	sock := filepath.Join(dir, "redis.sock")
	cmd := exec.Command(bin, "--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = os.Remove(sock)
	}
	t.Cleanup(stop)
	testwait.Until(t, "redis-server's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	return "unix://" + sock, stop
}

// When Redis goes away mid-test the server keeps answering, limiting in
// process; the log says so once, /metrics shows it, and when Redis is
// back the limits are shared again.
func TestRedisStoppedMidTest(t *testing.T) {
	testRedis(t)
	dir, err := os.MkdirTemp("", "redis") // short: a socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	url, stop := startRedis(t, dir)
	s := newServer(t, dbtest.SQLite(t), withRedis(url, redisPrefix(t), func(c *config.Config) {
		c.RatePerIP, c.RateBurstIP = 1000, 1000
		c.ShimRatePerMinute = 1000
		c.MetricsToken = "scrape"
		c.RedisTimeout = 2e9
	}))
	// gauge is the two series of the shared limits, in /metrics' order.
	gauge := func() string {
		_, body := getMetrics(t, s.URL+"/metrics", "scrape")
		var out []string
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "cutline_ratelimit_shared ") || strings.HasPrefix(line, "cutline_ratelimit_fallbacks_total ") {
				out = append(out, line)
			}
		}
		return strings.Join(out, "; ")
	}
	token := s.register(t, "ada").AccessToken
	if g := gauge(); g != "cutline_ratelimit_fallbacks_total 0; cutline_ratelimit_shared 1" {
		t.Fatalf("with Redis: %q", g)
	}

	stop()
	for i := range 20 {
		if c := s.gql(t, token, `{ me { username } }`, nil); len(c.Errors) > 0 {
			t.Fatalf("GraphQL request %d without Redis: %+v", i, c.Errors)
		}
		if c, _, body := bearerGet(t, s.URL+"/api/list_cutter/list_saved_files/", token); c != http.StatusOK {
			t.Fatalf("legacy request %d without Redis: %d %s", i, c, body)
		}
	}
	if g := gauge(); g != "cutline_ratelimit_fallbacks_total 1; cutline_ratelimit_shared 0" {
		t.Fatalf("without Redis: %q", g)
	}
	if n := strings.Count(s.logs.String(), "Redis does not answer"); n != 1 {
		t.Fatalf("the fall-back was logged %d times, want once:\n%s", n, s.logs)
	}

	startRedis(t, dir)
	testwait.Until(t, "the limits to be shared again", func() bool {
		s.gql(t, token, `{ me { username } }`, nil)
		return gauge() == "cutline_ratelimit_fallbacks_total 1; cutline_ratelimit_shared 1"
	})
	if n := strings.Count(s.logs.String(), "Redis answers again"); n != 1 {
		t.Fatalf("the return was logged %d times, want once", n)
	}
}
