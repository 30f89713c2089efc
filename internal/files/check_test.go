package files_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/blobstore/blobtest"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
)

// Check finds each kind of disagreement between rows and objects, and
// nothing where they agree or where an upload may still be in flight.
func TestCheck(t *testing.T) {
	t.Parallel()
	old := time.Now().Add(-2 * files.SweepGrace)
	cases := []struct {
		name string
		harm func(t *testing.T, dir string, f *files.File)
		want files.ProblemKind
	}{
		{"intact", func(*testing.T, string, *files.File) {}, ""},
		{"row without object", func(t *testing.T, dir string, f *files.File) {
			must(t, os.Remove(filepath.Join(dir, *f.ObjectKey)))
		}, files.MissingObject},
		{"object cut short", func(t *testing.T, dir string, f *files.File) {
			must(t, os.Truncate(filepath.Join(dir, *f.ObjectKey), f.Size-1))
		}, files.PartialObject},
		{"object changed", func(t *testing.T, dir string, f *files.File) {
			b, err := os.ReadFile(filepath.Join(dir, *f.ObjectKey))
			must(t, err)
			b[len(b)-2] = '9'
			must(t, os.WriteFile(filepath.Join(dir, *f.ObjectKey), b, 0o600))
		}, files.PartialObject},
		{"object without row", func(t *testing.T, dir string, _ *files.File) {
			writeOld(t, filepath.Join(dir, "files", "0b6f3a5e-0000-4000-8000-000000000001"), old)
		}, files.Orphan},
		{"stale temporary object", func(t *testing.T, dir string, f *files.File) {
			writeOld(t, filepath.Join(dir, *f.ObjectKey+".18a2b3c4d5e6f708.tmp"), old)
		}, files.StaleTemporary},
		{"recent objects are not judged", func(t *testing.T, dir string, f *files.File) {
			writeOld(t, filepath.Join(dir, *f.ObjectKey+".18a2b3c4d5e6f709.tmp"), time.Now())
			writeOld(t, filepath.Join(dir, "files", "0b6f3a5e-0000-4000-8000-000000000002"), time.Now())
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A database of its own: the check looks at every row.
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				dir := t.TempDir()
				e := newEnv(t, db, "file://"+dir, 1<<20)
				f := e.upload(t, e.alice, "a.csv", "x,y\n1,2\n3,4\n")
				tc.harm(t, dir, f)
				rep, err := e.svc.Check(context.Background(), files.CheckOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var kinds []files.ProblemKind
				for _, p := range rep.Problems {
					kinds = append(kinds, p.Kind)
				}
				if tc.want == "" && !rep.OK() || tc.want != "" && !slices.Equal(kinds, []files.ProblemKind{tc.want}) {
					var b strings.Builder
					rep.Write(&b)
					t.Fatalf("problems %v, want [%s]; report:\n%s", kinds, tc.want, b.String())
				}
			})
		})
	}
}

func writeOld(t *testing.T, path string, mod time.Time) {
	t.Helper()
	must(t, os.WriteFile(path, []byte("x\n1\n"), 0o600))
	must(t, os.Chtimes(path, mod, mod))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The sweep removes the folder bucket's stale temporary objects (an upload
// whose process was killed or stopped mid-write) and, on S3, aborts stale
// incomplete multipart uploads; the check finds both before, nothing after.
func TestSweepRemovesLeftovers(t *testing.T) {
	t.Run("temporary objects", func(t *testing.T) {
		db := dbtest.SQLite(t)
		dir := t.TempDir()
		e := newEnv(t, db, "file://"+dir, 1<<20)
		f := e.upload(t, e.alice, "a.csv", "x\n1\n")
		stale := filepath.Join(dir, *f.ObjectKey+".18a2b3c4d5e6f708.tmp")
		writeOld(t, stale, time.Now().Add(-2*files.SweepGrace))
		fresh := filepath.Join(dir, *f.ObjectKey+".18a2b3c4d5e6f709.tmp")
		writeOld(t, fresh, time.Now())
		assertProblems(t, e.svc, files.StaleTemporary)
		if _, err := e.svc.Sweep(context.Background(), files.SweepGrace); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale temporary object after the sweep: %v", err)
		}
		if _, err := os.Stat(fresh); err != nil {
			t.Errorf("an upload in flight lost its temporary object: %v", err)
		}
		assertProblems(t, e.svc)
	})
	t.Run("multipart uploads", func(t *testing.T) {
		db := dbtest.SQLite(t)
		url := blobtest.S3(t, nil)
		e := newEnvWith(t, db, url, files.Options{MaxFileSize: 1 << 20, BucketName: blobstore.BucketName(url)})
		e.upload(t, e.alice, "a.csv", "x\n1\n")
		var c *s3.Client
		if !e.bucket.As(&c) {
			t.Fatal("no S3 client under the bucket")
		}
		ctx := context.Background()
		key := aws.String(blobstore.Key("0b6f3a5e-0000-4000-8000-000000000003"))
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cutline"), Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("cutline"), Key: key, UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader(strings.Repeat("x", 1<<10))}); err != nil {
			t.Fatal(err)
		}
		// Judged at once: the upload just began.
		rep, err := e.svc.Check(ctx, files.CheckOptions{Grace: -1})
		if err != nil || len(rep.Problems) != 1 || rep.Problems[0].Kind != files.StaleUpload {
			t.Fatalf("check before the sweep: %+v, %v", rep, err)
		}
		if _, err := e.svc.Sweep(ctx, -1); err != nil {
			t.Fatal(err)
		}
		if rep, err := e.svc.Check(ctx, files.CheckOptions{Grace: -1}); err != nil || !rep.OK() {
			t.Fatalf("check after the sweep: %+v, %v", rep, err)
		}
	})
}

func assertProblems(t *testing.T, svc *files.Service, want ...files.ProblemKind) {
	t.Helper()
	rep, err := svc.Check(context.Background(), files.CheckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []files.ProblemKind
	for _, p := range rep.Problems {
		got = append(got, p.Kind)
	}
	if !slices.Equal(got, want) {
		var b strings.Builder
		rep.Write(&b)
		t.Fatalf("problems %v, want %v:\n%s", got, want, b.String())
	}
}
