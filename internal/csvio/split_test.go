package csvio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// splitWidth is wide enough for every record the tests below make.
const splitWidth = 64

// records is what a reader returned: every record (the header's raw cells
// first), each one's Line, and the repairs counted.
type records struct {
	rows     [][]string
	lines    []int64
	repaired int64
}

// readRecords reads r to its end; header says r starts the file.
func readRecords(r *Reader, header bool) (records, error) {
	var out records
	if header {
		if _, err := r.Header(); err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		out.rows = append(out.rows, append([]string(nil), r.raw...))
		out.lines = append(out.lines, r.Line())
		r.SetWidth(splitWidth)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			out.repaired = r.Repaired()
			return out, nil
		}
		if err != nil {
			out.repaired = r.Repaired()
			return out, err
		}
		row := make([]string, len(rec))
		for i, v := range rec {
			row[i] = strings.Clone(v)
		}
		out.rows = append(out.rows, row)
		out.lines = append(out.lines, r.Line())
	}
}

// checkSplit reads data whole, and as two fragments split at p, and
// returns whether the fragments' records are the whole file's. A split
// that is not a record boundary must be caught by the first fragment
// (ErrFragmentUnsure); any other difference fails t.
func checkSplit(t *testing.T, data []byte, d Dialect, p int) bool {
	t.Helper()
	if rest := bytes.TrimPrefix(data[:p], bomUTF8); len(bytes.Trim(rest, "\r\n")) == 0 {
		// Nothing but blank lines before p: a record starts there, but
		// the first fragment has no header to read.
		return true
	}
	whole, err := readRecords(NewReader(bytes.NewReader(data), d), true)
	if err != nil {
		t.Fatalf("whole file: %v", err)
	}
	fr := NewFragmentReader(bytes.NewReader(data[:p]), d, Fragment{Start: true, Last: p == len(data), Width: splitWidth})
	first, err := readRecords(fr, true)
	if errors.Is(err, ErrFragmentUnsure) {
		return false
	}
	if err != nil {
		t.Fatalf("first fragment: %v", err)
	}
	// The physical records before p, blank lines included.
	line := fr.recNo
	second, err := readRecords(NewFragmentReader(bytes.NewReader(data[p:]), d, Fragment{Last: true, Width: splitWidth, Line: line}), len(first.rows) == 0)
	if err != nil {
		t.Fatalf("second fragment: %v", err)
	}
	got := records{rows: append(first.rows, second.rows...), lines: append(first.lines, second.lines...), repaired: first.repaired + second.repaired}
	if !reflect.DeepEqual(got.rows, whole.rows) {
		t.Fatalf("split at %d of %q:\n got %q\nwant %q", p, data, got.rows, whole.rows)
	}
	if !reflect.DeepEqual(got.lines, whole.lines) || got.repaired != whole.repaired {
		t.Fatalf("split at %d of %q: lines %v repaired %d, want %v %d", p, data, got.lines, got.repaired, whole.lines, whole.repaired)
	}
	return true
}

// checkBoundary runs FindBoundary at off and checks its answer: a certain
// boundary splits data exactly, a guess is either right or caught by the
// fragment before it.
func checkBoundary(t *testing.T, data []byte, d Dialect, off, end int) Boundary {
	t.Helper()
	b, err := FindBoundary(bytes.NewReader(data), int64(len(data)), d, int64(off), int64(end))
	if err != nil {
		t.Fatal(err)
	}
	if b.Offset < 0 {
		if b.Certain {
			t.Fatalf("%q at %d: certain without an offset", data, off)
		}
		return b
	}
	if b.Offset < int64(off) || b.Offset > int64(len(data)) {
		t.Fatalf("%q at %d: boundary %d out of range", data, off, b.Offset)
	}
	if p := int(b.Offset); p > 0 && p < len(data) && data[p-1] == '\r' && data[p] == '\n' {
		t.Fatalf("%q at %d: boundary %d splits a CRLF", data, off, p)
	}
	if ok := checkSplit(t, data, d, int(b.Offset)); !ok && b.Certain {
		t.Fatalf("%q at %d: certain boundary %d is none", data, off, b.Offset)
	}
	return b
}

