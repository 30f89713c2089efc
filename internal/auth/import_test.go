package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestImportUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		ctx := context.Background()
		joined := time.Date(2021, 6, 7, 8, 9, 10, 123456000, time.UTC)
		sum := sha256.Sum256([]byte("port password"))
		in := ImportedUser{ID: 1000, Username: "Ada", Email: "ada@example.com",
			PasswordHash: strings.ToUpper(hex.EncodeToString(sum[:])), CreatedAt: joined}

		plan, err := s.PlanImportUser(ctx, in)
		if err != nil || !plan.Created || !plan.KeptID || plan.ID != 1000 {
			t.Fatalf("plan: %+v, %v", plan, err)
		}
		if n, _ := db.NewSelect().Model((*User)(nil)).Count(ctx); n != 0 {
			t.Fatalf("the plan wrote %d users", n)
		}

		res, err := s.ImportUser(ctx, in)
		if err != nil || !res.Created || !res.KeptID || res.ID != 1000 || !res.PasswordUsable {
			t.Fatalf("import: %+v, %v", res, err)
		}
		u, err := s.UserByID(ctx, 1000)
		if err != nil || !u.CreatedAt.Equal(joined) || u.Email == nil || *u.Email != "ada@example.com" {
			t.Fatalf("imported user %+v, %v", u, err)
		}
		// Later registrations continue after the imported id.
		if next := mustRegister(t, s, "grace", "grace's password"); next.ID <= 1000 {
			t.Errorf("registration after an import got id %d", next.ID)
		}

		again, err := s.ImportUser(ctx, in)
		if err != nil || again.Created || again.ID != 1000 {
			t.Errorf("second import: %+v, %v", again, err)
		}
		// The uppercase hex digest was normalised: the old password works
		// and is upgraded.
		mustLogin(t, s, "ada", "port password", "")
		if u, _ := s.UserByID(ctx, 1000); !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			t.Errorf("hash not upgraded: %s", u.PasswordHash)
		}
		if again, err := s.ImportUser(ctx, in); err != nil || again.Created {
			t.Errorf("import after the upgrade: %+v, %v", again, err)
		}

		// Same name, another creation time: somebody else's account.
		other := in
		other.CreatedAt = joined.Add(time.Hour)
		if _, err := s.ImportUser(ctx, other); !errors.Is(err, ErrUsernameTaken) {
			t.Errorf("a stranger's account counts as imported: %v", err)
		}

		// Taken id and email: a new id, no email.
		phc, _ := HashPassword("django argon", cheapArgon2)
		res, err = s.ImportUser(ctx, ImportedUser{ID: 1000, Username: "ada2", Email: "ADA@example.com",
			PasswordHash: "argon2" + phc, CreatedAt: joined})
		if err != nil || res.KeptID || res.ID == 1000 || res.EmailDropped == "" {
			t.Fatalf("import over a taken id and email: %+v, %v", res, err)
		}
		mustLogin(t, s, "ada2", "django argon", "")

		// Disabled accounts exist and cannot log in.
		res, err = s.ImportUser(ctx, ImportedUser{Username: "mallory", PasswordHash: hex.EncodeToString(sum[:]), Disabled: true})
		if err != nil || res.PasswordUsable {
			t.Fatalf("disabled import: %+v, %v", res, err)
		}
		if _, err := s.Login(ctx, "mallory", "port password", "", ""); err == nil {
			t.Error("a disabled account logs in")
		}
		if _, err := s.ImportUser(ctx, ImportedUser{Username: " spaced", PasswordHash: "x"}); err == nil {
			t.Error("a username with leading spaces is imported")
		}
	})
}
