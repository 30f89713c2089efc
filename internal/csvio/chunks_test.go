package csvio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// mergeBoth profiles records with Add, one after the other, and again in
// parts of random lengths, each by a Profiler of its own (through
// addBatch), merged in order; it fails unless every reading of the two
// profiles (each candidate encoding) is the same.
func mergeBoth(t *testing.T, rng *rand.Rand, header []string, records [][]string, grow, eightBit bool) {
	t.Helper()
	newProfiler := func() *Profiler {
		p := NewProfiler(header)
		p.grow, p.eightBit, p.maybeHigh = grow, eightBit, eightBit
		return p
	}
	one, merged := newProfiler(), newProfiler()
	for _, r := range records {
		one.Add(r)
	}
	b := &batch{}
	for rest := records; len(rest) > 0 || rng.IntN(4) == 0; {
		n := rng.IntN(len(rest) + 1)
		part := newProfiler()
		b.reset()
		for _, r := range rest[:n] {
			b.add(r, nil)
		}
		b.seal()
		part.addBatch(b)
		merged.merge(part)
		rest = rest[n:]
	}
	if one.Rows() != merged.Rows() {
		t.Fatalf("rows: Add %d, merged %d", one.Rows(), merged.Rows())
	}
	if len(merged.names) != len(one.names) {
		t.Fatalf("columns: Add %d, merged %d", len(one.names), len(merged.names))
	}
	names := make([]string, len(one.names))
	for i := range names {
		names[i] = "c" + strconv.Itoa(i)
	}
	for _, table := range []*byteTable{nil, &windows1252, &macintosh} {
		a, m := one.columns(names, table), merged.columns(names, table)
		for i := range a {
			if !reflect.DeepEqual(a[i], m[i]) {
				t.Fatalf("column %d differs:\nAdd    %+v %v %v\nmerged %+v %v %v", i, a[i], deref(a[i].Min), deref(a[i].Max), m[i], deref(m[i].Min), deref(m[i].Max))
			}
		}
	}
}

// TestMergeIsProfile: the merge of the profiles of consecutive parts of a
// file is the profile of the whole, on random records of every type
// (equal values spelt differently, columns that change type, short and
// long records, bytes above 0x7F in three byte orders).
func TestMergeIsProfile(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 17))
	for round := range 400 {
		width := 1 + rng.IntN(8)
		styles := make([]int, width+3)
		for i := range styles {
			styles[i] = rng.IntN(12)
		}
		records := make([][]string, rng.IntN(300))
		for r := range records {
			n := width
			if rng.IntN(10) == 0 {
				n = rng.IntN(width + 4)
			}
			rec := make([]string, n)
			for i := range rec {
				rec[i] = randomCell(rng, styles[i])
			}
			records[r] = rec
		}
		mergeBoth(t, rng, make([]string, width), records, round%2 == 0, round%3 != 0)
	}
}

// TestMergeIsProfileOnFixtures does the same over the records of every
// CSV file in testdata.
func TestMergeIsProfileOnFixtures(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	rng := rand.New(rand.NewPCG(4, 6))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Sniff(data)
		if err != nil {
			continue
		}
		rd := newReader(bytes.NewReader(data), d)
		rd.grow = true
		if _, err := rd.Header(); err != nil {
			continue
		}
		var records [][]string
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			records = append(records, append([]string(nil), rec...))
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			for range 5 {
				mergeBoth(t, rng, rd.raw, records, true, true)
				mergeBoth(t, rng, rd.raw, records, false, false)
			}
		})
	}
}

