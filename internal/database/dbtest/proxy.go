package dbtest

import (
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// Proxy is a TCP proxy between a server under test and PostgreSQL that can
// fail on command: refuse connections, hold every byte (a frozen server),
// answer that the database system is starting up, or let a COMMIT through
// and drop the connection before its answer reaches the client (the case
// where nobody can know whether the transaction committed).
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
	mode     proxyMode
	frozen   chan struct{} // closed when the proxy thaws
	dropNext bool
	dropped  chan struct{} // closed once a dropped COMMIT has been answered
}

type proxyMode int

const (
	modeForward proxyMode = iota
	modeStartingUp
	modeHangUp
)

// NewProxy listens on a free local port and forwards to target (host:port).
// It stops when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Thaw()
		p.Cut()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

// Cut closes every connection and stops listening: new connections are
// refused until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore listens again on the same address after Cut and forwards as
// before.
func (p *Proxy) Restore() { p.listen(modeForward) }

// listen treats new connections as mode says, listening again if Cut
// stopped it.
func (p *Proxy) listen(mode proxyMode) {
	p.t.Helper()
	p.mu.Lock()
	p.mode = mode
	running := p.ln != nil
	p.mu.Unlock()
	if running {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// StartingUp closes every connection and answers each new one as a
// PostgreSQL that is starting up does (SQLSTATE 57P03), until Restore.
func (p *Proxy) StartingUp() { p.reconnectAs(modeStartingUp) }

// HangUp closes every connection and, until Restore, closes each new one
// as soon as it is made: every use of the database ends in a lost
// connection.
func (p *Proxy) HangUp() { p.reconnectAs(modeHangUp) }

// reconnectAs closes every connection and treats new ones as mode says.
func (p *Proxy) reconnectAs(mode proxyMode) {
	p.Cut()
	p.listen(mode)
}

// Freeze holds every byte in both directions, as a stopped (SIGSTOP)
// server would, until Thaw.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen == nil {
		p.frozen = make(chan struct{})
	}
}

// Thaw lets held bytes go on.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen != nil {
		close(p.frozen)
		p.frozen = nil
	}
}

// DropNextCommit arms the proxy: the next COMMIT a client sends reaches
// PostgreSQL, and its connection is then closed on the client's side, so
// the client never learns the outcome. The channel is closed once
// PostgreSQL has answered that COMMIT: the transaction is over then.
func (p *Proxy) DropNextCommit() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropNext = true
	p.dropped = make(chan struct{})
	return p.dropped
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) handle(client net.Conn) {
	if !p.track(client) {
		return
	}
	defer client.Close()
	p.mu.Lock()
	mode := p.mode
	p.mu.Unlock()
	switch mode {
	case modeStartingUp:
		startingUp(client)
		return
	case modeHangUp:
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer server.Close()
	// answered is signalled when a dropped COMMIT's answer arrives.
	var answered chan struct{}
	var once sync.Once
	commitSent := make(chan chan struct{}, 1)
	back := make(chan struct{})
	go func() {
		defer close(back)
		defer server.Close()
		defer client.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				p.hold()
				select {
				case ch := <-commitSent:
					answered = ch
				default:
				}
				if answered != nil {
					// The COMMIT's answer: PostgreSQL has decided; the
					// client never hears it.
					once.Do(func() { close(answered) })
					return
				}
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if p.clientToServer(client, server, commitSent) {
		// The server must keep the connection until it has answered.
		<-back
	}
}

// clientToServer forwards the client's messages one at a time, so that a
// COMMIT can be seen: the startup message first (without a type byte, and
// perhaps after an SSLRequest), then typed messages.
// It reports whether it stopped after a COMMIT it let through to drop.
func (p *Proxy) clientToServer(client, server net.Conn, commitSent chan<- chan struct{}) (dropped bool) {
	startup := true
	for {
		var head [5]byte
		hl := 5
		if startup {
			hl = 4
		}
		if _, err := io.ReadFull(client, head[:hl]); err != nil {
			return false
		}
		lenAt := 1
		if startup {
			lenAt = 0
		}
		n := int(binary.BigEndian.Uint32(head[lenAt:hl])) - 4
		if n < 0 || n > 1<<30 {
			return false
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(client, body); err != nil {
			return false
		}
		// An SSLRequest (code 80877103) is followed by the real startup.
		if startup && !(n == 4 && binary.BigEndian.Uint32(body) == 80877103) {
			startup = false
		}
		p.hold()
		drop := false
		if hl == 5 && isCommit(head[0], body) {
			p.mu.Lock()
			if p.dropNext {
				drop = true
				// Before the COMMIT leaves: its answer may come at once.
				commitSent <- p.dropped
				p.dropNext = false
			}
			p.mu.Unlock()
		}
		if _, err := server.Write(append(head[:hl:hl], body...)); err != nil {
			return false
		}
		if drop {
			client.Close()
			return true
		}
	}
}

// isCommit reports whether a frontend message runs COMMIT: a simple Query
// ('Q') or the Parse ('P') of the extended protocol.
func isCommit(typ byte, body []byte) bool {
	var text string
	switch typ {
	case 'Q':
		text = string(body)
	case 'P':
		// Parse: statement name, NUL, query text, NUL, ...
		i := strings.IndexByte(string(body), 0)
		if i < 0 {
			return false
		}
		text = string(body[i+1:])
	default:
		return false
	}
	text = strings.TrimRight(text, "\x00")
	text = strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(text), ";")))
	return text == "COMMIT" || strings.HasPrefix(text, "COMMIT ") || text == "END"
}

// hold waits while the proxy is frozen.
func (p *Proxy) hold() {
	p.mu.Lock()
	ch := p.frozen
	p.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

// startingUp reads the client's startup message (answering an SSLRequest
// with "no") and answers as PostgreSQL does while it recovers.
func startingUp(c net.Conn) {
	for {
		var l [4]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(l[:])) - 4
		if n < 0 || n > 1<<16 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(c, body); err != nil {
			return
		}
		if n == 4 && binary.BigEndian.Uint32(body) == 80877103 {
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		}
		break
	}
	var fields []byte
	for _, f := range []struct {
		k byte
		v string
	}{{'S', "FATAL"}, {'V', "FATAL"}, {'C', "57P03"}, {'M', "the database system is starting up"}} {
		fields = append(fields, f.k)
		fields = append(fields, f.v...)
		fields = append(fields, 0)
	}
	fields = append(fields, 0)
	msg := []byte{'E', 0, 0, 0, 0}
	binary.BigEndian.PutUint32(msg[1:], uint32(len(fields)+4))
	_, _ = c.Write(append(msg, fields...))
}
