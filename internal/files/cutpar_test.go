package files_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

// cutFile is a file to cut in the tests below, with the encoding to
// state on upload ("": let the upload decide).
type cutFile struct {
	name, encoding string
	data           []byte
}

// cutFixtures are the CSV files of csvio's testdata.
func cutFixtures(t *testing.T) []cutFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "csvio", "testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []cutFile
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cutFile{name: filepath.Base(p), data: b})
	}
	if len(out) < 20 {
		t.Fatalf("found %d fixtures", len(out))
	}
	return out
}

// randomCutFile makes a file whose parts are likely to begin at awkward
// places: quoted fields with line breaks (often right at a part's edge
// when parts are a few bytes), doubled and stray quotes, LF, CRLF or
// CR-only records, blank lines, short and long rows, and bytes of the
// given encoding.
func randomCutFile(rng *rand.Rand, i int) cutFile {
	encodings := []string{"", "windows-1252", "macintosh", "utf-8"}
	enc := encodings[i%len(encodings)]
	ends := []string{"\n", "\r\n", "\r"}
	end := ends[rng.IntN(len(ends))]
	if enc == "macintosh" {
		end = "\r"
	}
	delim := []string{",", ";", "\t", "|"}[rng.IntN(4)]
	cells := []string{"1", "22", "-3.5", "x", "", "\"q\"", "\"a" + end + "b\"", "\"x\"\"y\"", "\"s\"t", "a\"b", "\"\"", "2024-01-02", "true",
		"\"" + delim + "\"", " sp", "\"" + strings.Repeat("long"+end, 8) + "\""}
	switch enc {
	case "windows-1252", "macintosh":
		cells = append(cells, "caf\xe9", "\xd5\xd2")
	default:
		cells = append(cells, "caf\u00e9", "\u2019")
	}
	var b bytes.Buffer
	if rng.IntN(5) == 0 && enc != "windows-1252" && enc != "macintosh" {
		b.WriteString("\ufeff")
	}
	width := 1 + rng.IntN(5)
	for c := 0; c < width; c++ {
		if c > 0 {
			b.WriteString(delim)
		}
		fmt.Fprintf(&b, "c%d", c)
	}
	b.WriteString(end)
	for r := 0; r < 20+rng.IntN(200); r++ {
		if rng.IntN(15) == 0 {
			b.WriteString(end) // a blank line
		}
		n := width
		switch rng.IntN(8) {
		case 0:
			n = 1 + rng.IntN(width)
		case 1:
			n = width + 1 + rng.IntN(2)
		}
		for c := 0; c < n; c++ {
			if c > 0 {
				b.WriteString(delim)
			}
			b.WriteString(cells[rng.IntN(len(cells))])
		}
		if rng.IntN(40) != 0 {
			b.WriteString(end)
		}
	}
	return cutFile{name: fmt.Sprintf("random%d.csv", i), encoding: enc, data: b.Bytes()}
}

