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
	olDeliveries *prometheus.CounterVec
	limitsShared prometheus.Gauge
	fallbacks    prometheus.Counter
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
		olDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cutline_openlineage_delivery_attempts_total",
			Help: "OpenLineage delivery attempts of this replica, by outcome (delivered, retry, failed).",
		}, []string{"outcome"}),
		limitsShared: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cutline_ratelimit_shared",
			Help: "1 while the rate limits are shared through Redis (REDIS_URL), 0 while each replica limits on its own.",
		}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cutline_ratelimit_fallbacks_total",
			Help: "Times Redis stopped answering and the rate limits fell back to this replica.",
		}),
		names: opNames{seen: map[string]bool{}},
	}
	m.registry.MustRegister(m.httpDuration, m.gqlDuration, m.uploadBytes, m.cutBytes, m.rateLimited, m.olDeliveries, m.limitsShared, m.fallbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Uploaded counts bytes accepted into the bucket.
func (m *Metrics) Uploaded(n int64) { m.uploadBytes.Add(float64(n)) }

// Cut counts bytes written by cuts, exports and derivations.
func (m *Metrics) Cut(n int64) { m.cutBytes.Add(float64(n)) }

// RateLimited records one rejection by the named limit.
func (m *Metrics) RateLimited(limit string) { m.rateLimited.WithLabelValues(limit).Inc() }

// OpenLineageDelivery counts one OpenLineage delivery attempt by outcome.
func (m *Metrics) OpenLineageDelivery(outcome string) { m.olDeliveries.WithLabelValues(outcome).Inc() }

// RegisterOpenLineage adds the OpenLineage deliveries waiting and given up
// across every replica, which counts reads (from the database) at each
// scrape.
func (m *Metrics) RegisterOpenLineage(counts func(context.Context) (pending, failed int64, err error)) {
	_ = m.registry.Register(outboxCollector{counts})
}

var (
	olPendingDesc = prometheus.NewDesc("cutline_openlineage_pending_deliveries",
		"OpenLineage events waiting to be delivered (all replicas; OPENLINEAGE_URL).", nil, nil)
	olFailedDesc = prometheus.NewDesc("cutline_openlineage_failed_deliveries",
		"OpenLineage events given up after OPENLINEAGE_MAX_ATTEMPTS (all replicas).", nil, nil)
)

type outboxCollector struct {
	counts func(context.Context) (pending, failed int64, err error)
}

func (outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- olPendingDesc; ch <- olFailedDesc }

// Collect reads the counts with a deadline of its own; when the database
// does not answer, the two series are missing from that scrape.
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pending, failed, err := c.counts(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(olPendingDesc, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(olFailedDesc, prometheus.GaugeValue, float64(failed))
}

// SharedLimits records whether the rate limits are shared through Redis;
// each change to false is one fall-back.
func (m *Metrics) SharedLimits(shared bool) {
	if shared {
		m.limitsShared.Set(1)
		return
	}
	m.limitsShared.Set(0)
	m.fallbacks.Inc()
}

// RegisterDB adds the connection pool's statistics.
func (m *Metrics) RegisterDB(db *sql.DB) {
	_ = m.registry.Register(collectors.NewDBStatsCollector(db, "main"))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Unmatched is the route label of a request that no route took (a 404 or
// 405 of the router): whatever its path, one label.
const Unmatched = "unmatched"

// methods are the method labels; any other method is "OTHER".
var methods = map[string]string{
	http.MethodGet: http.MethodGet, http.MethodHead: http.MethodHead, http.MethodPost: http.MethodPost,
	http.MethodPut: http.MethodPut, http.MethodPatch: http.MethodPatch, http.MethodDelete: http.MethodDelete,
	http.MethodOptions: http.MethodOptions,
}

// Route is the label of a router pattern ("GET /healthz", "/api/v1/files/{id}/content"):
// its path part, or Unmatched for none. Labels come only from the server's
// own patterns, never from what a client sends, so their number is fixed.
func Route(pattern string) string {
	if pattern == "" {
		return Unmatched
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		pattern = pattern[i+1:]
	}
	return pattern
}

// Method is the label of an HTTP method: one of the standard ones, or OTHER.
func Method(m string) string {
	if l, ok := methods[m]; ok {
		return l
	}
	return "OTHER"
}

// ObserveHTTP records one request that is not a websocket (whose lifetime
// is not a request latency), by the route pattern that served it (Route)
// and its method. The access log calls it, so that one wrapper of the
// response serves both.
func (m *Metrics) ObserveHTTP(pattern, method string, status int, d time.Duration) {
	m.httpDuration.WithLabelValues(Route(pattern), Method(method), strconv.Itoa(status)).Observe(d.Seconds())
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
	g.m.ObserveOperation(graphql.GetOperationContext(ctx), resp == nil || len(resp.Errors) > 0, time.Since(start))
	return resp
}

// ObserveOperation records one response of oc's operation that took d, as
// the GraphQL extension does, for an answer written without the executor.
func (m *Metrics) ObserveOperation(oc *graphql.OperationContext, failed bool, d time.Duration) {
	typ := "query"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
	}
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	name := oc.OperationName
	if name == "" && oc.Operation != nil {
		name = oc.Operation.Name
	}
	m.gqlDuration.WithLabelValues(m.names.label(name), typ, outcome).Observe(d.Seconds())
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
