// Package config reads the server's settings from flags and environment
// variables. Every setting has a default that works on a bare machine.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/clientaddr"
)

// Config is every setting of the server. README.md documents each one.
type Config struct {
	Addr        string
	DataDir     string
	DatabaseURL string
	BlobURL     string
	PublicURL   string

	JWTSecret          string
	JWTPreviousSecrets []string
	JWTIssuer          string
	JWTAudience        string
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration
	PasswordHashers    int
	Argon2MemoryKiB    uint32
	Argon2Time         uint32

	CORSOrigins []string
	MaxFileSize int64
	MaxColumns  int
	ScratchTTL  time.Duration
	// ScratchQuota bounds the bytes of live scratch uploads per client
	// address; negative means 5 x MaxFileSize (see ScratchQuotaBytes), 0 off.
	ScratchQuota int64
	// RegisterPerHour is how many accounts one client address may register
	// per hour; 0 is no limit.
	RegisterPerHour int
	DownloadURLTTL  time.Duration

	// StatementTimeout is PostgreSQL's statement_timeout on every
	// connection: a backstop behind the requests' own deadlines.
	StatementTimeout time.Duration
	// MaxFilterTags bounds the tags of one file filter.
	MaxFilterTags int
	// CutWorkers is how many goroutines one cut of a large file uses; 0
	// means as many as Go runs at once (GOMAXPROCS, see CutWorkerCount).
	CutWorkers int
	// UploadWorkers is how many goroutines analyse one upload's chunks; 0
	// means GOMAXPROCS.
	UploadWorkers int

	LogLevel  string
	LogFormat string

	Introspection     bool
	MaxComplexity     int
	MaxDepth          int
	LineageMaxDepth   int
	LineageMaxLimit   int
	ShimRatePerMinute int
	LoginFailureLimit int
	ShutdownTimeout   time.Duration
	ShutdownDrain     time.Duration

	RatePerIP      float64
	RateBurstIP    int
	RatePerUser    float64
	RateBurstUser  int
	RequestTimeout time.Duration
	MaxRequestBody int64
	MaxWebsockets  int
	// MetricsAddr serves /metrics on a listener of its own; MetricsToken
	// serves it on the main port to requests bearing the token. Neither:
	// no metrics on the public port.
	MetricsAddr  string
	MetricsToken string
	// UploadIdleTimeout and UploadMinRate pace the bodies of file
	// uploads: no read waits longer, and the body averages at least that
	// many bytes per second after the first UploadIdleTimeout.
	UploadIdleTimeout time.Duration
	UploadMinRate     int64
	// BlobTimeout bounds each bucket call, and each read or write of a
	// stream of a file's bytes.
	BlobTimeout time.Duration
	// MaxSubscriptions caps the subscriptions open at once on one websocket.
	MaxSubscriptions int
	// SessionCheckInterval is how long a replica trusts a user's session
	// epoch before reading it again; 0 reads it on every request.
	SessionCheckInterval time.Duration
	PprofAddr            string

	// OpenLineageNamespace names the jobs and datasets of the OpenLineage
	// events.
	OpenLineageNamespace string
	// OpenLineageURL, when set, receives every new derivation as an
	// OpenLineage event (with OpenLineageAPIKey as a Bearer token).
	OpenLineageURL    string
	OpenLineageAPIKey string
	// OpenLineageTimeout is the deadline of each delivery; a delivery is
	// tried at most OpenLineageMaxAttempts times, waiting from
	// OpenLineageRetryMin (doubling) to OpenLineageRetryMax between.
	OpenLineageTimeout     time.Duration
	OpenLineageMaxAttempts int
	OpenLineageRetryMin    time.Duration
	OpenLineageRetryMax    time.Duration

	// TrustedProxies are the peers whose forwarding header
	// (TrustedProxyHeader) names the client; nobody's by default.
	TrustedProxies     []netip.Prefix
	TrustedProxyHeader string

	// RedisURL, when set, shares the request rate limits between replicas
	// through Redis; RedisPrefix starts their keys and RedisTimeout bounds
	// each call.
	RedisURL     string
	RedisPrefix  string
	RedisTimeout time.Duration
}

