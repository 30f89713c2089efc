package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/files"
)

// server is the real handler over a real database and bucket.
type server struct {
	*httptest.Server
	app     *app.App
	queries atomic.Int64
	// logs holds what the server logged.
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type countHook struct{ n *atomic.Int64 }

func (h countHook) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (h countHook) AfterQuery(context.Context, *bun.QueryEvent)                        { h.n.Add(1) }

func newServer(t *testing.T, db *database.DB, edit func(*config.Config)) *server {
	return newServerTB(t, db, edit)
}

func newServerB(b *testing.B, db *database.DB) *server { return newServerTB(b, db, nil) }

func newServerTB(t testing.TB, db *database.DB, edit func(*config.Config)) *server {
	t.Helper()
	bucket, err := blobstore.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	return newServerOn(t, db, bucket, edit)
}

// newServerOn is newServer over a bucket the test opened.
func newServerOn(t testing.TB, db *database.DB, bucket *blob.Bucket, edit func(*config.Config)) *server {
	t.Helper()
	cfg := config.Default()
	cfg.JWTSecret = "test-secret-0123456789abcdef0123456789abcdef"
	cfg.Argon2MemoryKiB, cfg.Argon2Time = 1024, 1
	cfg.MaxFileSize = 1 << 20
	cfg.RatePerIP, cfg.RatePerUser = 0, 0 // TestRateLimits turns them on
	cfg.RegisterPerHour = 0               // TestRegistrationLimit turns it on
	if edit != nil {
		edit(&cfg)
	}
	logs := &syncBuffer{}
	var sink io.Writer = logs
	if _, bench := t.(*testing.B); bench {
		sink = io.Discard // benchmarks read no logs, and must not keep them
	}
	log := slog.New(slog.NewTextHandler(sink, nil))
	a, err := app.Build(cfg, log, db, bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Stop(); a.Events.Close() })
	s := &server{app: a, logs: logs}
	db.AddQueryHook(countHook{&s.queries})
	s.Server = httptest.NewServer(a.Handler)
	t.Cleanup(s.Close)
	return s
}

// gqlResponse is a GraphQL response with errors flattened for assertions.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func (s *server) gql(t *testing.T, token, query string, vars map[string]any) *gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.do(t, req)
}

func (s *server) do(t *testing.T, req *http.Request) *gqlResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, raw, err)
	}
	return &out
}

// ok runs a query that must succeed and decodes its data into out.
func (s *server) ok(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	r := s.gql(t, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("%s: errors %+v", firstLine(query), r.Errors)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatal(err)
		}
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// upload sends a file through the GraphQL multipart request spec.
func (s *server) upload(t *testing.T, token, query string, vars map[string]any, fileVar, name, content string) *gqlResponse {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	vars[fileVar] = nil
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	mw.WriteField("operations", string(ops))
	mw.WriteField("map", fmt.Sprintf(`{"0":["variables.%s"]}`, fileVar))
	fw, _ := mw.CreateFormFile("0", name)
	io.WriteString(fw, content)
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return s.do(t, req)
}

const uploadMutation = `mutation($f: Upload!, $tags: [String!]) { uploadFile(file: $f, tags: $tags) { id name rowCount } }`

func (s *server) uploadOK(t *testing.T, token, name, content string) string {
	t.Helper()
	r := s.upload(t, token, uploadMutation, map[string]any{}, "f", name, content)
	if len(r.Errors) > 0 {
		t.Fatalf("upload: %+v", r.Errors)
	}
	var d struct{ UploadFile struct{ ID string } }
	json.Unmarshal(r.Data, &d)
	return d.UploadFile.ID
}

type authPayload struct {
	AccessToken, RefreshToken string
	User                      struct{ ID, Username string }
}

func (s *server) register(t *testing.T, name string) authPayload {
	t.Helper()
	var d struct{ Register authPayload }
	s.ok(t, "", `mutation($u: String!) { register(input: {username: $u, password: "correct horse battery"}) {
		accessToken refreshToken user { id username } } }`, map[string]any{"u": name}, &d)
	return d.Register
}

func (s *server) registerB(b *testing.B, name string) string {
	body := `{"query":"mutation { register(input: {username: \"` + name + `\", password: \"correct horse battery\"}) { accessToken } }"}`
	resp, err := http.Post(s.URL+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct{ Register struct{ AccessToken string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Data.Register.AccessToken == "" {
		b.Fatalf("register: %v", err)
	}
	return out.Data.Register.AccessToken
}

// decodeJSON reads resp's JSON body into out and closes it.
func decodeJSON(t *testing.T, resp *http.Response, out any) {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, raw, err)
	}
}

// fileForm is a multipart body with one part "file" named name.
func fileForm(name, content string) (contentType string, body *bytes.Buffer) {
	body = &bytes.Buffer{}
	mw := multipart.NewWriter(body)
	fw, _ := mw.CreateFormFile("file", name)
	io.WriteString(fw, content)
	mw.Close()
	return mw.FormDataContentType(), body
}

// assertIntact runs the integrity check (cutline check) on the server's
// storage, judging every object however young: after a fault test, every
// row has its whole object and every object its row.
func assertIntact(t *testing.T, s *server) {
	t.Helper()
	rep, err := s.app.Files.Check(context.Background(), files.CheckOptions{Grace: -1})
	if err != nil {
		t.Fatalf("integrity check: %v", err)
	}
	if !rep.OK() {
		var b strings.Builder
		rep.Write(&b)
		t.Fatalf("integrity check:\n%s", b.String())
	}
}
