package config

import (
	"os"
	"path/filepath"
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
		{"bad duration", nil, map[string]string{"ACCESS_TOKEN_TTL": "soon"}, nil, "ACCESS_TOKEN_TTL"},
		{"bad size", nil, map[string]string{"MAX_FILE_SIZE": "big"}, nil, "MAX_FILE_SIZE"},
		{"wildcard CORS", nil, map[string]string{"CORS_ORIGINS": "*"}, nil, "explicit origins"},
		{"bad log format", []string{"-log-format", "xml"}, nil, nil, "LOG_FORMAT"},
		{"stray argument", []string{"extra"}, nil, nil, "unexpected argument"},
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
	for _, bad := range []string{"", "-1", "ten", "5XB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestEnsureSecretPersists(t *testing.T) {
	c := Default()
	c.DataDir = filepath.Join(t.TempDir(), "data")
	gen, err := c.EnsureSecret()
	if err != nil || !gen || len(c.JWTSecret) < 32 {
		t.Fatalf("first start: %v %v %q", gen, err, c.JWTSecret)
	}
	d := Default()
	d.DataDir = c.DataDir
	gen, err = d.EnsureSecret()
	if err != nil || gen || d.JWTSecret != c.JWTSecret {
		t.Fatal("the secret did not survive a restart")
	}
	st, _ := os.Stat(filepath.Join(c.DataDir, "jwt.secret"))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v", st.Mode())
	}
}
