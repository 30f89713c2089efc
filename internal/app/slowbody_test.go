package app_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// trickle sends a request whose body of n bytes arrives one chunk of step
// bytes per every, and returns the status of the answer and how much of
// the body was sent before it came (or the server hung up). The sender
// gives up after the whole body, so an old server that waits for it
// answers last.
func trickle(t *testing.T, s *server, head string, body string, step int, every time.Duration) (status int, sent int) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%sContent-Length: %d\r\nHost: x\r\n\r\n", head, len(body))
	answered := make(chan int, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	for sent < len(body) {
		select {
		case st := <-answered:
			return st, sent
		case <-time.After(every):
		}
		end := min(sent+step, len(body))
		if _, err := c.Write([]byte(body[sent:end])); err != nil {
			return <-answered, sent
		}
		sent = end
	}
	return <-answered, sent
}

// A body that is not a file must arrive within REQUEST_TIMEOUT.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.RequestTimeout = 500 * time.Millisecond })
	body := `{"query":"{ me { id } }","extensions":{"pad":"` + strings.Repeat("a", 60) + `"}}`
	status, sent := trickle(t, s, "POST /graphql HTTP/1.1\r\nContent-Type: application/json\r\n", body, 1, 100*time.Millisecond)
	if sent == len(body) || status != http.StatusRequestTimeout {
		t.Fatalf("a body at 10 bytes/s: answered %d after %d of %d bytes", status, sent, len(body))
	}
}

// A file upload must keep moving: no pause longer than UPLOAD_IDLE_TIMEOUT,
// and at least UPLOAD_MIN_RATE on average.
func TestSlowUploadIsCutOff(t *testing.T) {
	csv := "a,b\n" + strings.Repeat("1,2\n", 400)
	for _, tc := range []struct {
		name  string
		step  int
		every time.Duration
	}{
		{"stalled", 1600, 3 * time.Second},        // one pause longer than the idle timeout
		{"trickling", 20, 100 * time.Millisecond}, // 200 B/s, under the minimum rate
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
				c.UploadIdleTimeout, c.UploadMinRate = time.Second, 2000
			})
			tok := s.register(t, "ada").AccessToken
			status, sent := trickle(t, s, "POST /api/v1/files?name=a.csv HTTP/1.1\r\nAuthorization: Bearer "+tok+"\r\n",
				csv, tc.step, tc.every)
			if sent == len(csv) || status < 400 {
				t.Fatalf("answered %d after %d of %d bytes", status, sent, len(csv))
			}
		})
	}
	// At the minimum rate and above, an upload goes through.
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
		c.UploadIdleTimeout, c.UploadMinRate = time.Second, 2000
	})
	tok := s.register(t, "ada").AccessToken
	if status, _ := trickle(t, s, "POST /api/v1/files?name=a.csv HTTP/1.1\r\nAuthorization: Bearer "+tok+"\r\n",
		csv, 800, 100*time.Millisecond); status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("an upload at 8 KB/s: %d", status)
	}
}
