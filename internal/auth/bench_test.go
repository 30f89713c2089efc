package auth

import (
	"context"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database/dbtest"
)

func BenchmarkIssueAccess(b *testing.B) {
	s, _ := newTestService(b, dbtest.SQLite(b), nil)
	u := &User{ID: 42, Username: "bench"}
	now := s.clock()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.issueAccess(u, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	s, _ := newTestService(b, dbtest.SQLite(b), nil)
	tok, _, err := s.issueAccess(&User{ID: 42, Username: "bench"}, s.clock())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.verified.drop(tok) // measure the full check, not the memory
		if _, err := s.VerifyAccess(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAccessRemembered is the common case: a client presenting
// the token it presented a moment ago.
func BenchmarkVerifyAccessRemembered(b *testing.B) {
	s, _ := newTestService(b, dbtest.SQLite(b), nil)
	tok, _, err := s.issueAccess(&User{ID: 42, Username: "bench"}, s.clock())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.VerifyAccess(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSession is what each request adds to check its session:
// cached, the common case, and read from the database, once per user per
// SessionCheckInterval (here every time).
func BenchmarkCheckSession(b *testing.B) {
	for _, bc := range []struct {
		name     string
		interval time.Duration
	}{{"cached", time.Hour}, {"read", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			s, _ := newTestService(b, dbtest.SQLite(b), func(c *Config) { c.SessionCheckInterval = bc.interval })
			u := mustRegister(b, s, "bench", "correct horse battery")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.CheckSession(ctx, u.ID, u.SessionEpoch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkArgon2Hash(b *testing.B) {
	p := DefaultArgon2Params()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple", p); err != nil {
			b.Fatal(err)
		}
	}
}
