package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// A session epoch is a number kept on each user. Every access and refresh
// token carries the epoch its user had when it was issued, and counts only
// while the user still has it: ending every session of a user moves the
// epoch on, which ends them on every replica at once for refresh tokens
// (read from the database) and within SessionCheckInterval for access
// tokens (checked against a short per-replica cache).
//
// A new user starts at the time of registration in microseconds rather
// than at 0, so a token of a deleted account cannot pass for the next
// account that is given the same id (SQLite reuses the highest free id).

// defaultSessionCheck is how long a replica trusts an epoch it read.
const defaultSessionCheck = 5 * time.Second

// maxEpochs bounds the epoch cache (about 40 bytes per user).
const maxEpochs = 100000

var errSessionEnded = &authError{msg: "session ended: log in again"}

// epochEntry is a user's epoch as read at a time.
type epochEntry struct {
	epoch int64
	at    time.Time
}

// epochCache remembers users' epochs for SessionCheckInterval, so that most
// requests check their token's epoch without a query.
type epochCache struct{ memo[int64, epochEntry] }

// put remembers e, unless a later epoch was remembered less than fresh
// ago: a read that began before an epoch moved on must not bring the old
// one back.
func (c *epochCache) put(user int64, e epochEntry, fresh time.Duration) {
	c.memo.put(user, e, maxEpochs, func(old epochEntry) bool {
		return old.epoch > e.epoch && e.at.Sub(old.at) < fresh
	})
}

// CheckSession reports whether the session a token of user with epoch
// belongs to is still live: nil, or an error wrapping
// apperr.ErrUnauthenticated when it was ended (or the user deleted). The
// user's epoch is read from the database at most once per
// SessionCheckInterval on this replica; a token newer than the remembered
// epoch reads it again at once.
func (s *Service) CheckSession(ctx context.Context, user, epoch int64) error {
	now := s.now()
	if e, ok := s.epochs.get(user); ok && now.Sub(e.at) < s.cfg.SessionCheckInterval {
		switch {
		case epoch == e.epoch:
			return nil
		case epoch < e.epoch:
			return errSessionEnded
		}
		// A token newer than what this replica read: read again.
	}
	current, err := s.st.sessionEpoch(ctx, user)
	if errors.Is(err, apperr.ErrNotFound) {
		// Deleted. Nothing is remembered: SQLite gives the next account the
		// highest free id, which may be this one, and its tokens must pass.
		s.epochs.drop(user)
		return errSessionEnded
	}
	if err != nil {
		return fmt.Errorf("check session of user %d: %w", user, err)
	}
	s.remember(user, current)
	if epoch != current {
		return errSessionEnded
	}
	return nil
}

// LogoutAll ends every session of the user: every refresh token stops
// working at once, and every access token within SessionCheckInterval on
// every replica (at once on this one).
func (s *Service) LogoutAll(ctx context.Context, user int64) error {
	if _, err := s.endSessions(ctx, user, nil); err != nil {
		return fmt.Errorf("logout everywhere: %w", err)
	}
	s.log.InfoContext(ctx, "auth: every session ended", "user_id", user)
	return nil
}

// endSessions moves the user's epoch on and revokes the user's refresh
// tokens in one transaction, running also (when not nil) inside it, and
// returns the new epoch. The epoch is what ends the sessions; revoking the
// rows only says so in the table.
func (s *Service) endSessions(ctx context.Context, user int64, also func(ctx context.Context, tx bun.Tx) error) (int64, error) {
	now := s.clock()
	var epoch int64
	err := s.st.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if epoch, err = s.st.advanceEpoch(ctx, tx, user, newEpoch(now)); err != nil {
			return err
		}
		if err := s.st.revokeUser(ctx, tx, user, now); err != nil {
			return err
		}
		if also != nil {
			return also(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.remember(user, epoch)
	return epoch, nil
}

// remember notes the user's epoch just read or set, so that the tokens
// issued with it pass CheckSession without a query.
func (s *Service) remember(user, epoch int64) {
	s.epochs.put(user, epochEntry{epoch: epoch, at: s.now()}, s.cfg.SessionCheckInterval)
}

// newEpoch is the epoch a user starts at, and the least one an ended
// session moves to.
func newEpoch(now time.Time) int64 { return now.UnixMicro() }

// signingKeyName names the access-token secret in signing_keys.
const signingKeyName = "access"

// SharedSecret returns the access-token secret kept in the database,
// creating it on first use: seed when it is not empty (a secret the
// installation used before), otherwise 32 random bytes. Replicas starting
// together all insert theirs and keep whichever came first, so they agree
// without a lock. created reports whether this call stored it.
func SharedSecret(ctx context.Context, db *database.DB, seed string) (secret string, created bool, err error) {
	if seed == "" {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw) // never fails (it crashes the program instead)
		seed = hex.EncodeToString(raw)
	}
	st := &store{db: db}
	created, err = st.insertSigningKey(ctx, signingKeyName, seed, time.Now().UTC())
	if err != nil {
		return "", false, fmt.Errorf("store the shared signing key: %w", err)
	}
	if secret, err = st.signingKey(ctx, signingKeyName); err != nil {
		return "", false, fmt.Errorf("read the shared signing key: %w", err)
	}
	return secret, created, nil
}