// Default returns the settings used when nothing is configured.
func Default() Config {
	return Config{
		Addr:                 ":8080",
		DataDir:              "./data",
		JWTIssuer:            "cutline",
		JWTAudience:          "cutline",
		AccessTokenTTL:       10 * time.Minute,
		RefreshTokenTTL:      24 * time.Hour,
		PasswordHashers:      2,
		MaxFileSize:          10 << 20,
		MaxColumns:           10000,
		ScratchTTL:           time.Hour,
		ScratchQuota:         -1,
		RegisterPerHour:      20,
		DownloadURLTTL:       5 * time.Minute,
		LogLevel:             "info",
		StatementTimeout:     90 * time.Second,
		MaxFilterTags:        50,
		LogFormat:            "text",
		Introspection:        true,
		MaxComplexity:        50000,
		MaxDepth:             12,
		LineageMaxDepth:      100,
		LineageMaxLimit:      10000,
		ShimRatePerMinute:    60,
		LoginFailureLimit:    10,
		ShutdownTimeout:      30 * time.Second,
		RatePerIP:            50,
		RateBurstIP:          100,
		RatePerUser:          20,
		RateBurstUser:        50,
		RequestTimeout:       60 * time.Second,
		MaxRequestBody:       1 << 20,
		MaxWebsockets:        10000,
		MaxSubscriptions:     100,
		SessionCheckInterval: 5 * time.Second,
		UploadIdleTimeout:    30 * time.Second,
		UploadMinRate:        16 << 10,
		BlobTimeout:          30 * time.Second,

		OpenLineageNamespace:   "cutline",
		OpenLineageTimeout:     10 * time.Second,
		OpenLineageMaxAttempts: 10,
		OpenLineageRetryMin:    time.Second,
		OpenLineageRetryMax:    5 * time.Minute,
		TrustedProxyHeader:     "X-Forwarded-For",
		RedisPrefix:            "cutline:",
		RedisTimeout:           200 * time.Millisecond,
	}
}

// UsageError is an error in the command line itself (an unknown flag, a
// stray argument): the caller prints the usage and exits with status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *UsageError) Unwrap() error { return e.Err }

// Setting is one environment variable of the server, with the flag that
// overrides it when it has one. Settings lists them all; the help text and
// the errors are made from it.
type Setting struct {
	Env     string
	Flag    string // "" when only the environment sets it
	Default string // as the help shows it
	Usage   string
	set     func(c *Config, v string) error
}