// cutSelections are the selections each file is cut with: every column,
// and the last and first columns of the rows whose first cell is set.
func cutSelections(t *testing.T, f *files.File) []*files.Selection {
	t.Helper()
	all, err := files.Select(f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sels := []*files.Selection{all}
	cols := f.Columns()
	if len(cols) > 0 {
		where, err := filter.ParseSQL(`"` + strings.ReplaceAll(cols[0].Name, `"`, `""`) + `" IS NOT NULL`)
		if err != nil {
			t.Fatal(err)
		}
		some, err := files.Select(f, []string{cols[len(cols)-1].Name, cols[0].Name}, where)
		if err != nil {
			t.Fatal(err)
		}
		sels = append(sels, some)
	}
	return sels
}

// TestParallelCutIsTheCut cuts every fixture of csvio's testdata and random
// files with one worker and with several, in parts of a few bytes to a few
// hundred: the bytes, the row count and the error must be the same.
func TestParallelCutIsTheCut(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 9))
	inputs := cutFixtures(t)
	for i := 0; i < 60; i++ {
		inputs = append(inputs, randomCutFile(rng, i))
	}
	for _, bucket := range []string{"mem://", "file://" + t.TempDir()} {
		e := newEnvWith(t, dbtest.SQLite(t), bucket, files.Options{MaxFileSize: 1 << 20})
		db := e.db
		type many struct {
			svc     *files.Service
			workers int
			chunk   int64
		}
		var services []many
		for _, w := range []int{2, 3} {
			for _, chunk := range []int64{1, 7, 64, 500} {
				svc := files.NewService(db, e.bucket, files.Options{MaxFileSize: 1 << 20, CutWorkers: w})
				// Scans of a few bytes often only guess a boundary.
				files.SetCutChunk(svc, chunk, 1+chunk%20)
				services = append(services, many{svc: svc, workers: w, chunk: chunk})
			}
		}
		cuts := 0
		for _, in := range inputs {
			f, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: in.name, Encoding: in.encoding}, bytes.NewReader(in.data))
			if err != nil {
				// Binary fixtures and the like are refused at upload.
				continue
			}
			for _, unverified := range []bool{false, true} {
				if unverified {
					// As a file stored before stray quotes were repaired.
					f.ReadIssues = nil
				}
				for si, sel := range cutSelections(t, f) {
					var want bytes.Buffer
					wantRows, wantErr := e.svc.Cut(context.Background(), f, sel, &want)
					for _, m := range services {
						var got bytes.Buffer
						rows, err := m.svc.Cut(context.Background(), f, sel, &got)
						if fmt.Sprint(err) != fmt.Sprint(wantErr) || rows != wantRows || !bytes.Equal(got.Bytes(), want.Bytes()) {
							t.Fatalf("%s (%s, %s, unverified %v) selection %d, %d workers, parts of %d bytes:\n got %d rows, %v, %q\nwant %d rows, %v, %q",
								in.name, bucket, f.Encoding, unverified, si, m.workers, m.chunk, rows, err, got.Bytes(), wantRows, wantErr, want.Bytes())
						}
						cuts++
					}
				}
			}
		}
		if cuts < 1000 {
			t.Fatalf("only %d cuts compared", cuts)
		}
	}
}

// TestParallelDeriveIsTheDerive saves cuts with one worker and with
// several on both databases: the new files' bytes and their row
// provenance (which source row each row came from) must be the same.
func TestParallelDeriveIsTheDerive(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnvWith(t, db, "mem://", files.Options{MaxFileSize: 1 << 20})
		svc := files.NewService(db, e.bucket, files.Options{MaxFileSize: 1 << 20, CutWorkers: 2})
		files.SetCutChunk(svc, 37, 8)
		rng := rand.New(rand.NewPCG(4, 4))
		for i := 0; i < 8; i++ {
			in := randomCutFile(rng, i)
			src, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: in.name, Encoding: in.encoding}, bytes.NewReader(in.data))
			if err != nil {
				t.Fatal(err)
			}
			cols := src.Columns()
			where, err := filter.ParseSQL(`"` + cols[0].Name + `" IS NOT NULL`)
			if err != nil {
				t.Fatal(err)
			}
			var derived [2]*files.File
			for k, s := range []*files.Service{e.svc, svc} {
				derived[k], err = s.Derive(context.Background(), e.alice, files.DeriveInput{SourceID: src.ID, Name: fmt.Sprintf("cut%d.csv", k), Where: where})
				if err != nil {
					t.Fatal(err)
				}
			}
			if derived[0].SHA256 != derived[1].SHA256 || derived[0].RowCount != derived[1].RowCount {
				t.Fatalf("%s: derived %s (%d rows) and %s (%d rows)", in.name, derived[0].SHA256, derived[0].RowCount, derived[1].SHA256, derived[1].RowCount)
			}
			var prov [2]*files.Provenance
			for k, f := range derived {
				if prov[k], err = e.svc.Provenance(context.Background(), e.alice, f); err != nil || prov[k] == nil {
					t.Fatalf("provenance of %s: %v", f.Name, err)
				}
			}
			for r := int64(0); r <= derived[0].RowCount; r++ {
				a, okA, errA := prov[0].Source(r)
				b, okB, errB := prov[1].Source(r)
				if a != b || okA != okB || errA != nil || errB != nil {
					t.Fatalf("%s: row %d came from %d (%v, %v) with one worker, %d (%v, %v) with two", in.name, r, a, okA, errA, b, okB, errB)
				}
			}
		}
	})
}

