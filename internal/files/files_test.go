package files_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

var userSeq atomic.Int64

type env struct {
	db     *database.DB
	bucket *blob.Bucket
	svc    *files.Service
	alice  int64
	bob    int64
}

func newEnv(t testing.TB, db *database.DB, bucketURL string, maxSize int64) *env {
	t.Helper()
	return newEnvWith(t, db, bucketURL, files.Options{MaxFileSize: maxSize})
}

// newEnvWith is newEnv with the service's options.
func newEnvWith(t testing.TB, db *database.DB, bucketURL string, opts files.Options) *env {
	t.Helper()
	ctx := context.Background()
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e := &env{db: db, bucket: b, svc: files.NewService(db, b, opts)}
	e.alice = addUser(t, db, "alice")
	e.bob = addUser(t, db, "bob")
	return e
}

func addUser(t testing.TB, db *database.DB, name string) int64 {
	t.Helper()
	var id int64
	name = fmt.Sprintf("%s-%d", name, userSeq.Add(1))
	err := db.NewRaw("INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, 'x', CURRENT_TIMESTAMP) RETURNING id", name, name).Scan(context.Background(), &id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e *env) upload(t testing.TB, owner int64, name, body string, tags ...string) *files.File {
	t.Helper()
	f, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &owner, Name: name, Tags: tags}, strings.NewReader(body))
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return f
}

func objectCount(t *testing.T, b *blob.Bucket) int {
	t.Helper()
	n := 0
	it := b.List(&blob.ListOptions{Prefix: blobstore.Prefix})
	for {
		_, err := it.Next(context.Background())
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func fileCount(t *testing.T, db *database.DB) int {
	t.Helper()
	n, err := db.NewSelect().Table("files").Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestUploadUnderstandsFile(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		f := e.upload(t, e.alice, "people.csv", "name;age;joined\nAda;36;2024-01-02\nBob;;2023-05-06\n", "team")
		if f.Delimiter != ";" || f.Encoding != "utf-8" || f.RowCount != 2 || f.Size != 50 {
			t.Fatalf("got delimiter %q encoding %q rows %d size %d", f.Delimiter, f.Encoding, f.RowCount, f.Size)
		}
		if len(f.SHA256) != 64 || f.ContentType != "text/csv" || f.Origin != files.OriginUploaded {
			t.Fatalf("bad record: %+v", f)
		}
		got, err := e.svc.Get(context.Background(), e.alice, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Columns()) != 3 || got.Columns()[1].Name != "age" || got.Columns()[1].NullCount != 1 ||
			*got.Columns()[1].Min != "36" || string(got.Columns()[1].Type) != "INTEGER" {
			t.Fatalf("columns = %+v", got.Columns())
		}
		if strings.Join(got.SystemTags, ",") != "uploaded" || strings.Join(got.UserTags, ",") != "team" {
			t.Fatalf("tags = %v %v", got.SystemTags, got.UserTags)
		}
	})
}

func TestUniqueNames(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		var names []string
		for range 3 {
			names = append(names, e.upload(t, e.alice, "../../etc/data.csv", "a\n1\n").Name)
		}
		names = append(names, e.upload(t, e.bob, "data.csv", "a\n1\n").Name)
		want := "data.csv data_1.csv data_2.csv data.csv"
		if strings.Join(names, " ") != want {
			t.Fatalf("names = %v, want %s", names, want)
		}
	})
}

func TestRejectedUploadsLeaveNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 64)
		cases := []struct {
			name, body string
			want       error
		}{
			{"too large", "a,b\n" + strings.Repeat("1,2\n", 40), apperr.ErrTooLarge},
			{"empty", "", apperr.ErrInvalidInput},
			{"binary", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", apperr.ErrInvalidInput},
		}
		for _, c := range cases {
			_, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: "x.csv"}, strings.NewReader(c.body))
			if !errors.Is(err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			}
		}
		if n := objectCount(t, e.bucket); n != 0 {
			t.Fatalf("%d objects left behind", n)
		}
		if n := fileCount(t, db); n != 0 {
			t.Fatalf("%d rows left behind", n)
		}
	})
}