// Settings is every setting Load reads, in the order the help lists them.
func Settings() []Setting {
	d := Default()
	return []Setting{
		{"ADDR", "addr", d.Addr, "listen address", str(func(c *Config) *string { return &c.Addr })},
		{"DATA_DIR", "data", d.DataDir, "folder for the embedded database and blobs", str(func(c *Config) *string { return &c.DataDir })},
		{"DATABASE_URL", "db", "sqlite://DATA_DIR/cutline.db", "postgres://user:pass@host:5432/db, or a SQLite path (sqlite://PATH, file:PATH)", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"BLOB_URL", "blobs", "file://DATA_DIR/blobs", "where file bytes live: file://DIR, mem://, s3://BUCKET?..., gs://BUCKET, azblob://CONTAINER", str(func(c *Config) *string { return &c.BlobURL })},
		{"PUBLIC_URL", "", "", "prefix for downloadUrls, e.g. https://cutline.example.com", str(func(c *Config) *string { return &c.PublicURL })},
		{"JWT_SECRET", "", "generated in the database", "HS256 signing secret for access tokens; the same on every replica", str(func(c *Config) *string { return &c.JWTSecret })},
		{"JWT_PREVIOUS_SECRETS", "", "", "comma-separated old secrets still accepted during a key rotation", list(func(c *Config) *[]string { return &c.JWTPreviousSecrets })},
		{"JWT_ISSUER", "", d.JWTIssuer, "iss claim, checked on every token", str(func(c *Config) *string { return &c.JWTIssuer })},
		{"JWT_AUDIENCE", "", d.JWTAudience, "aud claim, checked on every token", str(func(c *Config) *string { return &c.JWTAudience })},
		{"ACCESS_TOKEN_TTL", "", ShortDuration(d.AccessTokenTTL), "access token lifetime", duration(func(c *Config) *time.Duration { return &c.AccessTokenTTL }, false)},
		{"REFRESH_TOKEN_TTL", "", ShortDuration(d.RefreshTokenTTL), "refresh token lifetime", duration(func(c *Config) *time.Duration { return &c.RefreshTokenTTL }, false)},
		{"PASSWORD_HASH_CONCURRENCY", "", strconv.Itoa(d.PasswordHashers), "argon2id hashes at once", integer(func(c *Config) *int { return &c.PasswordHashers }, 1)},
		{"ARGON2_MEMORY_KIB", "", "19456", "argon2id memory for new hashes, in KiB", uint32Of(func(c *Config) *uint32 { return &c.Argon2MemoryKiB })},
		{"ARGON2_TIME", "", "2", "argon2id passes for new hashes", uint32Of(func(c *Config) *uint32 { return &c.Argon2Time })},
		{"SESSION_CHECK_INTERVAL", "", ShortDuration(d.SessionCheckInterval), "longest an ended session's access tokens still work on a replica (0: check on every request)", duration(func(c *Config) *time.Duration { return &c.SessionCheckInterval }, true)},
		{"LOGIN_FAILURE_LIMIT", "", strconv.Itoa(d.LoginFailureLimit), "failed logins per account per 15 minutes before RATE_LIMITED", integer(func(c *Config) *int { return &c.LoginFailureLimit }, 0)},
		{"CORS_ORIGINS", "", "", "comma-separated browser origins allowed to call the API (never *)", list(func(c *Config) *[]string { return &c.CORSOrigins })},
		{"MAX_FILE_SIZE", "", "10MiB", "largest file accepted: 500MB, 5GiB or a byte count", size(func(c *Config) *int64 { return &c.MaxFileSize })},
		{"MAX_COLUMNS", "", strconv.Itoa(d.MaxColumns), "widest header accepted (0: no limit)", integer(func(c *Config) *int { return &c.MaxColumns }, 0)},
		{"SCRATCH_TTL", "", ShortDuration(d.ScratchTTL), "lifetime of anonymous uploads of the legacy cutter page", duration(func(c *Config) *time.Duration { return &c.ScratchTTL }, false)},
		{"SCRATCH_QUOTA", "", "5 x MAX_FILE_SIZE", "bytes the live anonymous cutter uploads of one client address may hold (0: no limit)", size(func(c *Config) *int64 { return &c.ScratchQuota })},
		{"REGISTER_RATE_LIMIT", "", strconv.Itoa(d.RegisterPerHour), "accounts one client address may register per hour (0: no limit)", integer(func(c *Config) *int { return &c.RegisterPerHour }, 0)},
		{"DOWNLOAD_URL_TTL", "", ShortDuration(d.DownloadURLTTL), "lifetime of a signed downloadUrl", duration(func(c *Config) *time.Duration { return &c.DownloadURLTTL }, false)},
		{"LOG_LEVEL", "log-level", d.LogLevel, "debug, info, warn or error", logLevel},
		{"LOG_FORMAT", "log-format", d.LogFormat, "text or json", oneOf(func(c *Config) *string { return &c.LogFormat }, "text", "json")},
		{"GRAPHQL_INTROSPECTION", "", strconv.FormatBool(d.Introspection), "false turns schema introspection off", boolean(func(c *Config) *bool { return &c.Introspection })},
		{"GRAPHQL_MAX_DEPTH", "", strconv.Itoa(d.MaxDepth), "deeper operations are QUERY_TOO_COMPLEX (0: no limit)", integer(func(c *Config) *int { return &c.MaxDepth }, 0)},
		{"GRAPHQL_MAX_COMPLEXITY", "", strconv.Itoa(d.MaxComplexity), "costlier operations are QUERY_TOO_COMPLEX (0: no limit)", integer(func(c *Config) *int { return &c.MaxComplexity }, 0)},
		{"LINEAGE_MAX_DEPTH", "", strconv.Itoa(d.LineageMaxDepth), "server-side cap on lineage depth", integer(func(c *Config) *int { return &c.LineageMaxDepth }, 1)},
		{"LINEAGE_MAX_LIMIT", "", strconv.Itoa(d.LineageMaxLimit), "server-side cap on lineage nodes", integer(func(c *Config) *int { return &c.LineageMaxLimit }, 1)},
		{"SHIM_RATE_LIMIT", "", strconv.Itoa(d.ShimRatePerMinute), "legacy REST requests per minute per client", integer(func(c *Config) *int { return &c.ShimRatePerMinute }, 0)},
		{"SHUTDOWN_TIMEOUT", "", ShortDuration(d.ShutdownTimeout), "how long in-flight requests may take to finish on SIGINT/SIGTERM", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, false)},
		{"SHUTDOWN_DRAIN", "", "0s", "answer /readyz with 503 this long before shutting down", duration(func(c *Config) *time.Duration { return &c.ShutdownDrain }, true)},
		{"RATE_LIMIT_IP", "", "50", "requests per second per client address (0: off)", rate(func(c *Config) *float64 { return &c.RatePerIP })},
		{"RATE_LIMIT_IP_BURST", "", strconv.Itoa(d.RateBurstIP), "burst per client address", integer(func(c *Config) *int { return &c.RateBurstIP }, 0)},
		{"RATE_LIMIT_USER", "", "20", "requests per second per logged-in user (0: off)", rate(func(c *Config) *float64 { return &c.RatePerUser })},
		{"RATE_LIMIT_USER_BURST", "", strconv.Itoa(d.RateBurstUser), "burst per logged-in user", integer(func(c *Config) *int { return &c.RateBurstUser }, 0)},
		{"MAX_FILTER_TAGS", "", strconv.Itoa(d.MaxFilterTags), "most distinct tags in one file filter (0: no limit)", integer(func(c *Config) *int { return &c.MaxFilterTags }, 0)},
		{"CUT_WORKERS", "", "GOMAXPROCS", "goroutines one cut of a large file uses, each reading its own part (1: one core)", between(func(c *Config) *int { return &c.CutWorkers }, 1, MaxCutWorkers)},
		{"UPLOAD_WORKERS", "", "GOMAXPROCS", "goroutines that parse and profile one upload's chunks at once (1: one core)", between(func(c *Config) *int { return &c.UploadWorkers }, 1, MaxCutWorkers)},
		{"DATABASE_STATEMENT_TIMEOUT", "", ShortDuration(d.StatementTimeout), "PostgreSQL statement_timeout of every connection, a backstop behind the request deadlines", duration(func(c *Config) *time.Duration { return &c.StatementTimeout }, true)},
		{"REQUEST_TIMEOUT", "", ShortDuration(d.RequestTimeout), "deadline of every request that is not a file stream", duration(func(c *Config) *time.Duration { return &c.RequestTimeout }, false)},
		{"MAX_REQUEST_BODY", "", "1MiB", "largest body of a request that is not a file upload", size(func(c *Config) *int64 { return &c.MaxRequestBody })},
		{"UPLOAD_IDLE_TIMEOUT", "", ShortDuration(d.UploadIdleTimeout), "longest wait for the next bytes of a file upload", duration(func(c *Config) *time.Duration { return &c.UploadIdleTimeout }, false)},
		{"BLOB_TIMEOUT", "", ShortDuration(d.BlobTimeout), "deadline of each bucket call, and of each read or write of a file's bytes", duration(func(c *Config) *time.Duration { return &c.BlobTimeout }, false)},
		{"UPLOAD_MIN_RATE", "", "16KiB", "bytes per second a file upload must average after UPLOAD_IDLE_TIMEOUT (0: no minimum)", size(func(c *Config) *int64 { return &c.UploadMinRate })},
		{"WS_MAX_CONNECTIONS", "", strconv.Itoa(d.MaxWebsockets), "open websocket connections at most (0: no limit)", integer(func(c *Config) *int { return &c.MaxWebsockets }, 0)},
		{"WS_MAX_SUBSCRIPTIONS", "", strconv.Itoa(d.MaxSubscriptions), "subscriptions open at once on one websocket (0: no limit)", integer(func(c *Config) *int { return &c.MaxSubscriptions }, 0)},
		{"METRICS_ADDR", "", "off", "serve /metrics on this separate address, e.g. 127.0.0.1:9090", str(func(c *Config) *string { return &c.MetricsAddr })},
		{"METRICS_TOKEN", "", "", "serve /metrics on the main port too, to requests with Authorization: Bearer <token>", str(func(c *Config) *string { return &c.MetricsToken })},
		{"OPENLINEAGE_NAMESPACE", "", d.OpenLineageNamespace, "namespace of the OpenLineage jobs; datasets are cutline://NAMESPACE/files/ID", str(func(c *Config) *string { return &c.OpenLineageNamespace })},
		{"OPENLINEAGE_URL", "", "off", "POST every new derivation as an OpenLineage event to this URL, e.g. http://marquez:5000/api/v1/lineage", httpURL(func(c *Config) *string { return &c.OpenLineageURL })},
		{"OPENLINEAGE_API_KEY", "", "", "sent to OPENLINEAGE_URL as Authorization: Bearer <key>", str(func(c *Config) *string { return &c.OpenLineageAPIKey })},
		{"OPENLINEAGE_TIMEOUT", "", ShortDuration(d.OpenLineageTimeout), "deadline of each OpenLineage delivery", duration(func(c *Config) *time.Duration { return &c.OpenLineageTimeout }, false)},
		{"OPENLINEAGE_MAX_ATTEMPTS", "", strconv.Itoa(d.OpenLineageMaxAttempts), "deliveries tried per event before it is given up", integer(func(c *Config) *int { return &c.OpenLineageMaxAttempts }, 1)},
		{"OPENLINEAGE_RETRY_MIN", "", ShortDuration(d.OpenLineageRetryMin), "wait after a first failed delivery, doubled after each further one; also how often a replica looks for new ones", duration(func(c *Config) *time.Duration { return &c.OpenLineageRetryMin }, false)},
		{"OPENLINEAGE_RETRY_MAX", "", ShortDuration(d.OpenLineageRetryMax), "longest wait between two deliveries of an event", duration(func(c *Config) *time.Duration { return &c.OpenLineageRetryMax }, false)},
		{"PPROF_ADDR", "", "off", "serve /debug/pprof/ on this separate address, e.g. 127.0.0.1:6060", str(func(c *Config) *string { return &c.PprofAddr })},
		{"TRUSTED_PROXIES", "", "", "comma-separated CIDRs of the proxies whose TRUSTED_PROXY_HEADER names the client", prefixes(func(c *Config) *[]netip.Prefix { return &c.TrustedProxies })},
		{"TRUSTED_PROXY_HEADER", "", d.TrustedProxyHeader, "the header trusted proxies name the client in: X-Forwarded-For or Forwarded", oneOf(func(c *Config) *string { return &c.TrustedProxyHeader }, "X-Forwarded-For", "Forwarded")},
		{"REDIS_URL", "", "", "share the rate limits between replicas through this Redis: redis://host:6379/0, rediss://, unix://", str(func(c *Config) *string { return &c.RedisURL })},
		{"REDIS_KEY_PREFIX", "", d.RedisPrefix, "prefix of the server's Redis keys", str(func(c *Config) *string { return &c.RedisPrefix })},
		{"REDIS_TIMEOUT", "", d.RedisTimeout.String(), "longest wait for one Redis call before limiting in this process", duration(func(c *Config) *time.Duration { return &c.RedisTimeout }, false)},
	}
}

