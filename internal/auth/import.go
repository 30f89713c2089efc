package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// ImportedUser is an account brought over from another system (see
// internal/importer). Unlike Register, nothing is hashed here: the old
// system's hash is stored as it is and upgraded to argon2id by the first
// successful Login.
type ImportedUser struct {
	// ID is the id the account had; it is kept when no other account has
	// it. Zero or negative: any free id.
	ID       int64
	Username string
	// Email "" means none.
	Email string
	// PasswordHash is a Django "pbkdf2_sha256$..." hash, a Django
	// "argon2$argon2id$..." hash (stored as the PHC string it wraps), an
	// unsalted SHA-256 hex digest, or an argon2id PHC string. Anything else
	// is stored as is and can never log in.
	PasswordHash string
	// Disabled stores the hash behind a "!" (Django's marker for an unusable
	// password), so the account exists, owns its files, and cannot log in:
	// for accounts the old system had deactivated.
	Disabled bool
	// CreatedAt is when the account was made in the old system; zero means now.
	CreatedAt time.Time
	// LastLoginAt is carried over when known.
	LastLoginAt *time.Time
}

// ImportResult says what ImportUser did (or, from PlanImportUser, would do).
type ImportResult struct {
	// ID is the account's id here: the imported one, a new one, or, when
	// Created is false, the one of the account imported earlier.
	ID int64
	// Created is false when the account was already imported.
	Created bool
	// KeptID tells whether ID is the id asked for.
	KeptID bool
	// EmailDropped, when not empty, says why the email was not kept.
	EmailDropped string
	// PasswordUsable is false when nobody can log in with the stored hash:
	// a disabled account or a hash format this package cannot verify.
	PasswordUsable bool
}

// ErrUsernameTaken means an account with the imported username exists but
// was not made by an earlier import (its creation time differs): it
// belongs to someone who registered here, and the importer must not hand
// them the old account's files.
var ErrUsernameTaken = errors.New("the username belongs to an account made on this server, not by an import")

// importAttempts bounds retries after losing a race on an id, username or
// email to a concurrent registration.
const importAttempts = 3

// ImportUser creates the account described by in, keeping its id when that
// id is free, its hash, join date and email (unless the email belongs to
// another account or is not a valid address: then the account is created
// without one and EmailDropped says why). An account with the same username
// (case-insensitive) and the same creation time counts as already
// imported: nothing is written and Created is false, so running an import
// twice is harmless. The same username with another creation time is
// ErrUsernameTaken.
//
// On PostgreSQL the identity sequence is moved past the inserted id before
// the insert, so a registration running at the same time cannot be handed
// that id, and later ones continue after the highest id.
func (s *Service) ImportUser(ctx context.Context, in ImportedUser) (ImportResult, error) {
	return s.importUser(ctx, in, true)
}

// PlanImportUser answers what ImportUser would do with in, without writing.
func (s *Service) PlanImportUser(ctx context.Context, in ImportedUser) (ImportResult, error) {
	return s.importUser(ctx, in, false)
}

func (s *Service) importUser(ctx context.Context, in ImportedUser, write bool) (ImportResult, error) {
	if err := validateImportedUsername(in.Username); err != nil {
		return ImportResult{}, err
	}
	hash, usable := importedHash(in.PasswordHash, in.Disabled)
	created := in.CreatedAt.UTC().Truncate(time.Microsecond)
	if in.CreatedAt.IsZero() {
		created = s.clock()
	}
	u := &User{
		Username:     in.Username,
		UsernameKey:  strings.ToLower(in.Username),
		PasswordHash: hash,
		CreatedAt:    created,
	}
	if in.LastLoginAt != nil && !in.LastLoginAt.IsZero() {
		t := in.LastLoginAt.UTC().Truncate(time.Microsecond)
		u.LastLoginAt = &t
	}

	var res ImportResult
	var err error
	for attempt := 0; attempt < importAttempts; attempt++ {
		res, err = s.importAttempt(ctx, u, in, write)
		if !isUniqueViolation(err) {
			break
		}
		// Someone registered the same id, name or email between our checks
		// and our insert: look again.
	}
	if err != nil {
		return ImportResult{}, err
	}
	res.PasswordUsable = usable
	return res, nil
}

