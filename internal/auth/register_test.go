package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		const pw = "correct horse"
		tests := []struct {
			name      string
			in        RegisterInput
			wantField string // "" = must succeed
		}{
			{"ok", RegisterInput{Username: "alice", Password: pw}, ""},
			{"ok all allowed symbols", RegisterInput{Username: "a.b+c-d_e@f", Password: pw}, ""},
			{"ok unicode letters", RegisterInput{Username: "José٣", Password: pw}, ""},
			{"ok three chars", RegisterInput{Username: "abc", Password: pw}, ""},
			{"ok 150 chars", RegisterInput{Username: strings.Repeat("x", 150), Password: pw}, ""},
			{"ok empty email", RegisterInput{Username: "emptymail", Email: ptr(""), Password: pw}, ""},
			{"ok email", RegisterInput{Username: "withmail", Email: ptr("with@example.com"), Password: pw}, ""},
			{"username too short", RegisterInput{Username: "ab", Password: pw}, "username"},
			{"username empty", RegisterInput{Username: "", Password: pw}, "username"},
			{"username too long", RegisterInput{Username: strings.Repeat("x", 151), Password: pw}, "username"},
			{"username space", RegisterInput{Username: "bad name", Password: pw}, "username"},
			{"username slash", RegisterInput{Username: "bad/name", Password: pw}, "username"},
			{"username quote", RegisterInput{Username: "bad'name", Password: pw}, "username"},
			{"username invalid utf8", RegisterInput{Username: "ab\xff", Password: pw}, "username"},
			{"email invalid", RegisterInput{Username: "mail1", Email: ptr("not-an-email"), Password: pw}, "email"},
			{"email display name", RegisterInput{Username: "mail2", Email: ptr("Bob <bob@example.com>"), Password: pw}, "email"},
			{"email angle brackets", RegisterInput{Username: "mail3", Email: ptr("<bob@example.com>"), Password: pw}, "email"},
			{"email surrounding space", RegisterInput{Username: "mail4", Email: ptr(" bob@example.com"), Password: pw}, "email"},
			{"email two addresses", RegisterInput{Username: "mail5", Email: ptr("a@example.com, b@example.com"), Password: pw}, "email"},
			{"email too long", RegisterInput{Username: "mail6", Email: ptr(strings.Repeat("a", 250) + "@example.com"), Password: pw}, "email"},
			{"password too short", RegisterInput{Username: "pw1", Password: "1234567"}, "password"},
			{"password empty", RegisterInput{Username: "pw2", Password: ""}, "password"},
			{"password too long", RegisterInput{Username: "pw3", Password: strings.Repeat("p", 1025)}, "password"},
			{"password equals username", RegisterInput{Username: "samesame1", Password: "samesame1"}, "password"},
			{"password equals username other case", RegisterInput{Username: "SameSame2", Password: "sAMEsAME2"}, "password"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				u, err := s.Register(context.Background(), tc.in)
				if tc.wantField == "" {
					if err != nil {
						t.Fatalf("Register: %v", err)
					}
					if u.ID == 0 || u.UsernameKey != strings.ToLower(tc.in.Username) {
						t.Fatalf("user = %+v", u)
					}
					if tc.in.Email == nil || *tc.in.Email == "" {
						if u.Email != nil || u.EmailKey != nil {
							t.Fatalf("empty email stored as %v", *u.Email)
						}
					}
					if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
						t.Fatalf("hash = %q", u.PasswordHash)
					}
					return
				}
				var inv *apperr.InvalidError
				if !errors.As(err, &inv) {
					t.Fatalf("err = %v, want *apperr.InvalidError", err)
				}
				if inv.Field != tc.wantField {
					t.Fatalf("field = %q (%v), want %q", inv.Field, inv, tc.wantField)
				}
				if !errors.Is(err, apperr.ErrInvalidInput) || u != nil {
					t.Fatalf("err = %v, u = %v", err, u)
				}
			})
		}
	})
}

func TestRegisterStoresUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := newTestService(t, db, nil)
		u, err := s.Register(context.Background(), RegisterInput{Username: "Carol", Email: ptr("Carol@Example.com"), Password: "long enough"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.UserByID(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Username != "Carol" || got.UsernameKey != "carol" || *got.Email != "Carol@Example.com" ||
			*got.EmailKey != "carol@example.com" || got.PasswordHash != u.PasswordHash {
			t.Fatalf("stored %+v", got)
		}
		if !got.CreatedAt.Equal(clk.Now()) || got.CreatedAt.Location().String() != "UTC" || got.LastLoginAt != nil {
			t.Fatalf("CreatedAt = %v, LastLoginAt = %v", got.CreatedAt, got.LastLoginAt)
		}
		if _, err := s.UserByID(context.Background(), u.ID+1000); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatalf("missing user: err = %v", err)
		}
	})
}

func TestRegisterDuplicates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		ctx := context.Background()
		if _, err := s.Register(ctx, RegisterInput{Username: "Alice", Email: ptr("Alice@Example.com"), Password: "password one"}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, username, email, field string
		}{
			{"same username", "Alice", "", "username"},
			{"username other case", "aLICE", "", "username"},
			{"same email", "bob", "Alice@Example.com", "email"},
			{"email other case", "bob", "alice@example.COM", "email"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Register(ctx, RegisterInput{Username: tc.username, Email: ptr(tc.email), Password: "password two"})
				var inv *apperr.InvalidError
				if !errors.As(err, &inv) || inv.Field != tc.field {
					t.Fatalf("err = %v, want InvalidError on %s", err, tc.field)
				}
				if !strings.Contains(inv.Reason, "already exists") {
					t.Fatalf("reason = %q", inv.Reason)
				}
			})
		}
	})
}

// The unique index is the real guarantee: a duplicate that slips past the
// pre-check must still come back as an InvalidError on the right field.
func TestUniqueViolationMapping(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		ctx := context.Background()
		mustRegister(t, s, "dora", "password one")
		if _, err := s.Register(ctx, RegisterInput{Username: "erin", Email: ptr("e@example.com"), Password: "password one"}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			user  *User
			field string
		}{
			{&User{Username: "DORA", UsernameKey: "dora", PasswordHash: "x"}, "username"},
			{&User{Username: "frank", UsernameKey: "frank", Email: ptr("E@example.com"), EmailKey: ptr("e@example.com"), PasswordHash: "x"}, "email"},
		} {
			_, err := db.NewInsert().Model(tc.user).Exec(ctx)
			if err == nil {
				t.Fatalf("duplicate %s inserted", tc.field)
			}
			field, ok := uniqueViolation(err)
			if !ok || field != tc.field {
				t.Fatalf("uniqueViolation(%v) = %q, %v; want %q", err, field, ok, tc.field)
			}
		}
		if _, ok := uniqueViolation(errors.New("boom")); ok {
			t.Fatal("plain error taken for a unique violation")
		}
	})
}

// Concurrent registrations of one name: one wins, the rest get the same
// InvalidError whether the pre-check or the unique index caught them.
func TestRegisterRace(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.Register(context.Background(), RegisterInput{Username: "Racer", Password: "password one"})
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			var inv *apperr.InvalidError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &inv) && inv.Field == "username":
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d registrations succeeded, want 1", wins)
		}
	})
}