// failingReader delivers some bytes, then runs hook and fails like a
// dropped client connection.
type failingReader struct {
	r    io.Reader
	left int
	hook func()
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		if f.hook != nil {
			f.hook()
		}
		return 0, errors.New("connection reset")
	}
	if len(p) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= n
	return n, err
}

func TestFailuresMidwayLeaveNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		body := "id,v\n" + strings.Repeat("1,abc\n", 10000)
		t.Run("client drops", func(t *testing.T) {
			e := newEnv(t, db, "mem://", 1<<20)
			_, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: "x.csv"},
				&failingReader{r: strings.NewReader(body), left: 30000})
			if err == nil {
				t.Fatal("want an error")
			}
			if objectCount(t, e.bucket) != 0 || fileCount(t, db) != 0 {
				t.Fatal("leftovers after a dropped upload")
			}
		})
		t.Run("bucket fails", func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "blobs")
			e := newEnv(t, db, "file://"+dir, 1<<20)
			// Halfway through, the bucket's folder disappears.
			_, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: "x.csv"},
				io.MultiReader(&failingReader{r: strings.NewReader(body), left: 30000, hook: func() {
					if err := os.RemoveAll(dir); err != nil {
						t.Error(err)
					}
				}}))
			if err == nil {
				t.Fatal("want an error")
			}
			if n := fileCount(t, db); n != 0 {
				t.Fatalf("%d rows left after a bucket failure", n)
			}
		})
		t.Run("request ends mid-transaction", func(t *testing.T) {
			e := newEnv(t, db, "mem://", 1<<20)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The client goes away after the last statement, before the
			// commit: the transaction is rolled back under the upload.
			db.AddQueryHook(&cancelOn{prefix: "INSERT INTO file_tags", cancel: cancel})
			_, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "x.csv", Tags: []string{"a"}}, strings.NewReader(body))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want an error that says the request was cancelled", err)
			}
			if objectCount(t, e.bucket) != 0 || fileCount(t, db) != 0 {
				t.Fatal("leftovers after a cancelled upload")
			}
		})
		t.Run("request ends while the object is finished", func(t *testing.T) {
			e := newEnv(t, db, "file://"+t.TempDir(), 1<<20)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The client goes away right after sending the last byte.
			_, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "x.csv"}, cancelAtEOF{strings.NewReader(body), cancel})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want an error that says the request was cancelled", err)
			}
			if errors.Is(err, apperr.ErrUnavailable) {
				t.Errorf("%v: a client that left is not storage being unavailable", err)
			}
			if objectCount(t, e.bucket) != 0 || fileCount(t, db) != 0 {
				t.Fatal("leftovers after a cancelled upload")
			}
		})
		t.Run("database fails", func(t *testing.T) {
			e := newEnv(t, db, "mem://", 1<<20)
			if _, err := db.ExecContext(context.Background(), "DROP TABLE file_tags"); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: "x.csv"}, strings.NewReader(body))
			if err == nil {
				t.Fatal("want an error")
			}
			if objectCount(t, e.bucket) != 0 || fileCount(t, db) != 0 {
				t.Fatal("leftovers after a database failure")
			}
		})
	})
}

func TestOtherUsersFilesDoNotExist(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		f := e.upload(t, e.alice, "a.csv", "a\n1\n")
		ctx := context.Background()
		checks := map[string]error{}
		_, checks["get"] = e.svc.Get(ctx, e.bob, f.ID)
		_, checks["tags"] = e.svc.UpdateTags(ctx, e.bob, f.ID, files.TagChange{Add: []string{"x"}})
		checks["delete"] = e.svc.Delete(ctx, e.bob, f.ID)
		_, checks["derive"] = e.svc.Derive(ctx, e.bob, files.DeriveInput{SourceID: f.ID, Name: "d.csv"})
		_, checks["parent"] = e.svc.Create(ctx, files.NewFile{OwnerID: &e.bob, Name: "c.csv", ParentIDs: []string{f.ID}}, strings.NewReader("a\n1\n"))
		_, checks["unknown"] = e.svc.Get(ctx, e.alice, "00000000-0000-4000-8000-000000000000")
		_, checks["garbage"] = e.svc.Get(ctx, e.alice, "../../etc/passwd")
		for name, err := range checks {
			if !errors.Is(err, apperr.ErrNotFound) && !(name == "parent" && errors.Is(err, apperr.ErrInvalidInput)) {
				t.Errorf("%s: err = %v, want not found", name, err)
			}
		}
		if m, _ := e.svc.GetMany(ctx, e.bob, []string{f.ID}); len(m) != 0 {
			t.Error("GetMany returned another user's file")
		}
		if p, _ := e.svc.List(ctx, e.bob, files.ListOptions{}); len(p.Files) != 0 {
			t.Error("List returned another user's file")
		}
	})
}

func TestListPagingAndOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		for i, n := range []string{"c.csv", "a.csv", "e.csv", "b.csv", "d.csv"} {
			tags := []string{"all"}
			if i%2 == 0 {
				tags = append(tags, "even")
			}
			e.upload(t, e.alice, n, "x\n"+strings.Repeat("1\n", i+1), tags...)
		}
		walk := func(o files.ListOptions) []string {
			var names []string
			for {
				p, err := e.svc.List(ctx, e.alice, o)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range p.Files {
					names = append(names, f.Name)
				}
				if !p.HasNextPage {
					return names
				}
				o.After = p.Cursor(len(p.Files) - 1)
			}
		}
		cases := []struct {
			name string
			o    files.ListOptions
			want string
		}{
			{"newest first", files.ListOptions{First: 2, Desc: true}, "d.csv b.csv e.csv a.csv c.csv"},
			{"name asc", files.ListOptions{First: 2, Order: files.OrderName}, "a.csv b.csv c.csv d.csv e.csv"},
			{"size desc", files.ListOptions{First: 3, Order: files.OrderSize, Desc: true}, "d.csv b.csv e.csv a.csv c.csv"},
			{"tag filter", files.ListOptions{First: 1, Order: files.OrderName, Filter: files.Filter{Tags: []string{"all", "even"}}}, "c.csv d.csv e.csv"},
			{"name contains", files.ListOptions{Filter: files.Filter{NameContains: "B."}}, "b.csv"},
		}
		for _, c := range cases {
			if got := strings.Join(walk(c.o), " "); got != c.want {
				t.Errorf("%s: got %s, want %s", c.name, got, c.want)
			}
		}
		// Backward from the end: last 2 before nothing.
		p, err := e.svc.List(ctx, e.alice, files.ListOptions{Last: 2, Order: files.OrderName})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Files) != 2 || p.Files[0].Name != "d.csv" || p.Files[1].Name != "e.csv" || !p.HasPreviousPage {
			t.Fatalf("last 2 = %v", p.Files)
		}
		if n, _ := e.svc.Count(ctx, e.alice, files.Filter{Tags: []string{"even"}}); n != 3 {
			t.Fatalf("count = %d", n)
		}
		if _, err := e.svc.List(ctx, e.alice, files.ListOptions{After: "bogus"}); !errors.Is(err, apperr.ErrInvalidInput) {
			t.Fatalf("bogus cursor: %v", err)
		}
	})
}

func TestTagsAndDelete(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		f := e.upload(t, e.alice, "a.csv", "a\n1\n", "one")
		f, err := e.svc.UpdateTags(ctx, e.alice, f.ID, files.TagChange{Add: []string{" two ", "two", "three"}, Remove: []string{"one"}})
		if err != nil || strings.Join(f.UserTags, ",") != "two,three" {
			t.Fatalf("tags = %v, %v", f.UserTags, err)
		}
		for tag, want := range map[string]int{"one": 0, "two": 1, "three": 1} {
			if n, err := e.svc.Count(ctx, e.alice, files.Filter{Tags: []string{tag}}); err != nil || n != want {
				t.Errorf("files tagged %q: %d, %v; want %d", tag, n, err, want)
			}
		}
		for _, bad := range []files.TagChange{
			{Add: []string{"uploaded"}},
			{Add: []string{strings.Repeat("x", 65)}},
			{Replace: true, Set: manyTags(51)},
		} {
			if _, err := e.svc.UpdateTags(ctx, e.alice, f.ID, bad); !errors.Is(err, apperr.ErrInvalidInput) {
				t.Errorf("UpdateTags(%v) = %v, want invalid", bad.Add, err)
			}
		}
		if err := e.svc.Delete(ctx, e.alice, f.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(ctx, e.alice, f.ID); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := e.svc.Get(ctx, e.alice, f.ID); !errors.Is(err, apperr.ErrNotFound) {
			t.Fatal("deleted file still readable")
		}
		m, _ := e.svc.GetMany(ctx, e.alice, []string{f.ID})
		if m[f.ID] == nil || !m[f.ID].Deleted() || m[f.ID].Name != "a.csv" {
			t.Fatal("tombstone missing")
		}
		if objectCount(t, e.bucket) != 0 {
			t.Fatal("bytes of a deleted file remain")
		}
	})
}

