package blobstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"
)

// ErrBadSignature is returned for a token that was altered, forged, signed
// for another purpose or has expired. Callers treat all of these alike.
var ErrBadSignature = errors.New("invalid or expired signed token")

// Signer makes and checks short, URL-safe, expiring tokens that name one
// id. Each purpose derives its own key, so a token made for one use (a
// download link, say) is worthless for another.
type Signer struct {
	key []byte
	// macs holds keyed HMAC states: Reset restores one, where hmac.New
	// allocates and keys two fresh hashes (a listing signs a handle per
	// file).
	macs sync.Pool
}

// NewSigner derives a signer for purpose from the server secret.
func NewSigner(secret []byte, purpose string) *Signer {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("cutline signer:" + purpose))
	return &Signer{key: m.Sum(nil)}
}

// Sign returns a token carrying id until expires.
func (s *Signer) Sign(id string, expires time.Time) string {
	payload := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(payload, uint64(expires.Unix()))
	payload = append(payload, id...)
	sig := s.mac(payload)
	enc := base64.RawURLEncoding
	n := enc.EncodedLen(len(payload))
	out := make([]byte, n+1+enc.EncodedLen(len(sig)))
	enc.Encode(out, payload)
	out[n] = '.'
	enc.Encode(out[n+1:], sig)
	return string(out)
}

// Verify returns the id a token carries, or ErrBadSignature.
func (s *Signer) Verify(token string, now time.Time) (string, error) {
	p, sig, ok := strings.Cut(token, ".")
	if !ok {
		return "", ErrBadSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || len(payload) < 9 {
		return "", ErrBadSignature
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(payload)) {
		return "", ErrBadSignature
	}
	if now.Unix() > int64(binary.BigEndian.Uint64(payload[:8])) {
		return "", ErrBadSignature
	}
	return string(payload[8:]), nil
}

func (s *Signer) mac(b []byte) []byte {
	m, _ := s.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, s.key)
	} else {
		m.Reset()
	}
	m.Write(b)
	sum := m.Sum(nil)[:20]
	s.macs.Put(m)
	return sum
}
