// Package wsconn keeps a slow websocket client from holding anything up.
//
// gqlgen's websocket transport writes each message synchronously, under a
// per-connection lock, with no deadline. A client that stops reading fills
// its TCP buffers, and from then on the subscription goroutines of that
// connection block, forever, and nobody tells the client. Implementation
// wraps the real websocket implementation so that writes go into a bounded
// per-connection queue drained by one writer goroutine. A connection whose
// queue overflows, or whose single write stays blocked for WriteTimeout, is
// closed with CloseSlowConsumer and a reason saying so: the client
// reconnects and refetches, nothing else waits for it.
package wsconn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/cutline/cutline/internal/clientaddr"
)

// CloseSlowConsumer is the close code of a connection dropped for falling
// behind: RFC 6455 "try again later", which graphql-ws clients retry.
const CloseSlowConsumer = 1013

// Defaults for the zero values of Implementation.
const (
	DefaultMaxQueued      = 256
	DefaultMaxQueuedBytes = 1 << 20
	DefaultWriteTimeout   = 30 * time.Second
)

// ErrSlowConsumer is returned by writes to a connection closed for falling
// behind.
var ErrSlowConsumer = errors.New("websocket: slow consumer")

// ErrClosing is returned by writes after the connection began closing.
var ErrClosing = errors.New("websocket: closing")

// Implementation is a transport.WebsocketImplementation with bounded,
// non-blocking writes.
type Implementation struct {
	// Inner accepts the connection, e.g. transport.CoderWebsocketImplementation.
	Inner transport.WebsocketImplementation
	// MaxQueued and MaxQueuedBytes bound the messages accepted but not yet
	// written to the socket.
	MaxQueued      int
	MaxQueuedBytes int
	// WriteTimeout bounds one write to the socket.
	WriteTimeout time.Duration
	// Log, when set, records slow consumers.
	Log *slog.Logger
}

var _ transport.WebsocketImplementation = Implementation{}

// Accept accepts with Inner and wraps the connection.
func (im Implementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	inner := im.Inner
	if inner == nil {
		inner = transport.CoderWebsocketImplementation{}
	}
	c, err := inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	out := &conn{inner: c, maxN: im.MaxQueued, maxBytes: im.MaxQueuedBytes, timeout: im.WriteTimeout, log: im.Log, remote: clientaddr.Of(r)}
	if s, _ := r.Context().Value(slotKey{}).(*slot); s != nil {
		s.mu.Lock()
		s.c = out
		s.mu.Unlock()
	}
	if out.maxN <= 0 {
		out.maxN = DefaultMaxQueued
	}
	if out.maxBytes <= 0 {
		out.maxBytes = DefaultMaxQueuedBytes
	}
	if out.timeout <= 0 {
		out.timeout = DefaultWriteTimeout
	}
	return out, nil
}

type op struct {
	data   []byte
	close  bool
	code   int
	reason string
}

type conn struct {
	inner    transport.WebsocketConn
	maxN     int
	maxBytes int
	timeout  time.Duration
	log      *slog.Logger
	remote   string

	mu       sync.Mutex
	queue    []op
	bytes    int
	writing  bool  // a writer goroutine is running
	closing  bool  // no more messages accepted
	closeReq bool  // Close was called: close inner once the queue is done
	closed   bool  // inner.Close was called
	err      error // why writes are refused
}

var (
	_ transport.WebsocketReadLimiter   = (*conn)(nil)
	_ transport.WebsocketReadDeadliner = (*conn)(nil)
)

// WriteJSON queues v; it never blocks on the network.
func (c *conn) WriteJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return c.err
	}
	// One message of any size is let through an empty queue.
	if len(c.queue) >= c.maxN || len(c.queue) > 0 && c.bytes+len(b) > c.maxBytes {
		// Messages already queued are dropped: the client must refetch
		// anyway, and the close frame should reach it soon.
		reason := fmt.Sprintf("slow consumer: more than %d messages or %d bytes undelivered; reconnect and refetch", c.maxN, c.maxBytes)
		c.abort(reason)
		return c.err
	}
	c.queue = append(c.queue, op{data: b})
	c.bytes += len(b)
	c.startWriter()
	return nil
}

