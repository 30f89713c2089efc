// Package blobstore opens the bucket that holds file bytes, names the
// objects, and signs the short-lived URLs that let a browser download a file
// without its Bearer token.
package blobstore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs://
	_ "gocloud.dev/blob/memblob" // mem://
	_ "gocloud.dev/blob/s3blob"  // s3://
)

// Open opens the bucket named by rawURL. file:// URLs may be relative
// (file://./data/blobs) and the folder is created when missing. s3:// URLs
// accept gocloud's options (region, endpoint, use_path_style,
// disable_https...); the AWS SDK's newer checksum headers are only sent when
// required unless the URL says otherwise, because R2 and MinIO reject them.
func Open(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	switch {
	case strings.HasPrefix(rawURL, "file://"):
		dir, _ := Folder(rawURL)
		if dir == "" {
			return nil, fmt.Errorf("blob URL %q names no folder", rawURL)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create blob folder: %w", err)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		// Temporary files live beside the objects: os.TempDir may be a
		// RAM-backed tmpfs or another mount where the final rename fails.
		return fileblob.OpenBucket(abs, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	case strings.HasPrefix(rawURL, "s3://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("parse blob URL: %w", err)
		}
		q := u.Query()
		for _, k := range []string{"request_checksum_calculation", "response_checksum_validation"} {
			if q.Get(k) == "" {
				q.Set(k, "when_required")
			}
		}
		u.RawQuery = q.Encode()
		rawURL = u.String()
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open bucket: %w", err)
	}
	return b, nil
}

// Folder is the folder of a file:// bucket URL; false for other buckets.
func Folder(rawURL string) (string, bool) {
	dir, ok := strings.CutPrefix(rawURL, "file://")
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(dir, '?'); i >= 0 {
		dir = dir[:i]
	}
	return dir, true
}

// Prefix is where file objects live; the sweep only ever looks below it.
const Prefix = "files/"

// Key is the object key for a file id. Keys are always chosen by the server,
// never derived from a client-supplied name.
func Key(id string) string { return Prefix + id }

// Redact hides credentials in a bucket URL for logging.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparseable URL)"
	}
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "secret") || strings.Contains(lk, "key") || strings.Contains(lk, "token") {
			q.Set(k, "REDACTED")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}
