package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsClient speaks either subscription protocol over a real websocket.
type wsClient struct {
	t     *testing.T
	c     *coderws.Conn
	proto string
}

func dialWS(t *testing.T, s *server, proto string, initPayload map[string]any) (*wsClient, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Fatal(err)
	}
	w := &wsClient{t: t, c: c, proto: proto}
	t.Cleanup(func() { c.CloseNow() })
	p, _ := json.Marshal(initPayload)
	w.send(wsMsg{Type: "connection_init", Payload: p})
	for {
		m, err := w.read(5 * time.Second)
		if err != nil {
			return nil, err
		}
		switch m.Type {
		case "connection_ack":
			return w, nil
		case "ka", "ping":
			continue
		default:
			return nil, &wsError{m}
		}
	}
}

type wsError struct{ m wsMsg }

func (e *wsError) Error() string { return e.m.Type + " " + string(e.m.Payload) }

func (w *wsClient) send(m wsMsg) {
	b, _ := json.Marshal(m)
	if err := w.c.Write(context.Background(), coderws.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) read(timeout time.Duration) (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, b, err := w.c.Read(ctx)
	if err != nil {
		return wsMsg{}, err
	}
	var m wsMsg
	return m, json.Unmarshal(b, &m)
}

func (w *wsClient) subscribe(id, query string) {
	typ := "subscribe"
	if w.proto == "graphql-ws" {
		typ = "start"
	}
	p, _ := json.Marshal(map[string]any{"query": query})
	w.send(wsMsg{ID: id, Type: typ, Payload: p})
}

// eachProtocol runs fn once per subscription protocol, with a username
// of its own.
func eachProtocol(t *testing.T, fn func(t *testing.T, proto, user string)) {
	for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(proto, func(t *testing.T) { fn(t, proto, "ada_"+strings.ReplaceAll(proto, "-", "_")) })
	}
}

// subscribeEvents opens a websocket to s with token and subscribes to
// fileEvents on it.
func subscribeEvents(t *testing.T, s *server, proto, token string) *wsClient {
	t.Helper()
	w, err := dialWS(t, s, proto, map[string]any{"authToken": token})
	if err != nil {
		t.Fatal(err)
	}
	w.subscribe("1", `subscription { fileEvents { type } }`)
	return w
}

// expectEnd reads until the server closes the connection and fails unless
// it closed with code, after a connection_error saying reason on graphql-ws
// (that protocol has no close codes of its own).
func (w *wsClient) expectEnd(code int, reason string) {
	w.t.Helper()
	var sawConnectionError bool
	for {
		m, err := w.read(30 * time.Second)
		if err != nil {
			if status := coderws.CloseStatus(err); int(status) != code {
				w.t.Fatalf("connection ended with %v (status %d), want close code %d", err, status, code)
			}
			break
		}
		if m.Type == "connection_error" {
			sawConnectionError = true
			if !strings.Contains(string(m.Payload), reason) {
				w.t.Fatalf("connection_error %s, want %q", m.Payload, reason)
			}
		}
	}
	if w.proto == "graphql-ws" && !sawConnectionError {
		w.t.Fatal("graphql-ws: no connection_error before the close")
	}
}

// next returns the next data payload, skipping keep-alives.
func (w *wsClient) next(timeout time.Duration) (string, error) {
	for {
		m, err := w.read(timeout)
		if err != nil {
			return "", err
		}
		switch m.Type {
		case "next", "data":
			return string(m.Payload), nil
		case "ka", "ping", "pong":
			continue
		default:
			return "", &wsError{m}
		}
	}
}

func TestFileEventsSubscription(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		bob := s.register(t, "bob").AccessToken
		for _, proto := range []string{"graphql-transport-ws", "graphql-ws"} {
			t.Run(proto, func(t *testing.T) {
				if _, err := dialWS(t, s, proto, map[string]any{"Authorization": "Bearer not-a-token"}); err == nil {
					t.Fatal("a bad token was accepted in connection_init")
				}
				w, err := dialWS(t, s, proto, map[string]any{"Authorization": "Bearer " + ada})
				if err != nil {
					t.Fatal(err)
				}
				wb, err := dialWS(t, s, proto, map[string]any{"authToken": bob})
				if err != nil {
					t.Fatal(err)
				}
				w.subscribe("1", `subscription { fileEvents { type file { name } } }`)
				wb.subscribe("1", `subscription { fileEvents { type file { name } } }`)
				waitSubscribers(t, s, 2)
				id := s.uploadOK(t, ada, proto+".csv", "a\n1\n")
				got, err := w.next(5 * time.Second)
				if err != nil || !strings.Contains(got, `"CREATED"`) || !strings.Contains(got, proto+".csv") {
					t.Fatalf("event = %s, %v", got, err)
				}
				s.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": id}, nil)
				if got, err = w.next(5 * time.Second); err != nil || !strings.Contains(got, `"DELETED"`) {
					t.Fatalf("event = %s, %v", got, err)
				}
				// Bob hears nothing of Ada's files.
				if got, err := wb.next(300 * time.Millisecond); err == nil {
					t.Fatalf("bob received %s", got)
				}
			})
		}
	})
}

func waitSubscribers(t *testing.T, s *server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.app.Events.Count() != n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d subscribers after 5s", s.app.Events.Count())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