// Load parses args (without the program name) over environment variables
// over defaults. Flags win over the environment. Every error names the
// setting, the value and what is wrong with it; a command-line error is a
// *UsageError.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	var errs []error
	settings := Settings()
	for _, s := range settings {
		if v := strings.TrimSpace(getenv(s.Env)); v != "" {
			if err := s.set(&c, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", s.Env, v, err))
			}
		}
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}

	fs := flag.NewFlagSet("cutline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, s := range settings {
		if s.Flag == "" {
			continue
		}
		fs.Func(s.Flag, s.Usage+" ("+s.Env+")", func(v string) error {
			if err := s.set(&c, v); err != nil {
				return fmt.Errorf("%s (%s): %w", s.Env, strconv.Quote(v), err)
			}
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, &UsageError{err}
	}
	if fs.NArg() > 0 {
		return c, &UsageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}

	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "cutline.db")
	}
	if c.BlobURL == "" {
		c.BlobURL = "file://" + filepath.ToSlash(filepath.Join(c.DataDir, "blobs"))
	}
	return c, c.validate()
}

// ShortDuration writes d as time.Duration does, without zero minutes and
// seconds at its end: 10m, 24h, 1h30m.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// The parsers of Settings: each stores a valid value or says why v is not one.

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

// httpURL takes an absolute http or https URL.
func httpURL(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("not an http:// or https:// URL")
		}
		*field(c) = v
		return nil
	}
}

