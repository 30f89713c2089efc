package app

import (
	"bufio"
	"context"
	"crypto/subtle"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/cutline/cutline/graph"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/clientaddr"
	"github.com/cutline/cutline/internal/deadline"
	"github.com/cutline/cutline/internal/events/wsconn"
	"github.com/cutline/cutline/internal/legacy"
	"github.com/cutline/cutline/internal/metrics"
	"github.com/cutline/cutline/internal/playground"
	"github.com/cutline/cutline/internal/ratelimit"
	"github.com/cutline/cutline/internal/requestid"
	"github.com/cutline/cutline/internal/rest"
	"github.com/cutline/cutline/internal/tracing"
)

// routes builds the whole HTTP surface.
func (a *App) routes() (http.Handler, error) {
	cfg := a.Config
	mux := http.NewServeMux()
	download := blobstore.NewSigner([]byte(cfg.JWTSecret), "download")

	gql := a.graphQL(download)
	mux.Handle("/graphql", graph.WithRequest(gql))
	pg, err := playground.Handler("Cutline GraphQL", "/graphql")
	if err != nil {
		return nil, err
	}
	mux.Handle("GET "+playground.Path, pg)
	mux.Handle("GET "+playground.Path+"/", pg)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", a.ready)

	api := &rest.Handler{Auth: a.Auth, Files: a.Files, Lineage: a.Lineage, OpenLineage: a.OpenLineage, Download: download, Log: a.Log}
	api.Register(mux)
	mux.HandleFunc("GET "+rest.OpenAPIPath, rest.OpenAPI)
	if cfg.MetricsToken != "" {
		// On the public port only behind the token; METRICS_ADDR serves
		// them on a listener of their own.
		mux.Handle("GET /metrics", bearerOnly(cfg.MetricsToken, a.Metrics.Handler()))
	}
	shimRate := cfg.ShimRatePerMinute
	if shimRate <= 0 {
		shimRate = legacy.DefaultRatePerMinute
	}
	shim := &legacy.Handler{
		Auth: a.Auth, Files: a.Files, Lineage: a.Lineage,
		Handles:    blobstore.NewSigner([]byte(cfg.JWTSecret), "legacy-file"),
		ScratchTTL: cfg.ScratchTTL, RatePerMinute: shimRate, Log: a.Log,
		Throttle: a.RateLimits.Limit("shim", float64(shimRate)/60, shimRate),
	}
	shim.Register(mux)

	var h http.Handler = withPattern(mux)
	h = a.limits(h)
	h = a.bounds(h) // and authenticates
	if len(cfg.CORSOrigins) > 0 {
		// With no origin configured there is no CORS at all: rs/cors would
		// answer every origin with "*", and browsers then let any page read
		// the answers.
		h = cors.New(cors.Options{
			AllowedOrigins:   cfg.CORSOrigins,
			AllowedMethods:   []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowedHeaders:   []string{"Authorization", "Content-Type", "Apollo-Require-Preflight", "X-Request-Id"},
			ExposedHeaders:   []string{"Content-Disposition", "X-Request-Id", "Retry-After", "ETag"},
			AllowCredentials: true,
			MaxAge:           600,
		}).Handler(h)
	}
	h = securityHeaders(h)
	h = recoverer(a.Log, h)
	h = observe(a.Log, a.Metrics, h)
	if a.Tracing {
		h = otelhttp.NewHandler(h, "http", otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + r.URL.Path
		}))
	}
	// The client address is decided once, before anything logs, counts or
	// limits by it.
	return identify(clientaddr.New(cfg.TrustedProxies, cfg.TrustedProxyHeader), h), nil
}