func TestRowsCutAndDerive(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		src := e.upload(t, e.alice, "people.csv", "name,age,city\nAda,36,NYC\nBob,17,LA\n\"Cy, Jr\",45,SF\nDee,,NYC\n")
		where, err := filter.ParseSQL("age >= 18 AND city IN ('NYC', 'SF')")
		if err != nil {
			t.Fatal(err)
		}
		sel, err := files.Select(src, []string{"city", "NAME"}, where)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := e.svc.Cut(ctx, src, sel, &buf); err != nil {
			t.Fatal(err)
		}
		if want := "city,name\nNYC,Ada\nSF,\"Cy, Jr\"\n"; buf.String() != want {
			t.Fatalf("cut = %q, want %q", buf.String(), want)
		}
		page, err := e.svc.Rows(ctx, src, sel, 1, "")
		if err != nil || len(page.Rows) != 1 || !page.HasNextPage || *page.Rows[0].Values[1] != "Ada" {
			t.Fatalf("rows page 1 = %+v, %v", page, err)
		}
		page, err = e.svc.Rows(ctx, src, sel, 5, files.RowCursor(page.Rows[0].Index))
		if err != nil || len(page.Rows) != 1 || page.HasNextPage || page.Rows[0].Index != 2 {
			t.Fatalf("rows page 2 = %+v, %v", page, err)
		}
		all, _ := files.Select(src, nil, nil)
		page, _ = e.svc.Rows(ctx, src, all, 10, "")
		if len(page.Rows) != 4 || page.Rows[3].Values[1] != nil {
			t.Fatalf("empty cell should be nil: %+v", page.Rows[3])
		}
		if _, err := files.Select(src, []string{"nope"}, nil); !errors.Is(err, apperr.ErrInvalidInput) {
			t.Fatalf("unknown column: %v", err)
		}
		bad, _ := filter.ParseSQL("agee > 3")
		if _, err := files.Select(src, nil, bad); !errors.Is(err, apperr.ErrInvalidInput) || !strings.Contains(err.Error(), "agee") {
			t.Fatalf("unknown filter column: %v", err)
		}

		d, err := e.svc.Derive(ctx, e.alice, files.DeriveInput{SourceID: src.ID, Name: "adults.csv", Columns: []string{"city", "name"}, Where: where, Tags: []string{"cut"}})
		if err != nil {
			t.Fatal(err)
		}
		if d.Origin != files.OriginGenerated || d.RowCount != 2 || strings.Join(d.SystemTags, ",") != "generated" {
			t.Fatalf("derived = %+v", d)
		}
		data, _ := e.bucket.ReadAll(ctx, *d.ObjectKey)
		if string(data) != buf.String() {
			t.Fatalf("derived bytes %q differ from the cut %q", data, buf.String())
		}
		der, err := e.svc.LoadDerivation(ctx, e.alice, d.ID)
		if err != nil || der == nil || der.SourceIDs[0] != src.ID || strings.Join(der.Columns, ",") != "city,name" || der.FilterSQL == "" {
			t.Fatalf("derivation = %+v, %v", der, err)
		}
		// Re-running the recorded derivation gives the same bytes.
		again, err := filter.ParseSQL(der.FilterSQL)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := e.svc.Derive(ctx, e.alice, files.DeriveInput{SourceID: src.ID, Name: "again.csv", Columns: der.Columns, Where: again})
		if err != nil || d2.SHA256 != d.SHA256 {
			t.Fatalf("re-run differs: %v", err)
		}
	})
}

