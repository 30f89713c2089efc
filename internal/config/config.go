// Package config reads the server's settings from flags and environment
// variables. Every setting has a default that works on a bare machine.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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

	CORSOrigins    []string
	MaxFileSize    int64
	ScratchTTL     time.Duration
	DownloadURLTTL time.Duration

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
	PprofAddr      string
}

// Default returns the settings used when nothing is configured.
func Default() Config {
	return Config{
		Addr:              ":8080",
		DataDir:           "./data",
		JWTIssuer:         "cutline",
		JWTAudience:       "cutline",
		AccessTokenTTL:    10 * time.Minute,
		RefreshTokenTTL:   24 * time.Hour,
		PasswordHashers:   2,
		MaxFileSize:       10 << 20,
		ScratchTTL:        time.Hour,
		DownloadURLTTL:    5 * time.Minute,
		LogLevel:          "info",
		LogFormat:         "text",
		Introspection:     true,
		MaxComplexity:     5000,
		MaxDepth:          12,
		LineageMaxDepth:   100,
		LineageMaxLimit:   10000,
		ShimRatePerMinute: 60,
		LoginFailureLimit: 10,
		ShutdownTimeout:   30 * time.Second,
		RatePerIP:         50,
		RateBurstIP:       100,
		RatePerUser:       20,
		RateBurstUser:     50,
		RequestTimeout:    60 * time.Second,
		MaxRequestBody:    1 << 20,
		MaxWebsockets:     10000,
	}
}

// Load parses args (without the program name) over environment variables
// over defaults. Flags win over the environment.
func Load(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	var errs []error
	env := func(name string, apply func(string) error) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			if err := apply(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	dur := func(p *time.Duration) func(string) error {
		return func(v string) error {
			d, err := time.ParseDuration(v)
			if err == nil && d <= 0 {
				err = errors.New("must be positive")
			}
			*p = d
			return err
		}
	}
	integer := func(p *int) func(string) error {
		return func(v string) error {
			n, err := strconv.Atoi(v)
			*p = n
			return err
		}
	}
	list := func(p *[]string) func(string) error {
		return func(v string) error { *p = splitList(v); return nil }
	}
	env("ADDR", str(&c.Addr))
	env("DATA_DIR", str(&c.DataDir))
	env("DATABASE_URL", str(&c.DatabaseURL))
	env("BLOB_URL", str(&c.BlobURL))
	env("PUBLIC_URL", str(&c.PublicURL))
	env("JWT_SECRET", str(&c.JWTSecret))
	env("JWT_PREVIOUS_SECRETS", list(&c.JWTPreviousSecrets))
	env("JWT_ISSUER", str(&c.JWTIssuer))
	env("JWT_AUDIENCE", str(&c.JWTAudience))
	env("ACCESS_TOKEN_TTL", dur(&c.AccessTokenTTL))
	env("REFRESH_TOKEN_TTL", dur(&c.RefreshTokenTTL))
	env("PASSWORD_HASH_CONCURRENCY", integer(&c.PasswordHashers))
	env("ARGON2_MEMORY_KIB", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		c.Argon2MemoryKiB = uint32(n)
		return err
	})
	env("ARGON2_TIME", func(v string) error {
		n, err := strconv.ParseUint(v, 10, 32)
		c.Argon2Time = uint32(n)
		return err
	})
	env("CORS_ORIGINS", list(&c.CORSOrigins))
	env("MAX_FILE_SIZE", func(v string) error { n, err := ParseSize(v); c.MaxFileSize = n; return err })
	env("SCRATCH_TTL", dur(&c.ScratchTTL))
	env("DOWNLOAD_URL_TTL", dur(&c.DownloadURLTTL))
	env("LOG_LEVEL", str(&c.LogLevel))
	env("LOG_FORMAT", str(&c.LogFormat))
	env("GRAPHQL_INTROSPECTION", func(v string) error {
		b, err := strconv.ParseBool(v)
		c.Introspection = b
		return err
	})
	env("GRAPHQL_MAX_COMPLEXITY", integer(&c.MaxComplexity))
	env("GRAPHQL_MAX_DEPTH", integer(&c.MaxDepth))
	env("LINEAGE_MAX_DEPTH", integer(&c.LineageMaxDepth))
	env("LINEAGE_MAX_LIMIT", integer(&c.LineageMaxLimit))
	env("SHIM_RATE_LIMIT", integer(&c.ShimRatePerMinute))
	env("LOGIN_FAILURE_LIMIT", integer(&c.LoginFailureLimit))
	env("SHUTDOWN_TIMEOUT", dur(&c.ShutdownTimeout))
	env("SHUTDOWN_DRAIN", dur(&c.ShutdownDrain))
	float := func(p *float64) func(string) error {
		return func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			*p = f
			return err
		}
	}
	env("RATE_LIMIT_IP", float(&c.RatePerIP))
	env("RATE_LIMIT_IP_BURST", integer(&c.RateBurstIP))
	env("RATE_LIMIT_USER", float(&c.RatePerUser))
	env("RATE_LIMIT_USER_BURST", integer(&c.RateBurstUser))
	env("REQUEST_TIMEOUT", dur(&c.RequestTimeout))
	env("MAX_REQUEST_BODY", func(v string) error { n, err := ParseSize(v); c.MaxRequestBody = n; return err })
	env("WS_MAX_CONNECTIONS", integer(&c.MaxWebsockets))
	env("PPROF_ADDR", str(&c.PprofAddr))
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}

	fs := flag.NewFlagSet("cutline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (ADDR)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "folder for the embedded database, blobs and generated secret (DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "db", c.DatabaseURL, "database URL: postgres://... or a SQLite path (DATABASE_URL)")
	fs.StringVar(&c.BlobURL, "blobs", c.BlobURL, "bucket URL: file://, mem://, s3://, gs://, azblob:// (BLOB_URL)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json (LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "cutline.db")
	}
	if c.BlobURL == "" {
		c.BlobURL = "file://" + filepath.ToSlash(filepath.Join(c.DataDir, "blobs"))
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	if c.MaxFileSize <= 0 {
		errs = append(errs, errors.New("MAX_FILE_SIZE must be positive"))
	}
	if c.PasswordHashers < 1 {
		errs = append(errs, errors.New("PASSWORD_HASH_CONCURRENCY must be at least 1"))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, not %q", c.LogFormat))
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			errs = append(errs, errors.New("CORS_ORIGINS must list explicit origins, not *"))
		}
	}
	if c.LineageMaxDepth < 1 || c.LineageMaxLimit < 1 {
		errs = append(errs, errors.New("LINEAGE_MAX_DEPTH and LINEAGE_MAX_LIMIT must be positive"))
	}
	return errors.Join(errs...)
}

// EnsureSecret returns JWTSecret, or the secret kept in DataDir, creating it
// on first start so tokens survive a restart of a single-node setup.
func (c *Config) EnsureSecret() (generated bool, err error) {
	if c.JWTSecret != "" {
		return false, nil
	}
	path := filepath.Join(c.DataDir, "jwt.secret")
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		c.JWTSecret = strings.TrimSpace(string(b))
		return false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read secret: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return false, fmt.Errorf("create data folder: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return false, err
	}
	secret := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process created it first: use theirs.
		return c.EnsureSecret()
	}
	if err != nil {
		return false, fmt.Errorf("write secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return false, fmt.Errorf("write secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write secret: %w", err)
	}
	c.JWTSecret = secret
	return true, nil
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
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size like 10MiB", s)
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
