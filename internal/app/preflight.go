package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
)

// checkFolders makes sure the folders this process writes can be written
// before anything opens them, so that a wrong setting is named with its
// folder instead of surfacing as "unable to open database file (14)".
func checkFolders(cfg config.Config) error {
	var errs []error
	check := func(dir, setting, what string) {
		if err := writable(dir); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s %q is not writable: %w", setting, what, dir, err))
		}
	}
	if path, ok := database.SQLiteFile(cfg.DatabaseURL); ok {
		setting := "DATABASE_URL"
		if cfg.DatabaseURL == "sqlite://"+filepath.Join(cfg.DataDir, "cutline.db") {
			setting = "DATA_DIR"
		}
		// SQLite writes its journal beside the database file.
		check(filepath.Dir(path), setting, "the SQLite database's folder")
	}
	if dir, ok := strings.CutPrefix(cfg.BlobURL, "file://"); ok {
		if i := strings.IndexByte(dir, '?'); i >= 0 {
			dir = dir[:i]
		}
		setting := "BLOB_URL"
		if cfg.BlobURL == "file://"+filepath.ToSlash(filepath.Join(cfg.DataDir, "blobs")) {
			setting = "DATA_DIR"
		}
		check(dir, setting, "the blob folder")
	}
	return errors.Join(errs...)
}

// writable creates dir when missing and a file in it, then removes it.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".cutline-write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// bucketCheckTimeout bounds the start-up look at the bucket; the S3 client
// retries a refused connection a few times within it.
const bucketCheckTimeout = 10 * time.Second

// checkBucket tells at start, in the log, that the bucket does not answer,
// instead of leaving it to the first upload to find out. The server runs
// on: /readyz answers 503 until the bucket answers.
func (a *App) checkBucket(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, bucketCheckTimeout)
	defer cancel()
	ok, err := a.Bucket.IsAccessible(ctx)
	if err == nil && ok {
		a.Log.Debug("bucket answers", "blobs", blobstore.Redact(a.Config.BlobURL))
		return
	}
	if errors.Is(err, context.Canceled) {
		return // shutting down already
	}
	if err == nil {
		err = errors.New("the bucket does not exist")
	}
	a.Log.Error("the bucket cannot be reached: uploads and downloads fail and /readyz answers 503 until it answers; check BLOB_URL and its credentials",
		"blobs", blobstore.Redact(a.Config.BlobURL), "err", bucketCause(err))
}

// bucketCause is err's message: slog's text handler writes errors with
// %+v, which for gocloud's errors adds their call stack over several lines.
func bucketCause(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
