package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// corsAnswer sends a preflight and a simple POST from origin and returns
// the Access-Control-Allow-Origin of each.
func corsAnswer(t *testing.T, s *server, origin string) (preflight, post string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/graphql", nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	preflight = resp.Header.Get("Access-Control-Allow-Origin")
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return preflight, resp.Header.Get("Access-Control-Allow-Origin")
}

func TestCORSOrigins(t *testing.T) {
	t.Run("unset means same-origin only", func(t *testing.T) {
		s := newServer(t, dbtest.SQLite(t), nil)
		if pre, post := corsAnswer(t, s, "https://evil.example"); pre != "" || post != "" {
			t.Fatalf("with CORS_ORIGINS unset a foreign origin got Access-Control-Allow-Origin %q / %q", pre, post)
		}
	})
	t.Run("configured origins only, scheme included", func(t *testing.T) {
		s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.CORSOrigins = []string{"https://app.example"} })
		if pre, post := corsAnswer(t, s, "https://app.example"); pre != "https://app.example" || post != "https://app.example" {
			t.Fatalf("configured origin got %q / %q", pre, post)
		}
		for _, o := range []string{"http://app.example", "https://evil.example"} {
			if pre, post := corsAnswer(t, s, o); pre != "" || post != "" {
				t.Fatalf("%s got Access-Control-Allow-Origin %q / %q", o, pre, post)
			}
		}
	})
}

func TestWebsocketOrigin(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.CORSOrigins = []string{"https://app.example"} })
	dial := func(origin string) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		c, resp, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/graphql",
			&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		if err == nil {
			c.CloseNow()
			return http.StatusSwitchingProtocols, nil
		}
		if resp != nil {
			return resp.StatusCode, err
		}
		return 0, err
	}
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{"https://app.example", http.StatusSwitchingProtocols},
		{"https://APP.example:443", http.StatusSwitchingProtocols},
		{"http://app.example", http.StatusForbidden},
		{"https://app.example.evil.example", http.StatusForbidden},
		{"https://evil.example", http.StatusForbidden},
		{"", http.StatusSwitchingProtocols},                                               // not a browser
		{"http://" + strings.TrimPrefix(s.URL, "http://"), http.StatusSwitchingProtocols}, // same origin
	} {
		if got, err := dial(tc.origin); got != tc.want {
			t.Errorf("websocket from Origin %q: status %d (%v), want %d", tc.origin, got, err, tc.want)
		}
	}
}