func TestFindBoundaryCases(t *testing.T) {
	cases := []struct {
		name    string
		data    string
		off     int
		want    int64
		certain bool
		d       Dialect
		eof     bool // the scan may reach the end of the file
	}{
		{"start of file", "a,b\n1,2\n", 0, 0, true, Dialect{}, false},
		{"no quotes: a guess", "a,b\n1,2\n3,4\n", 2, 4, false, Dialect{}, false},
		{"closing quote then delimiter decides", "a,b\n\"x\",1\n2,3\n", 5, 10, true, Dialect{}, false},
		{"inside quotes, line break is data", "a,b\n\"x\ny\",1\n2,3\n", 6, 12, true, Dialect{}, false},
		{"CRLF is not split", "a,b\r\n\"x\",1\r\n2,3\r\n", 5, 12, true, Dialect{}, false},
		{"CR only", "a,b\r\"x\",1\r2,3\r", 5, 10, true, Dialect{}, false},
		{"CR at the end of the file", "a,b\r\"x\",1\r", 5, 10, true, Dialect{}, true},
		{"no boundary before the end of the file", "a,b\n\"x\n", 5, 7, true, Dialect{}, true},
		{"a guess before the end of the scan", "a,b\n\"x\n\n", 5, 7, false, Dialect{}, false},
		{"no boundary", "a,b\n\"xyz\n", 5, -1, false, Dialect{}, false},
		{"inside a leading BOM", "\xef\xbb\xbf\"a\nb\",c\n1,2\n", 1, 11, true, Dialect{}, false},
		{"stray quote repaired", "a,b\n\"x\"y,1\n2,3\n", 5, 11, true, Dialect{}, false},
		{"lazy: a quote after a closing quote is data", "a,b\n\"x\"y\n\",1\n2,3\n", 5, 9, false, Dialect{Unverified: true}, false},
		{"semicolons", "a;b\n\"x\";1\n2;3\n", 5, 10, true, Dialect{Delimiter: ';'}, false},
		{"end of the file", "a,b\n1,2", 5, 7, true, Dialect{}, true},
		{"doubled quotes", "a,b\n\"x\"\"\ny\",1\n2,3\n", 5, 14, true, Dialect{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.data)
			end := len(data) - 1
			if c.eof {
				end = len(data)
			}
			b := checkBoundary(t, data, c.d, c.off, end)
			if b.Offset != c.want || b.Certain != c.certain {
				t.Fatalf("FindBoundary = %+v, want {%d %v}", b, c.want, c.certain)
			}
		})
	}
}

func TestFindBoundaryRefusesUTF16(t *testing.T) {
	_, err := FindBoundary(bytes.NewReader([]byte("a\x00")), 2, Dialect{Encoding: EncodingUTF16LE}, 1, 2)
	if !errors.Is(err, ErrSplitEncoding) {
		t.Fatalf("err = %v, want ErrSplitEncoding", err)
	}
	if _, err := NewBoundaryScanner(Dialect{Delimiter: '"'}); err == nil {
		t.Fatal("a quote as delimiter was accepted")
	}
}

// TestFindBoundaryFixtures tries every offset of every fixture that is a
// CSV file in a byte encoding.
func TestFindBoundaryFixtures(t *testing.T) {
	for _, fx := range fixtures {
		if fx.notCSV != "" || fx.dialect.Encoding == EncodingUTF16LE || fx.dialect.Encoding == EncodingUTF16BE {
			continue
		}
		t.Run(fx.name, func(t *testing.T) {
			data := readFixture(t, fx.name)
			certain := 0
			step := max(1, len(data)/300)
			if len(data) > 16<<10 {
				step = len(data) / 20 // each check reads the whole file
			}
			for off := 1; off < len(data); off += step {
				for _, lazy := range []bool{false, true} {
					d := fx.dialect
					d.Unverified = lazy
					if checkBoundary(t, data, d, off, len(data)).Certain {
						certain++
					}
				}
			}
			t.Logf("%d bytes, %d certain answers", len(data), certain)
		})
	}
}

// randomCSV makes bytes that stress the split: quotes opening and closing
// fields, doubled and stray quotes, line breaks inside quotes, LF, CRLF and
// CR-only ends, blank lines, a BOM and bytes above 0x7F.
func randomCSV(rng *rand.Rand, n int, delim byte) []byte {
	pieces := []string{"a", "bc", "1", string(delim), string(delim), "\"", "\"", "\"\"", "\n", "\r\n", "\r", " ", "\xc3\xa9", "\xe9", "\xef\xbb\xbf", "\"x\"", "\"y\nz\"", "\n\n"}
	var b []byte
	if rng.IntN(4) == 0 {
		b = append(b, bomUTF8...)
	}
	for len(b) < n {
		b = append(b, pieces[rng.IntN(len(pieces))]...)
	}
	return b
}

func TestFindBoundaryRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	dialects := []Dialect{
		{Encoding: EncodingUTF8},
		{Encoding: EncodingUTF8, Unverified: true},
		{Encoding: EncodingWindows1252, Delimiter: ';'},
		{Encoding: EncodingMacintosh, Delimiter: '\t'},
		{Encoding: EncodingUTF8BOM, Delimiter: '|'},
	}
	certain, guesses, caught := 0, 0, 0
	for i := 0; i < 300; i++ {
		d := dialects[i%len(dialects)]
		delim := d.Delimiter
		if delim == 0 {
			delim = ','
		}
		data := randomCSV(rng, 20+rng.IntN(200), delim)
		for off := 1; off < len(data); off++ {
			b := checkBoundary(t, data, d, off, off+rng.IntN(len(data)-off+1))
			switch {
			case b.Certain:
				certain++
			case b.Offset >= 0:
				guesses++
				if !checkSplit(t, data, d, int(b.Offset)) {
					caught++
				}
			}
		}
	}
	t.Logf("%d certain, %d guesses (%d wrong and caught)", certain, guesses, caught)
	if certain == 0 || caught == 0 {
		t.Fatalf("the random files exercised too little: %d certain, %d wrong guesses", certain, caught)
	}
}