func TestSweepRemovesOrphansAndExpired(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		keep := e.upload(t, e.alice, "keep.csv", "a\n1\n")
		if err := e.bucket.WriteAll(ctx, blobstore.Key("orphan"), []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		past := keep.CreatedAt.Add(-1)
		if _, err := e.svc.Create(ctx, files.NewFile{Name: "s.csv", ExpiresAt: &past}, strings.NewReader("a\n1\n")); err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.Sweep(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 || objectCount(t, e.bucket) != 1 || fileCount(t, db) != 1 {
			t.Fatalf("swept %d; %d objects and %d rows remain", n, objectCount(t, e.bucket), fileCount(t, db))
		}
		if _, err := e.svc.Get(ctx, e.alice, keep.ID); err != nil {
			t.Fatal("sweep removed a live file")
		}
	})
}

func manyTags(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("tag%d", i)
	}
	return out
}

// cancelAtEOF cancels a context when its reader is exhausted.
type cancelAtEOF struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.cancel()
	}
	return n, err
}

// cancelOn cancels a context once a statement starting with prefix has
// run, and gives database/sql the moment it takes to roll the transaction
// back, so that the commit finds it gone.
type cancelOn struct {
	prefix string
	cancel context.CancelFunc
}

func (c *cancelOn) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (c *cancelOn) AfterQuery(_ context.Context, ev *bun.QueryEvent) {
	if strings.HasPrefix(ev.Query, c.prefix) {
		c.cancel()
		time.Sleep(20 * time.Millisecond)
	}
}

// A light listing holds the same files with the same fields, less the
// profile and the metadata, and its rows cannot be asked for those: the
// light types have no such fields or methods, so such a call does not
// compile.
func TestLightListing(t *testing.T) {
	for _, c := range []struct {
		typ     reflect.Type
		missing []string
	}{
		{reflect.TypeFor[*files.Summary](), []string{"Columns", "Metadata", "MetadataJSON", "Profile"}},
		{reflect.TypeFor[*files.Annotated](), []string{"Columns", "Profile"}},
	} {
		for _, name := range c.missing {
			_, method := c.typ.MethodByName(name)
			_, field := c.typ.Elem().FieldByName(name)
			if method || field {
				t.Errorf("%s has %s: a light row could be asked for what it did not read", c.typ, name)
			}
		}
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		meta := `{"k":1}`
		for _, name := range []string{"a.csv", "b.csv"} {
			if _, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: name, Tags: []string{"t"}, Metadata: &meta},
				strings.NewReader("x,y\n1,2\n")); err != nil {
				t.Fatal(err)
			}
		}
		full, err := e.svc.List(ctx, e.alice, files.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		light, err := e.svc.ListSummaries(ctx, e.alice, files.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Files) != 2 || len(light.Files) != 2 {
			t.Fatalf("%d and %d files", len(full.Files), len(light.Files))
		}
		for i, f := range full.Files {
			l := light.Files[i]
			if l.ID != f.ID || l.Name != f.Name || l.Size != f.Size || l.RowCount != f.RowCount || !l.CreatedAt.Equal(f.CreatedAt) ||
				strings.Join(l.UserTags, ",") != strings.Join(f.UserTags, ",") || light.Cursor(i) != full.Cursor(i) {
				t.Errorf("file %d: light %+v, full %+v", i, l, f)
			}
			if len(f.Columns()) != 2 || f.Metadata() == nil {
				t.Errorf("full listing: columns %v, metadata %v", f.Columns(), f.Metadata())
			}
		}
		withMeta, err := e.svc.ListAnnotated(ctx, e.alice, files.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range withMeta.Files {
			if f.ID != full.Files[i].ID || f.MetadataJSON == nil || *f.MetadataJSON != meta || f.Metadata() == nil ||
				withMeta.Cursor(i) != full.Cursor(i) {
				t.Errorf("light listing with metadata, file %d: %+v", i, f)
			}
		}
		sums, err := e.svc.GetSummaries(ctx, e.alice, []string{full.Files[0].ID, full.Files[1].ID})
		if err != nil || len(sums) != 2 || sums[full.Files[0].ID].Name != full.Files[0].Name {
			t.Errorf("GetSummaries: %v, %v", sums, err)
		}
	})
}

