package app_test

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func getMetrics(t *testing.T, url, token string) (int, string) {
	t.Helper()
	status, _, body := bearerGet(t, url, token)
	return status, body
}

// bearerGet GETs url with the bearer token (none when empty) and reads the
// whole answer.
func bearerGet(t *testing.T, url, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Requests label the metrics by the route pattern that served them and a
// fixed set of methods: made-up methods and paths add no series.
func TestMetricsLabelsAreBounded(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MetricsToken = "scrape-me" })
	random := func() string { b := make([]byte, 8); rand.Read(b); return hex.EncodeToString(b) }
	for i := 0; i < 50; i++ {
		for _, r := range []struct{ method, path string }{
			{"FOO" + random(), "/healthz"},
			{"GET", "/api/v1/files/x/" + random()},
			{"GET", "/" + random()},
			{"GET", "/api/v1/files/" + random() + "/content"},
		} {
			req, _ := http.NewRequest(r.method, s.URL+r.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}
	status, body := getMetrics(t, s.URL+"/metrics", "scrape-me")
	if status != 200 {
		t.Fatalf("/metrics with the token: %d", status)
	}
	series := 0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "cutline_http_request_duration_seconds_count{") {
			series++
			if strings.Contains(line, "FOO") || strings.Count(line, "/") > 6 {
				t.Errorf("a label from the client: %s", line)
			}
		}
	}
	if series == 0 || series > 8 {
		t.Fatalf("%d request series after 200 made-up requests:\n%s", series, body)
	}
	for _, want := range []string{`method="OTHER",route="unmatched"`, `route="unmatched"`, `route="/api/v1/files/{id}/content"`} {
		if !strings.Contains(body, want) {
			t.Errorf("no series with %s", want)
		}
	}
}

// /metrics is not public: without METRICS_TOKEN the main port does not
// serve it, with it only to the token; METRICS_ADDR serves it apart.
func TestMetricsAreNotPublic(t *testing.T) {
	open := newServer(t, dbtest.SQLite(t), nil)
	if status, _ := getMetrics(t, open.URL+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("/metrics by default: %d", status)
	}
	guarded := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MetricsToken = "scrape-me" })
	for _, tok := range []string{"", "wrong"} {
		if status, _ := getMetrics(t, guarded.URL+"/metrics", tok); status != http.StatusUnauthorized {
			t.Errorf("/metrics with token %q: %d", tok, status)
		}
	}
	addr := freeAddr(t)
	s := startServe(t, t.TempDir(), map[string]string{"METRICS_ADDR": addr})
	defer func() { s.stop(); <-s.done }()
	if status, _ := getMetrics(t, s.base+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("/metrics on the main port with METRICS_ADDR: %d", status)
	}
	var status int
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, body = resp.StatusCode, string(b)
			break
		}
	}
	if status != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("METRICS_ADDR: %d %.200s", status, body)
	}
}
