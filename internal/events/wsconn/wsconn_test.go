package wsconn

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/testwait"
)

// fakeConn records what reaches the socket; while gate is non-nil each
// write waits for a token, standing for a client that does not read.
type fakeConn struct {
	mu      sync.Mutex
	written []string
	closes  []int
	reasons []string
	closed  bool
	gate    chan struct{}
	wrote   chan struct{}
}

func newFake(gated bool) *fakeConn {
	f := &fakeConn{wrote: make(chan struct{}, 1000)}
	if gated {
		f.gate = make(chan struct{})
	}
	return f
}

func (f *fakeConn) WriteJSON(v any) error {
	if f.gate != nil {
		<-f.gate
	}
	b, _ := json.Marshal(v)
	f.mu.Lock()
	f.written = append(f.written, string(b))
	f.mu.Unlock()
	f.wrote <- struct{}{}
	return nil
}

func (f *fakeConn) WriteClose(code int, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes = append(f.closes, code)
	f.reasons = append(f.reasons, reason)
	return nil
}

func (f *fakeConn) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

func (f *fakeConn) NextReader() (int, io.Reader, error) { return 0, nil, io.EOF }
func (f *fakeConn) Subprotocol() string                 { return "graphql-transport-ws" }

func (f *fakeConn) snapshot() (written []string, closes []int, reasons []string, closed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.written...), append([]int(nil), f.closes...), append([]string(nil), f.reasons...), f.closed
}

func wrap(f *fakeConn, maxN int, timeout time.Duration) *conn {
	return &conn{inner: f, maxN: maxN, maxBytes: DefaultMaxQueuedBytes, timeout: timeout}
}

// waitFor polls a condition that the writer goroutine will make true.

// Messages go out in order, then the close frame, then the socket closes.
func TestWritesInOrderThenClose(t *testing.T) {
	f := newFake(false)
	c := wrap(f, 10, time.Minute)
	for _, m := range []string{"a", "b", "c"} {
		if err := c.WriteJSON(m); err != nil {
			t.Fatal(err)
		}
	}
	c.WriteClose(4403, "forbidden")
	c.Close()
	testwait.Until(t, "the socket to close", func() bool { _, _, _, closed := f.snapshot(); return closed })
	written, closes, _, _ := f.snapshot()
	if strings.Join(written, "") != `"a""b""c"` || len(closes) != 1 || closes[0] != 4403 {
		t.Fatalf("written %v, closes %v", written, closes)
	}
	if err := c.WriteJSON("late"); !errors.Is(err, ErrClosing) {
		t.Fatalf("write after close: %v", err)
	}
}

// A client that does not read overflows its queue and is closed as a slow
// consumer; the writer never blocks the caller meanwhile.
func TestOverflowClosesSlowConsumer(t *testing.T) {
	f := newFake(true)
	c := wrap(f, 3, time.Minute)
	c.WriteJSON("first") // taken by the writer, which then blocks on the gate
	testwait.Until(t, "the writer to take the first message", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue) == 0
	})
	for i := 0; i < 3; i++ {
		if err := c.WriteJSON(i); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if err := c.WriteJSON("overflow"); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("overflowing write: %v", err)
	}
	if err := c.WriteJSON("more"); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("write after overflow: %v", err)
	}
	close(f.gate) // the client reads again
	testwait.Until(t, "the close frame", func() bool { _, closes, _, _ := f.snapshot(); return len(closes) == 1 })
	written, closes, reasons, _ := f.snapshot()
	if len(written) != 1 || closes[0] != CloseSlowConsumer || !strings.HasPrefix(reasons[0], "slow consumer") || len(reasons[0]) > 123 {
		t.Fatalf("written %v, closes %v %q", written, closes, reasons)
	}
}

// A write blocked past WriteTimeout starts the close handshake, which is
// what makes the real websocket give up on the socket.
func TestBlockedWriteTimesOut(t *testing.T) {
	f := newFake(true)
	defer close(f.gate)
	c := wrap(f, 10, 20*time.Millisecond)
	c.WriteJSON("stuck")
	testwait.Until(t, "the watchdog", func() bool { _, closes, _, _ := f.snapshot(); return len(closes) == 1 })
	if _, closes, reasons, _ := f.snapshot(); closes[0] != CloseSlowConsumer || !strings.Contains(reasons[0], "blocked") {
		t.Fatalf("closes %v %q", closes, reasons)
	}
	if err := c.WriteJSON("next"); !errors.Is(err, ErrSlowConsumer) {
		t.Fatalf("write after timeout: %v", err)
	}
}

// One message bigger than the byte bound still goes through an empty queue.
func TestLargeSingleMessage(t *testing.T) {
	f := newFake(false)
	c := &conn{inner: f, maxN: 10, maxBytes: 100, timeout: time.Minute}
	payload := strings.Repeat("x", 1000)
	if err := c.WriteJSON(payload); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("a message larger than the byte bound never reached the socket")
	}
	written, closes, _, _ := f.snapshot()
	if want, _ := json.Marshal(payload); len(written) != 1 || written[0] != string(want) {
		t.Fatalf("wrote %d messages (%.40q...), want the one message whole", len(written), written)
	}
	if len(closes) != 0 {
		t.Fatalf("closed with %v: one large message is no slow consumer", closes)
	}
}

// An idle connection closes at once.
func TestCloseIdle(t *testing.T) {
	f := newFake(false)
	c := wrap(f, 10, time.Minute)
	c.Close()
	if _, _, _, closed := f.snapshot(); !closed {
		t.Fatal("idle connection not closed")
	}
}
