package files_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
)

// errVanished is what a folder bucket reports when an entry disappears
// between reading its directory and reading the entry.
var errVanished = errors.New("lstat files/x.tmp: no such file or directory")

// vanishingBucket serves a real bucket through the driver interface, except
// that its first listings fail the way a folder bucket does when an upload
// renames its temporary file away mid-listing. Only what the sweep uses is
// forwarded; anything else panics through the nil embedded interface.
type vanishingBucket struct {
	driver.Bucket
	real     *blob.Bucket
	failures int
	lists    int
}

func (v *vanishingBucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	v.lists++
	if v.lists <= v.failures {
		return nil, errVanished
	}
	token := opts.PageToken
	if token == nil {
		token = blob.FirstPageToken
	}
	objs, next, err := v.real.ListPage(ctx, token, opts.PageSize, &blob.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter})
	if err != nil {
		return nil, err
	}
	page := &driver.ListPage{NextPageToken: next}
	for _, o := range objs {
		page.Objects = append(page.Objects, &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, IsDir: o.IsDir})
	}
	return page, nil
}

func (v *vanishingBucket) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	return v.real.Delete(ctx, key)
}

func (v *vanishingBucket) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, errVanished) {
		return gcerrors.NotFound
	}
	return gcerrors.Code(err)
}

func (v *vanishingBucket) As(any) bool             { return false }
func (v *vanishingBucket) ErrorAs(error, any) bool { return false }
func (v *vanishingBucket) Close() error            { return nil }

func TestSweepListsAgainWhenAnObjectVanishes(t *testing.T) {
	cases := []struct {
		name     string
		failures int
		wantErr  bool
	}{
		{"no race", 0, false},
		{"one object vanished", 1, false},
		{"several in a row", 4, false},
		{"never settles", 1000, true},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t, db, "mem://", 1<<20)
				ctx := context.Background()
				keep := e.upload(t, e.alice, "keep.csv", "a\n1\n")
				if err := e.bucket.WriteAll(ctx, blobstore.Key("orphan"), []byte("x"), nil); err != nil {
					t.Fatal(err)
				}
				v := &vanishingBucket{real: e.bucket, failures: tc.failures}
				b := blob.NewBucket(v)
				svc := files.NewService(db, b, files.Options{MaxFileSize: 1 << 20})

				n, err := svc.Sweep(ctx, 0)
				if tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), "list objects") {
						t.Fatalf("Sweep error = %v, want a listing error", err)
					}
					if n != 0 || objectCount(t, e.bucket) != 2 {
						t.Fatalf("a failed listing removed %d objects", n)
					}
					return
				}
				if err != nil {
					t.Fatalf("Sweep: %v", err)
				}
				if n != 1 || objectCount(t, e.bucket) != 1 {
					t.Fatalf("swept %d, %d objects remain; want the orphan gone", n, objectCount(t, e.bucket))
				}
				if v.lists != tc.failures+1 {
					t.Fatalf("listed %d times, want %d", v.lists, tc.failures+1)
				}
				if _, err := e.svc.Get(ctx, e.alice, keep.ID); err != nil {
					t.Fatal("sweep removed a live file")
				}
			})
		}
	})
}

// An idempotency key answers its first request for a day: after that a
// request with the key makes a new file, and the sweep removes the key.
func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		key := "nightly-export"
		upload := func(body string) *files.File {
			f, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "export.csv", IdempotencyKey: &key}, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		age := func() {
			if _, err := db.NewRaw("UPDATE idempotency_keys SET created_at = ?", time.Now().Add(-files.IdempotencyWindow-time.Minute)).
				Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		keys := func() (n int) {
			if err := db.NewRaw("SELECT count(*) FROM idempotency_keys").Scan(ctx, &n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		first := upload("a\n1\n")
		if again := upload("a\n1\n"); again.ID != first.ID {
			t.Fatalf("a retry within the day made %s", again.Name)
		}
		age()
		// The next day the key is free again, for any request.
		second := upload("a\n2\n")
		if second.ID == first.ID || second.Name != "export_1.csv" {
			t.Fatalf("the key a day later answered %s %s", second.ID, second.Name)
		}
		if _, err := e.svc.Sweep(ctx, time.Hour); err != nil || keys() != 1 {
			t.Fatalf("the sweep removed a key of today: %d left, %v", keys(), err)
		}
		age()
		if _, err := e.svc.Sweep(ctx, time.Hour); err != nil || keys() != 0 {
			t.Fatalf("the sweep left %d keys older than a day: %v", keys(), err)
		}
	})
}