// identify is requestid.Middleware and the client address's middleware in
// one copy of the request.
func identify(addrs *clientaddr.Resolver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestid.Accept(w, r)
		ctx := requestid.With(clientaddr.With(r.Context(), addrs.Resolve(r)), id)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limits applies the per-address and per-user token buckets. Health and
// metrics endpoints are exempt so probes never see a 429.
func (a *App) limits(next http.Handler) http.Handler {
	byIP, byUser := a.limitIP, a.limitUser
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if ok, wait := byIP.Take(ctx, auth.ClientKey(r)); !ok {
			a.Metrics.RateLimited("ip")
			ratelimit.Reject(w, r, wait)
			return
		}
		if c, found := auth.CallerFrom(r.Context()); found {
			if ok, wait := byUser.Take(ctx, strconv.FormatInt(c.UserID, 10)); !ok {
				a.Metrics.RateLimited("user")
				ratelimit.Reject(w, r, wait)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bounds puts a deadline on every request that is not a stream (uploads,
// downloads, cuts and websockets may run long), caps request bodies that
// are not file uploads, and authenticates the request (auth.Middleware's
// work, done here so that the request is copied once for both); the
// deadline reaches the database through the request context.
func (a *App) bounds(next http.Handler) http.Handler {
	var sockets atomic.Int64
	allowed := newOrigins(a.Config.CORSOrigins)
	serve := func(ctx context.Context, w http.ResponseWriter, r *http.Request) {
		ctx, _ = a.Auth.RequestContext(ctx, r.Header)
		next.ServeHTTP(w, r.WithContext(ctx))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			if !allowed.websocket(r) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"error":"websocket origin not allowed; set CORS_ORIGINS"}`))
				return
			}
			if n := sockets.Add(1); a.Config.MaxWebsockets > 0 && n > int64(a.Config.MaxWebsockets) {
				sockets.Add(-1)
				http.Error(w, `{"error":"too many websocket connections"}`, http.StatusServiceUnavailable)
				return
			}
			defer sockets.Add(-1)
			// The connection's checks find it through its request context.
			serve(wsconn.WithSlot(r.Context()), w, r)
			return
		}
		if isStream(r) {
			if hasBody(r) {
				r.Body = a.uploadPace(w, r.Body)
			}
			serve(r.Context(), w, r)
			return
		}
		if hasBody(r) && a.Config.RequestTimeout > 0 {
			// The body must arrive within the request's deadline: a context
			// cannot interrupt a read that waits on a slow client.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(a.Config.RequestTimeout))
		}
		if r.Body != nil && a.Config.MaxRequestBody > 0 {
			if r.ContentLength > a.Config.MaxRequestBody {
				refuseTooLarge(w, r, a.Config.MaxRequestBody)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, a.Config.MaxRequestBody)
		}
		ctx := r.Context()
		if a.Config.RequestTimeout > 0 {
			// A deadline whose timer is armed only when something waits
			// on it (a query always does): most cheap answers never do.
			var cancel context.CancelFunc
			ctx, cancel = deadline.WithTimeout(ctx, a.Config.RequestTimeout)
			defer cancel()
		}
		serve(ctx, w, r)
	})
}

// bearerOnly serves next only to requests bearing token.
func bearerOnly(token string, next http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, `{"error":"metrics need the bearer token of METRICS_TOKEN"}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasBody reports whether r comes with a body to read.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// uploadPace holds the body of a file stream to a pace instead of a
// deadline, since a large file over a slow link may rightly take long: no
// read may wait more than UPLOAD_IDLE_TIMEOUT, and from then on the body
// must average UPLOAD_MIN_RATE bytes per second. Each read moves the
// connection's read deadline.
func (a *App) uploadPace(w http.ResponseWriter, body io.ReadCloser) io.ReadCloser {
	idle, rate := a.Config.UploadIdleTimeout, a.Config.UploadMinRate
	if idle <= 0 {
		return body
	}
	return &pacedBody{ReadCloser: body, rc: http.NewResponseController(w), idle: idle, rate: float64(rate), start: time.Now()}
}

type pacedBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	rate  float64 // bytes per second; 0: no minimum
	start time.Time
	n     int64
}

func (b *pacedBody) Read(p []byte) (int, error) {
	now := time.Now()
	deadline := now.Add(b.idle)
	if b.rate > 0 {
		// What has arrived buys time at the minimum rate, never more than
		// the idle timeout from now.
		if due := b.start.Add(b.idle + time.Duration(float64(b.n)/b.rate*float64(time.Second))); due.Before(deadline) {
			deadline = due
		}
	}
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// refuseTooLarge answers 413 for a body over limit, in GraphQL's shape on
// /graphql.
func refuseTooLarge(w http.ResponseWriter, r *http.Request, limit int64) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
	msg := "the request body is larger than " + strconv.FormatInt(limit, 10) + " bytes (MAX_REQUEST_BODY)"
	if r.URL.Path == "/graphql" {
		w.Write([]byte(`{"errors":[{"message":"` + msg + `","extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}`))
		return
	}
	w.Write([]byte(`{"error":"` + msg + `","code":"PAYLOAD_TOO_LARGE"}`))
}

// isStream tells requests whose bodies or answers are whole files: every
// multipart upload, and what each adapter says of its own routes.
func isStream(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return true
	}
	return rest.IsStream(r.URL.Path) || legacy.IsStream(r.URL.Path)
}

func (a *App) graphQL(download *blobstore.Signer) http.Handler {
	cfg := a.Config
	res := &graph.Resolver{
		Auth: a.Auth, Files: a.Files, Lineage: a.Lineage,
		Download: download, DownloadTTL: cfg.DownloadURLTTL, PublicURL: cfg.PublicURL, Log: a.Log,
		Events: a.Events,
	}
	a.schema = graph.NewSchema(graph.Config{Resolvers: res})
	srv := handler.New(a.schema)
	var exts []graphql.HandlerExtension
	if cfg.Introspection {
		exts = append(exts, extension.Introspection{})
	} else {
		exts = append(exts, graph.NoIntrospection{})
		// "Did you mean ...?" would name the fields introspection hides.
		srv.SetDisableSuggestion(true)
	}
	exts = append(exts,
		extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)},
		&graph.Limits{MaxDepth: cfg.MaxDepth, MaxComplexity: cfg.MaxComplexity, LineageMax: cfg.LineageMaxLimit},
		socketLimits{byIP: a.limitIP, byUser: a.limitUser, max: cfg.MaxSubscriptions, present: graph.ErrorPresenter(a.Log), metrics: a.Metrics},
		graph.Deadline{Timeout: cfg.RequestTimeout},
		graph.RequestCache{},
		a.Metrics.GraphQL())
	if a.Tracing {
		exts = append(exts, tracing.GraphQL{})
	}
	post := postJSON{}
	if preparable(exts) {
		post.prepared = newPrepared(a.schema, a.Metrics)
		a.prepared = post.prepared
	}
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              a.initSocket,
		// Writes go through a bounded queue per connection, so a client
		// that stops reading is closed as a slow consumer (code 1013)
		// instead of blocking its subscriptions forever.
		// The origin was checked before (bounds), by scheme and host: the
		// library's own check compares hosts only.
		Implementation: wsconn.Implementation{Log: a.Log, Inner: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			InsecureSkipVerify: true,
		}}},
		// graphql-transport-ws clients answer pings; one that stops is gone
		// (a vanished peer sends no FIN), so its subscriptions are freed.
		PingPongInterval: 25 * time.Second,
		// Write errors are mostly clients going away; keep them for debugging.
		ErrorFunc: func(ctx context.Context, err error) {
			a.Log.DebugContext(ctx, "websocket", "err", err, "request_id", requestid.From(ctx))
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(getQuery{})
	srv.AddTransport(post)
	// The last file part streams to its resolver; earlier ones above
	// maxMemory go to a temporary file, never to RAM.
	srv.AddTransport(multipartForm{maxParams: cfg.MaxRequestBody, maxFile: cfg.MaxFileSize, maxMemory: 1 << 20,
		timeout: cfg.RequestTimeout, spoolDir: defaultSpoolDir()})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	for _, e := range exts {
		srv.Use(e)
	}
	srv.SetErrorPresenter(graph.ErrorPresenter(a.Log))
	srv.SetRecoverFunc(graph.RecoverFunc(a.Log))
	return srv
}

// ready answers 200 only when the database and the bucket both answer.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, body := http.StatusOK, `{"status":"ready"}`
	if a.draining.Load() {
		status, body = http.StatusServiceUnavailable, `{"status":"unavailable","reason":"shutting down"}`
	} else if dir, full := a.diskFull(); full {
		a.Log.Warn("readiness: disk full", "folder", dir, "free under", minFreeSpace)
		status, body = http.StatusServiceUnavailable, `{"status":"unavailable","reason":"disk full"}`
	} else if err := a.DB.PingContext(ctx); err != nil {
		a.Log.Warn("readiness: database", "err", err)
		status, body = http.StatusServiceUnavailable, `{"status":"unavailable","reason":"database"}`
	} else if ok, err := a.Bucket.IsAccessible(ctx); err != nil || !ok {
		a.Log.Warn("readiness: bucket", "err", bucketCause(err))
		status, body = http.StatusServiceUnavailable, `{"status":"unavailable","reason":"bucket"}`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// The security headers' values, shared by every response: Header.Set would
// allocate each one again per request. Nothing edits a header value in
// place, and a one-element slice is copied by any append.
var (
	noSniff    = []string{"nosniff"}
	noReferrer = []string{"no-referrer"}
	denyFrames = []string{"DENY"}
	apiCSP     = []string{"default-src 'none'; frame-ancestors 'none'"}
)

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = noSniff
		h["Referrer-Policy"] = noReferrer
		h["X-Frame-Options"] = denyFrames
		if r.URL.Path != "/playground" && !legacy.IsPage(r.URL.Path) {
			h["Content-Security-Policy"] = apiCSP
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic in a handler into a plain 500 with no details.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic", "panic", p, "stack", string(debug.Stack()),
					"request_id", requestid.From(r.Context()))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte(`{"error":"internal error"}`))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	// pattern is the router pattern that took the request (withPattern).
	pattern string
}

