package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/blobstore/blobtest"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// fakeS3 is an S3-compatible server in the test that can stop answering,
// as one stopped with SIGSTOP does: requests are taken and never answered.
type fakeS3 struct {
	url    string
	mu     sync.Mutex
	frozen chan struct{}
	held   sync.WaitGroup // requests taken while frozen
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	f.url = blobtest.S3(t, func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.mu.Lock()
			ch := f.frozen
			f.mu.Unlock()
			if ch != nil {
				f.held.Add(1)
				defer f.held.Done()
				select {
				case <-ch:
				case <-r.Context().Done():
					return
				}
			}
			api.ServeHTTP(w, r)
		})
	})
	t.Cleanup(f.thaw) // before the server closes: cleanups run last first
	return f
}

func (f *fakeS3) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.frozen == nil {
		f.frozen = make(chan struct{})
	}
}

// thaw answers the held requests, and returns once they are answered.
func (f *fakeS3) thaw() {
	f.mu.Lock()
	if f.frozen != nil {
		close(f.frozen)
		f.frozen = nil
	}
	f.mu.Unlock()
	f.held.Wait()
}

// bucket opens the server's bucket as BLOB_URL would.
func (f *fakeS3) bucket(t *testing.T) *blob.Bucket {
	t.Helper()
	b, err := blobstore.Open(context.Background(), f.url)
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
		// A held PUT the server gave up on may still complete when the
		// bucket comes back: an object no row names, which the sweep
		// removes once it is older than the grace period (here at once).
		if _, err := s.app.Files.Sweep(context.Background(), -1); err != nil {
			t.Fatal(err)
		}
		assertIntact(t, s)
	})
}
