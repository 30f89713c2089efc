// Command witness runs beside wrk in scripts/faults/sigterm.sh and tells
// apart the ways a request can fail while the server shuts down, which wrk
// lumps together as socket errors:
//
//   - refused: the listener was already closed (allowed once shutdown began);
//
//   - unanswered: the connection ended (EOF or reset) before any byte of an
//     answer. net/http's Shutdown closes only connections that have not
//     begun reading a request (idle keep-alive ones, and ones still in the
//     listen backlog when the listener closes) and waits for the others, so
//     when the server's Shutdown returned cleanly these requests never
//     reached a handler: the client had sent them on a connection the server
//     was closing at that moment. Go's client retries such requests only
//     when they are idempotent; these are POSTs;
//
//   - failed: anything else: an error status, a GraphQL error, an answer cut
//     short, a timeout.
//
//     witness -url http://127.0.0.1:18411/graphql -token T -body files.json -seconds 10
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	target := flag.String("url", "", "GraphQL endpoint (loopback only)")
	token := flag.String("token", "", "Bearer token")
	bodyFile := flag.String("body", "", "file holding the POST body")
	conns := flag.Int("conns", 8, "concurrent keep-alive connections")
	seconds := flag.Int("seconds", 10, "how long to run")
	flag.Parse()
	u, err := url.Parse(*target)
	if err != nil || u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" {
		fmt.Fprintln(os.Stderr, "witness: -url must be a loopback URL")
		os.Exit(2)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "witness:", err)
		os.Exit(2)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns}}
	deadline := time.Now().Add(time.Duration(*seconds) * time.Second)
	var mu sync.Mutex
	counts := map[string]int{}
	var examples []string
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				kind, detail := once(client, *target, *token, body)
				mu.Lock()
				counts[kind]++
				if kind == "failed" && len(examples) < 5 {
					examples = append(examples, detail)
				}
				mu.Unlock()
				if kind == "refused" {
					time.Sleep(10 * time.Millisecond) // the server is gone; do not spin
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("WITNESS ok=%d refused=%d unanswered=%d failed=%d\n", counts["ok"], counts["refused"], counts["unanswered"], counts["failed"])
	for _, e := range examples {
		fmt.Println("  failed:", e)
	}
}

func once(c *http.Client, target, token string, body []byte) (string, string) {
	req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return "refused", ""
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
			strings.Contains(err.Error(), "server closed idle connection"):
			return "unanswered", ""
		}
		return "failed", err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return "failed", "reading the answer: " + err.Error()
	case resp.StatusCode != http.StatusOK:
		return "failed", fmt.Sprintf("status %d: %.200s", resp.StatusCode, b)
	case bytes.Contains(b, []byte(`"errors"`)):
		return "failed", fmt.Sprintf("GraphQL errors: %.200s", b)
	}
	return "ok", ""
}
