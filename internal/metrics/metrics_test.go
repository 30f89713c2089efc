package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

// Ids never become labels: every path maps to one of a bounded set.
func TestRouteLabels(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/graphql":      "/graphql",
		"/healthz":      "/healthz",
		"/api/v1/files": "/api/v1/files",
		"/api/v1/files/5f0c5d7e-0000-4000-8000-000000000001/content": "/api/v1/files/{id}/content",
		"/api/v1/files/x/y/z/w":                  "other",
		"/api/list_cutter/fetch_saved_file/abc/": "/api/list_cutter/fetch_saved_file/",
		"/api/accounts/login":                    "/api/accounts/login/",
		"/wp-admin":                              "other",
	} {
		if got := route(path); got != want {
			t.Errorf("route(%q) = %q, want %q", path, got, want)
		}
	}
}

// Operation names are labels only while they are few and well formed.
func TestOperationNamesAreBounded(t *testing.T) {
	t.Parallel()
	o := opNames{seen: map[string]bool{}}
	if o.label("") != "anonymous" || o.label("not a name!") != "other" {
		t.Fatal("empty and malformed names must not become labels")
	}
	for i := range maxNames {
		if n := fmt.Sprintf("Op%d", i); o.label(n) != n {
			t.Fatalf("name %d refused below the bound", i)
		}
	}
	if o.label("OneTooMany") != "other" || o.label("Op7") != "Op7" {
		t.Fatal("past the bound new names are other, known ones stay")
	}
}

// What is written shows in the scrape, and two registries in one process
// keep their own counts.
func TestInstrumentsAreTheirOwn(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	a.Uploaded(1234)
	a.Cut(56)
	a.RateLimited("ip")
	a.ObserveHTTP("/api/v1/files/abc/content", "GET", 200, time.Millisecond)
	got := scrape(t, a)
	for _, want := range []string{
		"cutline_upload_bytes_total 1234",
		"cutline_cut_bytes_total 56",
		`cutline_rate_limited_total{limit="ip"} 1`,
		`cutline_http_request_duration_seconds_count{method="GET",route="/api/v1/files/{id}/content",status="200"} 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if other := scrape(t, b); !strings.Contains(other, "cutline_upload_bytes_total 0") || strings.Contains(other, "rate_limited_total{") {
		t.Error("a second registry saw the first one's counts")
	}
}
