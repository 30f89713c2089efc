package app_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/testwait"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serving runs app.Serve on a free port with the given settings and waits
// until it is ready. stop begins the shutdown; done yields Serve's result.
type serving struct {
	cfg  config.Config
	base string
	stop context.CancelFunc
	done chan error
}

func startServe(t *testing.T, dataDir string, env map[string]string) *serving {
	t.Helper()
	cfg, err := config.Load([]string{"-addr", freeAddr(t), "-data", dataDir}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &serving{cfg: cfg, base: "http://" + cfg.Addr, stop: stop, done: make(chan error, 1)}
	go func() { s.done <- app.Serve(ctx, cfg) }()
	waitReady(t, s.base)
	return s
}

// Shutdown stops accepting but lets an upload that is in flight finish.
func TestServeFinishesInFlightRequestsOnShutdown(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir, map[string]string{"ARGON2_MEMORY_KIB": "1024", "ARGON2_TIME": "1", "LOG_LEVEL": "error"})
	base, cfg, stop, done := srv.base, srv.cfg, srv.stop, srv.done

	token := registerAt(t, base)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", base+"/api/v1/files?name=slow.csv", pr)
	req.Header.Set("Authorization", "Bearer "+token)
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	io.WriteString(pw, "a,b\n1,2\n")
	time.Sleep(100 * time.Millisecond) // the request is now being served
	stop()
	// New connections are refused soon after shutdown begins.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", cfg.Addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	io.WriteString(pw, "3,4\n")
	pw.Close()
	if code := <-result; code != http.StatusCreated {
		t.Fatalf("in-flight upload ended with %d", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if objs, _ := filepath.Glob(filepath.Join(dir, "blobs", "files", "*")); len(objs) != 1 {
		t.Fatalf("want the uploaded object in the bucket, found %v", objs)
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("server never became ready")
}

func registerAt(t *testing.T, base string) string {
	t.Helper()
	q := `{"query":"mutation { register(input: {username: \"ada\", password: \"correct horse battery\"}) { accessToken } }"}`
	resp, err := http.Post(base+"/graphql", "application/json", strings.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	i := strings.Index(string(b), `"accessToken":"`)
	if i < 0 {
		t.Fatalf("register: %s", b)
	}
	rest := string(b)[i+len(`"accessToken":"`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// During the drain readyz says 503 while requests are still served.
func TestServeDrainsBeforeShutdown(t *testing.T) {
	srv := startServe(t, t.TempDir(), map[string]string{"SHUTDOWN_DRAIN": "3s", "LOG_LEVEL": "error"})
	base, done := srv.base, srv.done
	srv.stop()
	deadline := time.Now().Add(time.Second)
	saw503 := false
	for time.Now().Before(deadline) && !saw503 {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			saw503 = resp.StatusCode == http.StatusServiceUnavailable
			resp.Body.Close()
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !saw503 {
		t.Fatal("readyz never answered 503 during the drain")
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("requests are not served during the drain: %v", err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An upload still running when SHUTDOWN_TIMEOUT ends is cancelled, and its
// temporary object is removed before the server stops: no .tmp is left in
// the bucket's folder and the check finds nothing wrong.
func TestServeCancelsUploadsAtShutdownTimeout(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir, map[string]string{"ARGON2_MEMORY_KIB": "1024", "ARGON2_TIME": "1", "LOG_LEVEL": "error",
		"SHUTDOWN_TIMEOUT": "300ms"})
	token := registerAt(t, srv.base)

	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("POST", srv.base+"/api/v1/files?name=slow.csv", pr)
	req.Header.Set("Authorization", "Bearer "+token)
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	io.WriteString(pw, "a,b\n"+strings.Repeat("1,2\n", 10000))
	tmps := func() []string {
		found, _ := filepath.Glob(filepath.Join(dir, "blobs", "files", "*.tmp"))
		return found
	}
	testwait.Until(t, "the upload's temporary object", func() bool { return len(tmps()) == 1 })
	srv.stop() // the body never ends: the upload outlives the timeout
	if err := <-srv.done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Serve: %v, want the shutdown timeout", err)
	}
	if left := tmps(); len(left) > 0 {
		t.Fatalf("temporary objects left when the server stopped: %v", left)
	}
	pw.CloseWithError(errors.New("the client gives up"))
	if code := <-result; code == http.StatusCreated {
		t.Fatal("the cancelled upload was stored")
	}
	var report strings.Builder
	if err := app.Check(context.Background(), srv.cfg, &report); err != nil {
		t.Fatalf("check after the shutdown: %v\n%s", err, report.String())
	}
}