// withPattern hands the pattern the router matched to the request's
// statusWriter, for the metrics' route label: the router sets it on the
// request it is given, which observe, further out, does not see.
func withPattern(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		for w != nil {
			if sw, ok := w.(*statusWriter); ok {
				sw.pattern = r.Pattern
				return
			}
			u, ok := w.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				return
			}
			w = u.Unwrap()
		}
	})
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush and Hijack (websockets).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe writes one log line per request and records its metrics.
func observe(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		if r.Header.Get("Upgrade") == "" {
			m.ObserveHTTP(sw.pattern, r.Method, status, d)
		}
		ctx := r.Context()
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			// Probes come every few seconds; their failures log themselves.
			level = slog.LevelDebug
		}
		if !log.Enabled(ctx, level) {
			return
		}
		log.LogAttrs(ctx, level, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", d),
			slog.String("client", clientaddr.Of(r)),
			slog.String("request_id", w.Header().Get(requestid.Header)))
	})
}

// Hijack lets websocket upgrades through the logging wrapper.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.status = http.StatusSwitchingProtocols
	return http.NewResponseController(s.ResponseWriter).Hijack()
}

// Flush lets streamed responses reach the client promptly.
func (s *statusWriter) Flush() { _ = http.NewResponseController(s.ResponseWriter).Flush() }
