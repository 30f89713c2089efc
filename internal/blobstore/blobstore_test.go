package blobstore_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/blobstore/blobtest"
)

func fakeS3(t *testing.T) string { return blobtest.S3(t, nil) }

func TestBuckets(t *testing.T) {
	cases := []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"file", func(t *testing.T) string { return "file://" + filepath.Join(t.TempDir(), "blobs") }},
		{"mem", func(*testing.T) string { return "mem://" }},
		{"s3", fakeS3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b, err := blobstore.Open(ctx, tc.url(t))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			key := blobstore.Key("0b6f3a5e-0000-4000-8000-000000000001")
			body := "id,name\n1,alpha\n2,beta\n"
			if err := b.WriteAll(ctx, key, []byte(body), &blob.WriterOptions{ContentType: "text/csv"}); err != nil {
				t.Fatalf("write: %v", err)
			}
			got, err := b.ReadAll(ctx, key)
			if err != nil || string(got) != body {
				t.Fatalf("read = %q, %v", got, err)
			}
			r, err := b.NewRangeReader(ctx, key, 8, 7, nil)
			if err != nil {
				t.Fatalf("range: %v", err)
			}
			part, _ := io.ReadAll(r)
			r.Close()
			if string(part) != "1,alpha" {
				t.Fatalf("range read = %q", part)
			}
			if tc.name == "s3" {
				u, err := b.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: time.Minute})
				if err != nil {
					t.Fatalf("signed URL: %v", err)
				}
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				signed, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(signed) != body {
					t.Fatalf("signed GET = %d %q", resp.StatusCode, signed)
				}
			}
			if err := b.Delete(ctx, key); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if ok, _ := b.Exists(ctx, key); ok {
				t.Fatal("object still exists after delete")
			}
		})
	}
}

func TestSigner(t *testing.T) {
	s := blobstore.NewSigner([]byte("secret"), "download")
	now := time.Now()
	tok := s.Sign("file-1", now.Add(time.Minute))
	if id, err := s.Verify(tok, now); err != nil || id != "file-1" {
		t.Fatalf("Verify = %q, %v", id, err)
	}
	other := blobstore.NewSigner([]byte("secret"), "legacy")
	// Same signature, different id: the payload is the part before the dot.
	payload, sig, _ := strings.Cut(tok, ".")
	forged := s.Sign("file-2", now.Add(time.Minute))
	fp, _, _ := strings.Cut(forged, ".")
	tampered := fp + "." + sig
	if fp == payload {
		t.Fatal("different ids gave the same payload")
	}
	for name, check := range map[string]func() error{
		"expired":       func() error { _, err := s.Verify(tok, now.Add(2*time.Minute)); return err },
		"other purpose": func() error { _, err := other.Verify(tok, now); return err },
		"tampered":      func() error { _, err := s.Verify(tampered, now); return err },
		"garbage":       func() error { _, err := s.Verify("../../etc/passwd", now); return err },
	} {
		if err := check(); err == nil {
			t.Errorf("%s token accepted", name)
		}
	}
}

// Tokens already handed out (download links, legacy file handles) must keep
// verifying across releases: the format is fixed.
func TestSignerTokenFormat(t *testing.T) {
	s := blobstore.NewSigner([]byte("secret"), "download")
	const id = "7acdeec8-a276-411b-a38f-50b7e712a15e"
	const want = "AAAAAGtJ0gA3YWNkZWVjOC1hMjc2LTQxMWItYTM4Zi01MGI3ZTcxMmExNWU.BucAKmDFUr3dPczgC9YFDQhfRtk"
	exp := time.Unix(1800000000, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if got := s.Sign(id, exp); got != want {
					t.Errorf("Sign = %s, want %s", got, want)
					return
				}
				if got, err := s.Verify(want, exp.Add(-time.Hour)); err != nil || got != id {
					t.Errorf("Verify = %q, %v", got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkSign signs one file handle, as the legacy listing does for each
// of its files.
func BenchmarkSign(b *testing.B) {
	s := blobstore.NewSigner([]byte("secret"), "bench")
	exp := time.Now().Add(time.Hour)
	b.ReportAllocs()
	for range b.N {
		if s.Sign("7acdeec8-a276-411b-a38f-50b7e712a15e", exp) == "" {
			b.Fatal("empty token")
		}
	}
}
