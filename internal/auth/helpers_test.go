package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

const testSecret = "test-secret-0123456789abcdef-0123456789abcdef"

// cheapArgon2 keeps the many hashes of the test suite fast; the default
// parameters are exercised by the password tests and the benchmark.
var cheapArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1}

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestService returns a Service with cheap hashing and a fake clock;
// edit adjusts the config first.
func newTestService(t testing.TB, db *database.DB, edit func(*Config)) (*Service, *fakeClock) {
	t.Helper()
	cfg := Config{Secret: testSecret, Argon2: cheapArgon2, HashConcurrency: 4}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewService(db, cfg)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	clk := newFakeClock()
	s.now = clk.Now
	return s, clk
}

func mustRegister(t testing.TB, s *Service, username, password string) *User {
	t.Helper()
	u, err := s.Register(context.Background(), RegisterInput{Username: username, Password: password})
	if err != nil {
		t.Fatalf("register %q: %v", username, err)
	}
	return u
}

func mustLogin(t testing.TB, s *Service, username, password string, class TokenClass) *Tokens {
	t.Helper()
	tok, err := s.Login(context.Background(), username, password, "192.0.2.1", class)
	if err != nil {
		t.Fatalf("login %q: %v", username, err)
	}
	return tok
}

// wantUnauth fails unless err is an authentication failure with msg.
func wantUnauth(t testing.TB, err error, msg string) {
	t.Helper()
	if !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Fatalf("err = %v, want ErrUnauthenticated", err)
	}
	if err.Error() != msg {
		t.Fatalf("err = %q, want %q", err.Error(), msg)
	}
}

func ptr[T any](v T) *T { return &v }
