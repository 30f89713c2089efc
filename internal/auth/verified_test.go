package auth

import (
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// A remembered token still expires on time, and a token that differs in
// any byte is verified afresh.
func TestVerifiedTokensExpire(t *testing.T) {
	s, clk := newTestService(t, dbtest.SQLite(t), nil)
	u := mustRegister(t, s, "ada", "correct horse battery")
	tok, _, err := s.issueAccess(u, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second call is answered from memory
		if c, err := s.VerifyAccess(tok); err != nil || c.UserID != u.ID {
			t.Fatalf("verify %d: %v", i, err)
		}
	}
	if _, ok := s.verified.get(tok); !ok {
		t.Fatal("a verified token was not remembered")
	}
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	if _, err := s.VerifyAccess(tampered); err == nil {
		t.Fatal("a tampered token passed")
	}
	clk.Advance(s.cfg.AccessTTL + jwtLeeway + time.Second)
	if _, err := s.VerifyAccess(tok); err == nil {
		t.Fatal("an expired token passed because it was remembered")
	}
	if _, ok := s.verified.get(tok); ok {
		t.Fatal("an expired token stayed in memory")
	}
}
