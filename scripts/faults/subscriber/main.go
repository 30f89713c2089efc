// Command subscriber runs beside scripts/faults/kill_replica.sh: it holds
// one fileEvents subscription (graphql-transport-ws) open on a server and
// prints a line for everything it hears, until it is stopped:
//
//	READY                 the connection was acknowledged and the subscription sent
//	EVENT TYPE FILE_ID    an event
//	RESYNC MESSAGE        the server ended the subscription with RESYNC (it subscribes again)
//	ERROR MESSAGE         anything else that ended the subscription or the connection
//
//	subscriber -url ws://127.0.0.1:18421/graphql -token T
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

const query = `subscription { fileEvents { type file { id } } }`

func main() {
	target := flag.String("url", "", "the server's GraphQL websocket URL (loopback only)")
	token := flag.String("token", "", "Bearer token")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
		fmt.Fprintln(os.Stderr, "subscriber: -url must be a loopback URL")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	if err := run(ctx, *target, *token, say); err != nil && ctx.Err() == nil {
		say("ERROR %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, target, token string, say func(string, ...any)) error {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, _, err := websocket.Dial(dctx, target, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	cancel()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	send := func(m message) error {
		b, _ := json.Marshal(m)
		return c.Write(ctx, websocket.MessageText, b)
	}
	init, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	if err := send(message{Type: "connection_init", Payload: init}); err != nil {
		return err
	}
	sub := 0
	subscribe := func() error {
		sub++
		p, _ := json.Marshal(map[string]string{"query": query})
		return send(message{ID: fmt.Sprint(sub), Type: "subscribe", Payload: p})
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return err
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("not JSON: %q", b)
		}
		switch m.Type {
		case "connection_ack":
			if err := subscribe(); err != nil {
				return err
			}
			say("READY")
		case "ping":
			if err := send(message{Type: "pong"}); err != nil {
				return err
			}
		case "next":
			var p struct {
				Data struct {
					FileEvents struct {
						Type string
						File struct{ ID string }
					}
				}
			}
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				return fmt.Errorf("event %s: %w", m.Payload, err)
			}
			say("EVENT %s %s", p.Data.FileEvents.Type, p.Data.FileEvents.File.ID)
		case "error":
			if strings.Contains(string(m.Payload), `"RESYNC"`) {
				say("RESYNC %s", m.Payload)
				if err := subscribe(); err != nil {
					return err
				}
				continue
			}
			say("ERROR %s", m.Payload)
		case "complete":
			say("ERROR the server completed the subscription")
			if err := subscribe(); err != nil {
				return err
			}
		}
	}
}
