package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/apperr"
)

// TokenClass selects how a refresh-token family behaves.
type TokenClass string

const (
	// ClassRotating: each refresh token works once; presenting a used one
	// means it was stolen (or replayed), and the whole family is revoked.
	ClassRotating TokenClass = "rotating"
	// ClassLegacy: the old frontend keeps presenting the refresh token from
	// login for its whole lifetime, so tokens stay valid after use until they
	// expire or the family is logged out.
	ClassLegacy TokenClass = "legacy"
)

func (c TokenClass) valid() bool { return c == ClassRotating || c == ClassLegacy }

// Tokens is what a login or refresh hands out.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	// ExpiresAt is when AccessToken expires.
	ExpiresAt time.Time
	User      *User
}

// maxLoginInput bounds what Login will look at; Django caps passwords at
// 4096 too, so no imported account is locked out by it.
const maxLoginInput = 4096

// Login checks a username and password and starts a new token family of the
// given class ("" means ClassRotating). An unknown user and a wrong password
// give the same error after about the same time. Failures are counted per
// account and per client IP; over the limit, *apperr.RateLimitError.
func (s *Service) Login(ctx context.Context, username, password, clientIP string, class TokenClass) (*Tokens, error) {
	if class == "" {
		class = ClassRotating
	}
	if !class.valid() {
		return nil, apperr.Invalid("class", "unknown token class %q", class)
	}
	u, err := s.checkLimited(ctx, strings.ToLower(username), password, clientIP)
	if err != nil {
		return nil, err
	}

	now := s.clock()
	if err := s.st.recordLogin(ctx, u.ID, now); err != nil {
		return nil, fmt.Errorf("record login: %w", err)
	}
	u.LastLoginAt = &now
	return s.IssueTokens(ctx, u, class)
}

// checkLimited is checkCredentials under the login failure limits: a wrong
// password is errBadCredentials and counts against the account (key) and
// the client address; over either limit, *apperr.RateLimitError before
// any hashing.
func (s *Service) checkLimited(ctx context.Context, key, password, clientIP string) (*User, error) {
	acct := accountKey(key)
	att, err := s.limiter.begin(ctx, s.clock(),
		limitKey{acct, s.cfg.LoginFailureLimit},
		limitKey{ipKey(clientIP), ipLimitFactor * s.cfg.LoginFailureLimit})
	if err != nil {
		if errors.Is(err, apperr.ErrRateLimited) {
			s.log.WarnContext(ctx, "auth: login rate limited", "ip", clientIP)
		}
		return nil, err
	}
	u, ok, err := s.checkCredentials(ctx, key, password)
	switch {
	case err != nil:
		// Nothing was learned about the password: do not count it.
		if cerr := s.limiter.cancel(ctx, att); cerr != nil {
			s.log.WarnContext(ctx, "auth: login attempt", "err", cerr)
		}
		return nil, err
	case !ok:
		s.log.DebugContext(ctx, "auth: login failed", "ip", clientIP)
		return nil, errBadCredentials
	}
	if err := s.limiter.succeed(ctx, att, acct); err != nil {
		return nil, err
	}
	return u, nil
}

// accountKey is the failure counter of the account whose username_key is
// key.
func accountKey(key string) string { return "user:" + key }

// checkCredentials returns the user when password is right. Hashes that are
// legacy or use old parameters are replaced after a successful check.
func (s *Service) checkCredentials(ctx context.Context, key, password string) (*User, bool, error) {
	if len(key) > maxLoginInput || len(password) > maxLoginInput ||
		!utf8.ValidString(key) || strings.IndexByte(key, 0) >= 0 {
		// No stored username looks like this (and some drivers refuse NUL).
		return nil, false, nil
	}
	u, err := s.st.user(ctx, s.st.db, "username_key", key)
	if errors.Is(err, apperr.ErrNotFound) {
		// Spend the time a real check takes, so response time does not
		// tell which usernames exist.
		dummy, err := s.dummyHash()
		if err != nil {
			return nil, false, fmt.Errorf("dummy hash: %w", err)
		}
		if _, _, err := s.verify(ctx, dummy, password); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load user: %w", err)
	}
	ok, rehash, err := s.verify(ctx, u.PasswordHash, password)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, false, ctxErr
		}
		// A corrupt stored hash must not tell the client anything; it is
		// the operator's problem.
		s.log.ErrorContext(ctx, "auth: unreadable password hash", "user_id", u.ID, "err", err)
		return nil, false, nil
	}
	if !ok {
		return nil, false, nil
	}
	if rehash {
		s.upgradeHash(ctx, u, password)
	}
	return u, true, nil
}

// upgradeHash replaces u's hash with one at the configured parameters. It
// is best effort: the login already succeeded, and the next one retries.
// The update is conditional on the old hash so it cannot overwrite a
// password changed meanwhile.
func (s *Service) upgradeHash(ctx context.Context, u *User, password string) {
	hash, err := s.hash(ctx, password)
	if err != nil {
		s.log.WarnContext(ctx, "auth: rehash password", "user_id", u.ID, "err", err)
		return
	}
	replaced, err := s.st.replaceHash(ctx, s.st.db, u.ID, u.PasswordHash, hash)
	if err != nil {
		s.log.WarnContext(ctx, "auth: store rehashed password", "user_id", u.ID, "err", err)
		return
	}
	if replaced {
		u.PasswordHash = hash
		s.log.InfoContext(ctx, "auth: password hash upgraded", "user_id", u.ID)
	}
}

// IssueTokens starts a new token family for u without checking a password.
// It exists so that "register and log in" does not hash the password twice;
// only call it for a user who has just proved who they are.
func (s *Service) IssueTokens(ctx context.Context, u *User, class TokenClass) (*Tokens, error) {
	if class == "" {
		class = ClassRotating
	}
	if !class.valid() {
		return nil, apperr.Invalid("class", "unknown token class %q", class)
	}
	now := s.clock()
	refresh, err := s.insertRefresh(ctx, s.st.db, u, newFamilyID(), class, now)
	if err != nil {
		return nil, err
	}
	access, exp, err := s.issueAccess(u, now)
	if err != nil {
		return nil, err
	}
	return &Tokens{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp, User: u}, nil
}
