package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

const badRefreshMsg = "invalid or expired refresh token"

func mustRefresh(t *testing.T, s *Service, token string) *Tokens {
	t.Helper()
	tok, err := s.Refresh(context.Background(), token)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok.RefreshToken == token || tok.RefreshToken == "" {
		t.Fatalf("refresh did not issue a new token")
	}
	if _, err := s.VerifyAccess(tok.AccessToken); err != nil {
		t.Fatalf("refreshed access token: %v", err)
	}
	return tok
}

func wantRefreshFails(t *testing.T, s *Service, token string) {
	t.Helper()
	tok, err := s.Refresh(context.Background(), token)
	if tok != nil {
		t.Fatal("refresh returned tokens")
	}
	wantUnauth(t, err, badRefreshMsg)
}

// register -> login -> refresh -> reuse detection -> logout, rotating class.
func TestRotatingStory(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := newTestService(t, db, nil)
		ctx := context.Background()
		u := mustRegister(t, s, "rotor", "right password")
		login := mustLogin(t, s, "rotor", "right password", ClassRotating)

		clk.Advance(time.Minute)
		r1 := mustRefresh(t, s, login.RefreshToken)
		if r1.User.ID != u.ID || !r1.ExpiresAt.After(login.ExpiresAt) {
			t.Fatalf("refreshed = %+v", r1)
		}
		r2 := mustRefresh(t, s, r1.RefreshToken)

		// The login token was used: presenting it again is a theft signal.
		wantRefreshFails(t, s, login.RefreshToken)
		// The whole family is revoked, the newest token included.
		wantRefreshFails(t, s, r2.RefreshToken)
		wantRefreshFails(t, s, r1.RefreshToken)

		var revoked int
		if err := db.NewSelect().Model((*refreshRow)(nil)).ColumnExpr("count(*)").
			Where("revoked_at IS NOT NULL").Scan(ctx, &revoked); err != nil {
			t.Fatal(err)
		}
		if revoked != 3 {
			t.Fatalf("%d tokens revoked, want the family of 3", revoked)
		}

		// A fresh login is a new family, unaffected; logout ends it.
		again := mustLogin(t, s, "rotor", "right password", ClassRotating)
		r3 := mustRefresh(t, s, again.RefreshToken)
		if err := s.Logout(ctx, r3.RefreshToken); err != nil {
			t.Fatal(err)
		}
		wantRefreshFails(t, s, r3.RefreshToken)
		if err := s.Logout(ctx, r3.RefreshToken); err != nil {
			t.Fatalf("second logout: %v", err)
		}
	})
}

// The old frontend keeps presenting its login refresh token: it must keep
// working after rotation, and die with the family on logout.
func TestLegacyTokens(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		ctx := context.Background()
		mustRegister(t, s, "legacy", "right password")
		login := mustLogin(t, s, "legacy", "right password", ClassLegacy)
		r1 := mustRefresh(t, s, login.RefreshToken)
		r2 := mustRefresh(t, s, login.RefreshToken) // reuse is fine
		r3 := mustRefresh(t, s, r1.RefreshToken)
		mustRefresh(t, s, login.RefreshToken)

		// Another legacy family of the same user is not touched by logout.
		other := mustLogin(t, s, "legacy", "right password", ClassLegacy)

		if err := s.Logout(ctx, r2.RefreshToken); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{login.RefreshToken, r1.RefreshToken, r2.RefreshToken, r3.RefreshToken} {
			wantRefreshFails(t, s, tok)
		}
		mustRefresh(t, s, other.RefreshToken)
	})
}

