package csvio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// readAll reads header and rows, cloning values because Read reuses them.
func readAll(r *Reader) (header []string, rows [][]string, lines []int64, err error) {
	header, err = r.Header()
	if err != nil {
		return nil, nil, nil, err
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return header, rows, lines, nil
		}
		if err != nil {
			return header, rows, lines, err
		}
		row := make([]string, len(rec))
		for i, v := range rec {
			row[i] = strings.Clone(v)
		}
		rows = append(rows, row)
		lines = append(lines, r.Line())
	}
}

// newSmallReader forces tiny buffers so that records cross refills and the
// buffer has to grow.
func newSmallReader(src io.Reader, d Dialect, bufSize, maxBuf int) *Reader {
	r := NewReader(src, d)
	r.buf = make([]byte, bufSize)
	r.maxBuf = maxBuf
	return r
}

func TestFixtures(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			data := readFixture(t, f.name)
			prefix := data[:min(len(data), SniffSize)]
			d, err := Sniff(prefix)
			if f.notCSV != "" {
				var nc *NotCSVError
				if !errors.As(err, &nc) || nc.Reason != f.notCSV || !errors.Is(err, ErrNotCSV) {
					t.Fatalf("Sniff error = %v, want NotCSVError %q", err, f.notCSV)
				}
				if _, err := Analyze(bytes.NewReader(data)); !errors.Is(err, ErrNotCSV) {
					t.Fatalf("Analyze error = %v, want ErrNotCSV", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.sniffed != "" && d.Encoding != f.sniffed {
				t.Errorf("sniffed encoding %q, want %q", d.Encoding, f.sniffed)
			}
			s, err := Analyze(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if d = s.Dialect; d != f.dialect {
				t.Fatalf("dialect = %+v, want %+v", d, f.dialect)
			}
			readers := map[string]*Reader{
				"default":  NewReader(bytes.NewReader(data), d),
				"tiny":     newSmallReader(iotest.OneByteReader(bytes.NewReader(data)), d, 4, 1<<20),
				"halfread": newSmallReader(iotest.HalfReader(bytes.NewReader(data)), d, 7, 1<<20),
			}
			for name, r := range readers {
				header, rows, lines, err := readAll(r)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(header, f.header) {
					t.Errorf("%s: header = %q, want %q", name, header, f.header)
				}
				if f.lastRows {
					rows = rows[max(0, len(rows)-len(f.rows)):]
				}
				if !reflect.DeepEqual(rows, f.rows) {
					t.Errorf("%s: rows = %q, want %q", name, rows, f.rows)
				}
				if r.Short() != f.short || r.Long() != f.long || r.Repaired() != f.repaired {
					t.Errorf("%s: short, long, repaired = %d, %d, %d, want %d, %d, %d", name, r.Short(), r.Long(), r.Repaired(), f.short, f.long, f.repaired)
				}
				if f.lines != nil && !reflect.DeepEqual(lines, f.lines) {
					t.Errorf("%s: lines = %v, want %v", name, lines, f.lines)
				}
			}
			wide, wideRows := f.header, f.rows
			if f.wide != nil {
				wide, wideRows = f.wide, f.wideRows
			}
			if s.Dialect != f.dialect || (s.Rows != int64(len(f.rows)) && !f.lastRows) || s.Short != f.short || s.Long != f.long || s.Repaired != f.repaired ||
				!reflect.DeepEqual(s.Header, wide) || len(s.Columns) != len(wide) {
				t.Errorf("Analyze = %+v", s)
			}
			r := NewReader(bytes.NewReader(data), s.Dialect)
			r.SetWidth(len(s.Columns))
			_, rows, _, err := readAll(r)
			if f.lastRows {
				rows = rows[max(0, len(rows)-len(wideRows)):]
			}
			if err != nil || !reflect.DeepEqual(rows, wideRows) {
				t.Errorf("rows %d wide = %q, %v, want %q", len(s.Columns), rows, err, wideRows)
			}
		})
	}
}

func TestReaderCases(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		delim  byte
		header []string
		rows   [][]string
		ragged int64 // short and long records
		lines  []int64
	}{
		{name: "lf", in: "a,b\n1,2\n", header: []string{"a", "b"}, rows: [][]string{{"1", "2"}}},
		{name: "no final newline", in: "a,b\n1,2", header: []string{"a", "b"}, rows: [][]string{{"1", "2"}}},
		{name: "final cr", in: "a,b\r1,2\r", header: []string{"a", "b"}, rows: [][]string{{"1", "2"}}},
		{name: "mixed endings", in: "a\n1\r2\r\n3\n", header: []string{"a"}, rows: [][]string{{"1"}, {"2"}, {"3"}}, lines: []int64{2, 3, 4}},
		{name: "trailing delimiter", in: "a,b,c\n1,2,\n", header: []string{"a", "b", "c"}, rows: [][]string{{"1", "2", ""}}},
		{name: "delimiter at eof", in: "a,b\n1,", header: []string{"a", "b"}, rows: [][]string{{"1", ""}}},
		{name: "empty fields", in: "a,b,c\n,,\n", header: []string{"a", "b", "c"}, rows: [][]string{{"", "", ""}}},
		{name: "space line is a record", in: "a,b\n \n", header: []string{"a", "b"}, rows: [][]string{{" ", ""}}, ragged: 1},
		{name: "quoted empty alone", in: "a\n\"\"\n", header: []string{"a"}, rows: [][]string{{""}}},
		{name: "quoted at eof", in: "a,b\n1,\"x\"", header: []string{"a", "b"}, rows: [][]string{{"1", "x"}}},
		{name: "quoted then cr", in: "a,b\r\"1\",\"2\"\r\"3\",\"4\"", header: []string{"a", "b"}, rows: [][]string{{"1", "2"}, {"3", "4"}}},
		{name: "escaped quotes several", in: "a,b\n\"x\"\"y\"\"z\",\"\"\"\"\"\"\n", header: []string{"a", "b"}, rows: [][]string{{`x"y"z`, `""`}}},
		{name: "escaped then stray", in: "a\n\"x\"\"y\"z\"\n", header: []string{"a"}, rows: [][]string{{`x"yz"`}}},
		{name: "stray closing quote", in: "\"x\"y,2\n3,4\n5,6\n", header: []string{"xy", "2"}, rows: [][]string{{"3", "4"}, {"5", "6"}}},
		{name: "stray quote then delimiter", in: "a,b\n\"p\"q r\"s,1\n", header: []string{"a", "b"}, rows: [][]string{{`pq r"s`, "1"}}},
		{name: "stray quote at eof", in: "a\n\"p\"q", header: []string{"a"}, rows: [][]string{{"pq"}}},
		{name: "stray quote then cr", in: "a,b\r\"p\"q\r1,2\r", header: []string{"a", "b"}, rows: [][]string{{"pq", ""}, {"1", "2"}}, ragged: 1},
		{name: "space before quote", in: "a,b\n1, \"x\"\n", header: []string{"a", "b"}, rows: [][]string{{"1", ` "x"`}}},
		{name: "open quote at eof after escape", in: "a\n\"ab\"\"", header: []string{"a"}, rows: [][]string{{`ab"`}}},
		{name: "quoted header", in: "\"id\",\"first, name\"\n1,2\n", header: []string{"id", "first, name"}, rows: [][]string{{"1", "2"}}},
		{name: "multiline lines", in: "a,b\n\"x\ny\",1\n2,3\n\n4,5\n", header: []string{"a", "b"}, rows: [][]string{{"x\ny", "1"}, {"2", "3"}, {"4", "5"}}, lines: []int64{2, 3, 5}},
		{name: "semicolon", in: "a;b\n1,5;\"x;y\"\n", delim: ';', header: []string{"a", "b"}, rows: [][]string{{"1,5", "x;y"}}},
		{name: "utf8 bom stripped", in: "\xEF\xBB\xBFid\n1\n", header: []string{"id"}, rows: [][]string{{"1"}}},
		{name: "header only no newline", in: "a,b", header: []string{"a", "b"}},
		{name: "long and short", in: "a,b\n1,2,3,4\n5\n", header: []string{"a", "b"}, rows: [][]string{{"1", "2"}, {"5", ""}}, ragged: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dialect{Encoding: EncodingUTF8, Delimiter: tt.delim}
			for _, r := range []*Reader{
				NewReader(strings.NewReader(tt.in), d),
				newSmallReader(iotest.OneByteReader(strings.NewReader(tt.in)), d, 1, 1<<20),
				newSmallReader(strings.NewReader(tt.in), d, 3, 1<<20),
			} {
				header, rows, lines, err := readAll(r)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(header, tt.header) || !reflect.DeepEqual(rows, tt.rows) {
					t.Fatalf("got %q %q, want %q %q", header, rows, tt.header, tt.rows)
				}
				if r.Short()+r.Long() != tt.ragged {
					t.Errorf("short + long = %d + %d, want %d", r.Short(), r.Long(), tt.ragged)
				}
				if tt.lines != nil && !reflect.DeepEqual(lines, tt.lines) {
					t.Errorf("lines = %v, want %v", lines, tt.lines)
				}
			}
		})
	}
}

func TestReaderEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\n\n", "\r\n\r\n\r", "\xEF\xBB\xBF"} {
		r := NewReader(strings.NewReader(in), Dialect{})
		if _, err := r.Header(); err != io.EOF {
			t.Errorf("%q: Header error = %v, want io.EOF", in, err)
		}
	}
	if _, err := Analyze(strings.NewReader("\n\n")); !errors.Is(err, ErrNotCSV) {
		t.Errorf("Analyze of blank lines: %v", err)
	}
}

func TestReadBeforeHeader(t *testing.T) {
	r := NewReader(strings.NewReader("a\n1\n"), Dialect{})
	if _, err := r.Read(); err == nil {
		t.Fatal("Read before Header succeeded")
	}
}

func TestHeaderTwice(t *testing.T) {
	r := NewReader(strings.NewReader("a,b\n1,2\n"), Dialect{})
	h1, _ := r.Header()
	h2, _ := r.Header()
	if !reflect.DeepEqual(h1, h2) {
		t.Fatalf("%q != %q", h1, h2)
	}
	if rec, err := r.Read(); err != nil || rec[0] != "1" {
		t.Fatalf("Read = %q, %v", rec, err)
	}
}

func TestUniqueNames(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"a", "a", "a"}, []string{"a", "a_2", "a_3"}},
		{[]string{"a", "a", "a_2"}, []string{"a", "a_3", "a_2"}},
		{[]string{"", " ", "\u00a0x\t"}, []string{"column_1", "column_2", "x"}},
		{[]string{"\uFEFFid", "id"}, []string{"id", "id_2"}},
		{[]string{"column_1", ""}, []string{"column_1", "column_2"}},
		{[]string{"", "column_1"}, []string{"column_1_2", "column_1"}},
	}
	for _, tt := range tests {
		if got := uniqueNames(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("uniqueNames(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBadDialect(t *testing.T) {
	for _, d := range []Dialect{{Encoding: "ebcdic"}, {Delimiter: '"'}, {Delimiter: '\n'}} {
		r := NewReader(strings.NewReader("a\n"), d)
		if _, err := r.Header(); err == nil || err == io.EOF {
			t.Errorf("%+v: Header error = %v", d, err)
		}
	}
}

// A quoted field that never closes must not make the reader buffer the rest
// of a huge file: past the limit the record is re-read with literal quotes.
func TestRunawayQuoteRecovery(t *testing.T) {
	in := "a,b\n1,\"open\n" + strings.Repeat("2,x\n", 100) + "3,y\n"
	r := newSmallReader(strings.NewReader(in), Dialect{}, 16, 64)
	_, rows, _, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 102 || rows[0][1] != `"open` || rows[1][0] != "2" || rows[101][1] != "y" {
		t.Fatalf("rows = %q ...", rows[:3])
	}
	if len(r.buf) > 64 {
		t.Fatalf("buffer grew to %d", len(r.buf))
	}
}

func TestRecordTooLarge(t *testing.T) {
	in := "a\n" + strings.Repeat("x", 200) + "\n"
	r := newSmallReader(strings.NewReader(in), Dialect{}, 16, 64)
	if _, err := r.Header(); err != nil {
		t.Fatal(err)
	}
	_, err := r.Read()
	if !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("err = %v, want ErrRecordTooLarge", err)
	}
	if _, err2 := r.Read(); !errors.Is(err2, ErrRecordTooLarge) {
		t.Fatalf("error not sticky: %v", err2)
	}
}

func TestBufferGrowsForLongRecord(t *testing.T) {
	long := strings.Repeat("y", 5000)
	in := "a,b\n1,\"" + long + "\"\n2," + long + "\n"
	r := newSmallReader(strings.NewReader(in), Dialect{}, 16, 1<<20)
	_, rows, _, err := readAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][1] != long || rows[1][1] != long {
		t.Fatal("long records mangled")
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("a,b\n1,2\n3,"), iotest.ErrReader(boom))
	r := newSmallReader(src, Dialect{}, 64, 1<<20)
	_, rows, _, err := readAll(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if len(rows) != 1 {
		t.Fatalf("rows before the error = %q", rows)
	}
	if _, err := Analyze(io.MultiReader(strings.NewReader("a\n1\n"), iotest.ErrReader(boom))); !errors.Is(err, boom) {
		t.Fatalf("Analyze err = %v", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   Dialect
		reason string
	}{
		{"empty", "", Dialect{}, reasonEmpty},
		{"bom only", "\xEF\xBB\xBF", Dialect{}, reasonEmpty},
		{"utf16 bom only", "\xFF\xFE", Dialect{}, reasonEmpty},
		{"nul", "a,b\x00", Dialect{}, reasonNUL},
		{"utf16 nul", "\xFF\xFEa\x00\x00\x00", Dialect{}, reasonNUL},
		{"controls", strings.Repeat("\x01\x02\x03a", 10), Dialect{}, reasonNotText},
		{"few controls ok", "a,b\n1,2\x1a\f\n", Dialect{Encoding: EncodingUTF8, Delimiter: ','}, ""},
		{"single column", "name\nann\nbob\n", Dialect{Encoding: EncodingUTF8, Delimiter: ','}, ""},
		{"tie favours comma", "a,b;c\n1,2;3\n", Dialect{Encoding: EncodingUTF8, Delimiter: ','}, ""},
		{"semicolon with decimal commas", "a;b\n1,5;2,25\n3;4,125\n", Dialect{Encoding: EncodingUTF8, Delimiter: ';'}, ""},
		{"tab with commas in text", "id\tname\n1\tSmith, John\n2\tDoe, Jane, Jr\n", Dialect{Encoding: EncodingUTF8, Delimiter: '\t'}, ""},
		{"pipe", "a|b|c\n1|2|3\n", Dialect{Encoding: EncodingUTF8, Delimiter: '|'}, ""},
		{"quoted commas in semicolon file", "a;b\n\"x,y,z\";1\n\"p,q\";2\n", Dialect{Encoding: EncodingUTF8, Delimiter: ';'}, ""},
		{"quoted newlines", "a,b\n\"x\ny;z\";1\n2,3\n", Dialect{Encoding: EncodingUTF8, Delimiter: ','}, ""},
		{"truncated last record ignored", "a;b\n1;2\n3;4\n5,6,7,8,9,1", Dialect{Encoding: EncodingUTF8, Delimiter: ';'}, ""},
		{"header only", "a;b;c", Dialect{Encoding: EncodingUTF8, Delimiter: ';'}, ""},
		{"cr only", "a;b\r1;2\r", Dialect{Encoding: EncodingUTF8, Delimiter: ';'}, ""},
		{"truncated utf8 rune", "a,b\n\xC3\xA9,\xE2\x82", Dialect{Encoding: EncodingUTF8, Delimiter: ','}, ""},
		{"invalid utf8 is 1252", "a,b\n\xE9,1\n", Dialect{Encoding: EncodingWindows1252, Delimiter: ','}, ""},
		{"invalid rune in middle", "a,b\n\xE2\x82,1\n", Dialect{Encoding: EncodingWindows1252, Delimiter: ','}, ""},
		{"utf8 bom", "\xEF\xBB\xBFa;b\n", Dialect{Encoding: EncodingUTF8BOM, Delimiter: ';'}, ""},
		{"utf16le odd byte", "\xFF\xFEa\x00;\x00b\x00\n\x00x", Dialect{Encoding: EncodingUTF16LE, Delimiter: ';'}, ""},
		{"utf16be", "\xFE\xFF\x00a\x00|\x00b", Dialect{Encoding: EncodingUTF16BE, Delimiter: '|'}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Sniff([]byte(tt.in))
			if tt.reason != "" {
				var nc *NotCSVError
				if !errors.As(err, &nc) || nc.Reason != tt.reason {
					t.Fatalf("err = %v, want reason %q", err, tt.reason)
				}
				if err.Error() != "not a CSV file: "+tt.reason {
					t.Fatalf("Error() = %q", err.Error())
				}
				return
			}
			if err != nil || d != tt.want {
				t.Fatalf("Sniff = %+v, %v; want %+v", d, err, tt.want)
			}
		})
	}
}

// Sniff must look at the first 20 records only, and a prefix cut inside a
// quoted field must not break it.
func TestSniffLongPrefix(t *testing.T) {
	var b strings.Builder
	b.WriteString("a;b;c\n")
	for b.Len() < SniffSize {
		b.WriteString("1;2;\"x,y\"\n")
	}
	in := b.String()[:SniffSize-3]
	if d, err := Sniff([]byte(in)); err != nil || d.Delimiter != ';' {
		t.Fatalf("Sniff = %+v, %v", d, err)
	}
}

// Analyze hands its buffers on to the next call: concurrent and successive
// analyses of different files must each see only their own bytes, including
// after one whose record outgrew the buffer.
func TestAnalyzeReusesBuffers(t *testing.T) {
	file := func(i int) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "id,word%d\n", i)
		for r := 0; r < 50+i; r++ {
			fmt.Fprintf(&b, "%d,%s\n", r*i, strings.Repeat(string(rune('a'+i%26)), 1+i%7))
		}
		return b.Bytes()
	}
	long := []byte("k,v\n1," + strings.Repeat("x", 3*initialBufSize) + "\n")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < 64; i += 8 {
				data := file(i)
				if i%16 == 5 {
					data = long
				}
				s, err := Analyze(bytes.NewReader(data))
				if err != nil {
					errs <- fmt.Errorf("file %d: %w", i, err)
					return
				}
				if i%16 == 5 {
					// The profile keeps MaxStatBytes of the extreme.
					if s.Rows != 1 || *s.Columns[1].Max != statText(strings.Repeat("x", 3*initialBufSize)) {
						errs <- fmt.Errorf("long file: %d rows, max of %d bytes", s.Rows, len(*s.Columns[1].Max))
					}
					continue
				}
				want := strings.Repeat(string(rune('a'+i%26)), 1+i%7)
				if s.Rows != int64(50+i) || s.Header[1] != fmt.Sprintf("word%d", i) || *s.Columns[1].Min != want || *s.Columns[1].Max != want {
					errs <- fmt.Errorf("file %d: %d rows, header %v, min %q max %q", i, s.Rows, s.Header, *s.Columns[1].Min, *s.Columns[1].Max)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Analyze profiles on another goroutine from copies of the records; the
// result must be the one of profiling the records as read, in order, for
// every kind of cell the parser can build (quoted, escaped, repaired,
// huge, on rows longer than the header).
func TestAnalyzeMatchesSequentialProfile(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	cells := []string{"1", "-7", "2.5", "x", "", "2024-01-02", "true", `"q,q"`, `"a""b"`, `"s"t`, "é", `"multi` + "\n" + `line"`}
	for n := range 60 {
		var b strings.Builder
		b.WriteString("a,b,c\n")
		for r := rng.IntN(3000); r > 0; r-- {
			for c := 1 + rng.IntN(5); c > 0; c-- {
				if rng.IntN(400) == 0 {
					b.WriteString(strings.Repeat("z", initialBufSize+rng.IntN(1000)))
				} else {
					b.WriteString(cells[rng.IntN(len(cells))])
				}
				if c > 1 {
					b.WriteByte(',')
				}
			}
			b.WriteByte('\n')
		}
		data := b.String()
		got, err := Analyze(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rd := newReader(strings.NewReader(data), got.Dialect)
		rd.grow = true
		if _, err := rd.Header(); err != nil {
			t.Fatal(err)
		}
		p := NewProfiler(rd.raw)
		p.grow = true
		for {
			rec, err := rd.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			p.Add(rec)
		}
		if want := p.columns(got.Header, nil); !reflect.DeepEqual(got.Columns, want) {
			t.Fatalf("file %d: Analyze %+v\nsequential %+v", n, got.Columns, want)
		}
	}
}