func list(field func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = splitList(v); return nil }
}

func oneOf(field func(*Config) *string, allowed ...string) func(*Config, string) error {
	return func(c *Config, v string) error {
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				*field(c) = a
				return nil
			}
		}
		return fmt.Errorf("must be %s", strings.Join(allowed, " or "))
	}
}

func logLevel(c *Config, v string) error {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "warning", "error":
		c.LogLevel = strings.TrimSuffix(strings.ToLower(v), "ing")
		return nil
	}
	return errors.New("must be debug, info, warn or error")
}

func duration(field func(*Config) *time.Duration, zeroOK bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return errors.New("not a duration like 90s, 10m or 1h30m")
		case d < 0 || d == 0 && !zeroOK:
			return errors.New("must be positive")
		}
		*field(c) = d
		return nil
	}
}

func integer(field func(*Config) *int, least int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange):
			return errors.New("too large")
		case err != nil:
			return errors.New("not a whole number")
		case n < least:
			return fmt.Errorf("must be at least %d", least)
		}
		*field(c) = n
		return nil
	}
}

// between is integer with an upper bound too.
func between(field func(*Config) *int, least, most int) func(*Config, string) error {
	parse := integer(field, least)
	return func(c *Config, v string) error {
		if n, err := strconv.Atoi(v); err == nil && n > most {
			return fmt.Errorf("must be at most %d", most)
		}
		return parse(c, v)
	}
}

