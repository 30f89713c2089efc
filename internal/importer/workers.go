package importer

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
)

// Workers reads the Cloudflare Workers port: a SQLite export of its D1
// database (users, saved_files, file_relationships) and its R2 bucket.
type Workers struct {
	db        *sql.DB
	d1Path    string
	bucket    *blob.Bucket
	bucketURL string
}

// WorkersOptions locate the Workers port's data.
type WorkersOptions struct {
	// D1 is the database export: a SQLite file, or the SQL text that
	// `wrangler d1 export` writes (loaded into memory).
	D1 string
	// BucketURL is the R2 bucket (or a copy of it) as a Go CDK URL, opened
	// with blobstore.Open: s3://BUCKET?endpoint=...&region=auto, file://DIR...
	BucketURL string
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// OpenWorkers opens the D1 export and the bucket.
func OpenWorkers(ctx context.Context, o WorkersOptions) (*Workers, error) {
	if o.D1 == "" {
		return nil, errors.New("workers: --d1 is required")
	}
	if o.BucketURL == "" {
		return nil, errors.New("workers: --bucket is required")
	}
	head := make([]byte, len(sqliteMagic))
	f, err := os.Open(o.D1)
	if err != nil {
		return nil, fmt.Errorf("d1 export: %w", err)
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	var db *sql.DB
	if bytes.Equal(head[:n], sqliteMagic) {
		if db, err = database.OpenReadOnly(ctx, o.D1, ""); err != nil {
			err = fmt.Errorf("d1 export: %w", err)
		}
	} else {
		db, err = loadSQLDump(ctx, o.D1)
	}
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("d1 export: %w", err)
	}
	b, err := blobstore.Open(ctx, o.BucketURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("source bucket: %w", err)
	}
	return &Workers{db: db, d1Path: o.D1, bucket: b, bucketURL: o.BucketURL}, nil
}

// loadSQLDump runs a `wrangler d1 export` SQL file into a private
// in-memory SQLite database. One connection only: every connection to
// ":memory:" would be a database of its own.
func loadSQLDump(ctx context.Context, path string) (*sql.DB, error) {
	script, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("d1 export: %w", err)
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if _, err := db.ExecContext(ctx, string(script)); err != nil {
		db.Close()
		return nil, fmt.Errorf("d1 export %s is neither a SQLite file nor SQL that loads: %w", path, err)
	}
	return db, nil
}

// Describe names the source without credentials.
func (w *Workers) Describe() string {
	return "workers d1 " + w.d1Path + ", bucket " + blobstore.Redact(w.bucketURL)
}

// Users reads users.
func (w *Workers) Users(ctx context.Context) ([]User, error) {
	q, err := selectFrom(ctx, w.db, "users", []column{
		{names: []string{"id"}, required: true, text: true},
		{names: []string{"username"}, required: true},
		{names: []string{"email"}},
		{names: []string{"password_hash", "password"}, required: true},
		{names: []string{"created_at", "date_joined"}},
	})
	if err != nil {
		return nil, err
	}
	var out []User
	err = scanAll(ctx, w.db, q, func(v []any) error {
		out = append(out, User{OldID: asString(v[0]), Username: asString(v[1]), Email: asString(v[2]),
			PasswordHash: asString(v[3]), JoinedAt: asTime(v[4]), Active: true})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	return out, nil
}

// Files reads saved_files.
func (w *Workers) Files(ctx context.Context) ([]File, error) {
	return readSavedFiles(ctx, w.db, "saved_files")
}

// Edges reads file_relationships, when the export has it.
func (w *Workers) Edges(ctx context.Context) ([]Edge, error) {
	if !tableExists(ctx, w.db, "file_relationships") {
		return nil, nil
	}
	q, err := selectFrom(ctx, w.db, "file_relationships", []column{
		{names: []string{"source_file_id", "source", "parent_id"}, required: true, text: true},
		{names: []string{"target_file_id", "target", "child_id"}, required: true, text: true},
		{names: []string{"relationship_type", "type", "kind"}},
	})
	if err != nil {
		return nil, err
	}
	var out []Edge
	row := 0
	err = scanAll(ctx, w.db, q, func(v []any) error {
		row++
		e := Edge{Parent: strings.TrimSpace(asString(v[0])), Child: strings.TrimSpace(asString(v[1])),
			From: fmt.Sprintf("file_relationships row %d", row)}
		out = append(out, orient(e, relationshipKind(asString(v[2]))))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read file_relationships: %w", err)
	}
	return out, nil
}

// Open streams the object at the row's file_path. Only a missing object is
// permanent: a denied or failing bucket is a configuration or network
// problem that a later run can get past.
func (w *Workers) Open(ctx context.Context, f File) (io.ReadCloser, error) {
	key := strings.TrimLeft(strings.TrimSpace(f.Path), "/")
	if key == "" {
		return nil, Permanent(errors.New("the row has no file_path"))
	}
	r, err := w.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, Permanent(fmt.Errorf("object %q not found in the bucket", key))
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Close releases the database and the bucket.
func (w *Workers) Close() error {
	w.bucket.Close()
	return w.db.Close()
}
