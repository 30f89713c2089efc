package auth

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Claims are what a verified access token says about its bearer.
type Claims struct {
	UserID    int64
	Username  string
	ID        string // jti
	ExpiresAt time.Time
	// Epoch is the user's session epoch when the token was issued.
	Epoch int64
}

// accessClaims is the JWT payload: the registered claims plus the username
// ("name"), so most requests need no database lookup to know the caller.
//
// It implements jwt.Claims itself instead of embedding
// jwt.RegisteredClaims: the library's NumericDate and ClaimStrings decode
// through nested json.Unmarshal calls, which were most of the verify cost.
// Plain fields decode in one pass. The format is what we issue (integer
// dates, aud a single string); anything else fails to decode and is
// rejected, which is right for tokens only this service signs.
type accessClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	ExpiresAt int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf,omitempty"`
	ID        string `json:"jti"`
	Name      string `json:"name"`
	// Epoch is the session epoch (session.go); tokens issued before epochs
	// existed have none, which reads as 0, the epoch of their users.
	Epoch int64 `json:"sep,omitempty"`

	userID int64 // parsed from Subject by Validate
}

// numericDate turns a decoded date into the library's form; 0 is absent
// (no token of ours carries the epoch).
func numericDate(sec int64) (*jwt.NumericDate, error) {
	if sec == 0 {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0)), nil
}

// GetExpirationTime implements jwt.Claims.
func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.ExpiresAt) }

// GetIssuedAt implements jwt.Claims.
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt) }

// GetNotBefore implements jwt.Claims.
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error) { return numericDate(c.NotBefore) }

// GetIssuer implements jwt.Claims.
func (c *accessClaims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *accessClaims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims.
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error) {
	if c.Audience == "" {
		return nil, nil
	}
	return jwt.ClaimStrings{c.Audience}, nil
}

// Validate is called by the jwt parser after the signature and the
// registered claims check out; it rejects payloads we would never sign.
func (c *accessClaims) Validate() error {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return errors.New("sub is not a user id")
	}
	if c.ID == "" {
		return errors.New("jti missing")
	}
	c.userID = id
	return nil
}

// issueAccess signs an access token for u, valid from now for AccessTTL.
// The returned expiry is truncated to seconds, as in the token itself.
func (s *Service) issueAccess(u *User, now time.Time) (string, time.Time, error) {
	exp := now.Add(s.cfg.AccessTTL).Truncate(time.Second)
	c := &accessClaims{
		Issuer:    s.cfg.Issuer,
		Subject:   strconv.FormatInt(u.ID, 10),
		Audience:  s.cfg.Audience,
		ExpiresAt: exp.Unix(),
		IssuedAt:  now.Unix(),
		ID:        uuid.NewString(),
		Name:      u.Username,
		Epoch:     u.SessionEpoch,
	}
	// Whoever receives the token uses it next: its epoch was just read.
	s.remember(u.ID, u.SessionEpoch)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = s.signKid
	signed, err := t.SignedString(s.signKey)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// lookupKey picks the verification key named by the kid header. A missing
// or unknown kid fails: trying every key would make rotation slower and
// accept tokens whose origin we cannot name.
func (s *Service) lookupKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errors.New("kid header missing")
	}
	key, ok := s.keys[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	return key, nil
}

// VerifyAccess checks an access token: HS256 only, a known kid, the right
// issuer and audience, exp required, iat and nbf honoured with 30s of
// leeway. It does not look at the session (CheckSession does). Any failure is an error wrapping apperr.ErrUnauthenticated with
// the message "invalid or expired token".
func (s *Service) VerifyAccess(token string) (*Claims, error) {
	if len(token) > maxTokenLen {
		return nil, badToken(errors.New("token too long"))
	}
	if c, ok := s.verified.get(token); ok {
		// Signature, issuer, audience and kid were checked when it was
		// stored; only time moves on.
		if s.clock().Before(c.ExpiresAt.Add(jwtLeeway)) {
			return &c, nil
		}
		s.verified.drop(token)
	}
	var c accessClaims
	if _, err := s.parser.ParseWithClaims(token, &c, s.keyFunc); err != nil {
		return nil, badToken(err)
	}
	out := Claims{
		UserID:    c.userID,
		Username:  c.Name,
		ID:        c.ID,
		ExpiresAt: time.Unix(c.ExpiresAt, 0).UTC(),
		Epoch:     c.Epoch,
	}
	s.verified.put(token, out)
	return &out, nil
}

// maxVerified bounds the verified-token memory (a few MiB at most).
const maxVerified = 10000

// verifiedTokens maps a token's exact text to its claims. A token that
// differs in any byte is a miss and is verified in full. A key removed from
// the configuration keeps its already-verified tokens valid until they
// expire, which AccessTTL bounds.
type verifiedTokens struct{ memo[string, Claims] }

func (v *verifiedTokens) put(token string, c Claims) { v.memo.put(token, c, maxVerified, nil) }

// memo is a map for many readers and few writers that holds at most a
// given number of entries.
type memo[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]V
}

func (m *memo[K, V]) get(k K) (V, bool) {
	m.mu.RLock()
	v, ok := m.m[k]
	m.mu.RUnlock()
	return v, ok
}

// put stores v under k unless keep, given the value stored there, says
// to keep that one. Holding limit entries already, it forgets them all:
// simpler than an LRU, and it costs each active client one miss.
func (m *memo[K, V]) put(k K, v V, limit int, keep func(old V) bool) {
	m.mu.Lock()
	if m.m == nil || len(m.m) >= limit {
		m.m = make(map[K]V, 256)
	}
	if old, ok := m.m[k]; !ok || keep == nil || !keep(old) {
		m.m[k] = v
	}
	m.mu.Unlock()
}

func (m *memo[K, V]) drop(k K) {
	m.mu.Lock()
	delete(m.m, k)
	m.mu.Unlock()
}
