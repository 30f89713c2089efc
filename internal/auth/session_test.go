package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// Replicas starting together each offer a secret; all of them end up with
// the one stored first, and exactly one of them stored it.
func TestSharedSecretAgrees(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const replicas = 8
		var (
			wg      sync.WaitGroup
			secrets [replicas]string
			created [replicas]bool
			errs    [replicas]error
		)
		for i := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				secrets[i], created[i], errs[i] = SharedSecret(context.Background(), db, "")
			}()
		}
		wg.Wait()
		n := 0
		for i := range replicas {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if secrets[i] != secrets[0] || len(secrets[i]) < 32 {
				t.Fatalf("replica %d has secret %q, replica 0 %q", i, secrets[i], secrets[0])
			}
			if created[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d replicas stored a secret, want 1", n)
		}
		// A seed offered later (an old DATA_DIR secret) does not replace it.
		again, made, err := SharedSecret(context.Background(), db, "seed-seed-seed-seed-seed-seed-seed-seed")
		if err != nil || made || again != secrets[0] {
			t.Fatalf("later start: %q, %v, %v", again, made, err)
		}
	})
}

// Another replica accepts an ended session's access token only until its
// remembered epoch is SessionCheckInterval old; the replica that ended it
// refuses at once; a token issued afterwards works on both.
func TestCheckSessionCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		interval := func(c *Config) { c.SessionCheckInterval = 5 * time.Second }
		here, clk := newTestService(t, db, interval)
		there, _ := newTestService(t, db, interval)
		there.now = clk.Now
		u := mustRegister(t, here, "ada", "correct horse battery")
		old := mustLogin(t, here, "ada", "correct horse battery", ClassRotating)
		check := func(s *Service, token string) error {
			c, err := s.VerifyAccess(token)
			if err != nil {
				t.Fatal(err)
			}
			return s.CheckSession(ctx, c.UserID, c.Epoch)
		}
		if err := check(there, old.AccessToken); err != nil {
			t.Fatalf("a live session: %v", err)
		}
		if err := here.LogoutAll(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		wantUnauth(t, check(here, old.AccessToken), "session ended: log in again")
		if err := check(there, old.AccessToken); err != nil {
			t.Fatalf("the other replica read the epoch again before its interval passed: %v", err)
		}
		clk.Advance(5 * time.Second)
		wantUnauth(t, check(there, old.AccessToken), "session ended: log in again")

		fresh := mustLogin(t, here, "ada", "correct horse battery", ClassRotating)
		for _, s := range []*Service{here, there} {
			if err := check(s, fresh.AccessToken); err != nil {
				t.Fatalf("a session begun after the end: %v", err)
			}
		}
		_, err := here.Refresh(ctx, old.RefreshToken)
		wantUnauth(t, err, "invalid or expired refresh token")
	})
}
