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

// Labels come from the router's patterns and a fixed set of methods,
// never from what a client sends.
func TestRouteAndMethodLabels(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"/graphql":                        "/graphql",
		"GET /healthz":                    "/healthz",
		"GET /api/v1/files/{id}/content":  "/api/v1/files/{id}/content",
		"/api/list_cutter/csv_cutter/{$}": "/api/list_cutter/csv_cutter/{$}",
		"":                                Unmatched,
	} {
		if got := Route(pattern); got != want {
			t.Errorf("Route(%q) = %q, want %q", pattern, got, want)
		}
	}
	for method, want := range map[string]string{"GET": "GET", "POST": "POST", "OPTIONS": "OPTIONS", "FOO123": "OTHER", "get": "OTHER"} {
		if got := Method(method); got != want {
			t.Errorf("Method(%q) = %q, want %q", method, got, want)
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
	a.ObserveHTTP("GET /api/v1/files/{id}/content", "GET", 200, time.Millisecond)
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
