package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/testwait"
)

// replicas starts two servers on one database, as two replicas behind a
// load balancer would run, with the settings edit makes.
func replicas(t *testing.T, db *database.DB, edit func(*config.Config)) (*server, *server) {
	t.Helper()
	dir := t.TempDir()
	both := func(c *config.Config) {
		c.DataDir = dir
		if edit != nil {
			edit(c)
		}
	}
	return newServer(t, db, both), newServer(t, db, both)
}

// noSecret leaves JWT_SECRET unset.
func noSecret(c *config.Config) { c.JWTSecret = "" }

// meOK reports whether token authenticates me on s.
func (s *server) meOK(t *testing.T, token string) bool {
	t.Helper()
	r := s.gql(t, token, `{ me { username } }`, nil)
	switch {
	case len(r.Errors) == 0:
		return true
	case r.code() == "UNAUTHENTICATED":
		return false
	}
	t.Fatalf("me: %+v", r.Errors)
	return false
}

// Without JWT_SECRET, replicas on one database sign with the one secret
// the first of them stored there: a token from one works on the other,
// and the secret can still be rotated with JWT_PREVIOUS_SECRETS.
func TestReplicasShareTheSigningKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, b := replicas(t, db, noSecret)
		tok := a.register(t, "ada").AccessToken
		if !b.meOK(t, tok) {
			t.Fatal("a token issued by one replica is refused by the other")
		}
		var stored string
		if err := db.NewRaw("SELECT secret FROM signing_keys WHERE name = 'access'").Scan(context.Background(), &stored); err != nil {
			t.Fatal(err)
		}
		rotated := newServer(t, db, func(c *config.Config) {
			c.JWTSecret = "rotated-secret-0123456789abcdef0123456789"
			c.JWTPreviousSecrets = []string{stored}
		})
		if !rotated.meOK(t, tok) {
			t.Fatal("after a rotation, a token signed with the previous secret is refused")
		}
		fresh := rotated.register(t, "bob").AccessToken
		if a.meOK(t, fresh) {
			t.Fatal("a replica that does not know the new secret accepted a token signed with it")
		}
	})
}

// logoutAll on one replica ends the caller's sessions everywhere: at once
// on that replica and for refresh tokens, within SESSION_CHECK_INTERVAL
// for access tokens on the other; other users' sessions stay.
func TestLogoutAllAcrossReplicas(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, b := replicas(t, db, func(c *config.Config) { c.SessionCheckInterval = 300 * time.Millisecond })
		first := a.register(t, "ada")
		var second struct{ Login authPayload }
		b.ok(t, "", `mutation { login(input: {username: "ada", password: "correct horse battery"}) { accessToken refreshToken } }`, nil, &second)
		other := b.register(t, "bob")
		for _, s := range []*server{a, b} {
			for _, tok := range []string{first.AccessToken, second.Login.AccessToken} {
				if !s.meOK(t, tok) {
					t.Fatal("a live session is refused")
				}
			}
		}

		var d struct{ LogoutAll bool }
		a.ok(t, first.AccessToken, `mutation { logoutAll }`, nil, &d)
		if !d.LogoutAll {
			t.Fatal("logoutAll answered false")
		}
		for _, tok := range []string{first.AccessToken, second.Login.AccessToken} {
			if a.meOK(t, tok) {
				t.Fatal("the replica that ended the sessions still accepts their access token")
			}
		}
		testwait.Until(t, "the other replica to refuse the ended sessions' access tokens", func() bool {
			return !b.meOK(t, first.AccessToken) && !b.meOK(t, second.Login.AccessToken)
		})
		for _, s := range []*server{a, b} {
			for _, rt := range []string{first.RefreshToken, second.Login.RefreshToken} {
				r := s.gql(t, "", `mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }`, map[string]any{"r": rt})
				if r.code() != "UNAUTHENTICATED" {
					t.Fatalf("an ended session's refresh token: %+v", r.Errors)
				}
			}
			if !s.meOK(t, other.AccessToken) {
				t.Fatal("another user's session ended too")
			}
		}
		r := a.gql(t, first.AccessToken, `mutation { logoutAll }`, nil)
		if r.code() != "UNAUTHENTICATED" {
			t.Fatalf("logoutAll with an ended session: %+v", r.Errors)
		}
		var again struct{ Login authPayload }
		b.ok(t, "", `mutation { login(input: {username: "ada", password: "correct horse battery"}) { accessToken } }`, nil, &again)
		if !a.meOK(t, again.Login.AccessToken) || !b.meOK(t, again.Login.AccessToken) {
			t.Fatal("a session begun after logoutAll is refused")
		}
	})
}

// A subscription opened before logoutAll ends when the session does, on
// either protocol, even on the replica that did not end it.
func TestWebsocketEndsWithItsSession(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, b := replicas(t, db, func(c *config.Config) { c.SessionCheckInterval = 300 * time.Millisecond })
		eachProtocol(t, func(t *testing.T, proto, user string) {
			tok := a.register(t, user).AccessToken
			w := subscribeEvents(t, b, proto, tok)
			a.ok(t, tok, `mutation { logoutAll }`, nil, nil)
			w.expectEnd(4401, "session ended")
		})
	})
}
