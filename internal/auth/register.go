package auth

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// RegisterInput is what a new account needs. Email nil or "" means none.
type RegisterInput struct {
	Username string
	Email    *string
	Password string
	// ClientKey is the client address registrations are limited by
	// (ClientKey of the request); empty is not limited.
	ClientKey string
}

const (
	minUsernameLen = 3
	maxUsernameLen = 150 // Django's limit, so imported names fit
	minPasswordLen = 8
	// maxPasswordLen keeps a single request from feeding megabytes into the
	// hash; Django caps at 4096 too.
	maxPasswordLen = 1024
	maxEmailLen    = 254 // RFC 5321 path limit
)

// Register validates in and creates the account. Every rule violation is an
// *apperr.InvalidError naming the field; a duplicate lost to a concurrent
// registration is reported the same way as one found up front.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*User, error) {
	if err := validateUsername(in.Username); err != nil {
		return nil, err
	}
	var email string
	if in.Email != nil {
		email = *in.Email
	}
	if email != "" {
		if err := validateEmail(email); err != nil {
			return nil, err
		}
	}
	if err := validatePassword(in.Password, in.Username); err != nil {
		return nil, err
	}

	now := s.clock()
	u := &User{
		Username:     in.Username,
		UsernameKey:  strings.ToLower(in.Username),
		CreatedAt:    now,
		SessionEpoch: newEpoch(now),
	}
	if email != "" {
		key := strings.ToLower(email)
		u.Email, u.EmailKey = &email, &key
	}

	// Check before hashing: a duplicate is the common failure and should not
	// cost an Argon2 run. The unique indexes remain the real guarantee.
	if err := s.checkTaken(ctx, u); err != nil {
		return nil, err
	}
	if s.cfg.Registrations != nil && in.ClientKey != "" {
		if ok, wait := s.cfg.Registrations.Take(ctx, "register:"+in.ClientKey); !ok {
			return nil, &apperr.RateLimitError{RetryAfter: wait,
				Reason: "too many accounts registered from your address (REGISTER_RATE_LIMIT)"}
		}
	}
	hash, err := s.hash(ctx, in.Password)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u.PasswordHash = hash
	if err := s.st.insertUser(ctx, s.st.db, u); err != nil {
		if field, ok := uniqueViolation(err); ok {
			return nil, takenError(field)
		}
		return nil, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

func (s *Service) checkTaken(ctx context.Context, u *User) error {
	taken, err := s.st.taken(ctx, s.st.db, "username_key", u.UsernameKey)
	if err != nil {
		return fmt.Errorf("check username: %w", err)
	}
	if taken {
		return takenError("username")
	}
	if u.EmailKey != nil {
		taken, err := s.st.taken(ctx, s.st.db, "email_key", *u.EmailKey)
		if err != nil {
			return fmt.Errorf("check email: %w", err)
		}
		if taken {
			return takenError("email")
		}
	}
	return nil
}

func takenError(field string) error {
	return apperr.Invalid(field, "a user with that %s already exists", field)
}

// uniqueViolation recognises a unique-index violation on users and says
// which column it hit. Both dialects name the index after the column
// (users_email_key_key on PostgreSQL, users.email_key on SQLite).
func uniqueViolation(err error) (field string, ok bool) {
	constraint, ok := database.IsDuplicate(err)
	if !ok {
		return "", false
	}
	if strings.Contains(constraint, "email_key") {
		return "email", true
	}
	return "username", true
}

func validateUsername(name string) error {
	if !utf8.ValidString(name) {
		return apperr.Invalid("username", "may only contain letters, digits and @.+-_")
	}
	if n := utf8.RuneCountInString(name); n < minUsernameLen || n > maxUsernameLen {
		return apperr.Invalid("username", "must be %d to %d characters long", minUsernameLen, maxUsernameLen)
	}
	for _, r := range name {
		// Letters and digits in any script, as Django's username validator
		// allows, so imported users' names stay valid.
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("@.+-_", r) {
			return apperr.Invalid("username", "may only contain letters, digits and @.+-_")
		}
	}
	return nil
}

func validateEmail(email string) error {
	if len(email) > maxEmailLen {
		return apperr.Invalid("email", "must be at most %d characters long", maxEmailLen)
	}
	// ParseAddress also accepts "Name <a@b>" and comments; demanding that
	// the parsed address is the whole input rules those out.
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return apperr.Invalid("email", "must be a valid email address")
	}
	return nil
}

func validatePassword(password, username string) error {
	n := utf8.RuneCountInString(password)
	if n < minPasswordLen {
		return apperr.Invalid("password", "must be at least %d characters long", minPasswordLen)
	}
	if n > maxPasswordLen {
		return apperr.Invalid("password", "must be at most %d characters long", maxPasswordLen)
	}
	if strings.EqualFold(password, username) {
		return apperr.Invalid("password", "must not be the same as the username")
	}
	return nil
}