// importAttempt runs the checks and (when write) the insert once, in one
// transaction.
func (s *Service) importAttempt(ctx context.Context, u *User, in ImportedUser, write bool) (ImportResult, error) {
	var res ImportResult
	err := s.st.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		existing, err := s.st.user(ctx, tx, "username_key", u.UsernameKey)
		switch {
		case err == nil:
			// Creation times are copied verbatim by an import and never
			// change afterwards, so they tell an earlier import from a
			// person who registered the same name here.
			d := existing.CreatedAt.Sub(u.CreatedAt)
			if d < -time.Second || d > time.Second {
				return fmt.Errorf("user %q: %w", u.Username, ErrUsernameTaken)
			}
			res = ImportResult{ID: existing.ID, KeptID: existing.ID == in.ID}
			return nil
		case !errors.Is(err, apperr.ErrNotFound):
			return fmt.Errorf("look up user: %w", err)
		}

		u.Email, u.EmailKey = nil, nil
		if email := strings.TrimSpace(in.Email); email != "" {
			key := strings.ToLower(email)
			taken, err := s.st.taken(ctx, tx, "email_key", key)
			switch {
			case err != nil:
				return fmt.Errorf("check email: %w", err)
			case validateEmail(email) != nil:
				res.EmailDropped = fmt.Sprintf("%q is not a valid email address", email)
			case taken:
				// The old system did not insist on unique emails; here they
				// are unique. The account stays reachable by its username.
				res.EmailDropped = fmt.Sprintf("%q is already used by another account", email)
			default:
				u.Email, u.EmailKey = &email, &key
			}
		}

		u.ID = 0
		if in.ID > 0 {
			taken, err := s.st.taken(ctx, tx, "id", in.ID)
			if err != nil {
				return fmt.Errorf("check id: %w", err)
			}
			if !taken {
				u.ID = in.ID
			}
		}
		res.Created, res.KeptID = true, u.ID != 0
		if !write {
			res.ID = u.ID
			return nil
		}
		// A zero ID lets the database choose, as in Register. An id once
		// handed out is never handed out again (insertUser moves the ids
		// past it), so a still-valid access token of a deleted account
		// cannot start naming somebody new.
		if err := s.st.insertUser(ctx, tx, u); err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		res.ID = u.ID
		return nil
	})
	return res, err
}

// importedHash turns an old system's stored hash into one VerifyPassword
// reads, and says whether anyone can log in with it.
func importedHash(h string, disabled bool) (string, bool) {
	h = strings.TrimSpace(h)
	// Django stores argon2 hashes as "argon2" + the PHC string.
	if strings.HasPrefix(h, "argon2$argon2id$") {
		h = strings.TrimPrefix(h, "argon2")
	}
	if len(h) == 64 && isSHA256Hex(strings.ToLower(h)) {
		h = strings.ToLower(h)
	}
	usable := strings.HasPrefix(h, "$argon2id$") || strings.HasPrefix(h, "pbkdf2_sha256$") || isSHA256Hex(h)
	if disabled || !usable {
		// "!" is Django's prefix for an unusable password; no format starts
		// with it, so verification fails for every input.
		if !strings.HasPrefix(h, "!") {
			h = "!" + h
		}
		return h, false
	}
	return h, true
}

// validateImportedUsername is looser than Register's rules: the old
// systems allowed shorter names, and an imported user must keep theirs to
// log in. It still refuses what would break display or lookup.
func validateImportedUsername(name string) error {
	switch {
	case name == "" || strings.TrimSpace(name) != name:
		return apperr.Invalid("username", "must not be empty or start or end with spaces")
	case !utf8.ValidString(name):
		return apperr.Invalid("username", "is not valid UTF-8")
	case utf8.RuneCountInString(name) > maxUsernameLen:
		return apperr.Invalid("username", "must be at most %d characters long", maxUsernameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return apperr.Invalid("username", "must not contain control characters")
	}
	return nil
}

// isUniqueViolation is true for a unique-index violation.
func isUniqueViolation(err error) bool {
	_, ok := database.IsDuplicate(err)
	return ok
}
