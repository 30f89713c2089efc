package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// env is the adapter over real services, a real database and a mem bucket.
type env struct {
	h     http.Handler
	files *files.Service
	token string
	owner int64
	sign  *blobstore.Signer
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	ctx := context.Background()
	bucket, err := blobstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	a, err := auth.NewService(db, auth.Config{Secret: "rest-test-secret-0123456789abcdef0123456789",
		Argon2: auth.Argon2Params{Memory: 1024, Time: 1}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Register(ctx, auth.RegisterInput{Username: "ada", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.IssueTokens(ctx, u, auth.ClassRotating)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{files: files.NewService(db, bucket, files.Options{MaxFileSize: 1 << 20}), token: tok.AccessToken, owner: u.ID,
		sign: blobstore.NewSigner([]byte("download-secret"), "download")}
	api := &Handler{Auth: a, Files: e.files, Lineage: lineage.NewService(db, 0, 0), Download: e.sign,
		Log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	api.Register(mux)
	e.h = a.Middleware(mux)
	return e
}

func (e *env) do(t *testing.T, method, path, ctype string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w
}

const sales = "region,amount\nnorth,10\nsouth,20\nnorth,30\n"

// Upload raw and as multipart, download whole and by range, cut, and draw
// the lineage with the shared defaults.
func TestFilesRoundTrip(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		w := e.do(t, "POST", FilesPath+"?name=sales.csv&tags=q3,north", "text/csv", strings.NewReader(sales))
		if w.Code != http.StatusCreated {
			t.Fatalf("raw upload: %d %s", w.Code, w.Body)
		}
		var up map[string]any
		json.Unmarshal(w.Body.Bytes(), &up)
		id, _ := up["id"].(string)
		if up["name"] != "sales.csv" || up["rowCount"] != float64(3) || fmt.Sprint(up["userTags"]) != "[q3 north]" {
			t.Fatalf("uploaded %v", up)
		}

		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		mw.WriteField("tags", "form")
		fw, _ := mw.CreateFormFile("file", "from-form.csv")
		io.WriteString(fw, sales)
		mw.Close()
		if w := e.do(t, "POST", FilesPath, mw.FormDataContentType(), &mp); w.Code != http.StatusCreated ||
			!strings.Contains(w.Body.String(), `"name":"from-form.csv"`) || !strings.Contains(w.Body.String(), `"form"`) {
			t.Fatalf("multipart upload: %d %s", w.Code, w.Body)
		}

		if w := e.do(t, "GET", FilesPath+"/"+id+"/content", "", nil); w.Code != http.StatusOK || w.Body.String() != sales ||
			w.Header().Get("ETag") == "" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
			t.Fatalf("content: %d %q %v", w.Code, w.Body, w.Header())
		}
		if w := e.do(t, "GET", FilesPath+"/"+id+"/content", "", nil, "Range", "bytes=0-5"); w.Code != http.StatusPartialContent || w.Body.String() != sales[:6] {
			t.Fatalf("range: %d %q", w.Code, w.Body)
		}
		signed := httptest.NewRequest("GET", FilesPath+"/"+id+"/content?token="+e.sign.Sign(id, time.Now().Add(time.Minute)), nil)
		sw := httptest.NewRecorder()
		e.h.ServeHTTP(sw, signed)
		if sw.Code != http.StatusOK || sw.Body.String() != sales {
			t.Fatalf("signed download: %d %q", sw.Code, sw.Body)
		}

		w = e.do(t, "POST", FilesPath+"/"+id+"/cut", "application/json",
			strings.NewReader(`{"columns":["amount"],"whereSql":"region = 'north'"}`))
		if w.Code != http.StatusOK || w.Body.String() != "amount\n10\n30\n" {
			t.Fatalf("cut: %d %q", w.Code, w.Body)
		}
		if w := e.do(t, "POST", FilesPath+"/"+id+"/cut", "application/json",
			strings.NewReader(`{"where":{"column":"amount","gt":"1"},"whereSql":"amount > 1"}`)); w.Code != http.StatusBadRequest {
			t.Fatalf("both filter spellings: %d %s", w.Code, w.Body)
		}

		w = e.do(t, "GET", FilesPath+"/"+id+"/lineage", "", nil)
		var g map[string]any
		if json.Unmarshal(w.Body.Bytes(), &g); w.Code != http.StatusOK || g["root"] != id || g["truncated"] != false {
			t.Fatalf("lineage: %d %s", w.Code, w.Body)
		}
		if w := e.do(t, "GET", FilesPath+"/"+id+"/lineage?direction=sideways", "", nil); w.Code != http.StatusBadRequest ||
			!strings.Contains(w.Body.String(), "must be upstream, downstream or both") {
			t.Fatalf("bad direction: %d %s", w.Code, w.Body)
		}
		if w := e.do(t, "GET", FilesPath+"/"+id+"/lineage?format=dot", "", nil); w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "digraph") {
			t.Fatalf("dot: %d %s", w.Code, w.Body)
		}
	})
}

// writeError is the adapter's one mapping from feature errors to HTTP.
func TestWriteError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		err    error
		status int
		code   string
		header string
	}{
		{"not found", fmt.Errorf("load: %w", apperr.ErrNotFound), 404, "NOT_FOUND", ""},
		{"unauthenticated", apperr.ErrUnauthenticated, 401, "UNAUTHENTICATED", "WWW-Authenticate"},
		{"invalid", apperr.Invalid("name", "too long"), 400, "BAD_USER_INPUT", ""},
		{"too large", &apperr.TooLargeError{Limit: 10}, 413, "PAYLOAD_TOO_LARGE", ""},
		{"rate limited", &apperr.RateLimitError{RetryAfter: 1500 * time.Millisecond}, 429, "RATE_LIMITED", "Retry-After"},
		{"cancelled", context.Canceled, 499, "CANCELLED", ""},
		{"unavailable", fmt.Errorf("%w: open object: gone", apperr.ErrUnavailable), 503, "UNAVAILABLE", "Retry-After"},
		{"disk full", fmt.Errorf("%w: write object: /data/x.tmp: no space left on device", apperr.ErrStorageFull), 507, "INSUFFICIENT_STORAGE", "Retry-After"},
		{"anything else", errors.New("boom"), 500, "INTERNAL", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeError(w, httptest.NewRequest("GET", "/", nil), slog.New(slog.DiscardHandler), tc.err)
			var body map[string]string
			json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tc.status || body["code"] != tc.code {
				t.Fatalf("%d %v, want %d %s", w.Code, body, tc.status, tc.code)
			}
			if tc.header != "" && w.Header().Get(tc.header) == "" {
				t.Fatalf("no %s header", tc.header)
			}
			if tc.code == "INTERNAL" && strings.Contains(w.Body.String(), "boom") {
				t.Fatal("an internal error showed its cause")
			}
		})
	}
}

func TestIsStream(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{FilesPath: true, FilesPath + "/x/content": true, "/api/v1/filesx": false, "/graphql": false} {
		if IsStream(path) != want {
			t.Errorf("IsStream(%q) = %v", path, !want)
		}
	}
}
