// Package app wires configuration, storage and the feature packages into
// one HTTP handler, and runs the server with graceful shutdown.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun/extra/bunotel"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/graph"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/events"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
	"github.com/cutline/cutline/internal/metrics"
	"github.com/cutline/cutline/internal/openlineage"
	"github.com/cutline/cutline/internal/ratelimit"
	"github.com/cutline/cutline/internal/shutdown"
	"github.com/cutline/cutline/internal/tracing"
)

// App is a running instance's state: storage handles and services.
type App struct {
	Config  config.Config
	Log     *slog.Logger
	DB      *database.DB
	Bucket  *blob.Bucket
	Auth    *auth.Service
	Files   *files.Service
	Lineage *lineage.Service
	// OpenLineage describes derivations as OpenLineage events.
	OpenLineage *openlineage.Service
	Events      *events.Broker
	Metrics     *metrics.Metrics
	Handler     http.Handler
	// emitter sends new derivations to OPENLINEAGE_URL; nil when unset.
	emitter *openlineage.Emitter
	// Tracing is on when the OTEL_* environment asks for it.
	Tracing bool
	// RateLimits shares the request rate limits through Redis (REDIS_URL);
	// nil keeps them in this process.
	RateLimits *ratelimit.Shared

	// The rate limits per client address and per user, shared by every
	// transport.
	limitIP, limitUser ratelimit.Limit

	draining atomic.Bool
	// schema is the GraphQL handler's executable schema.
	schema *graph.Schema
	// prepared is the POST transport's prepared operations, or nil.
	prepared *prepared
}

