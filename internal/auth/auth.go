// Package auth owns identity: accounts, password hashes, access tokens
// (HS256 JWTs) and refresh tokens. The GraphQL layer and the legacy REST shim
// both call it; they only translate its results and apperr errors.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/ratelimit"
)

// User is one account. PasswordHash never leaves the package in JSON so a
// careless adapter cannot serialise it.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64      `bun:"id,pk,autoincrement"`
	Username     string     `bun:"username,notnull"`
	UsernameKey  string     `bun:"username_key,notnull" json:"-"`
	Email        *string    `bun:"email"`
	EmailKey     *string    `bun:"email_key" json:"-"`
	PasswordHash string     `bun:"password_hash,notnull" json:"-"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	LastLoginAt  *time.Time `bun:"last_login_at"`
	// SessionEpoch is the epoch the user's live tokens carry (session.go).
	SessionEpoch int64 `bun:"session_epoch,notnull" json:"-"`
}

// utc normalises times read back from the database: drivers may hand them
// back in the local zone, and the package promises UTC everywhere.
func (u *User) utc() {
	u.CreatedAt = u.CreatedAt.UTC()
	if u.LastLoginAt != nil {
		t := u.LastLoginAt.UTC()
		u.LastLoginAt = &t
	}
}

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	// Secret signs new access tokens (HS256). Required.
	Secret string
	// PreviousSecrets still verify tokens, so a secret can be rotated
	// without logging everybody out; drop one once AccessTTL has passed.
	PreviousSecrets []string
	// Issuer and Audience go into iss and aud and are required on
	// verification. Both default to "cutline".
	Issuer, Audience string
	// AccessTTL (default 10m) and RefreshTTL (default 24h) are token lifetimes.
	AccessTTL, RefreshTTL time.Duration
	// HashConcurrency bounds how many password hashes run at once, so a
	// burst of logins cannot starve the CPU (and memory: each Argon2 run
	// takes Argon2.Memory KiB). Default max(1, NumCPU/2).
	HashConcurrency int
	// LoginFailureLimit is how many failed logins an account may collect in
	// 15 minutes before further attempts are RATE_LIMITED; one client IP
	// may collect five times as many. Default 10.
	LoginFailureLimit int
	// Argon2 are the parameters for new hashes. Stored hashes with other
	// parameters are upgraded on the next successful login.
	Argon2 Argon2Params
	// Logger hears about logins, reuse of refresh tokens and the like;
	// nil discards.
	Logger *slog.Logger
	// Registrations, when set, is taken once per registration that would
	// hash a password, keyed by RegisterInput.ClientKey: every alias of a
	// batched request counts.
	Registrations ratelimit.Limit
	// SessionCheckInterval is how long a replica trusts a user's session
	// epoch it read before reading it again: an ended session's access
	// tokens are refused on every replica at most this long after. Default
	// 5s; negative reads it on every request.
	SessionCheckInterval time.Duration
	// DeleteData, when set, removes what a user owns outside this package
	// (files, their bytes, lineage) when the account is deleted. It runs
	// after the user's sessions ended and before the user's row goes.
	DeleteData func(ctx context.Context, user int64) error
}

const (
	defaultIssuer       = "cutline"
	defaultAccessTTL    = 10 * time.Minute
	defaultRefreshTTL   = 24 * time.Hour
	defaultFailureLimit = 10
	// failureWindow is the period over which failed logins are counted.
	failureWindow = 15 * time.Minute
	// ipLimitFactor: many users may share one IP (offices, NAT), so an IP
	// gets more failures than one account before it is slowed down.
	ipLimitFactor = 5
	// jwtLeeway absorbs clock skew between replicas.
	jwtLeeway = 30 * time.Second
	// maxTokenLen rejects absurd Authorization headers before any parsing.
	maxTokenLen = 4096
)

// Service implements accounts and tokens. It is safe for concurrent use.
type Service struct {
	st      *store
	log     *slog.Logger
	cfg     Config
	keys    map[string][]byte // kid -> HMAC key, current and previous
	signKid string
	signKey []byte
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc // built once: a method value would allocate per verify
	sem     chan struct{}
	limiter *failureLimiter
	// dummyHash is verified when the username is unknown, so the answer
	// takes as long as for a wrong password and does not reveal accounts.
	dummyHash func() (string, error)
	// now is the clock; tests replace it. Always read through s.clock().
	now func() time.Time
	// verified remembers tokens that passed VerifyAccess until they expire:
	// every request of a client presents the same token, and checking it
	// again is a fifth of the cost of a small query.
	verified verifiedTokens
	// epochs remembers users' session epochs (CheckSession).
	epochs epochCache
}

// NewService checks cfg, fills in defaults and returns a Service on db.
func NewService(db *database.DB, cfg Config) (*Service, error) {
	if db == nil {
		return nil, errors.New("auth: nil database")
	}
	if cfg.Secret == "" {
		return nil, errors.New("auth: a JWT secret is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Secret) < 32 {
		// Not fatal: short secrets work, but HS256 is only as strong as its key.
		log.Warn("auth: JWT secret is shorter than 32 bytes; use a long random secret")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = defaultIssuer
	}
	if cfg.Audience == "" {
		cfg.Audience = defaultIssuer
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = defaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = defaultRefreshTTL
	}
	if cfg.HashConcurrency <= 0 {
		cfg.HashConcurrency = max(1, runtime.NumCPU()/2)
	}
	if cfg.LoginFailureLimit <= 0 {
		cfg.LoginFailureLimit = defaultFailureLimit
	}
	if cfg.SessionCheckInterval == 0 {
		cfg.SessionCheckInterval = defaultSessionCheck
	}
	cfg.Argon2 = cfg.Argon2.withDefaults()
	if err := cfg.Argon2.validate(); err != nil {
		return nil, fmt.Errorf("auth: argon2 parameters: %w", err)
	}

	s := &Service{
		st:   &store{db: db},
		log:  log,
		cfg:  cfg,
		keys: make(map[string][]byte, 1+len(cfg.PreviousSecrets)),
		sem:  make(chan struct{}, cfg.HashConcurrency),
		now:  time.Now,
	}
	s.limiter = &failureLimiter{st: s.st, window: failureWindow}
	s.signKid = keyID(cfg.Secret)
	s.signKey = []byte(cfg.Secret)
	s.keys[s.signKid] = s.signKey
	for _, p := range cfg.PreviousSecrets {
		if p != "" {
			s.keys[keyID(p)] = []byte(p)
		}
	}
	s.keyFunc = s.lookupKey
	s.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(jwtLeeway),
		// Strict base64: otherwise the unused low bits of the last character
		// make several spellings of one signature verify.
		jwt.WithStrictDecoding(),
		// A closure, not s.now itself, so tests may swap the clock later.
		jwt.WithTimeFunc(func() time.Time { return s.clock() }),
	)
	s.dummyHash = sync.OnceValues(func() (string, error) {
		return HashPassword(randomToken(), s.cfg.Argon2)
	})
	return s, nil
}

// keyID names a secret without revealing it: the first 16 hex characters of
// its SHA-256.
func keyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:8])
}

// clock is the current time in UTC at the database's precision
// (microseconds), so values returned to callers equal what is stored.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// UserByID loads one user; apperr.ErrNotFound when there is none.
func (s *Service) UserByID(ctx context.Context, id int64) (*User, error) {
	return s.userByID(ctx, s.st.db, id)
}

func (s *Service) userByID(ctx context.Context, q bun.IDB, id int64) (*User, error) {
	u, err := s.st.user(ctx, q, "id", id)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, fmt.Errorf("user %d: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	return u, nil
}

// authError is an unauthenticated failure whose message is safe to show a
// client as is; the cause (if any) stays reachable for logs through Unwrap
// but never reaches the message, so it cannot leak details.
type authError struct {
	msg   string
	cause error
}

// Error is the client-safe message.
func (e *authError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, apperr.ErrUnauthenticated) true and keeps the
// cause reachable.
func (e *authError) Unwrap() []error {
	if e.cause == nil {
		return []error{apperr.ErrUnauthenticated}
	}
	return []error{apperr.ErrUnauthenticated, e.cause}
}

var (
	errBadCredentials = &authError{msg: "invalid username or password"}
	errBadRefresh     = &authError{msg: "invalid or expired refresh token"}
	errAuthRequired   = &authError{msg: "authentication required"}
	errBadToken       = &authError{msg: "invalid or expired token"}
)

// badToken wraps a verification failure with the public message.
func badToken(cause error) error {
	return &authError{msg: errBadToken.msg, cause: cause}
}
