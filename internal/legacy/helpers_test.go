package legacy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	testSecret = "legacy-test-secret-0123456789abcdef-0123456789"
	password   = "correct horse battery"
)

// env is one shim over real services, a real database and a mem bucket,
// served through the auth middleware as the app serves it.
type env struct {
	t       *testing.T
	db      *database.DB
	bucket  *blob.Bucket
	auth    *auth.Service
	files   *files.Service
	lineage *lineage.Service
	h       *Handler
	mux     *http.ServeMux
	srv     *httptest.Server
	client  *http.Client
	clock   *clock
}

// clock is the shim's settable clock; it starts at the real now because
// the files service judges scratch expiry by the real clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type option func(*Handler, *files.Options)

func withRate(n int) option { return func(h *Handler, _ *files.Options) { h.RatePerMinute = n } }

func newEnv(t *testing.T, db *database.DB, opts ...option) *env {
	t.Helper()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	a, err := auth.NewService(db, auth.Config{
		Secret:          testSecret,
		Argon2:          auth.Argon2Params{Memory: 64, Time: 1, Threads: 1},
		HashConcurrency: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	fo := files.Options{MaxFileSize: 10 << 20}
	h := &Handler{RatePerMinute: 1_000_000}
	for _, o := range opts {
		o(h, &fo)
	}
	fs := files.NewService(db, b, fo)
	ls := lineage.NewService(db, 0, 0)
	clk := &clock{t: time.Now().UTC()}
	h.Auth, h.Files, h.Lineage = a, fs, ls
	h.Handles = blobstore.NewSigner([]byte(testSecret), "legacy-file")
	h.now = clk.Now
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(a.Middleware(mux))
	t.Cleanup(srv.Close)
	client := &http.Client{
		// Redirects must surface: the contract forbids them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &env{t: t, db: db, bucket: b, auth: a, files: fs, lineage: ls, h: h, mux: mux, srv: srv, client: client, clock: clk}
}

// resp is an answer read whole.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object (%d): %v\n%s", r.status, err, r.body)
	}
	return m
}

func (r *resp) str(t *testing.T, key string) string {
	t.Helper()
	s, ok := r.json(t)[key].(string)
	if !ok {
		t.Fatalf("no string %q in %s", key, r.body)
	}
	return s
}

func (r *resp) want(t *testing.T, status int) *resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// request is one HTTP request of a test.
type request struct {
	method, path string
	body         []byte
	ctype        string
	token        string
	header       map[string]string
}

func (e *env) do(t *testing.T, rq request) *resp {
	t.Helper()
	req, err := http.NewRequest(rq.method, e.srv.URL+rq.path, bytes.NewReader(rq.body))
	if err != nil {
		t.Fatal(err)
	}
	if rq.ctype != "" {
		req.Header.Set("Content-Type", rq.ctype)
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == http.StatusMovedPermanently || res.StatusCode == http.StatusPermanentRedirect ||
		res.StatusCode == http.StatusFound || res.StatusCode == http.StatusTemporaryRedirect {
		t.Fatalf("%s %s redirected (%d) to %s", rq.method, rq.path, res.StatusCode, res.Header.Get("Location"))
	}
	return &resp{status: res.StatusCode, header: res.Header, body: body}
}

func (e *env) get(t *testing.T, path, token string) *resp {
	t.Helper()
	return e.do(t, request{method: "GET", path: path, token: token})
}

func (e *env) postJSON(t *testing.T, path string, v any, token string) *resp {
	t.Helper()
	return e.sendJSON(t, "POST", path, v, token)
}

func (e *env) sendJSON(t *testing.T, method, path string, v any, token string) *resp {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, request{method: method, path: path, body: b, ctype: "application/json", token: token})
}

// part is one part of a multipart body; a file part has a filename.
type part struct {
	name, filename, content string
}

func fileField(filename, content string) part {
	return part{name: "file", filename: filename, content: content}
}

func field(name, value string) part { return part{name: name, content: value} }

func multipartBody(t *testing.T, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.content)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func (e *env) postMultipart(t *testing.T, path, token string, parts ...part) *resp {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	return e.do(t, request{method: "POST", path: path, body: body, ctype: ct, token: token})
}

// user is a registered, logged-in account.
type user struct {
	id              int64
	name            string
	access, refresh string
}

func (e *env) newUser(t *testing.T, name string) *user {
	t.Helper()
	e.postJSON(t, "/api/accounts/register/", map[string]string{
		"username": name, "password": password, "password2": password,
	}, "").want(t, http.StatusCreated)
	r := e.postJSON(t, "/api/accounts/login/", map[string]string{"username": name, "password": password}, "").
		want(t, http.StatusOK)
	u := &user{name: name, access: r.str(t, "access"), refresh: r.str(t, "refresh")}
	c, err := e.auth.VerifyAccess(u.access)
	if err != nil {
		t.Fatal(err)
	}
	u.id = c.UserID
	return u
}

// upload stores a file for u through #4 and returns it.
func (e *env) upload(t *testing.T, u *user, name, content string) *files.File {
	t.Helper()
	r := e.postMultipart(t, "/api/list_cutter/upload/", u.access, fileField(name, content)).want(t, http.StatusOK)
	f, err := e.files.Get(context.Background(), u.id, r.str(t, "file_id"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// save stores a generated file for u through #8.
func (e *env) save(t *testing.T, u *user, name, content, original string) *files.File {
	t.Helper()
	r := e.postMultipart(t, "/api/list_cutter/save_generated_file/", u.access,
		field("file_name", name), field("metadata", `{"generated_file_details":{}}`),
		field("original_file_id", original), fileField("blob.csv", content)).want(t, http.StatusCreated)
	f, err := e.files.Get(context.Background(), u.id, r.str(t, "file_id"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// expiredAccess mints an access token for u, correctly signed and
// otherwise valid, that expired an hour ago: what the frontend holds after
// ten idle minutes.
func expiredAccess(t *testing.T, u *user) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{
		"iss": "cutline", "aud": []string{"cutline"}, "sub": strconv.FormatInt(u.id, 10),
		"exp": now.Add(-time.Hour).Unix(), "iat": now.Add(-time.Hour - 10*time.Minute).Unix(),
		"jti": uuid.NewString(), "name": u.name,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	sum := sha256.Sum256([]byte(testSecret))
	tok.Header["kid"] = hex.EncodeToString(sum[:8])
	s, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fileCounts counts what a failed request must not leave behind: rows of
// the files table (any owner, tombstones too) and objects in the bucket.
func (e *env) fileCounts(t *testing.T) (rows, objects int) {
	t.Helper()
	ctx := context.Background()
	n, err := e.db.NewSelect().Table("files").Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows = int(n)
	it := e.bucket.List(&blob.ListOptions{})
	for {
		_, err := it.Next(ctx)
		if err == io.EOF {
			return rows, objects
		}
		if err != nil {
			t.Fatal(err)
		}
		objects++
	}
}

// Normalisers make answers comparable across runs and databases: ids are
// numbered by first appearance (so goldens still show which id is which),
// handles, tokens and times become placeholders.
var (
	reUUID   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reHandle = regexp.MustCompile(`[A-Za-z0-9_-]{12,}\.[A-Za-z0-9_-]{20,}\.csv`)
	reJWT    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	reTime   = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`)
	reRefr   = regexp.MustCompile(`"refresh":"[A-Za-z0-9_-]{43}"`)
	reUserID = regexp.MustCompile(`"id":\d+`)
)

func normalize(s string) string {
	ids := map[string]string{}
	s = reUUID.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := ids[id]; !ok {
			ids[id] = fmt.Sprintf("<id%d>", len(ids)+1)
		}
		return ids[id]
	})
	s = reHandle.ReplaceAllString(s, "<handle>")
	s = reJWT.ReplaceAllString(s, "<jwt>")
	s = reTime.ReplaceAllString(s, "<time>")
	s = reRefr.ReplaceAllString(s, `"refresh":"<refresh>"`)
	s = reUserID.ReplaceAllString(s, `"id":"<user>"`)
	return s
}

// golden compares an answer (status, the headers the contract names, and
// the body: parsed when JSON, as text otherwise) with testdata/name.json.
func golden(t *testing.T, name string, r *resp) {
	t.Helper()
	type doc struct {
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers,omitempty"`
		Body    any               `json:"body"`
	}
	d := doc{Status: r.status, Headers: map[string]string{}}
	for _, k := range []string{"Content-Type", "Content-Disposition", "Allow", "Retry-After", "WWW-Authenticate"} {
		if v := r.header.Get(k); v != "" {
			d.Headers[k] = v
		}
	}
	text := normalize(string(r.body))
	if err := json.Unmarshal([]byte(text), &d.Body); err != nil {
		d.Body = text
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // goldens stay readable: <id1>, not \u003cid1\u003e
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// csvFile is the test fixture the contract tests cut.
const csvFile = "name,age,city\nAlice,30,Paris\nBob,17,Berlin\n\"Smith, Jr.\",45,\"New \"\"York\"\"\"\nDora,n/a,Paris\n"

// frontend drives the shim as the React app does: it keeps the access
// token and the refresh token from login; on a 401 it calls #14 once with
// that same refresh token, keeps only the new access token, and retries
// once.
type frontend struct {
	e         *env
	access    string
	refresh   string
	refreshes int
}

func (e *env) frontend(u *user) *frontend {
	return &frontend{e: e, access: u.access, refresh: u.refresh}
}

// call sends rq, with the access token unless anonymous is set (the
// cutter-plus page sends #3 and #8 without it at first).
func (f *frontend) call(t *testing.T, rq request, anonymous bool) *resp {
	t.Helper()
	if !anonymous {
		rq.token = f.access
	}
	r := f.e.do(t, rq)
	if r.status != http.StatusUnauthorized {
		return r
	}
	rr := f.e.postJSON(t, "/api/accounts/token/refresh/", map[string]string{"refresh": f.refresh}, "")
	if rr.status != http.StatusOK {
		return r // the app would log the user out here
	}
	f.refreshes++
	f.access = rr.str(t, "access")
	rq.token = f.access
	return f.e.do(t, rq)
}

func multipartRequest(t *testing.T, path string, parts ...part) request {
	body, ct := multipartBody(t, parts...)
	return request{method: "POST", path: path, body: body, ctype: ct}
}

func jsonRequest(t *testing.T, method, path string, v any) request {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return request{method: method, path: path, body: b, ctype: "application/json"}
}

// exists reports whether path names something on this machine; used to
// show that no client-supplied name was ever written as a path.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
