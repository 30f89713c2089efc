// Command eventsbench measures fileEvents subscriptions: the latency from
// commit to client with many connected subscribers, and the server memory
// an idle subscription costs.
//
// Servers run as child processes of this one (so their memory is theirs
// alone) over a shared database; the clients are real websockets
// (graphql-transport-ws) in this process. Each measured event is a tag
// update committed on server A; its commit time is taken inside A, where
// the broker hands the event out right after the commit, and each client
// stamps the moment its message arrives. With -replicas 2 (PostgreSQL only)
// the subscribers sit on server B, so every event crosses LISTEN/NOTIFY.
//
//	go run ./scripts/eventsbench                       # SQLite, 1000 subscribers of one user
//	go run ./scripts/eventsbench -db postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable -replicas 2
//
// With a PostgreSQL URL a scratch database is created next to the one named
// and dropped afterwards.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
)

const secret = "eventsbench-secret-0123456789abcdef0123456789"

func main() {
	serve := flag.Bool("serve", false, "internal: run one server (child process)")
	dbURL := flag.String("db", "", "database: empty for a temporary SQLite file, or a postgres:// URL")
	subs := flag.Int("subs", 1000, "connected subscribers (one websocket each)")
	owners := flag.Int("owners", 1, "users the subscribers are spread over; each event reaches subs/owners of them")
	events := flag.Int("events", 200, "measured events")
	replicas := flag.Int("replicas", 1, "1, or 2 to subscribe on one server and commit on another (PostgreSQL)")
	flag.Parse()
	if *serve {
		if err := runServer(*dbURL); err != nil {
			fmt.Fprintln(os.Stderr, "server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dbURL, *subs, *owners, *events, *replicas); err != nil {
		fmt.Fprintln(os.Stderr, "eventsbench:", err)
		os.Exit(1)
	}
}

// ---- the server side (child process) ----

func runServer(dbURL string) error {
	env := map[string]string{
		"DATABASE_URL": dbURL, "BLOB_URL": "mem://", "JWT_SECRET": secret, "DATA_DIR": os.TempDir(),
		"ARGON2_MEMORY_KIB": "1024", "ARGON2_TIME": "1", "LOG_LEVEL": "error",
		"RATE_LIMIT_IP": "0", "RATE_LIMIT_USER": "0", "REGISTER_RATE_LIMIT": "0",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err != nil {
		return err
	}
	defer a.Close()

	var mu sync.Mutex
	commits := map[string]int64{} // file id -> when its last event was handed out
	mux := http.NewServeMux()
	mux.Handle("/", a.Handler)
	mux.HandleFunc("/bench/mem", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		json.NewEncoder(w).Encode(map[string]uint64{
			"heap": m.HeapInuse, "stack": m.StackInuse, "goroutines": uint64(runtime.NumGoroutine()),
		})
	})
	mux.HandleFunc("/bench/count", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, a.Events.Count())
	})
	// watch records, for one owner, the moment the broker hands an event
	// out: right after the commit, in the process that committed.
	mux.HandleFunc("/bench/watch", func(w http.ResponseWriter, r *http.Request) {
		owner, _ := strconv.ParseInt(r.URL.Query().Get("owner"), 10, 64)
		sub := a.Events.Subscribe(owner)
		go func() {
			for ev := range sub.C {
				now := time.Now().UnixNano()
				mu.Lock()
				commits[ev.FileID] = now
				mu.Unlock()
			}
		}()
	})
	mux.HandleFunc("/bench/commit", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprint(w, commits[r.URL.Query().Get("file")])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	return (&http.Server{Handler: mux}).Serve(ln)
}

// ---- the client side ----

type server struct {
	url string
	cmd *exec.Cmd
}

func startServer(dbURL string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-db", dbURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("server did not start: %w", err)
	}
	return &server{url: strings.TrimSpace(strings.TrimPrefix(line, "LISTEN ")), cmd: cmd}, nil
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

func (s *server) get(path string) (string, error) {
	resp, err := http.Get(s.url + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func (s *server) graphql(token, query string, vars map[string]any, out any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", s.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return do(req, out)
}

func do(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if len(r.Errors) > 0 {
		return errors.New(r.Errors[0].Message)
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

func (s *server) upload(token, name string) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { id } }","variables":{"f":null}}`)
	mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	io.WriteString(fw, "a,b\n1,2\n")
	mw.Close()
	req, _ := http.NewRequest("POST", s.url+"/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	var d struct{ UploadFile struct{ ID string } }
	return d.UploadFile.ID, do(req, &d)
}

type memStats struct{ Heap, Stack, Goroutines uint64 }

func (s *server) mem() (memStats, error) {
	var m memStats
	body, err := s.get("/bench/mem")
	if err == nil {
		err = json.Unmarshal([]byte(body), &m)
	}
	return m, err
}

// arrival is one client receiving event k at unix nanosecond t.
type arrival struct {
	k int
	t int64
}

func subscribe(ctx context.Context, s *server, token string, arrivals chan<- arrival) (*coderws.Conn, error) {
	c, _, err := coderws.Dial(ctx, "ws"+strings.TrimPrefix(s.url, "http")+"/graphql",
		&coderws.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	send := func(v any) error {
		b, _ := json.Marshal(v)
		return c.Write(ctx, coderws.MessageText, b)
	}
	if err := send(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}); err != nil {
		return nil, err
	}
	if _, b, err := c.Read(ctx); err != nil || !bytes.Contains(b, []byte("connection_ack")) {
		return nil, fmt.Errorf("init: %s %v", b, err)
	}
	if err := send(map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": `subscription { fileEvents { type file { id userTags } } }`}}); err != nil {
		return nil, err
	}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				return
			}
			t := time.Now().UnixNano()
			var m struct {
				Type    string
				Payload struct {
					Data struct {
						FileEvents struct{ File struct{ UserTags []string } }
					}
				}
			}
			if json.Unmarshal(b, &m) != nil {
				continue
			}
			if m.Type == "ping" { // the server drops clients that do not answer
				c.Write(context.Background(), coderws.MessageText, []byte(`{"type":"pong"}`))
			}
			if m.Type != "next" {
				continue
			}
			for _, tag := range m.Payload.Data.FileEvents.File.UserTags {
				if k, err := strconv.Atoi(strings.TrimPrefix(tag, "e")); err == nil {
					arrivals <- arrival{k, t}
				}
			}
		}
	}()
	return c, nil
}

func run(dbURL string, subs, owners, events, replicas int) error {
	if owners < 1 || subs < owners || replicas < 1 || replicas > 2 {
		return errors.New("need 1 <= owners <= subs and replicas 1 or 2")
	}
	pg := strings.HasPrefix(dbURL, "postgres")
	if replicas == 2 && !pg {
		return errors.New("two replicas need a PostgreSQL database")
	}
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "eventsbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = "sqlite://" + filepath.Join(dir, "bench.db")
	} else if pg {
		scratch, drop, err := scratchDatabase(dbURL)
		if err != nil {
			return err
		}
		defer drop()
		dbURL = scratch
	}

	a, err := startServer(dbURL)
	if err != nil {
		return err
	}
	defer a.stop()
	subServer := a
	if replicas == 2 {
		if subServer, err = startServer(dbURL); err != nil {
			return err
		}
		defer subServer.stop()
	}

	tokens, fileIDs := make([]string, owners), make([]string, owners)
	for i := range owners {
		var d struct {
			Register struct {
				AccessToken string
				User        struct{ ID string }
			}
		}
		if err := a.graphql("", `mutation($u: String!) { register(input: {username: $u, password: "correct horse battery"}) { accessToken user { id } } }`,
			map[string]any{"u": fmt.Sprint("user", i)}, &d); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		tokens[i] = d.Register.AccessToken
		if fileIDs[i], err = a.upload(tokens[i], fmt.Sprint("f", i, ".csv")); err != nil {
			return fmt.Errorf("upload: %w", err)
		}
		if _, err := a.get("/bench/watch?owner=" + d.Register.User.ID); err != nil {
			return err
		}
	}

	before, err := subServer.mem()
	if err != nil {
		return err
	}
	arrivals := make(chan arrival, subs*4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conns := make([]*coderws.Conn, subs)
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	sem := make(chan struct{}, 32)
	for i := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := subscribe(ctx, subServer, tokens[i%owners], arrivals)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	wantCount := subs
	if subServer == a {
		wantCount += owners // the commit watchers
	}
	for {
		n, err := subServer.get("/bench/count")
		if err != nil {
			return err
		}
		if n == strconv.Itoa(wantCount) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	after, err := subServer.mem()
	if err != nil {
		return err
	}

	// Warm up, then measure one event at a time: every subscriber of its
	// owner must have it before the next is committed.
	const warmup = 10
	var lat, last []time.Duration
	for k := range warmup + events {
		o := k % owners
		want := subs / owners
		if o < subs%owners {
			want++
		}
		if err := a.graphql(tokens[o], `mutation($id: ID!, $t: [String!]) { updateFileTags(id: $id, set: $t) { id } }`,
			map[string]any{"id": fileIDs[o], "t": []string{fmt.Sprint("e", k)}}, nil); err != nil {
			return fmt.Errorf("mutation: %w", err)
		}
		var got []int64
		timeout := time.After(time.Minute)
		for len(got) < want {
			select {
			case ar := <-arrivals:
				if ar.k == k {
					got = append(got, ar.t)
				}
			case <-timeout:
				return fmt.Errorf("event %d reached %d of %d subscribers", k, len(got), want)
			}
		}
		body, err := a.get("/bench/commit?file=" + fileIDs[o])
		if err != nil {
			return err
		}
		t0, _ := strconv.ParseInt(body, 10, 64)
		if k < warmup {
			continue
		}
		slowest := time.Duration(0)
		for _, t := range got {
			d := time.Duration(t - t0)
			lat = append(lat, d)
			slowest = max(slowest, d)
		}
		last = append(last, slowest)
	}

	kind := "SQLite"
	if pg {
		kind = "PostgreSQL"
	}
	where := "the server that committed"
	if replicas == 2 {
		where = "another server (through LISTEN/NOTIFY)"
	}
	fmt.Printf("eventsbench: %s, %d subscribers on %s, %d user(s), %d events (%d deliveries), GOMAXPROCS %d\n",
		kind, subs, where, owners, events, len(lat), runtime.GOMAXPROCS(0))
	fmt.Printf("commit -> client, each delivery:        p50 %8s  p90 %8s  p99 %8s  max %8s\n", pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100))
	fmt.Printf("commit -> last subscriber, per event:   p50 %8s  p90 %8s  p99 %8s  max %8s\n", pct(last, 50), pct(last, 90), pct(last, 99), pct(last, 100))
	heap := float64(after.Heap) - float64(before.Heap)
	stack := float64(after.Stack) - float64(before.Stack)
	fmt.Printf("idle subscription (one websocket + one subscription), server side: %.1f KiB (heap %.1f KiB + stacks %.1f KiB), %.1f goroutines\n",
		(heap+stack)/float64(subs)/1024, heap/float64(subs)/1024, stack/float64(subs)/1024,
		(float64(after.Goroutines)-float64(before.Goroutines))/float64(subs))
	return nil
}

func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, len(s)*p/100)
	return s[i].Round(10 * time.Microsecond).String()
}

// scratchDatabase creates an empty database beside the one dsn names and
// returns its URL and a function that drops it.
func scratchDatabase(dsn string) (string, func(), error) {
	ctx := context.Background()
	admin, err := database.Open(ctx, dsn)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("eventsbench_%d", os.Getpid())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(dsn)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "drop scratch database:", err)
		}
		admin.Close()
	}, nil
}
