package config

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c Config) bool {
			return c.Addr == ":8080" && c.DatabaseURL == "sqlite://data/cutline.db" && c.BlobURL == "file://data/blobs" &&
				c.MaxFileSize == 10<<20 && c.AccessTokenTTL == 10*time.Minute && c.Introspection
		}, ""},
		{"env", nil, map[string]string{"ADDR": ":9000", "MAX_FILE_SIZE": "5GiB", "CORS_ORIGINS": "https://a.example, https://b.example",
			"GRAPHQL_INTROSPECTION": "false", "ACCESS_TOKEN_TTL": "2m"}, func(c Config) bool {
			return c.Addr == ":9000" && c.MaxFileSize == 5<<30 && len(c.CORSOrigins) == 2 && !c.Introspection && c.AccessTokenTTL == 2*time.Minute
		}, ""},
		{"flags win", []string{"-addr", ":7000", "-db", "postgres://x/y"}, map[string]string{"ADDR": ":9000"}, func(c Config) bool {
			return c.Addr == ":7000" && c.DatabaseURL == "postgres://x/y"
		}, ""},
		{"data dir moves defaults", []string{"-data", "/srv/cut"}, nil, func(c Config) bool {
			return c.DatabaseURL == "sqlite:///srv/cut/cutline.db" && c.BlobURL == "file:///srv/cut/blobs"
		}, ""},
		{"bad duration", nil, map[string]string{"ACCESS_TOKEN_TTL": "soon"}, nil, `ACCESS_TOKEN_TTL="soon": not a duration like 90s, 10m or 1h30m`},
		{"bad size", nil, map[string]string{"MAX_FILE_SIZE": "big"}, nil, "MAX_FILE_SIZE"},
		{"wildcard CORS", nil, map[string]string{"CORS_ORIGINS": "*"}, nil, "explicit origins"},
		{"bad log format", []string{"-log-format", "xml"}, nil, nil, "LOG_FORMAT"},
		{"stray argument", []string{"extra"}, nil, nil, "unexpected argument"},
		{"bad log level", nil, map[string]string{"LOG_LEVEL": "loud"}, nil, `LOG_LEVEL="loud": must be debug, info, warn or error`},
		{"bad log level flag", []string{"-log-level", "loud"}, nil, nil, `LOG_LEVEL ("loud"): must be debug, info, warn or error`},
		{"depth not a number", nil, map[string]string{"GRAPHQL_MAX_DEPTH": "x"}, nil, `GRAPHQL_MAX_DEPTH="x": not a whole number`},
		{"negative depth", nil, map[string]string{"GRAPHQL_MAX_DEPTH": "-1"}, nil, `GRAPHQL_MAX_DEPTH="-1": must be at least 0`},
		{"size beyond int64", nil, map[string]string{"MAX_FILE_SIZE": "1e30"}, nil, `MAX_FILE_SIZE="1e30": 1e+30 bytes is more than the largest size, 8EiB`},
		{"zero size", nil, map[string]string{"MAX_REQUEST_BODY": "0"}, nil, `MAX_REQUEST_BODY="0": must be at least one byte`},
		{"bad bool", nil, map[string]string{"GRAPHQL_INTROSPECTION": "nope"}, nil, `GRAPHQL_INTROSPECTION="nope": must be true or false`},
		{"bad rate", nil, map[string]string{"RATE_LIMIT_IP": "-3"}, nil, `RATE_LIMIT_IP="-3": must be 0 (off) or more`},
		{"zero lineage limit", nil, map[string]string{"LINEAGE_MAX_LIMIT": "0"}, nil, `LINEAGE_MAX_LIMIT="0": must be at least 1`},
		{"every error at once", nil, map[string]string{"LOG_LEVEL": "loud", "ARGON2_TIME": "many"}, nil, `ARGON2_TIME="many": not a whole number`},
		{"openlineage", nil, map[string]string{"OPENLINEAGE_URL": "https://marquez.internal/api/v1/lineage", "OPENLINEAGE_RETRY_MIN": "2s"}, func(c Config) bool {
			return c.OpenLineageURL == "https://marquez.internal/api/v1/lineage" && c.OpenLineageRetryMin == 2*time.Second &&
				c.OpenLineageRetryMax == 5*time.Minute && c.OpenLineageMaxAttempts == 10 && c.OpenLineageNamespace == "cutline"
		}, ""},
		{"openlineage URL not http", nil, map[string]string{"OPENLINEAGE_URL": "marquez:5000"}, nil, `OPENLINEAGE_URL="marquez:5000": not an http:// or https:// URL`},
		{"openlineage no attempts", nil, map[string]string{"OPENLINEAGE_MAX_ATTEMPTS": "0"}, nil, `OPENLINEAGE_MAX_ATTEMPTS="0": must be at least 1`},
		{"openlineage retries upside down", nil, map[string]string{"OPENLINEAGE_RETRY_MIN": "10m", "OPENLINEAGE_RETRY_MAX": "1m"}, nil,
			"OPENLINEAGE_RETRY_MAX (1m) must not be below OPENLINEAGE_RETRY_MIN (10m)"},
		{"trusted proxies", nil, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,fd00::/8", "TRUSTED_PROXY_HEADER": "forwarded"}, func(c Config) bool {
			return len(c.TrustedProxies) == 3 && c.TrustedProxies[1].String() == "192.0.2.7/32" && c.TrustedProxyHeader == "Forwarded"
		}, ""},
		{"no trusted proxies by default", nil, nil, func(c Config) bool {
			return len(c.TrustedProxies) == 0 && c.TrustedProxyHeader == "X-Forwarded-For"
		}, ""},
		{"bad trusted proxy", nil, map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,10.0.0.300/24"}, nil, `TRUSTED_PROXIES="10.0.0.0/8,10.0.0.300/24": "10.0.0.300/24" is not a CIDR`},
		{"bad redis timeout", nil, map[string]string{"REDIS_TIMEOUT": "0s"}, nil, `REDIS_TIMEOUT="0s": must be positive`},
		{"bad proxy header", nil, map[string]string{"TRUSTED_PROXY_HEADER": "X-Real-IP"}, nil, `TRUSTED_PROXY_HEADER="X-Real-IP": must be X-Forwarded-For or Forwarded`},
		{"upload workers", nil, map[string]string{"UPLOAD_WORKERS": "1"}, func(c Config) bool { return c.UploadWorkerCount() == 1 }, ""},
		{"too many upload workers", nil, map[string]string{"UPLOAD_WORKERS": "65"}, nil, `UPLOAD_WORKERS="65": must be at most 64`},
		{"cut workers", nil, map[string]string{"CUT_WORKERS": "3"}, func(c Config) bool { return c.CutWorkerCount() == 3 }, ""},
		{"cut workers by default", nil, nil, func(c Config) bool {
			return c.CutWorkers == 0 && c.CutWorkerCount() == min(runtime.GOMAXPROCS(0), MaxCutWorkers)
		}, ""},
		{"no cut workers", nil, map[string]string{"CUT_WORKERS": "0"}, nil, `CUT_WORKERS="0": must be at least 1`},
		{"too many cut workers", nil, map[string]string{"CUT_WORKERS": "65"}, nil, `CUT_WORKERS="65": must be at most 64`},
		{"cut workers not a number", nil, map[string]string{"CUT_WORKERS": "two"}, nil, `CUT_WORKERS="two": not a whole number`},
		{"log level spelled out", nil, map[string]string{"LOG_LEVEL": "WARNING"}, func(c Config) bool { return c.LogLevel == "warn" }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Load(c.args, func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(got) {
				t.Fatalf("unexpected config: %+v", got)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "10MiB": 10 << 20, "1.5GiB": 3 << 29, "500MB": 500e6, "2kb": 2000, "7B": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "ten", "5XB", "1e30", "8EiB", "NaN"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestSecretFile(t *testing.T) {
	c := Default()
	c.DataDir = t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"none", "", ""},
		{"generated", strings.Repeat("ab", 32) + "\n", strings.Repeat("ab", 32)},
		{"too short to be ours", "short\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(c.DataDir, "jwt.secret")
			os.Remove(path)
			if tc.content != "" {
				if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.SecretFile()
			if err != nil || got != tc.want {
				t.Fatalf("SecretFile = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestSettingsAreDocumented keeps the help, the README's Settings table and
// Load in step: every setting is in the README, and every variable the
// README's table names is one Load reads (or one Go or OpenTelemetry reads).
func TestSettingsAreDocumented(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"GOGC": true, "OTEL_*": true}
	for _, s := range Settings() {
		known[s.Env] = true
		if !strings.Contains(string(readme), "`"+s.Env+"`") {
			t.Errorf("README.md does not document %s", s.Env)
		}
		if s.Usage == "" || s.set == nil {
			t.Errorf("%s has no usage or parser", s.Env)
		}
	}
	table := regexp.MustCompile("(?m)^\\| `([A-Z0-9_*]+)`(?: / `([A-Z0-9_]+)`)? \\|")
	rows := table.FindAllStringSubmatch(string(readme), -1)
	if len(rows) < len(Settings())/2 {
		t.Fatalf("found %d rows of the README's Settings table", len(rows))
	}
	for _, m := range rows {
		for _, name := range m[1:] {
			if name != "" && !known[name] {
				t.Errorf("README.md's Settings table names %s, which Load does not read", name)
			}
		}
	}
}
