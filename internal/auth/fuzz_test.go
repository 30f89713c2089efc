package auth

import (
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
	signed := map[string]bool{}
	for i, name := range []string{"alice", "bob", ""} {
		tok, _, err := s.issueAccess(&User{ID: int64(i + 1), Username: name}, clk.Now())
		if err != nil {
			f.Fatal(err)
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
