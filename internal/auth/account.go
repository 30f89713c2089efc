package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
)

// The input fields of the account operations, as *apperr.InvalidError
// names them.
const (
	FieldCurrentPassword = "currentPassword"
	FieldNewPassword     = "newPassword"
	FieldPassword        = "password"
)

// errPasswordRaced is a password change that lost to another one made
// meanwhile: the current password it checked is not current any more.
var errPasswordRaced = apperr.Invalid(FieldCurrentPassword, "the password was changed meanwhile; try again with the new one")

// confirm checks that password is the current password of user, under the
// login failure limits: a wrong one is an *apperr.InvalidError on field,
// and counts as a failed login. A user that no longer exists has no live
// session.
func (s *Service) confirm(ctx context.Context, user int64, password, clientIP, field string) (*User, error) {
	u, err := s.UserByID(ctx, user)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, errSessionEnded
	}
	if err != nil {
		return nil, err
	}
	checked, err := s.checkLimited(ctx, u.UsernameKey, password, clientIP)
	if errors.Is(err, errBadCredentials) || (err == nil && checked.ID != u.ID) {
		return nil, apperr.Invalid(field, "is not your current password")
	}
	if err != nil {
		return nil, err
	}
	return checked, nil
}

// ChangePassword replaces the password of user after checking the current
// one, ends every session of the user and starts a new one, which it
// returns. A wrong current password (FieldCurrentPassword) or a new one
// that breaks the rules (FieldNewPassword) changes nothing.
func (s *Service) ChangePassword(ctx context.Context, user int64, current, next, clientIP string) (*Tokens, error) {
	u, err := s.confirm(ctx, user, current, clientIP, FieldCurrentPassword)
	if err != nil {
		return nil, err
	}
	if err := validatePassword(next, u.Username); err != nil {
		var inv *apperr.InvalidError
		if errors.As(err, &inv) {
			return nil, apperr.Invalid(FieldNewPassword, "%s", inv.Reason)
		}
		return nil, err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	epoch, err := s.endSessions(ctx, u.ID, func(ctx context.Context, tx bun.Tx) error {
		replaced, err := s.st.replaceHash(ctx, tx, u.ID, u.PasswordHash, hash)
		if err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if !replaced {
			return errPasswordRaced
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	u.PasswordHash, u.SessionEpoch = hash, epoch
	s.log.InfoContext(ctx, "auth: password changed, every other session ended", "user_id", u.ID)
	return s.IssueTokens(ctx, u, ClassRotating)
}

// DeleteAccount removes user after checking the password
// (FieldPassword): it ends every session first, then runs
// Config.DeleteData, which removes what the user owns elsewhere, then
// deletes the account, its refresh tokens and its failed logins. The username is free again
// afterwards. A wrong password changes nothing.
func (s *Service) DeleteAccount(ctx context.Context, user int64, password, clientIP string) error {
	u, err := s.confirm(ctx, user, password, clientIP, FieldPassword)
	if err != nil {
		return err
	}
	// Ended first, so that the user's other requests stop as soon as they
	// can. A file one of them adds meanwhile goes with the account's row
	// (ON DELETE CASCADE), and the sweep removes its bytes.
	if _, err := s.endSessions(ctx, u.ID, nil); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	if s.cfg.DeleteData != nil {
		if err := s.cfg.DeleteData(ctx, u.ID); err != nil {
			return fmt.Errorf("delete account data: %w", err)
		}
	}
	if err := s.st.deleteUser(ctx, u.ID); err != nil {
		return err
	}
	// The account's failed logins go too; those of the client addresses
	// stay, being the addresses' and not the account's.
	if err := s.st.clearFailures(ctx, accountKey(u.UsernameKey)); err != nil {
		return fmt.Errorf("delete the failed logins of user %d: %w", u.ID, err)
	}
	s.epochs.drop(u.ID)
	s.log.InfoContext(ctx, "auth: account deleted", "user_id", u.ID)
	return nil
}
