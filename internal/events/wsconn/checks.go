package wsconn

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Close codes of a connection ended because its credentials no longer
// hold; graphql-transport-ws clients treat 4401 as "log in again".
const (
	CloseUnauthorized = 4401
	CloseForbidden    = 4403
)

// A Check watches one condition an open connection depends on (its
// token's expiry; a session that can be revoked) and calls end, once, when
// it stops holding. It must not block: it arranges to be told (a timer, a
// subscription) and stops watching when ctx, the connection's, ends.
type Check func(ctx context.Context, end func(code int, reason string))

// ExpiresAt ends the connection when a credential expires.
func ExpiresAt(t time.Time) Check {
	return func(ctx context.Context, end func(int, string)) {
		timer := time.AfterFunc(time.Until(t), func() {
			end(CloseUnauthorized, "token expired: reconnect with a fresh access token")
		})
		context.AfterFunc(ctx, func() { timer.Stop() })
	}
}

// Every ends the connection, with CloseUnauthorized and the reason hold
// gives, the first time hold reports false; it asks every interval until
// the connection ends.
func Every(interval time.Duration, hold func(ctx context.Context) (ok bool, reason string)) Check {
	return func(ctx context.Context, end func(int, string)) {
		go func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				if ok, reason := hold(ctx); !ok {
					end(CloseUnauthorized, reason)
					return
				}
			}
		}()
	}
}

type slotKey struct{}

// slot carries the accepted connection from Accept, which sees the HTTP
// request, to the transport's init function, which sees only its context.
type slot struct {
	mu sync.Mutex
	c  *conn
}

// WithSlot prepares ctx, the upgrade request's, so that Watch can find the
// connection accepted for it.
func WithSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, slotKey{}, &slot{})
}

// Watch runs checks on the connection accepted for ctx's request; a check
// that fails ends it (see End). It reports false when ctx carries no
// connection of this package.
func Watch(ctx context.Context, checks ...Check) bool {
	s, _ := ctx.Value(slotKey{}).(*slot)
	if s == nil {
		return false
	}
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c == nil {
		return false
	}
	for _, check := range checks {
		check(ctx, c.End)
	}
	return true
}

// End ends the connection from outside its read loop: on the graphql-ws
// protocol a connection_error with reason comes first (that protocol has no
// close codes of its own), then the close frame with code and reason. The
// transport's read fails, which stops every operation of the connection.
func (c *conn) End(code int, reason string) {
	if c.Subprotocol() != "graphql-transport-ws" {
		msg, _ := json.Marshal(map[string]any{"type": "connection_error", "payload": map[string]string{"message": reason}})
		_ = c.WriteJSON(json.RawMessage(msg))
	}
	_ = c.WriteClose(code, reason)
	_ = c.Close()
}
