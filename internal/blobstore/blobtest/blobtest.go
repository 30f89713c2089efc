// Package blobtest starts the buckets tests need that no library gives in
// process: an S3-compatible server.
package blobtest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 starts an in-process S3-compatible server with a bucket "cutline" and
// returns the BLOB_URL that reaches it the way a MinIO or R2 deployment
// would be configured. wrap, when set, stands between the server and its
// clients (to make it fail). The SDK reads its credentials from the
// environment, so a test calling S3 cannot be parallel.
func S3(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("cutline"); err != nil {
		t.Fatal(err)
	}
	h := gofakes3.New(backend).Server()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	return "s3://cutline?region=us-east-1&use_path_style=true&disable_https=true&endpoint=" + srv.URL
}
