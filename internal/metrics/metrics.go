// Package metrics exposes the server's Prometheus metrics: HTTP requests by
// route and status, GraphQL operations by name and outcome, database pool
// statistics, bytes uploaded and cut, and rate-limit rejections.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry and the instruments written to it. The app
// makes one and hands it to what reports: the HTTP and GraphQL layers, and
// the files feature through files.Options.Meter. Nothing is registered
// globally, so two servers in one process (tests) keep their own counts.
type Metrics struct {
	registry     *prometheus.Registry
	httpDuration *prometheus.HistogramVec
	gqlDuration  *prometheus.HistogramVec
	uploadBytes  prometheus.Counter
	cutBytes     prometheus.Counter
	rateLimited  *prometheus.CounterVec
	names        opNames
}

// New returns a registry with the server's instruments and the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cutline_http_request_duration_seconds",
			Help:    "HTTP requests by route, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cutline_graphql_operation_duration_seconds",
			Help:    "GraphQL operations by name, type and outcome (ok or error).",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "type", "outcome"}),
		uploadBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cutline_upload_bytes_total", Help: "Bytes of files stored (uploads and derived files).",
		}),
		cutBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cutline_cut_bytes_total", Help: "Bytes written by cuts, exports and derivations.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cutline_rate_limited_total", Help: "Requests rejected by a rate limit, by limit.",
		}, []string{"limit"}),
		names: opNames{seen: map[string]bool{}},
	}
	m.registry.MustRegister(m.httpDuration, m.gqlDuration, m.uploadBytes, m.cutBytes, m.rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Uploaded counts bytes accepted into the bucket.
func (m *Metrics) Uploaded(n int64) { m.uploadBytes.Add(float64(n)) }

// Cut counts bytes written by cuts, exports and derivations.
func (m *Metrics) Cut(n int64) { m.cutBytes.Add(float64(n)) }

// RateLimited records one rejection by the named limit.
func (m *Metrics) RateLimited(limit string) { m.rateLimited.WithLabelValues(limit).Inc() }

// RegisterDB adds the connection pool's statistics.
func (m *Metrics) RegisterDB(db *sql.DB) {
	_ = m.registry.Register(collectors.NewDBStatsCollector(db, "main"))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// route maps a path to a bounded set of labels: ids never become labels.
func route(path string) string {
	switch {
	case path == "/graphql", path == "/playground", path == "/healthz", path == "/readyz", path == "/metrics", path == "/":
		return path
	case path == "/api/v1/files":
		return "/api/v1/files"
	case strings.HasPrefix(path, "/api/v1/files/"):
		parts := strings.Split(strings.Trim(path, "/"), "/")
		if len(parts) == 5 {
			return "/api/v1/files/{id}/" + parts[4]
		}
	case strings.HasPrefix(path, "/api/list_cutter/"), strings.HasPrefix(path, "/api/accounts/"):
		parts := strings.Split(strings.Trim(path, "/"), "/")
		if len(parts) >= 3 {
			return "/" + strings.Join(parts[:3], "/") + "/"
		}
		return "/" + strings.Join(parts, "/") + "/"
	}
	return "other"
}

// ObserveHTTP records one request that is not a websocket (whose lifetime
// is not a request latency). The access log calls it, so that one wrapper
// of the response serves both.
func (m *Metrics) ObserveHTTP(path, method string, status int, d time.Duration) {
	m.httpDuration.WithLabelValues(route(path), method, strconv.Itoa(status)).Observe(d.Seconds())
}

// GraphQL is a gqlgen extension that times operations into m.
func (m *Metrics) GraphQL() GraphQL { return GraphQL{m} }

// GraphQL is the gqlgen extension of a Metrics (Metrics.GraphQL).
type GraphQL struct{ m *Metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = GraphQL{}

// ExtensionName names the extension for gqlgen.
func (GraphQL) ExtensionName() string { return "Metrics" }

// Validate accepts any schema.
func (GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse observes each response (each event, for subscriptions).
func (g GraphQL) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	oc := graphql.GetOperationContext(ctx)
	typ := "query"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
	}
	outcome := "ok"
	if resp == nil || len(resp.Errors) > 0 {
		outcome = "error"
	}
	name := oc.OperationName
	if name == "" && oc.Operation != nil {
		name = oc.Operation.Name
	}
	g.m.gqlDuration.WithLabelValues(g.m.names.label(name), typ, outcome).Observe(time.Since(start).Seconds())
	return resp
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// maxNames bounds the label's cardinality: clients choose operation names.
const maxNames = 200

// opNames remembers the operation names used as labels so far.
type opNames struct {
	mu   sync.Mutex
	seen map[string]bool
}

// label is the operation's label: its name while fewer than maxNames
// names were seen, else "other".
func (o *opNames) label(n string) string {
	if n == "" {
		return "anonymous"
	}
	if !validName.MatchString(n) {
		return "other"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[n] {
		return n
	}
	if len(o.seen) >= maxNames {
		return "other"
	}
	o.seen[n] = true
	return n
}