func TestRefreshExpiry(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := newTestService(t, db, func(c *Config) { c.RefreshTTL = time.Hour; c.AccessTTL = 5 * time.Minute })
		mustRegister(t, s, "expiring", "right password")
		for _, class := range []TokenClass{ClassRotating, ClassLegacy} {
			t.Run(string(class), func(t *testing.T) {
				login := mustLogin(t, s, "expiring", "right password", class)
				clk.Advance(59 * time.Minute)
				r1 := mustRefresh(t, s, login.RefreshToken)
				clk.Advance(2 * time.Minute)
				wantRefreshFails(t, s, login.RefreshToken) // expired
				// The new token's lifetime started at its own issue.
				mustRefresh(t, s, r1.RefreshToken)
			})
		}
		t.Run("access", func(t *testing.T) {
			login := mustLogin(t, s, "expiring", "right password", ClassRotating)
			clk.Advance(5*time.Minute + 20*time.Second) // within the 30s leeway
			if _, err := s.VerifyAccess(login.AccessToken); err != nil {
				t.Fatalf("within leeway: %v", err)
			}
			clk.Advance(11 * time.Second)
			_, err := s.VerifyAccess(login.AccessToken)
			wantUnauth(t, err, "invalid or expired token")
		})
	})
}

func TestRefreshRejectsGarbage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		mustRegister(t, s, "garbage", "right password")
		login := mustLogin(t, s, "garbage", "right password", ClassRotating)
		for _, tok := range []string{
			"",
			"short",
			randomToken(), // well formed, never issued
			login.RefreshToken + "A",
			login.RefreshToken[:42],
			login.AccessToken,
			login.RefreshToken[:42] + "!",
		} {
			wantRefreshFails(t, s, tok)
			if err := s.Logout(context.Background(), tok); err != nil {
				t.Fatalf("logout of %q: %v", tok, err)
			}
		}
		mustRefresh(t, s, login.RefreshToken) // none of that disturbed it
	})
}

// Two concurrent uses of one rotating token cannot both succeed.
func TestConcurrentRotatingRefresh(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		mustRegister(t, s, "racer", "right password")
		login := mustLogin(t, s, "racer", "right password", ClassRotating)
		const n = 8
		var wg sync.WaitGroup
		results := make([]*Tokens, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = s.Refresh(context.Background(), login.RefreshToken)
			}()
		}
		close(start)
		wg.Wait()
		var winner *Tokens
		for i, err := range errs {
			if err == nil {
				if winner != nil {
					t.Fatal("two concurrent refreshes of one token succeeded")
				}
				winner = results[i]
				continue
			}
			wantUnauth(t, err, badRefreshMsg)
		}
		if winner == nil {
			t.Fatal("no refresh succeeded")
		}
		// The losers presented a used token: the family is revoked.
		wantRefreshFails(t, s, winner.RefreshToken)
	})
}

func TestSweepExpired(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, clk := newTestService(t, db, func(c *Config) { c.RefreshTTL = time.Hour })
		ctx := context.Background()
		mustRegister(t, s, "sweeper", "right password")
		old1 := mustLogin(t, s, "sweeper", "right password", ClassRotating)
		mustRefresh(t, s, old1.RefreshToken)
		clk.Advance(30 * time.Minute)
		fresh := mustLogin(t, s, "sweeper", "right password", ClassLegacy)

		n, err := s.SweepExpired(ctx, clk.Now().Add(31*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("swept %d, want 2", n)
		}
		var left int
		if err := db.NewSelect().Model((*refreshRow)(nil)).ColumnExpr("count(*)").Scan(ctx, &left); err != nil {
			t.Fatal(err)
		}
		if left != 1 {
			t.Fatalf("%d tokens left, want 1", left)
		}
		mustRefresh(t, s, fresh.RefreshToken)
	})
}

// A logout racing refreshes of the same family must win for good: no token
// handed out by a concurrent refresh may outlive it.
func TestLogoutRacesRefresh(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s, _ := newTestService(t, db, nil)
		mustRegister(t, s, "racy", "right password")
		for round := range 5 {
			login := mustLogin(t, s, "racy", "right password", ClassLegacy)
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				issued = []string{login.RefreshToken}
			)
			start := make(chan struct{})
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if tok, err := s.Refresh(context.Background(), login.RefreshToken); err == nil {
						mu.Lock()
						issued = append(issued, tok.RefreshToken)
						mu.Unlock()
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := s.Logout(context.Background(), login.RefreshToken); err != nil {
					t.Error(err)
				}
			}()
			close(start)
			wg.Wait()
			for _, tok := range issued {
				if _, err := s.Refresh(context.Background(), tok); err == nil {
					t.Fatalf("round %d: a token outlived the logout of its family", round)
				}
			}
		}
	})
}
