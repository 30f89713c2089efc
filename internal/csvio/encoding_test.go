package csvio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/testwait"
)

// The encoding is decided after the last byte, while the cells were
// profiled as raw bytes: the profile must be exactly the one of the same
// file read in the decided encoding from the start.
func TestLateEncodingKeepsProfileExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"a", "b", "Z", " ", "1", "é", "ü", "€", "Ω", "\xE9", "\xFC", "\x80", "\xD5", "\xD0", "\x81", "\x9D", "\xA0", "\xFF"}
	seen := map[string]int{}
	for n := range 400 {
		var b strings.Builder
		lineEnd := []string{"\n", "\r\n", "\r"}[rng.IntN(3)]
		b.WriteString("t,u,n" + lineEnd)
		rows := 1 + rng.IntN(40)
		late := rng.IntN(3) == 0 // only valid UTF-8 until the last row
		for r := range rows {
			for c := range 2 {
				for k := rng.IntN(4); k > 0; k-- {
					p := pieces[rng.IntN(len(pieces))]
					if late && r < rows-1 && !utf8.ValidString(p) {
						p = "é"
					}
					b.WriteString(p)
				}
				_ = c
				b.WriteByte(',')
			}
			b.WriteString(string(rune('0' + rng.IntN(10))))
			b.WriteString(lineEnd)
		}
		data := []byte(b.String())
		got, err := Analyze(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		seen[got.Dialect.Encoding]++
		want, err := AnalyzeAs(bytes.NewReader(data), got.Dialect.Encoding)
		if err != nil {
			t.Fatalf("%q as %s: %v", data, got.Dialect.Encoding, err)
		}
		if !reflect.DeepEqual(got.Columns, want.Columns) || !reflect.DeepEqual(got.Header, want.Header) {
			t.Fatalf("file %d %q (%s):\n detected %s\n   stated %s", n, data, got.Dialect.Encoding, show(got.Columns), show(want.Columns))
		}
		for _, c := range got.Columns {
			if c.Min != nil && (!utf8.ValidString(*c.Min) || !utf8.ValidString(*c.Max)) {
				t.Fatalf("%q: extremes %q %q are not UTF-8", data, *c.Min, *c.Max)
			}
		}
	}
	for _, e := range []string{EncodingUTF8, EncodingWindows1252, EncodingMacintosh} {
		if seen[e] == 0 {
			t.Errorf("no generated file was %s: %v", e, seen)
		}
	}
}

func show(cols []Column) string {
	var b strings.Builder
	for _, c := range cols {
		if c.Min != nil {
			b.WriteString(c.Name + " " + string(c.Type) + " [" + *c.Min + " .. " + *c.Max + "] ")
		}
	}
	return b.String()
}

func TestStatedEncoding(t *testing.T) {
	mac := []byte("id,desc\n1,it\xD5s 6\xD018 ft\n") // LF: detection says windows-1252
	s, err := Analyze(bytes.NewReader(mac))
	if err != nil || s.Dialect.Encoding != EncodingWindows1252 {
		t.Fatalf("detected %+v, %v", s.Dialect, err)
	}
	for _, name := range []string{"macintosh", "Mac-Roman", "x-mac-roman"} {
		s, err := AnalyzeAs(bytes.NewReader(mac), name)
		if err != nil || s.Dialect.Encoding != EncodingMacintosh || *s.Columns[1].Max != "it’s 6–18 ft" {
			t.Fatalf("%s: %+v, %v", name, s, err)
		}
	}
	if s, err := AnalyzeAs(bytes.NewReader([]byte("a\n\xE9\n")), "latin1"); err != nil || s.Dialect.Encoding != EncodingWindows1252 || *s.Columns[0].Min != "é" {
		t.Fatalf("latin1: %+v, %v", s, err)
	}
	if s, err := AnalyzeAs(bytes.NewReader(utf16Bytes("a,b\n1,é\n", binary.LittleEndian)), "utf-16le"); err != nil || s.Dialect.Encoding != EncodingUTF16LE || *s.Columns[1].Min != "é" {
		t.Fatalf("utf-16le without a BOM: %+v, %v", s, err)
	}
	// A BOM wins over a stated Unicode encoding.
	if s, err := AnalyzeAs(bytes.NewReader([]byte("\xEF\xBB\xBFa\n1\n")), "utf-8"); err != nil || s.Dialect.Encoding != EncodingUTF8BOM {
		t.Fatalf("BOM: %+v, %v", s, err)
	}

	_, err = AnalyzeAs(bytes.NewReader(mac), "klingon")
	var ue *UnknownEncodingError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `"klingon"`) || !strings.Contains(err.Error(), "windows-1252") {
		t.Fatalf("unknown encoding: %v", err)
	}
}