// TestBoundaryScannerPieces feeds the same bytes whole and in pieces of
// every size: the answer must not depend on how the bytes arrive.
func TestBoundaryScannerPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := 0; i < 200; i++ {
		data := randomCSV(rng, 10+rng.IntN(100), ',')
		whole, _ := NewBoundaryScanner(Dialect{})
		whole.Feed(data)
		want := whole.Result(true)
		for size := 1; size <= 7; size++ {
			s, _ := NewBoundaryScanner(Dialect{})
			for p := 0; p < len(data); p += size {
				if s.Feed(data[p:min(p+size, len(data))]) {
					break
				}
			}
			if got := s.Result(true); got != want {
				t.Fatalf("%q in pieces of %d: %+v, whole %+v", data, size, got, want)
			}
		}
	}
}

// TestFragmentUnsure checks the fragment Reader's own guard: a fragment
// that ends inside a record, or whose record filled the largest buffer,
// stops with ErrFragmentUnsure after the records before it.
func TestFragmentUnsure(t *testing.T) {
	cases := []struct {
		name string
		data string
		rows int
	}{
		{"ends inside a quoted field", "1,2\n3,\"x\ny", 1},
		{"ends inside an unquoted field", "1,2\n3,4", 1},
		{"ends after a delimiter", "1,2\n3,", 1},
		{"ends after a quote", "1,2\n\"x\"", 1},
		{"ends at a record boundary", "1,2\n3,4\n", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewFragmentReader(strings.NewReader(c.data), Dialect{}, Fragment{Width: 2})
			got, err := readRecords(r, false)
			if len(got.rows) != c.rows {
				t.Fatalf("rows = %q, want %d", got.rows, c.rows)
			}
			if want := c.rows == 1; errors.Is(err, ErrFragmentUnsure) != want {
				t.Fatalf("err = %v, want unsure %v", err, want)
			}
			if want := c.rows == 1; want {
				if _, err := r.Read(); !errors.Is(err, ErrFragmentUnsure) {
					t.Fatalf("error not sticky: %v", err)
				}
			}
		})
	}
	// A record that fills the largest buffer could be read with literal
	// quotes by a reader of the whole file.
	r := NewFragmentReader(strings.NewReader("1,2\n\""+strings.Repeat("y", 100)+"\",3\n4,5\n"), Dialect{}, Fragment{Width: 2})
	r.buf = make([]byte, 16)
	r.maxBuf = 64
	if got, err := readRecords(r, false); len(got.rows) != 1 || !errors.Is(err, ErrFragmentUnsure) {
		t.Fatalf("long record: rows %q, err %v", got.rows, err)
	}
	// Without a header before its end, the first fragment cannot say
	// where the file's header is.
	r = NewFragmentReader(strings.NewReader("\n\r\n"), Dialect{}, Fragment{Start: true})
	if _, err := r.Header(); !errors.Is(err, ErrFragmentUnsure) {
		t.Fatalf("header: %v", err)
	}
}

func FuzzFindBoundary(f *testing.F) {
	for _, fx := range fixtures {
		if fx.notCSV == "" && fx.dialect.Encoding != EncodingUTF16LE && fx.dialect.Encoding != EncodingUTF16BE {
			f.Add(fx.data, uint16(len(fx.data)/2), byte(fx.dialect.Delimiter), false)
		}
	}
	f.Add([]byte("a,b\n\"x\ny\",1\n2,3\n"), uint16(6), byte(','), false)
	f.Add([]byte("a,b\r\n\"x\"y\r\n\",1\r2,3\r"), uint16(5), byte(','), true)
	f.Fuzz(func(t *testing.T, data []byte, off uint16, delim byte, lazy bool) {
		switch delim {
		case ',', ';', '\t', '|':
		default:
			delim = ','
		}
		if len(data) < 2 {
			return
		}
		d := Dialect{Encoding: EncodingUTF8, Delimiter: delim, Unverified: lazy}
		o := 1 + int(off)%(len(data)-1)
		b := checkBoundary(t, data, d, o, len(data))
		if b.Offset < 0 {
			return
		}
		// Whatever the answer, the scan of every offset after it agrees
		// with the full parse too.
		for p := o + 1; p < len(data) && p < o+64; p++ {
			checkBoundary(t, data, d, p, len(data)-int(off)%3)
		}
	})
}