// TestParallelCutFallsBack checks the cases the parallel cut hands to one
// core: a part whose start was guessed inside a quoted field, and a file
// whose encoding cannot be split (UTF-16).
func TestParallelCutFallsBack(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, dbtest.SQLite(t), "mem://", files.Options{MaxFileSize: 1 << 20})
	svc := files.NewService(e.db, e.bucket, files.Options{MaxFileSize: 1 << 20, CutWorkers: 2})
	files.SetCutChunk(svc, 64, 16)
	// Quoted fields of many lines without a quote inside, longer than a
	// scan: every boundary scan that starts inside one guesses wrong.
	var b strings.Builder
	b.WriteString("id,text\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "%d,\"%s\"\n", i, strings.Repeat(fmt.Sprintf("line %d\n", i), 20))
	}
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range "a,b\n1,2\n3,\"x\ny\"\n" {
		utf16 = append(utf16, byte(r), 0)
	}
	for _, in := range []cutFile{{name: "multiline.csv", data: []byte(b.String())}, {name: "utf16.csv", data: utf16}} {
		f, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: in.name}, bytes.NewReader(in.data))
		if err != nil {
			t.Fatal(err)
		}
		sel, err := files.Select(f, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want, got bytes.Buffer
		wantRows, err := e.svc.Cut(context.Background(), f, sel, &want)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := svc.Cut(context.Background(), f, sel, &got)
		if err != nil || rows != wantRows || !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("%s: %d rows, %v, %d bytes; want %d rows, %d bytes", in.name, rows, err, got.Len(), wantRows, want.Len())
		}
	}
}

// TestParallelCutErrors: a cut that fails fails the same way with several
// workers, and a cancelled one stops.
func TestParallelCutErrors(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, dbtest.SQLite(t), "mem://", files.Options{MaxFileSize: 1 << 20})
	svc := files.NewService(e.db, e.bucket, files.Options{MaxFileSize: 1 << 20, CutWorkers: 2})
	files.SetCutChunk(svc, 100, 64)
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "%d,x\n", i)
	}
	f := e.upload(t, e.alice, "rows.csv", b.String())
	sel, err := files.Select(f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The output stops taking bytes.
	boom := errors.New("client gone")
	for _, s := range []*files.Service{e.svc, svc} {
		if _, err := s.Cut(context.Background(), f, sel, &failingWriter{after: 5000, err: boom}); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := svc.Cut(ctx, f, sel, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled cut: %v", err)
	}
	// The object is gone: both cuts say the bucket failed.
	if err := e.bucket.Delete(context.Background(), *f.ObjectKey); err != nil {
		t.Fatal(err)
	}
	_, want := e.svc.Cut(context.Background(), f, sel, &bytes.Buffer{})
	_, got := svc.Cut(context.Background(), f, sel, &bytes.Buffer{})
	if want == nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("missing object: %v, want %v", got, want)
	}
}

// failingWriter takes after bytes, then fails with err.
type failingWriter struct {
	after int
	err   error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.after {
		n := w.after
		w.after = 0
		return n, w.err
	}
	w.after -= len(p)
	return len(p), nil
}

// TestParallelCutLongRecord: a quote that never closes makes the reader
// take a record of more than 16 MiB again with its quotes literal. The
// parts around it cannot vouch for their records, and the cut goes on on
// one core from the part it starts in: the bytes are the one-core cut's.
func TestParallelCutLongRecord(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, dbtest.SQLite(t), "mem://", files.Options{MaxFileSize: 64 << 20})
	svc := files.NewService(e.db, e.bucket, files.Options{MaxFileSize: 64 << 20, CutWorkers: 2})
	files.SetCutChunk(svc, 1<<20, 4<<10)
	var b bytes.Buffer
	b.WriteString("id,text\n")
	for i := 0; b.Len() < 3<<20; i++ {
		fmt.Fprintf(&b, "%d,\"row %d\"\n", i, i)
	}
	b.WriteString("open,\"never closed\n")
	for b.Len() < 21<<20 {
		b.WriteString("x,y\n")
	}
	for i := 0; b.Len() < 24<<20; i++ {
		fmt.Fprintf(&b, "%d,after\n", i)
	}
	f, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: "long.csv"}, bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if f.ReadIssues == nil || f.ReadIssues.RepairedRows == 0 {
		t.Fatalf("the long record was not repaired: %+v", f.ReadIssues)
	}
	sel, err := files.Select(f, []string{"text", "id"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want, got bytes.Buffer
	wantRows, err := e.svc.Cut(context.Background(), f, sel, &want)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := svc.Cut(context.Background(), f, sel, &got)
	if err != nil || rows != wantRows || !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("%d rows, %v, %d bytes; want %d rows, %d bytes", rows, err, got.Len(), wantRows, want.Len())
	}
}