// A tag filter is one condition whatever its number of tags: its
// listings are prepared once, not once per number of tags.
func TestTagListingsShareTheirStatements(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		if _, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "a.csv", Tags: []string{"t0", "t1", "t2"}},
			strings.NewReader("x\n1\n")); err != nil {
			t.Fatal(err)
		}
		kept := -1
		var tags []string
		for i := range 3 {
			tags = append(tags, fmt.Sprintf("t%d", i))
			p, err := e.svc.List(ctx, e.alice, files.ListOptions{Filter: files.Filter{Tags: tags}})
			if err != nil || len(p.Files) != 1 {
				t.Fatalf("%d tags: %v, %v", len(tags), p, err)
			}
			if n, err := e.svc.Count(ctx, e.alice, files.Filter{Tags: tags}); err != nil || n != 1 {
				t.Fatalf("count with %d tags: %d, %v", len(tags), n, err)
			}
			if kept < 0 {
				kept = db.Prepared().Len()
			}
		}
		if n := db.Prepared().Len(); n != kept {
			t.Fatalf("%d statements prepared after listings of 1 to 3 tags, %d after 1", n, kept)
		}
	})
}

// An anonymous scratch file has no lineage: asking for parents is bad
// input, answered before anything is written, not a crash.
func TestAnonymousFileWithParents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		parent := e.upload(t, e.alice, "p.csv", "a\n1\n")
		soon := time.Now().Add(time.Hour)
		_, err := e.svc.Create(context.Background(), files.NewFile{Name: "s.csv", ExpiresAt: &soon, ParentIDs: []string{parent.ID}},
			strings.NewReader("a\n1\n"))
		var inv *apperr.InvalidError
		if !errors.As(err, &inv) || inv.Field != "parentIds" {
			t.Fatalf("got %v, want a BAD_USER_INPUT error on parentIds", err)
		}
		if n := fileCount(t, db); n != 1 {
			t.Fatalf("%d files after the refused upload, want the parent only", n)
		}
		if objectCount(t, e.bucket) != 1 {
			t.Fatal("the refused upload left an object")
		}
	})
}

// The rules of a saved generated file live in the feature: it names a
// parent, and metadata is stored as JSON however it arrived.
func TestSaveGeneratedRules(t *testing.T) {
	for in, want := range map[string]string{`{"a":1}`: `{"a":1}`, `just text`: `"just text"`, `[1, 2]`: `[1, 2]`, "  ": "<nil>"} {
		got := "<nil>"
		if s := files.MetadataText(in); s != nil {
			got = *s
		}
		if got != want {
			t.Errorf("MetadataText(%q) = %s, want %s", in, got, want)
		}
	}
	if s, err := files.MetadataOf(map[string]any{"k": []any{1.0, "x"}}); err != nil || *s != `{"k":[1,"x"]}` {
		t.Errorf("MetadataOf: %v, %v", s, err)
	}
	if s, err := files.MetadataOf(nil); s != nil || err != nil {
		t.Errorf("MetadataOf(nil): %v, %v", s, err)
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		_, err := e.svc.SaveGenerated(context.Background(), e.alice, "g.csv", nil, nil, nil, strings.NewReader("a\n1\n"))
		var inv *apperr.InvalidError
		if !errors.As(err, &inv) || inv.Field != files.FieldParents {
			t.Fatalf("no parents: %v, want a %s error", err, files.FieldParents)
		}
		parent := e.upload(t, e.alice, "p.csv", "a\n1\n")
		f, err := e.svc.SaveGenerated(context.Background(), e.alice, "g.csv", []string{parent.ID}, files.MetadataText("note"), nil, strings.NewReader("a\n1\n"))
		if err != nil || f.Origin != files.OriginGenerated || f.MetadataJSON == nil || *f.MetadataJSON != `"note"` {
			t.Fatalf("saved %+v, %v", f, err)
		}
	})
}
