package app_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// Forged and damaged access tokens are UNAUTHENTICATED through HTTP, never
// anonymous and never accepted.
func TestForgedTokensOverHTTP(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	real := s.register(t, "ada").AccessToken
	parts := strings.Split(real, ".")
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	kid := ""
	if i := strings.Index(string(header), `"kid":"`); i >= 0 {
		kid = string(header)[i+7:]
		kid = kid[:strings.IndexByte(kid, '"')]
	}
	var issued struct {
		Epoch int64 `json:"sep"`
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(payload, &issued); err != nil || issued.Epoch == 0 {
		t.Fatalf("the token carries no session epoch: %s", payload)
	}
	claims := jwt.MapClaims{"sub": "1", "iss": "cutline", "aud": "cutline", "name": "ada",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "jti": "x", "sep": issued.Epoch}
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	expired := jwt.MapClaims{}
	for k, v := range claims {
		expired[k] = v
	}
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	ended := jwt.MapClaims{}
	for k, v := range claims {
		ended[k] = v
	}
	delete(ended, "sep") // as if issued before the user's sessions began
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"name":"ada"`, `"name":"eve"`, 1))) + "." + parts[2]

	cases := map[string]string{
		"alg none":      sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims),
		"other key":     sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-0123456789"), claims),
		"other alg":     sign(jwt.SigningMethodHS512, []byte("test-secret-0123456789abcdef0123456789abcdef"), claims),
		"expired":       sign(jwt.SigningMethodHS256, []byte("test-secret-0123456789abcdef0123456789abcdef"), expired),
		"older session": sign(jwt.SigningMethodHS256, []byte("test-secret-0123456789abcdef0123456789abcdef"), ended),
		"tampered":      tampered,
		"truncated":     real[:len(real)-5],
		"not a token":   "hello",
		"empty payload": parts[0] + "..",
	}
	if r := s.gql(t, real, `{ me { username } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("the real token fails: %+v", r.Errors)
	}
	for name, tok := range cases {
		if r := s.gql(t, tok, `{ me { username } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Errorf("%s: code %q, data %s", name, r.code(), r.Data)
		}
	}
	// The expired token is refused only for its expiry: same key, same claims otherwise.
	if r := s.gql(t, sign(jwt.SigningMethodHS256, []byte("test-secret-0123456789abcdef0123456789abcdef"), claims), `{ me { username } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("a well-formed token signed with the server key was refused: %+v", r.Errors)
	}
}

// me answers id and username from the verified token, and goes to the
// database only for fields the token does not carry.
func TestMeFromToken(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	tok := s.register(t, "ada").AccessToken
	before := s.queries.Load()
	var d struct{ Me struct{ ID, Username string } }
	s.ok(t, tok, `{ me { id username __typename } }`, nil, &d)
	if n := s.queries.Load() - before; n != 0 || d.Me.Username != "ada" || d.Me.ID == "" {
		t.Fatalf("me {id username} ran %d statements: %+v", n, d.Me)
	}
	var e struct{ Me struct{ CreatedAt string } }
	s.ok(t, tok, `{ me { createdAt } }`, nil, &e)
	if e.Me.CreatedAt == "" || strings.HasPrefix(e.Me.CreatedAt, "0001") {
		t.Fatalf("me {createdAt} = %+v", e.Me)
	}
}
