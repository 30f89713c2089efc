package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// forge builds a token from raw header and claims, signed with HMAC-SHA256
// under key (nil key: empty signature). It bypasses the jwt library so tests
// can produce exactly the malformed tokens an attacker would.
func forge(header, claims map[string]any, key []byte) string {
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	text := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	if key == nil {
		return text + "."
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(text))
	return text + "." + enc.EncodeToString(mac.Sum(nil))
}

func TestVerifyAccess(t *testing.T) {
	db := dbtest.SQLite(t)
	s, clk := newTestService(t, db, nil)
	now := clk.Now()
	kid := keyID(testSecret)
	key := []byte(testSecret)
	header := func(edit func(map[string]any)) map[string]any {
		h := map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid}
		if edit != nil {
			edit(h)
		}
		return h
	}
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"sub": "42", "name": "alice", "iss": "cutline", "aud": "cutline",
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": uuid.NewString(),
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	signWith := func(m jwt.SigningMethod, k any, h, c map[string]any) string {
		tok := jwt.NewWithClaims(m, jwt.MapClaims(c))
		for name, v := range h {
			if name != "alg" {
				tok.Header[name] = v
			}
		}
		str, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return str
	}

	valid := forge(header(nil), claims(nil), key)
	if c, err := s.VerifyAccess(valid); err != nil || c.UserID != 42 || c.Username != "alice" {
		t.Fatalf("forged-but-correct token: %+v, %v", c, err)
	}
	own, _, err := s.issueAccess(&User{ID: 7, Username: "bob"}, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(valid, ".")
	tampered, _ := json.Marshal(claims(func(c map[string]any) { c["sub"] = "1" }))
	// The last base64 character of a 32-byte signature carries 2 unused
	// bits; flipping one must not give a second valid spelling.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, parts[2][len(parts[2])-1])
	malleableSig := parts[2][:len(parts[2])-1] + string(alphabet[last^1])
	if a, _ := base64.RawURLEncoding.DecodeString(parts[2]); string(a) != string(must(base64.RawURLEncoding.DecodeString(malleableSig))) {
		t.Fatal("test bug: the malleable signature decodes differently")
	}
	malleable := parts[0] + "." + parts[1] + "." + malleableSig

	tests := []struct {
		name, token string
	}{
		{"empty", ""},
		{"garbage", "not a token"},
		{"two segments", parts[0] + "." + parts[1]},
		{"four segments", valid + ".x"},
		{"bad base64 header", "!!!." + parts[1] + "." + parts[2]},
		{"padded segments", parts[0] + "=." + parts[1] + "." + parts[2]},
		{"malleable signature", malleable},
		{"other key", forge(header(nil), claims(nil), []byte("some other secret, equally long"))},
		{"alg none", forge(header(func(h map[string]any) { h["alg"] = "none" }), claims(nil), nil)},
		{"alg none via library", signWith(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, header(nil), claims(nil))},
		{"HS512", signWith(jwt.SigningMethodHS512, key, header(nil), claims(nil))},
		{"HS384", signWith(jwt.SigningMethodHS384, key, header(nil), claims(nil))},
		// Key confusion: an RS256 header over an HMAC signature keyed with
		// what an RSA verifier would treat as public material.
		{"RS256 header", forge(header(func(h map[string]any) { h["alg"] = "RS256" }), claims(nil), key)},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString(tampered) + "." + parts[2]},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(own, ".")[2]},
		{"empty signature", parts[0] + "." + parts[1] + "."},
		{"wrong iss", forge(header(nil), claims(func(c map[string]any) { c["iss"] = "evil" }), key)},
		{"missing iss", forge(header(nil), claims(func(c map[string]any) { delete(c, "iss") }), key)},
		{"wrong aud", forge(header(nil), claims(func(c map[string]any) { c["aud"] = "other" }), key)},
		{"missing aud", forge(header(nil), claims(func(c map[string]any) { delete(c, "aud") }), key)},
		// We only issue aud as one string; an array is not one of ours.
		{"aud as array", forge(header(nil), claims(func(c map[string]any) { c["aud"] = []string{"cutline"} }), key)},
		{"fractional exp", forge(header(nil), claims(func(c map[string]any) { c["exp"] = float64(now.Add(time.Minute).Unix()) + 0.5 }), key)},
		{"expired", forge(header(nil), claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }), key)},
		{"missing exp", forge(header(nil), claims(func(c map[string]any) { delete(c, "exp") }), key)},
		{"exp not a number", forge(header(nil), claims(func(c map[string]any) { c["exp"] = "tomorrow" }), key)},
		{"nbf in the future", forge(header(nil), claims(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() }), key)},
		{"iat in the future", forge(header(nil), claims(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() }), key)},
		{"missing kid", forge(header(func(h map[string]any) { delete(h, "kid") }), claims(nil), key)},
		{"empty kid", forge(header(func(h map[string]any) { h["kid"] = "" }), claims(nil), key)},
		{"unknown kid", forge(header(func(h map[string]any) { h["kid"] = "0123456789abcdef" }), claims(nil), key)},
		{"kid not a string", forge(header(func(h map[string]any) { h["kid"] = 1 }), claims(nil), key)},
		{"sub not a number", forge(header(nil), claims(func(c map[string]any) { c["sub"] = "alice" }), key)},
		{"sub zero", forge(header(nil), claims(func(c map[string]any) { c["sub"] = "0" }), key)},
		{"missing sub", forge(header(nil), claims(func(c map[string]any) { delete(c, "sub") }), key)},
		{"missing jti", forge(header(nil), claims(func(c map[string]any) { delete(c, "jti") }), key)},
		{"too long", valid + strings.Repeat("A", maxTokenLen)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.VerifyAccess(tc.token)
			if c != nil {
				t.Fatalf("accepted: %+v", c)
			}
			wantUnauth(t, err, "invalid or expired token")
		})
	}

	// Leeway: 20s past exp and nbf 20s ahead are still fine.
	for name, c := range map[string]map[string]any{
		"exp within leeway": claims(func(c map[string]any) { c["exp"] = now.Add(-20 * time.Second).Unix() }),
		"nbf within leeway": claims(func(c map[string]any) { c["nbf"] = now.Add(20 * time.Second).Unix() }),
	} {
		if _, err := s.VerifyAccess(forge(header(nil), c, key)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The token carries exactly the documented claims and a kid derived from
// the secret.
func TestIssuedTokenShape(t *testing.T) {
	db := dbtest.SQLite(t)
	s, clk := newTestService(t, db, func(c *Config) { c.Issuer = "iss-x"; c.Audience = "aud-y" })
	tok, exp, err := s.issueAccess(&User{ID: 12, Username: "zed"}, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	var h, c map[string]any
	for i, dst := range []*map[string]any{&h, &c} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte(testSecret))
	if h["alg"] != "HS256" || h["kid"] != hex.EncodeToString(sum[:])[:16] {
		t.Fatalf("header = %v", h)
	}
	if c["sub"] != "12" || c["name"] != "zed" || c["iss"] != "iss-x" ||
		c["iat"] != float64(clk.Now().Unix()) || c["exp"] != float64(exp.Unix()) {
		t.Fatalf("claims = %v", c)
	}
	if c["aud"] != "aud-y" {
		t.Fatalf("aud = %v", c["aud"])
	}
	if _, err := uuid.Parse(c["jti"].(string)); err != nil {
		t.Fatalf("jti %v: %v", c["jti"], err)
	}
	got, err := s.VerifyAccess(tok)
	if err != nil || got.ID != c["jti"] || got.UserID != 12 || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("VerifyAccess = %+v, %v", got, err)
	}
	// Each token has its own jti.
	other, _, _ := s.issueAccess(&User{ID: 12, Username: "zed"}, clk.Now())
	if o, _ := s.VerifyAccess(other); o.ID == got.ID {
		t.Fatal("jti repeated")
	}
}

func TestSecretRotation(t *testing.T) {
	db := dbtest.SQLite(t)
	const oldSecret = "the-old-secret-0123456789abcdef-0123456789"
	const newSecret = "the-new-secret-0123456789abcdef-0123456789"
	oldSvc, _ := newTestService(t, db, func(c *Config) { c.Secret = oldSecret })
	rotated, _ := newTestService(t, db, func(c *Config) { c.Secret = newSecret; c.PreviousSecrets = []string{"", oldSecret} })
	retired, _ := newTestService(t, db, func(c *Config) { c.Secret = newSecret })

	tok, _, err := oldSvc.issueAccess(&User{ID: 3, Username: "carl"}, oldSvc.clock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.VerifyAccess(tok); err != nil {
		t.Fatalf("token under a previous secret rejected: %v", err)
	}
	_, err = retired.VerifyAccess(tok)
	wantUnauth(t, err, "invalid or expired token")

	// New tokens are signed with the new secret, which the old service does
	// not know.
	fresh, _, _ := rotated.issueAccess(&User{ID: 3, Username: "carl"}, rotated.clock())
	if _, err := retired.VerifyAccess(fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := oldSvc.VerifyAccess(fresh); err == nil {
		t.Fatal("old service accepted a token signed with the new secret")
	}
}

func TestNewServiceConfig(t *testing.T) {
	db := dbtest.SQLite(t)
	if _, err := NewService(db, Config{}); err == nil {
		t.Fatal("empty secret accepted")
	}
	if _, err := NewService(nil, Config{Secret: testSecret}); err == nil {
		t.Fatal("nil db accepted")
	}
	if _, err := NewService(db, Config{Secret: testSecret, Argon2: Argon2Params{Memory: 1 << 30}}); err == nil {
		t.Fatal("absurd argon2 memory accepted")
	}
	s, err := NewService(db, Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	c := s.cfg
	if c.AccessTTL != 10*time.Minute || c.RefreshTTL != 24*time.Hour || c.Issuer != "cutline" || c.Audience != "cutline" ||
		c.HashConcurrency < 1 || c.LoginFailureLimit != 10 || c.Argon2 != DefaultArgon2Params() || cap(s.sem) != c.HashConcurrency {
		t.Fatalf("defaults = %+v", c)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
