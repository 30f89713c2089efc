package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// fakeS3 is an S3-compatible server in the test that can stop answering,
// as one stopped with SIGSTOP does: requests are taken and never answered.
type fakeS3 struct {
	*httptest.Server
	mu     sync.Mutex
	frozen chan struct{}
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("cutline"); err != nil {
		t.Fatal(err)
	}
	f := &fakeS3{}
	api := gofakes3.New(backend).Server()
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ch := f.frozen
		f.mu.Unlock()
		if ch != nil {
			select {
			case <-ch:
			case <-r.Context().Done():
				return
			}
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		f.thaw()
		f.Close()
	})
	// The SDK reads its credentials from the environment: no t.Parallel.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	return f
}

func (f *fakeS3) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen == nil {
		f.frozen = make(chan struct{})
	}
}

func (f *fakeS3) thaw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen != nil {
		close(f.frozen)
		f.frozen = nil
	}
}

// bucket opens the server's bucket as BLOB_URL would.
func (f *fakeS3) bucket(t *testing.T) *blob.Bucket {
	t.Helper()
	b, err := blobstore.Open(context.Background(),
		"s3://cutline?region=us-east-1&use_path_style=true&disable_https=true&endpoint="+f.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// A bucket that stops answering fails requests within BLOB_TIMEOUT, as
// UNAVAILABLE / 503, instead of hanging them: uploads on every transport,
// downloads, derives, reads of rows.
func TestFrozenBucketFailsFast(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s3 := newFakeS3(t)
		s := newServerOn(t, db, s3.bucket(t), func(c *config.Config) { c.BlobTimeout = 300 * time.Millisecond })
		tok := s.register(t, "ada").AccessToken
		id := s.uploadOK(t, tok, "a.csv", "name,age\nAda,36\nBob,17\n")

		s3.freeze()
		r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "b.csv", "x,y\n1,2\n")
		assertUnavailable(t, "GraphQL upload", r)
		r = s.gql(t, tok, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "c.csv", columns: ["name"]}) { id } }`,
			map[string]any{"id": id})
		assertUnavailable(t, "derive", r)
		r = s.gql(t, tok, `query($id: ID!) { file(id: $id) { rows(first: 1) { edges { cursor } } } }`, map[string]any{"id": id})
		assertUnavailable(t, "rows", r)
		assertRetryAfter(t, s, tok, "REST download", "GET", "/api/v1/files/"+id+"/content")
		code, hdr, body := s.call(t, "POST", "/api/v1/files?name=d.csv", tok, "text/csv", strings.NewReader("x\n1\n"))
		if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Fatalf("REST upload: %d %s, want 503 with Retry-After", code, body)
		}
		ctype, form := fileForm("e.csv", "x\n1\n")
		code, hdr, body = s.call(t, "POST", "/api/list_cutter/upload/", tok, ctype, form)
		if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Fatalf("legacy upload: %d %s, want 503 with Retry-After", code, body)
		}

		s3.thaw()
		var d struct {
			Files struct {
				Edges []struct{ Node struct{ Name string } }
			}
		}
		s.ok(t, tok, `{ files { edges { node { name } } } }`, nil, &d)
		if len(d.Files.Edges) != 1 {
			t.Fatalf("files after the outage: %+v, want only a.csv", d.Files.Edges)
		}
	})
}
