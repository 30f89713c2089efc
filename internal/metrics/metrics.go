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

var (
	registry = prometheus.NewRegistry()

	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cutline_http_request_duration_seconds",
		Help:    "HTTP requests by route, method and status.",
		Buckets: prometheus.DefBuckets,
	}, []string{"route", "method", "status"})

	gqlDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cutline_graphql_operation_duration_seconds",
		Help:    "GraphQL operations by name, type and outcome (ok or error).",
		Buckets: prometheus.DefBuckets,
	}, []string{"operation", "type", "outcome"})

	// UploadBytes counts bytes accepted into the bucket.
	UploadBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cutline_upload_bytes_total", Help: "Bytes of files stored (uploads and derived files).",
	})
	// CutBytes counts bytes written by cuts and exports.
	CutBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cutline_cut_bytes_total", Help: "Bytes written by cuts, exports and derivations.",
	})
	rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cutline_rate_limited_total", Help: "Requests rejected by a rate limit, by limit.",
	}, []string{"limit"})
)

func init() {
	registry.MustRegister(httpDuration, gqlDuration, UploadBytes, CutBytes, rateLimited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// RateLimited records one rejection by the named limit.
func RateLimited(limit string) { rateLimited.WithLabelValues(limit).Inc() }

// RegisterDB adds the connection pool's statistics.
func RegisterDB(db *sql.DB) {
	_ = registry.Register(collectors.NewDBStatsCollector(db, "main"))
}

// Handler serves the metrics in the Prometheus text format.
func Handler() http.Handler { return promhttp.HandlerFor(registry, promhttp.HandlerOpts{}) }

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
func ObserveHTTP(path, method string, status int, d time.Duration) {
	httpDuration.WithLabelValues(route(path), method, strconv.Itoa(status)).Observe(d.Seconds())
}

// GraphQL is a gqlgen extension that times operations.
type GraphQL struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = GraphQL{}

// ExtensionName names the extension for gqlgen.
func (GraphQL) ExtensionName() string { return "Metrics" }

// Validate accepts any schema.
func (GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse observes each response (each event, for subscriptions).
func (GraphQL) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
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
	gqlDuration.WithLabelValues(opName(name), typ, outcome).Observe(time.Since(start).Seconds())
	return resp
}

var (
	validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	namesMu   sync.Mutex
	names     = map[string]bool{}
)

// maxNames bounds the label's cardinality: clients choose operation names.
const maxNames = 200

func opName(n string) string {
	if n == "" {
		return "anonymous"
	}
	if !validName.MatchString(n) {
		return "other"
	}
	namesMu.Lock()
	defer namesMu.Unlock()
	if names[n] {
		return n
	}
	if len(names) >= maxNames {
		return "other"
	}
	names[n] = true
	return n
}
