// Package requestid gives every request an id that appears in its log
// lines and in the X-Request-Id response header.
package requestid

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"net/http"
)

type key struct{}

// Header carries the id in requests (when a proxy sets one) and responses.
const Header = "X-Request-Id"

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// With stores id in ctx.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// New makes a random id. It only has to be unique in practice, not secret,
// so it comes from the runtime's fast generator rather than crypto/rand.
func New() string {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], rand.Uint64())
	var out [16]byte // on the stack: only the string is allocated
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// Middleware keeps a sane incoming id or makes one, and echoes it.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), Accept(w, r))))
	})
}

// Accept is the id Middleware gives r: the incoming one when sane, or a
// new one; it is echoed in w's header. The caller stores it in the
// request's context (With), as Middleware does.
func Accept(w http.ResponseWriter, r *http.Request) string {
	id := r.Header.Get(Header)
	if !valid(id) {
		id = New()
	}
	w.Header()[Header] = []string{id} // Header is in canonical form
	return id
}

func valid(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