func TestInvalidBytesInAStatedEncoding(t *testing.T) {
	late := lateByte("Caf\xE9,1\n")
	tests := []struct {
		name     string
		data     []byte
		encoding string
		offset   int64
	}{
		{"stated utf-8", late, "utf-8", int64(bytes.IndexByte(late, 0xE9))},
		{"utf-8 bom", append([]byte("\xEF\xBB\xBFa\nb\n"), "\xE9\n"...), "", 7},
		{"cut character at the end", []byte("a\n\xC3"), "utf8", 2},
		{"overlong", []byte("a\n\xC0\xAF\n"), "utf-8", 2},
		{"surrogate in utf-8", []byte("a\n\xED\xA0\x80\n"), "utf-8", 2},
		{"unpaired high surrogate", append([]byte{0xFF, 0xFE}, append(utf16Bytes("a\n", binary.LittleEndian), 0x3D, 0xD8, 'b', 0)...), "", 6},
		{"lone low surrogate", append([]byte{0xFE, 0xFF}, append(utf16Bytes("a\n", binary.BigEndian), 0xDE, 0x00)...), "", 6},
		{"odd byte at the end", append(utf16Bytes("a\n1\n", binary.LittleEndian), 'x'), "utf-16le", 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := AnalyzeAs(iotest.HalfReader(bytes.NewReader(tt.data)), tt.encoding)
			var ee *EncodingError
			if !errors.As(err, &ee) || !errors.Is(err, ErrEncoding) || ee.Offset != tt.offset {
				t.Fatalf("err = %v (%+v), want an EncodingError at %d", err, ee, tt.offset)
			}
		})
	}
	// Detection never rejects 8-bit text: it reads it as windows-1252.
	if s, err := Analyze(bytes.NewReader(late)); err != nil || s.Dialect.Encoding != EncodingWindows1252 {
		t.Fatalf("detected: %+v, %v", s.Dialect, err)
	}
}

// Files stored before uploads were verified are read as they were
// profiled, and whatever their label claimed, no reader output is invalid
// UTF-8.
func TestUnverifiedFiles(t *testing.T) {
	data := []byte("a,b\n\"p\"q\",Caf\xE9\nJos\xC3\xA9,\xE2\x82\n")
	d := Dialect{Encoding: EncodingUTF8, Delimiter: ',', Unverified: true}
	for _, src := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data))} {
		_, rows, _, err := readAll(NewReader(src, d))
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{`p"q`, "Café"}, {"José", "â\u201a"}}
		if !reflect.DeepEqual(rows, want) {
			t.Fatalf("rows = %q, want %q", rows, want)
		}
	}
}

func TestLookupEncoding(t *testing.T) {
	for name, want := range map[string]string{
		"UTF-8": EncodingUTF8, " utf8 ": EncodingUTF8, "utf-8-bom": EncodingUTF8, "utf-16": EncodingUTF16LE,
		"UTF-16BE": EncodingUTF16BE, "cp1252": EncodingWindows1252, "ISO-8859-1": EncodingWindows1252,
		"us-ascii": EncodingWindows1252, "mac": EncodingMacintosh, "MacRoman": EncodingMacintosh,
	} {
		if got, err := LookupEncoding(name); err != nil || got != want {
			t.Errorf("LookupEncoding(%q) = %q, %v, want %q", name, got, err, want)
		}
	}
	for _, bad := range []string{"", "shift_jis", "ebcdic", "utf-32"} {
		if _, err := LookupEncoding(bad); err == nil {
			t.Errorf("LookupEncoding(%q) accepted", bad)
		}
	}
}

// Every byte of the single-byte tables decodes to one distinct character,
// and rank orders bytes as their characters.
func TestByteTables(t *testing.T) {
	for _, tb := range []*byteTable{&windows1252, &macintosh} {
		seen := map[rune]bool{}
		for b := 0; b < 256; b++ {
			r := tb.rune[b]
			if r == utf8.RuneError || seen[r] {
				t.Fatalf("%s: byte %#x decodes to %U", tb.name, b, r)
			}
			seen[r] = true
			for c := 0; c < 256; c++ {
				if (tb.rank[b] < tb.rank[c]) != (r < tb.rune[c]) {
					t.Fatalf("%s: rank of %#x and %#x", tb.name, b, c)
				}
			}
		}
	}
}

// A file's text is decoded like its cells, and is valid UTF-8 whatever the
// label, for every fixture and for files stored before uploads were checked.
func TestTextReader(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
		d    Dialect
		want string
	}{
		{"utf-8 bom", []byte("\xEF\xBB\xBFa\nb\n"), Dialect{Encoding: EncodingUTF8BOM}, "a\nb\n"},
		{"windows-1252", []byte("a\r\nCaf\xE9 \x80\x81\r\n"), Dialect{Encoding: EncodingWindows1252}, "a\r\nCafé €\u0081\r\n"},
		{"macintosh", []byte("a\rit\xD5s 6\xD018\r"), Dialect{Encoding: EncodingMacintosh}, "a\rit’s 6–18\r"},
		{"utf-16le", append([]byte{0xFF, 0xFE}, utf16Bytes("a\né\n", binary.LittleEndian)...), Dialect{Encoding: EncodingUTF16LE}, "a\né\n"},
		{"unverified utf-8", []byte("a\nCaf\xE9 Jos\xC3\xA9\n"), Dialect{Encoding: EncodingUTF8, Unverified: true}, "a\nCafé José\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewTextReader(iotest.HalfReader(bytes.NewReader(tt.data)), tt.d)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tt.want || !utf8.Valid(got) {
				t.Fatalf("text = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
	if _, err := NewTextReader(bytes.NewReader(nil), Dialect{Encoding: "ebcdic"}); err == nil {
		t.Fatal("unknown encoding accepted")
	}
}

// The UTF-8 check runs beside the parser; Analyze must not leave it
// behind, whether the file ends or its reading fails.
func TestAnalyzeLeavesNoChecker(t *testing.T) {
	before := runtime.NumGoroutine()
	boom := errors.New("boom")
	for range 20 {
		if _, err := Analyze(bytes.NewReader(lateByte("Jos\xC3\xA9\n"))); err != nil {
			t.Fatal(err)
		}
		src := io.MultiReader(strings.NewReader("a,b\nJos\xC3\xA9,1\n"), iotest.ErrReader(boom))
		if _, err := Analyze(src); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	}
	testwait.Until(t, "the checkers to end", func() bool { return runtime.NumGoroutine() <= before })
}