// hardCSV returns the bytes of a CSV file that is hard to cut: quoted
// fields with line breaks and doubled quotes, stray quotes after and
// inside fields, CRLF, lone CR and blank lines, rows shorter and longer
// than the header, bytes above 0x7F (UTF-8 or not), now and then a BOM,
// an open quote at the end or no line break after the last record.
func hardCSV(rng *rand.Rand, rows int) []byte {
	var b bytes.Buffer
	if rng.IntN(8) == 0 {
		b.Write(bomUTF8)
	}
	delim := byte(",;\t|"[rng.IntN(4)])
	if rng.IntN(2) == 0 {
		delim = ','
	}
	eols := []string{"\n", "\r\n", "\n", "\r"}
	eol := eols[rng.IntN(4)]
	mixed := rng.IntN(4) == 0 // line breaks of every kind
	width := 1 + rng.IntN(6)
	styles := make([]int, width+3)
	for i := range styles {
		styles[i] = rng.IntN(12)
	}
	high := rng.IntN(3)
	for r := 0; r <= rows; r++ {
		if mixed {
			eol = eols[rng.IntN(4)]
		}
		n := width
		if r > 0 && rng.IntN(8) == 0 {
			n = rng.IntN(width + 4)
		}
		for i := range n {
			if i > 0 {
				b.WriteByte(delim)
			}
			var cell string
			switch k := rng.IntN(20); {
			case r == 0:
				cell = "h" + strconv.Itoa(i)
			case k == 0:
				cell = `"multi` + eol + `line ""quoted"" ` + string(delim) + ` cell"`
			case k == 1:
				cell = `"x"y` // a stray quote after a quoted part
			case k == 2:
				cell = `a"b"c` // quotes inside an unquoted field
			case k == 3:
				cell = `"` + eol + `"`
			case k == 4:
				cell = []string{"caf\xc3\xa9", "caf\xe9", "\xd5"}[high]
			case k == 5:
				cell = `""`
			default:
				cell = randomCell(rng, styles[i])
				if strings.ContainsAny(cell, "\"\r\n"+string(delim)) {
					cell = `"` + strings.ReplaceAll(cell, `"`, `""`) + `"`
				}
			}
			b.WriteString(cell)
		}
		if r < rows || rng.IntN(2) == 0 {
			b.WriteString(eol)
		}
		if rng.IntN(30) == 0 {
			b.WriteString(eol) // a blank line
		}
	}
	if rng.IntN(20) == 0 {
		b.WriteString(`"open` + eol + `to the end`)
	}
	return b.Bytes()
}

// pieces reads r in random small pieces, so that quotes, CRLF and
// records are cut between reads.
type pieces struct {
	r   io.Reader
	rng *rand.Rand
}

func (p *pieces) Read(b []byte) (int, error) {
	return p.r.Read(b[:min(len(b), 1+p.rng.IntN(300))])
}

// sameAnalysis fails unless data analysed by one reader and cut in chunks
// of size bytes for workers gives the same summary or the same error; it
// returns how many chunks were cut.
func sameAnalysis(t *testing.T, name string, data []byte, lim Limits, workers, size int, rng *rand.Rand) int {
	t.Helper()
	want, _, wantErr := analyze(bytes.NewReader(data), "", lim, chunking{workers: 1})
	var src io.Reader = bytes.NewReader(data)
	if rng != nil {
		src = &pieces{src, rng}
	}
	got, chunks, err := analyze(src, "", lim, chunking{workers: workers, size: size})
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s (chunks of %d): error %v, one reader: %v", name, size, err, wantErr)
	}
	var wide, wantWide *TooManyColumnsError
	if errors.As(err, &wide) != errors.As(wantErr, &wantWide) || (wide != nil && *wide != *wantWide) {
		t.Fatalf("%s (chunks of %d): error %#v, one reader: %#v", name, size, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s (chunks of %d, %d cut):\n got %+v\nwant %+v", name, size, chunks, got, want)
	}
	return chunks
}

// TestChunkedAnalyzeIsAnalyze: Analyze cut in chunks for several workers
// gives exactly what one reader gives (summary, profile, counts, errors
// and their line numbers), on every fixture and on random files made to be
// hard to cut, in chunks of many sizes and read in random pieces.
func TestChunkedAnalyzeIsAnalyze(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	rng := rand.New(rand.NewPCG(21, 34))
	chunks := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, size := range []int{1, 7, 64, 1000} {
			chunks += sameAnalysis(t, filepath.Base(path), data, Limits{}, 2, size, nil)
			chunks += sameAnalysis(t, filepath.Base(path), data, Limits{MaxColumns: 3}, 3, size, rng)
		}
	}
	for round := range 300 {
		data := hardCSV(rng, rng.IntN(200))
		name := "random " + strconv.Itoa(round)
		for _, size := range []int{1 + rng.IntN(20), 50 + rng.IntN(500), 4096} {
			chunks += sameAnalysis(t, name, data, Limits{}, 2, size, nil)
			chunks += sameAnalysis(t, name, data, Limits{MaxColumns: 4}, 2, size, rng)
		}
	}
	// Files larger than the reader's first read, in pieces: the cutting
	// goes on as the bytes arrive.
	for round := range 4 {
		data := hardCSV(rng, 6000)
		chunks += sameAnalysis(t, "large "+strconv.Itoa(round), data, Limits{}, 2, 16<<10, rng)
	}
	if chunks < 1000 {
		t.Fatalf("only %d chunks cut: the test does not exercise the cutting", chunks)
	}
}

