package auth

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// FuzzVerifyAccess: no input panics, and nothing is accepted unless it is
// byte for byte a token this service signed. HMAC makes any other accepted
// string a forgery; strict base64 rules out alternative spellings.
func FuzzVerifyAccess(f *testing.F) {
	db := dbtest.SQLite(f)
	s, clk := newTestService(f, db, nil)
	// Fuzz workers run this setup in their own processes, so the seeds must
	// come out identical everywhere: forge them (sorted JSON keys, fixed jti)
	// with the service's key instead of calling issueAccess, whose jti is
	// random. They have exactly the shape issueAccess produces.
	signed := map[string]bool{}
	for i, name := range []string{"alice", "bob", ""} {
		tok := forge(
			map[string]any{"alg": "HS256", "typ": "JWT", "kid": keyID(testSecret)},
			map[string]any{"iss": "cutline", "aud": "cutline", "sub": strconv.Itoa(i + 1), "name": name,
				"iat": clk.Now().Unix(), "exp": clk.Now().Add(time.Minute).Unix(),
				"jti": fmt.Sprintf("00000000-0000-4000-8000-%012d", i)},
			[]byte(testSecret))
		if _, err := s.VerifyAccess(tok); err != nil {
			f.Fatalf("seed %d rejected: %v", i, err)
		}
		signed[tok] = true
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1])
		f.Add(strings.ToUpper(tok))
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "A")
		f.Add(parts[1] + "." + parts[0] + "." + parts[2])
		f.Add(strings.Replace(tok, ".", "..", 1))
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "1", "iss": "cutline", "aud": "cutline", "exp": clk.Now().Add(time.Hour).Unix(), "jti": "x", "kid": keyID(testSecret)})
	if str, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType); err == nil {
		f.Add(str)
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.VerifyAccess(token)
		if err == nil {
			if !signed[token] {
				t.Fatalf("accepted a token it did not sign: %q -> %+v", token, c)
			}
			if c.UserID < 1 || c.UserID > 3 {
				t.Fatalf("accepted token with user %d", c.UserID)
			}
		} else if c != nil {
			t.Fatal("claims returned with an error")
		}
	})
}