// abort replaces the queue by a slow-consumer close; c.mu must be held.
func (c *conn) abort(reason string) {
	if c.log != nil {
		c.log.Warn("websocket: closing a slow consumer", "remote", c.remote, "reason", reason)
	}
	clear(c.queue)
	c.queue = append(c.queue[:0], op{close: true, code: CloseSlowConsumer, reason: truncate(reason)})
	c.bytes = 0
	c.closing, c.err = true, ErrSlowConsumer
	c.startWriter()
}

// WriteClose queues the close frame behind the messages already queued, so
// that, say, a connection_error reaches the client before the close.
func (c *conn) WriteClose(code int, reason string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil
	}
	c.closing, c.err = true, ErrClosing
	c.queue = append(c.queue, op{close: true, code: code, reason: truncate(reason)})
	c.startWriter()
	return nil
}

// Close closes the connection once the queue is written (the writer is
// bounded by WriteTimeout), or now if nothing is queued.
func (c *conn) Close() error {
	c.mu.Lock()
	c.closeReq = true
	if !c.closing {
		c.closing, c.err = true, ErrClosing
	}
	if c.writing || c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	return c.inner.Close()
}

// startWriter starts the writer goroutine if none runs; c.mu must be held.
// Idle connections have no writer, so they cost no goroutine.
func (c *conn) startWriter() {
	if !c.writing && !c.closed {
		c.writing = true
		go c.write()
	}
}

func (c *conn) write() {
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.writing = false
			doClose := c.closeReq && !c.closed
			c.closed = c.closed || doClose
			c.mu.Unlock()
			if doClose {
				_ = c.inner.Close()
			}
			return
		}
		o := c.queue[0]
		c.queue[0] = op{}
		c.queue = c.queue[1:]
		c.bytes -= len(o.data)
		c.mu.Unlock()

		if o.close {
			_ = c.inner.WriteClose(o.code, o.reason)
			continue
		}
		// A write blocked this long means the client stopped reading.
		// Starting the close handshake makes the websocket library give up
		// on the socket (after its own few seconds), which unblocks us.
		stuck := time.AfterFunc(c.timeout, func() {
			c.mu.Lock()
			clear(c.queue)
			c.queue, c.bytes = c.queue[:0], 0
			c.closing, c.err = true, ErrSlowConsumer
			c.mu.Unlock()
			if c.log != nil {
				c.log.Warn("websocket: closing a slow consumer", "remote", c.remote, "reason", "write blocked")
			}
			_ = c.inner.WriteClose(CloseSlowConsumer, truncate(fmt.Sprintf("slow consumer: a write blocked for %s", c.timeout)))
		})
		err := c.inner.WriteJSON(json.RawMessage(o.data))
		stuck.Stop()
		if err != nil {
			// The socket is gone; nothing queued can be delivered.
			c.mu.Lock()
			clear(c.queue)
			c.queue, c.bytes = c.queue[:0], 0
			if !c.closing {
				c.closing, c.err = true, err
			}
			c.mu.Unlock()
		}
	}
}

// truncate keeps a close reason within the 123 bytes a close frame allows.
func truncate(s string) string {
	if len(s) > 123 {
		return s[:123]
	}
	return s
}

func (c *conn) NextReader() (int, io.Reader, error) { return c.inner.NextReader() }

func (c *conn) Subprotocol() string { return c.inner.Subprotocol() }

func (c *conn) SetReadLimit(limit int64) {
	if l, ok := c.inner.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *conn) SetReadDeadline(t time.Time) error {
	if d, ok := c.inner.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