// NewLogger builds the process logger from the settings (config.Load has
// checked LOG_LEVEL).
func NewLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// New opens storage, applies migrations and builds the handler. The caller
// must Close the App.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := checkFolders(cfg); err != nil {
		return nil, err
	}
	db, err := database.OpenWith(ctx, cfg.DatabaseURL, database.Options{StatementTimeout: cfg.StatementTimeout})
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: db}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	applied, err := database.Migrate(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if len(applied) > 0 {
		log.Info("applied migrations", "versions", applied)
	}
	if a.Bucket, err = blobstore.Open(ctx, cfg.BlobURL); err != nil {
		return nil, err
	}
	if err := a.build(); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// Build assembles an App over storage the caller opened (and closes):
// tests use it with their own database and bucket.
func Build(cfg config.Config, log *slog.Logger, db *database.DB, bucket *blob.Bucket) (*App, error) {
	a := &App{Config: cfg, Log: log, DB: db, Bucket: bucket}
	return a, a.build()
}

func (a *App) build() error {
	cfg := a.Config
	var err error
	a.Metrics = metrics.New()
	a.Metrics.RegisterDB(a.DB.SQL())
	a.Tracing = tracing.Enabled(os.Getenv)
	if a.Tracing {
		a.DB.AddQueryHook(bunotel.NewQueryHook(bunotel.WithDBName("cutline")))
	}
	secret, err := a.signingSecret()
	if err != nil {
		return err
	}
	if cfg.RedisURL != "" {
		a.RateLimits, err = ratelimit.NewShared(cfg.RedisURL, ratelimit.SharedOptions{
			Prefix: cfg.RedisPrefix, Timeout: cfg.RedisTimeout, Log: a.Log, Observer: a.Metrics,
		})
		if err != nil {
			return fmt.Errorf("REDIS_URL: %w", withoutURL(err))
		}
		if a.RateLimits.Ping(context.Background()) == nil {
			a.Log.Info("rate limits shared through Redis", "redis", redactRedis(cfg.RedisURL))
		}
	}
	a.Auth, err = auth.NewService(a.DB, auth.Config{
		Secret: secret, PreviousSecrets: cfg.JWTPreviousSecrets,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL,
		HashConcurrency: cfg.PasswordHashers, LoginFailureLimit: cfg.LoginFailureLimit,
		Argon2:               auth.Argon2Params{Memory: cfg.Argon2MemoryKiB, Time: cfg.Argon2Time},
		Logger:               a.Log,
		Registrations:        a.RateLimits.Limit("register", float64(cfg.RegisterPerHour)/3600, cfg.RegisterPerHour),
		SessionCheckInterval: sessionCheck(cfg.SessionCheckInterval),
		// a.Files is made below; an account is deleted long after.
		DeleteData: func(ctx context.Context, user int64) error { return a.Files.DeleteOwner(ctx, user) },
	})
	if err != nil {
		return err
	}
	// A database several replicas may share relays events, so that each
	// delivers the others'.
	if a.Events, err = events.Open(context.Background(), a.DB, events.PostgresOptions{Logger: a.Log}); err != nil {
		return err
	}
	a.Files = files.NewService(a.DB, a.Bucket, files.Options{MaxFileSize: cfg.MaxFileSize, MaxColumns: cfg.MaxColumns,
		ScratchQuota: cfg.ScratchQuotaBytes(), MaxFilterTags: cfg.MaxFilterTags, Logger: a.Log, Publish: a.Events.Publish,
		Announce: a.Events.Announce, Uncertain: a.Events.Uncertain, Meter: a.Metrics,
		OpenLineage: cfg.OpenLineageURL != "", BlobTimeout: cfg.BlobTimeout, BucketName: blobstore.BucketName(cfg.BlobURL),
		CutWorkers: cfg.CutWorkerCount(), UploadWorkers: cfg.UploadWorkerCount()})
	a.Lineage = lineage.NewService(a.DB, cfg.LineageMaxDepth, cfg.LineageMaxLimit)
	a.OpenLineage = openlineage.NewService(a.Files, a.Lineage, cfg.OpenLineageNamespace)
	if cfg.OpenLineageURL != "" {
		a.emitter = openlineage.NewEmitter(a.OpenLineage, lineage.NewStore(a.DB), openlineage.EmitterOptions{
			URL: cfg.OpenLineageURL, APIKey: cfg.OpenLineageAPIKey, Timeout: cfg.OpenLineageTimeout,
			MaxAttempts: cfg.OpenLineageMaxAttempts, RetryMin: cfg.OpenLineageRetryMin, RetryMax: cfg.OpenLineageRetryMax,
			Logger: a.Log, Meter: a.Metrics,
		})
		a.Metrics.RegisterOpenLineage(a.emitter.Counts)
	}
	a.limitIP = a.RateLimits.Limit("ip", cfg.RatePerIP, cfg.RateBurstIP)
	a.limitUser = a.RateLimits.Limit("user", cfg.RatePerUser, cfg.RateBurstUser)
	if a.Handler, err = a.routes(); err != nil {
		return err
	}
	if a.emitter != nil {
		a.emitter.Start()
	}
	return nil
}

// Stop ends the background work that writes to storage (the OpenLineage
// emitter), waiting for what is in flight; storage stays open. Close
// calls it.
func (a *App) Stop() {
	if a.emitter != nil {
		a.emitter.Close()
	}
}

// signingSecret is JWT_SECRET, or else the secret every replica on the
// database shares (created by the first to start).
func (a *App) signingSecret() (string, error) {
	if a.Config.JWTSecret != "" {
		return a.Config.JWTSecret, nil
	}
	seed, err := a.Config.SecretFile()
	if err != nil {
		return "", fmt.Errorf("DATA_DIR %q: %w (or set JWT_SECRET)", a.Config.DataDir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	secret, created, err := auth.SharedSecret(ctx, a.DB, seed)
	if err != nil {
		return "", err
	}
	switch {
	case created && seed != "":
		a.Log.Info("stored the signing secret of DATA_DIR/jwt.secret in the database, where every replica finds it; the database's copy counts from now on", "dir", a.Config.DataDir)
	case created:
		a.Log.Info("generated the signing secret and stored it in the database, where every replica finds it; JWT_SECRET overrides it")
	}
	return secret, nil
}

// sessionCheck turns SESSION_CHECK_INTERVAL into auth's terms, where 0
// means the default.
func sessionCheck(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Close releases the storage handles.
func (a *App) Close() {
	a.Stop()
	// The relay says goodbye to the other replicas through the database,
	// so it goes first.
	if a.Events != nil {
		a.Events.Close()
	}
	if a.Bucket != nil {
		a.Bucket.Close()
	}
	a.RateLimits.Close()
	if a.DB != nil {
		a.DB.Close()
	}
}

// withoutURL drops the URL a parse error repeats: it may hold a password.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactRedis is a Redis URL fit for the log: without its password.
func redactRedis(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// MigrateOnly applies migrations and returns.
func MigrateOnly(ctx context.Context, cfg config.Config) error {
	log := NewLogger(cfg)
	db, err := database.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := database.Migrate(ctx, db)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "new", applied, "database", database.Redact(cfg.DatabaseURL))
	return nil
}

// ErrProblems is Check's answer when it found something wrong.
var ErrProblems = errors.New("the check found problems")

// Check compares the database's rows with the bucket's objects (cutline
// check) and writes the report to w: ErrProblems when something is wrong.
// It creates, migrates and changes nothing.
func Check(ctx context.Context, cfg config.Config, w io.Writer) error {
	db, err := database.OpenExisting(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	bucket, err := blobstore.Open(ctx, cfg.BlobURL)
	if err != nil {
		return err
	}
	defer bucket.Close()
	svc := files.NewService(db, bucket, files.Options{BlobTimeout: cfg.BlobTimeout, BucketName: blobstore.BucketName(cfg.BlobURL)})
	rep, err := svc.Check(ctx, files.CheckOptions{})
	if err != nil {
		return fmt.Errorf("check: %w", err)
	}
	if err := rep.Write(w); err != nil {
		return err
	}
	if !rep.OK() {
		return ErrProblems
	}
	return nil
}

// closeGrace bounds how long shutting down waits for clients that keep
// connections open without sending on them.
const closeGrace = 2 * time.Second

// cancelGrace bounds how long requests cancelled at the end of
// SHUTDOWN_TIMEOUT get to clean up before the storage closes.
const cancelGrace = 5 * time.Second

// counted keeps n at the number of requests next is serving.
func counted(n *atomic.Int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		defer n.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// settle waits up to d for n to reach zero and reports whether it did.
func settle(n *atomic.Int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for n.Load() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Serve runs the server until ctx is cancelled, then closes it without
// dropping a request a client already sent (package shutdown), lets
// in-flight requests finish and closes the pools.
func Serve(ctx context.Context, cfg config.Config) error {
	log := NewLogger(cfg)
	slog.SetDefault(log)
	a, err := New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()

	var conns shutdown.Tracker
	// Requests outlive the signal that starts the shutdown, but not its
	// timeout: what still runs then (a slow upload) is cancelled, and the
	// storage stays open until it has cleaned up after itself (its
	// temporary object removed at once, not by a sweep an hour later).
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	var running atomic.Int64
	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           conns.Middleware(counted(&running, a.Handler)),
		ConnState:         conns.ConnState,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	log.Info("cutline listening",
		"addr", ln.Addr().String(),
		"graphql", "/graphql", "playground", "/playground",
		"database", database.Redact(cfg.DatabaseURL),
		"blobs", blobstore.Redact(cfg.BlobURL))

	go a.checkBucket(ctx)

	if tracing.Enabled(os.Getenv) {
		shutdown, err := tracing.Setup(ctx)
		if err != nil {
			return err
		}
		defer shutdown(context.Background())
		log.Info("tracing on (OTEL_* settings)")
	}
	if cfg.PprofAddr != "" {
		go servePprof(log, cfg.PprofAddr)
	}
	if cfg.MetricsAddr != "" {
		go serveMetrics(log, cfg.MetricsAddr, a.Metrics.Handler())
	}

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go a.sweepLoop(bg, time.Minute)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if cfg.ShutdownDrain > 0 {
		// Tell load balancers to stop sending (readyz answers 503) before
		// closing, and keep serving meanwhile.
		log.Info("draining", "for", cfg.ShutdownDrain)
		a.draining.Store(true)
		time.Sleep(cfg.ShutdownDrain)
	}
	a.draining.Store(true)
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	refused, err := conns.Close(sctx, srv, ln, min(closeGrace, cfg.ShutdownTimeout))
	if err != nil {
		log.Warn("shutdown timeout: cancelling the requests still running", "requests", running.Load())
		cancelRequests()
		// A handler blocked reading a body that no longer comes returns
		// once its connection is closed.
		_ = srv.Close()
		if !settle(&running, cancelGrace) {
			log.Warn("requests still running after they were cancelled", "requests", running.Load())
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	log.Debug("connections closed", "listener refused new ones", refused)
	log.Info("stopped")
	return nil
}

// sweepLoop removes expired scratch files, orphaned objects, idempotency
// keys older than a day, kept multipart file parts a dead process left
// (defaultSpoolDir) and expired refresh tokens periodically.
func (a *App) sweepLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := a.Files.Sweep(ctx, files.SweepGrace); err != nil {
			a.Log.Warn("sweep files", "err", err)
		} else if n > 0 {
			a.Log.Info("swept files and objects", "removed", n)
		}
		if n := sweepSpool(defaultSpoolDir(), time.Hour); n > 0 {
			a.Log.Info("swept kept upload parts", "removed", n)
		}
		if _, err := a.Auth.SweepExpired(ctx, time.Now()); err != nil {
			a.Log.Warn("sweep refresh tokens", "err", err)
		}
	}
}

// serveMetrics serves /metrics on its own listener (METRICS_ADDR), which
// operators keep off the public network.
func serveMetrics(log *slog.Logger, addr string, h http.Handler) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	log.Info("metrics listening", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("metrics listener", "err", err)
	}
}

// servePprof serves the profiler on its own listener, which operators keep
// off the public network (for example 127.0.0.1:6060).
func servePprof(log *slog.Logger, addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("pprof listening", "addr", addr)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("pprof listener", "err", err)
	}
}
