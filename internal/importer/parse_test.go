package importer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAsTags(t *testing.T) {
	for in, want := range map[string][]string{
		`["a", "b c", 3]`:          {"a", "b c", "3"},
		`{a,"b c","q\"x",NULL}`:    {"a", "b c", `q"x`},
		`{}`:                       nil,
		`[]`:                       nil,
		``:                         nil,
		`legacy, comma ,separated`: {"legacy", "comma", "separated"},
	} {
		if got := asTags(in); !slices.Equal(got, want) {
			t.Errorf("asTags(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAsTime(t *testing.T) {
	want := time.Date(2023, 1, 2, 10, 0, 0, 123456000, time.UTC)
	for _, in := range []any{
		"2023-01-02T10:00:00.123456Z", "2023-01-02 10:00:00.123456", "2023-01-02 10:00:00.123456+00:00",
		"2023-01-02 12:00:00.123456+02", int64(1672653600123) * 1000 / 1000, want.In(time.FixedZone("x", 3600)),
	} {
		got := asTime(in)
		if _, isInt := in.(int64); isInt {
			if !got.Equal(want.Truncate(time.Millisecond)) {
				t.Errorf("asTime(%v) = %v", in, got)
			}
			continue
		}
		if !got.Equal(want) {
			t.Errorf("asTime(%v) = %v, want %v", in, got, want)
		}
	}
	if got := asTime(int64(1672653600)); !got.Equal(time.Date(2023, 1, 2, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("unix seconds: %v", got)
	}
	if !asTime(nil).IsZero() || !asTime("not a time").IsZero() {
		t.Error("unreadable times must be zero")
	}
}

func TestReadEdgesCSV(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		want []Edge
	}{
		"source,target": {"source,target\na,b\n", []Edge{{Parent: "a", Child: "b"}}},
		"from,to":       {"\ufefffrom,to\n\"a\",b\n", []Edge{{Parent: "a", Child: "b"}}},
		"ids reversed":  {"target_file_id,source_file_id\nb,a\n", []Edge{{Parent: "a", Child: "b"}}},
		"prefixed":      {"a.source,b.target,type\na,b,CUT_FROM\nc,d,\n", []Edge{{Parent: "b", Child: "a"}, {Parent: "c", Child: "d"}}},
		"other type":    {"from,to,relationship_type\na,b,SIMILAR\n", []Edge{{Parent: "a", Child: "b", Kind: "SIMILAR"}}},
		"no header":     {"a,b\nc,d\n", []Edge{{Parent: "a", Child: "b"}, {Parent: "c", Child: "d"}}},
		"neo4j quotes":  {"source,target\n\"\"\"a\"\"\",\"\"\"b\"\"\"\n", []Edge{{Parent: "a", Child: "b"}}},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ReadEdgesCSV(strings.NewReader(tc.in), "x.csv")
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].From = ""
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := ReadEdgesCSV(strings.NewReader("justone\n"), "x.csv"); err == nil {
		t.Error("a one-column file is accepted")
	}
}

func TestNormalizeMetadata(t *testing.T) {
	id := "0b7f4a52-8c39-4a3e-9d0e-0a0000000001"
	for in, want := range map[string][2]string{
		`{"original_file_id": "` + id + `", "x": 1}`:                 {`{"original_file_id": "` + id + `", "x": 1}`, id},
		`"{\"original_file_id\": \"` + id + `\"}"`:                   {`{"original_file_id": "` + id + `"}`, id},
		`{"generated_file_details": {"original_file_id": "nested"}}`: {`{"generated_file_details": {"original_file_id": "nested"}}`, ""},
		`{"original_file_id": 42}`:                                   {`{"original_file_id": 42}`, "42"},
		`not json at all`:                                            {`not json at all`, ""},
		`"just a string"`:                                            {`"just a string"`, ""},
	} {
		text, orig := normalizeMetadata(&in)
		if text == nil || *text != want[0] || orig != want[1] {
			t.Errorf("normalizeMetadata(%s) = %v, %q; want %s, %q", in, text, orig, want[0], want[1])
		}
	}
	for _, in := range []string{"", "null", "  "} {
		if text, _ := normalizeMetadata(&in); text != nil {
			t.Errorf("normalizeMetadata(%q) = %q, want nil", in, *text)
		}
	}
}

func TestFileID(t *testing.T) {
	a, _ := FileID("0B7F4A52-8C39-4A3E-9D0E-0A0000000001")
	b, _ := FileID("0b7f4a528c394a3e9d0e0a0000000001")
	if a != "0b7f4a52-8c39-4a3e-9d0e-0a0000000001" || b != a {
		t.Errorf("UUID spellings map to %q and %q", a, b)
	}
	c, _ := FileID("legacy-17")
	d, _ := FileID(" legacy-17 ")
	if c != d || len(c) != 36 || c == a {
		t.Errorf("a non-UUID id maps to %q and %q", c, d)
	}
	if _, ok := FileID(" "); ok {
		t.Error("an empty id maps to something")
	}
}

// TestDjangoPaths: file_path is found relative to the media folder, under
// its tail when the old absolute folder is gone, and never outside it.
func TestDjangoPaths(t *testing.T) {
	media := t.TempDir()
	os.MkdirAll(filepath.Join(media, "uploads"), 0o700)
	os.WriteFile(filepath.Join(media, "uploads", "a.csv"), []byte("x\n1\n"), 0o600)
	outside := filepath.Join(t.TempDir(), "secret.csv")
	os.WriteFile(outside, []byte("secret\n1\n"), 0o600)
	os.Symlink(outside, filepath.Join(media, "uploads", "link.csv"))
	root, err := os.OpenRoot(media)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	d := &Django{media: root, mediaAbs: media}
	ctx := context.Background()
	for _, p := range []string{"uploads/a.csv", filepath.Join(media, "uploads/a.csv"), "/old/server/media/uploads/a.csv", `uploads\a.csv`} {
		f, err := d.Open(ctx, File{Path: p})
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		f.Close()
	}
	for _, p := range []string{"uploads/missing.csv", "../" + filepath.Base(filepath.Dir(outside)) + "/secret.csv", outside, "uploads/link.csv", "", "uploads"} {
		f, err := d.Open(ctx, File{Path: p})
		if err == nil {
			f.Close()
			t.Errorf("%q opened", p)
			continue
		}
		if !IsPermanent(err) {
			t.Errorf("%q: %v is not permanent", p, err)
		}
	}
}

// TestWorkersSQLDump reads a D1 export in the SQL form wrangler writes.
func TestWorkersSQLDump(t *testing.T) {
	dump := filepath.Join(t.TempDir(), "export.sql")
	os.WriteFile(dump, []byte(`PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT UNIQUE NOT NULL, email TEXT, password_hash TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
INSERT INTO "users" ("id","username","email","password_hash","created_at") VALUES(7,'ada','ada@example.com','`+strings.Repeat("ab", 32)+`','2024-05-01 10:00:00');
CREATE TABLE saved_files (id INTEGER PRIMARY KEY, user_id INTEGER, file_id TEXT, file_name TEXT, file_path TEXT, uploaded_at DATETIME, system_tags TEXT, user_tags TEXT, metadata TEXT);
INSERT INTO "saved_files" VALUES(1,7,'f1','a.csv','uploads/a.csv','2024-05-02 10:00:00','["uploaded"]','["x"]',NULL);
`), 0o600)
	w, err := OpenWorkers(context.Background(), WorkersOptions{D1: dump, BucketURL: "mem://"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	users, err := w.Users(context.Background())
	if err != nil || len(users) != 1 || users[0].Username != "ada" || users[0].OldID != "7" ||
		!users[0].JoinedAt.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("users %+v, %v", users, err)
	}
	list, err := w.Files(context.Background())
	if err != nil || len(list) != 1 || list[0].FileID != "f1" || !slices.Equal(list[0].UserTags, []string{"x"}) || list[0].Metadata != nil {
		t.Fatalf("files %+v, %v", list, err)
	}
	edges, err := w.Edges(context.Background())
	if err != nil || len(edges) != 0 {
		t.Fatalf("edges without file_relationships: %+v, %v", edges, err)
	}
	if _, err := w.Open(context.Background(), list[0]); !IsPermanent(err) {
		t.Errorf("a missing object: %v", err)
	}
}
