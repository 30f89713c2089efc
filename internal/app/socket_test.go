package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// holdWriteLock keeps the files table from being written (and, on
// PostgreSQL, read) until release is called or the test ends: whatever
// waits for it runs until its deadline.
func holdWriteLock(t *testing.T, db *database.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	var done func()
	if db.Postgres() {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "LOCK TABLE files IN ACCESS EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		done = func() { tx.Rollback() }
	} else {
		var seq int
		var name, path string
		if err := db.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &path); err != nil {
			t.Fatal(err)
		}
		other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		done = func() { conn.ExecContext(ctx, "ROLLBACK"); conn.Close(); other.Close() }
	}
	released := false
	release = func() {
		if !released {
			released = true
			done()
		}
	}
	t.Cleanup(release)
	return release
}

// result waits for the answer of operation id: its payload, or the error
// messages it ended with.
func (w *wsClient) result(id string, timeout time.Duration) (string, error) {
	for {
		m, err := w.read(timeout)
		if err != nil {
			return "", err
		}
		if m.ID != id {
			continue
		}
		switch m.Type {
		case "next", "data":
			return string(m.Payload), nil
		case "error":
			return "", &wsError{m}
		case "complete":
			return "", errors.New("completed without an answer")
		}
	}
}

// REQUEST_TIMEOUT ends every query and mutation sent over a websocket or
// as multipart, down to the database: an operation stuck behind a lock
// answers at its deadline, not when the lock goes.
func TestRequestTimeoutOnEveryTransport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, func(c *config.Config) { c.RequestTimeout = 300 * time.Millisecond })
		tok := s.register(t, "ada").AccessToken
		id := s.uploadOK(t, tok, "a.csv", "x\n1\n")
		release := holdWriteLock(t, db)
		defer release()
		const timedOut = "cancelled or timed out"

		w, err := dialWS(t, s, "graphql-transport-ws", map[string]any{"authToken": tok})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := json.Marshal(map[string]any{"query": `mutation($id: ID!) { updateFileTags(id: $id, add: ["x"]) { id } }`,
			"variables": map[string]any{"id": id}})
		w.send(wsMsg{ID: "1", Type: "subscribe", Payload: p})
		got, err := w.result("1", 8*time.Second)
		if err != nil || !strings.Contains(got, timedOut) {
			t.Errorf("websocket mutation behind a lock: %s %v", got, err)
		}

		r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "b.csv", "x\n2\n")
		if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, timedOut) {
			t.Errorf("multipart upload behind a lock: %+v", r.Errors)
		}
	})
}

// Operations over one websocket count against the same per-address and
// per-user limits as HTTP requests.
func TestRateLimitsOverWebsocket(t *testing.T) {
	for _, limit := range []string{"ip", "user"} {
		t.Run(limit, func(t *testing.T) {
			s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
				if limit == "ip" {
					c.RatePerIP, c.RateBurstIP = 0.001, 6
				} else {
					c.RatePerUser, c.RateBurstUser = 0.001, 5
				}
			})
			tok := s.register(t, "ada").AccessToken // one request from the address
			w, err := dialWS(t, s, "graphql-transport-ws", map[string]any{"authToken": tok})
			if err != nil {
				t.Fatal(err)
			}
			// The upgrade took a token of the address's bucket too: four
			// operations are left of six, or five of the user's five.
			allowed := map[string]int{"ip": 4, "user": 5}[limit]
			var codes []string
			for i := 0; i < allowed+2; i++ {
				id := fmt.Sprint(i)
				w.subscribe(id, `{ me { id } }`)
				got, err := w.result(id, 5*time.Second)
				switch {
				case err != nil:
					t.Fatalf("operation %d: %v", i, err)
				case strings.Contains(got, `"RATE_LIMITED"`):
					codes = append(codes, "RATE_LIMITED")
				case strings.Contains(got, `"errors"`):
					t.Fatalf("operation %d: %s", i, got)
				default:
					codes = append(codes, "ok")
				}
			}
			want := strings.Repeat("ok,", allowed) + "RATE_LIMITED,RATE_LIMITED"
			if got := strings.Join(codes, ","); got != want {
				t.Fatalf("answers %s, want %s", got, want)
			}
		})
	}
}

// WS_MAX_SUBSCRIPTIONS caps the subscriptions open on one connection;
// ending one makes room for another.
func TestSubscriptionsPerConnection(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxSubscriptions = 3 })
	tok := s.register(t, "ada").AccessToken
	w, err := dialWS(t, s, "graphql-transport-ws", map[string]any{"authToken": tok})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		w.subscribe(fmt.Sprint(i), `subscription { fileEvents { type } }`)
	}
	waitSubscribers(t, s, 3)
	w.subscribe("4", `subscription { fileEvents { type } }`)
	if got, err := w.result("4", 5*time.Second); err != nil || !strings.Contains(got, "WS_MAX_SUBSCRIPTIONS") {
		t.Fatalf("a 4th subscription: %s %v", got, err)
	}
	w.send(wsMsg{ID: "2", Type: "complete"})
	waitSubscribers(t, s, 2)
	w.subscribe("5", `subscription { fileEvents { type } }`)
	waitSubscribers(t, s, 3)
	// Other connections have their own allowance.
	w2, err := dialWS(t, s, "graphql-transport-ws", map[string]any{"authToken": tok})
	if err != nil {
		t.Fatal(err)
	}
	w2.subscribe("1", `subscription { fileEvents { type } }`)
	waitSubscribers(t, s, 4)
}

// A websocket opened with an access token ends when that token expires:
// close code 4401 on graphql-transport-ws, connection_error then the close
// on graphql-ws.
func TestWebsocketEndsWhenTokenExpires(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.AccessTokenTTL = 2 * time.Second })
	eachProtocol(t, func(t *testing.T, proto, user string) {
		w := subscribeEvents(t, s, proto, s.register(t, user).AccessToken)
		w.expectEnd(4401, "token expired")
	})
	waitSubscribers(t, s, 0)
}