// TestChunkedAnalyzeLongRecord: a record longer than a chunk (a quote
// that does not close for 5 MiB) ends the cutting, and one reader reads
// the rest as it always did.
func TestChunkedAnalyzeLongRecord(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("a,b\n")
	for i := range 2000 {
		b.WriteString(strconv.Itoa(i) + ",x\n")
	}
	b.WriteString("1,\"")
	for b.Len() < 5<<20 {
		b.WriteString("no end in sight\n")
	}
	b.WriteString("\"\n2,y\n3,\"z\"\n")
	if n := sameAnalysis(t, "long record", b.Bytes(), Limits{}, 2, 4096, nil); n == 0 {
		t.Fatal("no chunk was cut before the long record")
	}
}

// TestChunkedAnalyzeReadError: an error of the source mid-file (after
// what Analyze sniffs) is what Analyze returns, cut in chunks or not; a
// row too wide before it wins.
func TestChunkedAnalyzeReadError(t *testing.T) {
	boom := errors.New("boom")
	var b bytes.Buffer
	b.WriteString("a,b\n")
	for i := range 40000 {
		b.WriteString(strconv.Itoa(i) + ",x\n")
	}
	data := b.Bytes()
	half := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	line := bytes.Count(data[:half], []byte("\n")) + 1
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"plain", data, "boom"},
		{"too wide before", append(append([]byte(nil), data[:half]...), "1,2,3,4\n"+string(data[half:])...), "row " + strconv.Itoa(line) + " has more than 3 cells"},
	} {
		for _, c := range []chunking{{workers: 1}, {workers: 2, size: 512}} {
			src := io.MultiReader(bytes.NewReader(tc.data), errorReader{boom})
			_, _, err := analyze(src, "", Limits{MaxColumns: 3}, c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s, %+v: %v, want %q", tc.name, c, err, tc.want)
			}
		}
	}
}

// FuzzChunkedAnalyze compares Analyze cut in small chunks with one reader
// on arbitrary bytes.
func FuzzChunkedAnalyze(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.data, uint8(5))
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20 {
		f.Add(hardCSV(rng, 30), uint8(rng.IntN(64)))
	}
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		sameAnalysis(t, "fuzz", data, Limits{MaxColumns: 6}, 2, 1+int(size), nil)
	})
}

// TestWorkersLimit: Limits.Workers decides whether the file is cut in
// chunks, and the summary does not depend on it.
func TestWorkersLimit(t *testing.T) {
	data := hardCSV(rand.New(rand.NewPCG(5, 8)), 40000)
	if len(data) < 2*chunkSize {
		t.Fatalf("the file is %d bytes, too small to be cut", len(data))
	}
	var want Summary
	for i, tc := range []struct {
		workers, minChunks, maxChunks int
	}{
		{1, 0, 0},
		{2, 2, 1 << 30},
		{4, 2, 1 << 30},
	} {
		lim := Limits{Workers: tc.workers}
		c := lim.chunking()
		if c.workers != tc.workers {
			t.Fatalf("Workers %d: chunking has %d workers", tc.workers, c.workers)
		}
		got, chunks, err := analyze(bytes.NewReader(data), "", lim, c)
		if err != nil {
			t.Fatalf("Workers %d: %v", tc.workers, err)
		}
		if chunks < tc.minChunks || chunks > tc.maxChunks {
			t.Errorf("Workers %d: %d chunks, want %d to %d", tc.workers, chunks, tc.minChunks, tc.maxChunks)
		}
		if i == 0 {
			want = got
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("Workers %d: the summary differs from one reader's", tc.workers)
		}
	}
	if c := (Limits{}).chunking(); c.workers != runtime.GOMAXPROCS(0) {
		t.Errorf("Workers 0: %d workers, want GOMAXPROCS", c.workers)
	}
}
