package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
)

// refreshRow is a stored refresh token. Only the SHA-256 of the token is
// kept, so a database leak does not hand out sessions.
type refreshRow struct {
	bun.BaseModel `bun:"table:refresh_tokens"`

	TokenHash string     `bun:"token_hash,pk"`
	FamilyID  string     `bun:"family_id,notnull"`
	UserID    int64      `bun:"user_id,notnull"`
	Class     TokenClass `bun:"class,notnull"`
	CreatedAt time.Time  `bun:"created_at,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
	RevokedAt *time.Time `bun:"revoked_at"`
	// SessionEpoch is the user's epoch when the token was issued: a token
	// of an older epoch belongs to an ended session.
	SessionEpoch int64 `bun:"session_epoch,notnull"`
}

// refreshTokenBytes is 256 bits; base64url without padding makes 43 characters.
const refreshTokenBytes = 32

var refreshEncoding = base64.RawURLEncoding.Strict()

// randomToken returns a fresh opaque refresh token.
func randomToken() string {
	b := make([]byte, refreshTokenBytes)
	// crypto/rand.Read never fails (it crashes the program instead).
	_, _ = rand.Read(b)
	return refreshEncoding.EncodeToString(b)
}

// hashRefresh returns the stored form of token, and false for anything that
// cannot be one of ours, which spares the database a lookup.
func hashRefresh(token string) (string, bool) {
	if len(token) != refreshEncoding.EncodedLen(refreshTokenBytes) {
		return "", false
	}
	if _, err := refreshEncoding.DecodeString(token); err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:]), true
}

func newFamilyID() string { return uuid.NewString() }

// insertRefresh stores a new token of the family and returns it in clear.
func (s *Service) insertRefresh(ctx context.Context, db bun.IDB, u *User, family string, class TokenClass, now time.Time) (string, error) {
	token := randomToken()
	h, _ := hashRefresh(token)
	rt := &refreshRow{
		TokenHash:    h,
		FamilyID:     family,
		UserID:       u.ID,
		Class:        class,
		CreatedAt:    now,
		ExpiresAt:    now.Add(s.cfg.RefreshTTL),
		SessionEpoch: u.SessionEpoch,
	}
	if err := s.st.insertRefresh(ctx, db, rt); err != nil {
		return "", err
	}
	return token, nil
}

// Refresh exchanges a refresh token for a new access token and a new refresh
// token in the same family. A rotating token is used up; presenting it again
// revokes its family and fails. A legacy token stays valid until it expires
// or the family is logged out. Any unusable token gives the same
// "invalid or expired refresh token" error.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	h, ok := hashRefresh(refreshToken)
	if !ok {
		return nil, errBadRefresh
	}
	now := s.clock()
	var (
		out    *Tokens
		reused *refreshRow // set when reuse was detected and the family revoked
	)
	err := s.st.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out, reused = nil, nil // RunInTx does not retry, but keep the closure pure
		rt, err := s.st.refresh(ctx, tx, h)
		if err != nil {
			return err
		}
		if rt == nil {
			return errBadRefresh
		}
		if err := s.st.lockFamily(ctx, tx, rt.FamilyID); err != nil {
			return err
		}
		// Read again under the lock: the row may have changed while waiting.
		if rt, err = s.st.refresh(ctx, tx, h); err != nil {
			return err
		}
		if rt == nil || rt.RevokedAt != nil || !now.Before(rt.ExpiresAt) {
			return errBadRefresh
		}
		switch rt.Class {
		case ClassRotating:
			if rt.UsedAt != nil {
				reused = rt
				return s.st.revokeFamily(ctx, tx, rt.FamilyID, now)
			}
			// The conditional update is what makes two concurrent uses unable
			// to both succeed, whatever the isolation level; the loser is
			// treated as a reuse like any other.
			marked, err := s.st.markUsed(ctx, tx, h, now)
			if err != nil {
				return err
			}
			if !marked {
				reused = rt
				return s.st.revokeFamily(ctx, tx, rt.FamilyID, now)
			}
		case ClassLegacy:
			// Reusable by design; nothing to mark.
		default:
			s.log.ErrorContext(ctx, "auth: refresh token of unknown class", "class", string(rt.Class), "family", rt.FamilyID)
			return errBadRefresh
		}
		u, err := s.userByID(ctx, tx, rt.UserID)
		if errors.Is(err, apperr.ErrNotFound) {
			// A deleted user's tokens are deleted with it (ON DELETE CASCADE);
			// treat the race the same way.
			return errBadRefresh
		}
		if err != nil {
			return err
		}
		if rt.SessionEpoch != u.SessionEpoch {
			// Every session of the user was ended after this one began.
			return errBadRefresh
		}
		token, err := s.insertRefresh(ctx, tx, u, rt.FamilyID, rt.Class, now)
		if err != nil {
			return err
		}
		access, exp, err := s.issueAccess(u, now)
		if err != nil {
			return err
		}
		out = &Tokens{AccessToken: access, RefreshToken: token, ExpiresAt: exp, User: u}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if reused != nil {
		// The revocation is committed by now; only then report the failure.
		s.log.WarnContext(ctx, "auth: refresh token reuse detected, family revoked",
			"user_id", reused.UserID, "family", reused.FamilyID)
		return nil, errBadRefresh
	}
	return out, nil
}

// Logout revokes the family of refreshToken, so neither it nor any token
// refreshed from it works again. Unknown or malformed tokens are not an
// error: logging out twice is harmless and the answer reveals nothing.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	h, ok := hashRefresh(refreshToken)
	if !ok {
		return nil
	}
	now := s.clock()
	var rt *refreshRow
	err := s.st.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if rt, err = s.st.refresh(ctx, tx, h); err != nil || rt == nil {
			return err
		}
		if err := s.st.lockFamily(ctx, tx, rt.FamilyID); err != nil {
			return err
		}
		return s.st.revokeFamily(ctx, tx, rt.FamilyID, now)
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if rt != nil {
		s.log.InfoContext(ctx, "auth: logout", "user_id", rt.UserID, "family", rt.FamilyID)
	}
	return nil
}

// SweepExpired deletes refresh tokens that expired before now and failed
// logins that left the counting window, and returns how many rows went.
// Neither counts any more; this only keeps the tables small, so it can run
// on any schedule.
func (s *Service) SweepExpired(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.st.sweepRefresh(ctx, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("sweep refresh tokens: %w", err)
	}
	f, err := s.st.pruneFailures(ctx, now.Add(-failureWindow))
	if err != nil {
		return n, fmt.Errorf("prune login failures: %w", err)
	}
	return n + f, nil
}