// MaxCutWorkers bounds CUT_WORKERS: each worker holds read buffers and a
// part's output, and more goroutines than cores only take turns.
const MaxCutWorkers = 64

// UploadWorkerCount is UploadWorkers, or GOMAXPROCS when it is not set.
func (c Config) UploadWorkerCount() int {
	if c.UploadWorkers > 0 {
		return c.UploadWorkers
	}
	return min(runtime.GOMAXPROCS(0), MaxCutWorkers)
}

// CutWorkerCount is CutWorkers, or GOMAXPROCS when it is not set.
func (c Config) CutWorkerCount() int {
	if c.CutWorkers > 0 {
		return c.CutWorkers
	}
	return min(runtime.GOMAXPROCS(0), MaxCutWorkers)
}

func uint32Of(field func(*Config) *uint32) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange):
			return fmt.Errorf("more than %d", uint32(math.MaxUint32))
		case err != nil:
			return errors.New("not a whole number")
		}
		*field(c) = uint32(n)
		return nil
	}
}

func rate(field func(*Config) *float64) func(*Config, string) error {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
			return errors.New("not a number")
		case f < 0:
			return errors.New("must be 0 (off) or more")
		}
		*field(c) = f
		return nil
	}
}

func prefixes(field func(*Config) *[]netip.Prefix) func(*Config, string) error {
	return func(c *Config, v string) error {
		p, err := clientaddr.ParsePrefixes(splitList(v))
		if err != nil {
			return err
		}
		*field(c) = p
		return nil
	}
}

func boolean(field func(*Config) *bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*field(c) = b
		return nil
	}
}

func size(field func(*Config) *int64) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		switch {
		case err != nil:
			return err
		case n <= 0:
			return errors.New("must be at least one byte")
		}
		*field(c) = n
		return nil
	}
}

// validate checks what no single parser can: settings that depend on each
// other or on the whole list.
func (c Config) validate() error {
	var errs []error
	for _, o := range c.CORSOrigins {
		if o == "*" {
			errs = append(errs, errors.New("CORS_ORIGINS: must list explicit origins, not *"))
		}
	}
	if c.OpenLineageRetryMax < c.OpenLineageRetryMin {
		errs = append(errs, fmt.Errorf("OPENLINEAGE_RETRY_MAX (%s) must not be below OPENLINEAGE_RETRY_MIN (%s)",
			ShortDuration(c.OpenLineageRetryMax), ShortDuration(c.OpenLineageRetryMin)))
	}
	return errors.Join(errs...)
}

// ScratchQuotaBytes is the scratch quota per client address in bytes: the
// setting, or five files of the largest size when it is not set.
func (c Config) ScratchQuotaBytes() int64 {
	if c.ScratchQuota < 0 {
		return 5 * c.MaxFileSize
	}
	return c.ScratchQuota
}

// SecretFile returns the secret an earlier version generated in
// DATA_DIR/jwt.secret, or "" when there is none. Without JWT_SECRET the
// secret now lives in the database, where every replica finds it; the
// file's secret becomes that secret on first start, so tokens issued
// before the upgrade stay valid.
func (c Config) SecretFile() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.DataDir, "jwt.secret"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	if secret := strings.TrimSpace(string(b)); len(secret) >= 32 {
		return secret, nil
	}
	return "", nil
}

// ParseSize reads a byte size: a plain number of bytes, or a number with
// one of the suffixes KB, MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) && (u.suffix != "B" || !strings.HasSuffix(strings.ToUpper(s), "IB")) {
			mult = u.mult
			s = strings.TrimSpace(s[:len(s)-len(u.suffix)])
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || math.IsNaN(n) {
		return 0, fmt.Errorf("%q is not a size like 10MiB, 500MB or 1048576", s)
	}
	// 2^63 itself does not fit: float64 rounds MaxInt64 up to it.
	if b := n * float64(mult); b >= 1<<63 {
		return 0, fmt.Errorf("%s bytes is more than the largest size, 8EiB", strconv.FormatFloat(b, 'g', 4, 64))
	}
	return int64(n * float64(mult)), nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
