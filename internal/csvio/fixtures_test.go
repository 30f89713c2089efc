package csvio

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"
)

var update = flag.Bool("update", false, "rewrite the files in testdata from the fixture definitions")

// fixture is a test file defined byte by byte here, written to testdata by
// `go test -run TestFixtureFiles -update`, and read back from disk by the
// tests so that the odd bytes are really exercised through a file.
type fixture struct {
	name string
	data []byte
	// mustContain are byte sequences the file has to hold; they guard
	// against an editor or a transcoding tool "fixing" the file.
	mustContain [][]byte

	// Expected outcome.
	notCSV  string  // NotCSVError reason from Sniff, if rejected
	dialect Dialect // what Analyze decides
	sniffed string  // the encoding Sniff guesses from the prefix, if checked
	header  []string
	rows    [][]string
	lines   []int64 // Line() after each row, if checked
	// Counts of the reader and of Analyze.
	short, long, repaired int64
	// wide is Analyze's header when long rows add columns to the file's
	// header; wideRows are the rows read back that wide (SetWidth).
	wide     []string
	wideRows [][]string
	// lastRows: rows (and wideRows) are only the file's last rows, for
	// fixtures that need bulk before them.
	lastRows bool
}

func utf16Bytes(s string, order binary.AppendByteOrder) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// lateByte is SniffSize+ bytes of ASCII rows, then one row holding tail.
func lateByte(tail string) []byte {
	b := []byte("name,n\n")
	for i := 0; len(b) <= SniffSize; i++ {
		b = fmt.Appendf(b, "row%05d,%d\n", i, i)
	}
	return append(b, tail...)
}

var fixtures = []fixture{
	{
		name:        "utf8_bom.csv",
		data:        cat([]byte{0xEF, 0xBB, 0xBF}, []byte("name,city\nJosé,Zürich\nÅsa,Köln\n")),
		mustContain: [][]byte{{0xEF, 0xBB, 0xBF}, {0xC3, 0xA9}},
		dialect:     Dialect{Encoding: EncodingUTF8BOM, Delimiter: ','},
		header:      []string{"name", "city"},
		rows:        [][]string{{"José", "Zürich"}, {"Åsa", "Köln"}},
	},
	{
		name:        "utf16le_bom.csv",
		data:        cat([]byte{0xFF, 0xFE}, utf16Bytes("name;price\r\nÉclair;3,50\r\n€uro;1\r\n", binary.LittleEndian)),
		mustContain: [][]byte{{0xFF, 0xFE, 'n', 0x00}, {0xAC, 0x20}}, // € = U+20AC
		dialect:     Dialect{Encoding: EncodingUTF16LE, Delimiter: ';'},
		header:      []string{"name", "price"},
		rows:        [][]string{{"Éclair", "3,50"}, {"€uro", "1"}},
	},
	{
		name:        "utf16be_bom.csv",
		data:        cat([]byte{0xFE, 0xFF}, utf16Bytes("a\tb\nü\t2\n😀\t3\n", binary.BigEndian)),
		mustContain: [][]byte{{0xFE, 0xFF, 0x00, 'a'}, {0x00, 0xFC}, {0xD8, 0x3D}},
		dialect:     Dialect{Encoding: EncodingUTF16BE, Delimiter: '\t'},
		header:      []string{"a", "b"},
		rows:        [][]string{{"ü", "2"}, {"😀", "3"}},
	},
	{
		name:        "windows1252.csv",
		data:        []byte("name;note\r\nCaf\xE9;\x80 5\r\nM\xFCller;ok\r\n"),
		mustContain: [][]byte{{0xE9}, {0x80}, {0xFC}, {'\r', '\n'}},
		dialect:     Dialect{Encoding: EncodingWindows1252, Delimiter: ';'},
		header:      []string{"name", "note"},
		rows:        [][]string{{"Café", "€ 5"}, {"Müller", "ok"}},
	},
	{
		name:        "crlf.csv",
		data:        []byte("id,name\r\n1,a\r\n2,b\r\n"),
		mustContain: [][]byte{[]byte("1,a\r\n")},
		dialect:     Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:      []string{"id", "name"},
		rows:        [][]string{{"1", "a"}, {"2", "b"}},
	},
	{
		name:        "cr_only.csv",
		data:        []byte("id,name\r1,a\r2,\"x\ry\"\r3,c"),
		mustContain: [][]byte{[]byte("1,a\r2")},
		dialect:     Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:      []string{"id", "name"},
		rows:        [][]string{{"1", "a"}, {"2", "x\ry"}, {"3", "c"}},
	},
	{
		name:    "semicolon.csv",
		data:    []byte("name;amount;note\nAnna;1,5;a, b\nBen;2,25;c\nCleo;3;\"x;y\"\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ';'},
		header:  []string{"name", "amount", "note"},
		rows:    [][]string{{"Anna", "1,5", "a, b"}, {"Ben", "2,25", "c"}, {"Cleo", "3", "x;y"}},
	},
	{
		name:        "tab.tsv",
		data:        []byte("id\tcomment\n1\thello, world\n2\tone, two, three\n"),
		mustContain: [][]byte{{'\t'}},
		dialect:     Dialect{Encoding: EncodingUTF8, Delimiter: '\t'},
		header:      []string{"id", "comment"},
		rows:        [][]string{{"1", "hello, world"}, {"2", "one, two, three"}},
	},
	{
		name:    "pipe.csv",
		data:    []byte("a|b|c\n1|2|3\n4|5|6\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: '|'},
		header:  []string{"a", "b", "c"},
		rows:    [][]string{{"1", "2", "3"}, {"4", "5", "6"}},
	},
	{
		name: "quoted.csv",
		data: []byte("id,text,n\n" +
			"1,\"a, b\",2\n" +
			"2,\"say \"\"hi\"\"\",3\n" +
			"3,\"line1\nline2\",4\n" +
			"4,\"crlf\r\ninside\",5\n" +
			"5,\"\",6\n" +
			"6,\"\"\"\",7\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:  []string{"id", "text", "n"},
		rows: [][]string{
			{"1", "a, b", "2"},
			{"2", `say "hi"`, "3"},
			{"3", "line1\nline2", "4"},
			{"4", "crlf\r\ninside", "5"},
			{"5", "", "6"},
			{"6", `"`, "7"},
		},
		lines: []int64{2, 3, 4, 5, 6, 7},
	},
	{
		name:    "header_names.csv",
		data:    []byte(" id ,,name,name, ,name,column_2\n1,2,3,4,5,6,7\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:  []string{"id", "column_2_2", "name", "name_2", "column_5", "name_3", "column_2"},
		rows:    [][]string{{"1", "2", "3", "4", "5", "6", "7"}},
	},
	{
		name:    "ragged.csv",
		data:    []byte("a,b,c\n1\n1,2\n1,2,3\n1,2,3,4,5\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:  []string{"a", "b", "c"},
		rows:    [][]string{{"1", "", ""}, {"1", "2", ""}, {"1", "2", "3"}, {"1", "2", "3"}},
		short:   2,
		long:    1,
		wide:    []string{"a", "b", "c", "column_4", "column_5"},
		wideRows: [][]string{{"1", "", "", "", ""}, {"1", "2", "", "", ""}, {"1", "2", "3", "", ""},
			{"1", "2", "3", "4", "5"}},
	},
	{
		name:    "blank_lines.csv",
		data:    []byte("\na,b\n\n1,2\r\n\r\n3,4\n\n\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:  []string{"a", "b"},
		rows:    [][]string{{"1", "2"}, {"3", "4"}},
		lines:   []int64{4, 6},
	},
	{
		name: "malformed.csv",
		data: []byte("a,b\n" +
			"x\"y,1\n" + // bare quote in an unquoted field
			"\"p\"q\",2\n" + // closing quote followed by more text
			"\"open,3\nstill open"), // EOF inside quotes
		dialect:  Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:   []string{"a", "b"},
		rows:     [][]string{{"x\"y", "1"}, {"pq\"", "2"}, {"open,3\nstill open", ""}},
		short:    1,
		repaired: 2,
	},
	{
		// One windows-1252 byte after the sniffed prefix decides the file.
		name:        "windows1252_late.csv",
		data:        lateByte("Caf\xE9,1\n"),
		mustContain: [][]byte{[]byte("Caf\xE9,")},
		dialect:     Dialect{Encoding: EncodingWindows1252, Delimiter: ','},
		sniffed:     EncodingUTF8,
		header:      []string{"name", "n"},
		lastRows:    true,
		rows:        [][]string{{"Café", "1"}},
	},
	{
		// Valid UTF-8 first, then a byte that is not: no single reading
		// fits both, and windows-1252 is the one that keeps every byte.
		name:        "utf8_then_windows1252.csv",
		data:        []byte("name\nJos\xC3\xA9\nZo\xEB\n"),
		mustContain: [][]byte{{0xC3, 0xA9}, {0xEB}},
		dialect:     Dialect{Encoding: EncodingWindows1252, Delimiter: ','},
		header:      []string{"name"},
		rows:        [][]string{{"JosÃ©"}, {"Zoë"}},
	},
	{
		// A classic Mac OS export: CR-only line breaks, Mac Roman bytes
		// for typographic punctuation (’ is 0xD5, – is 0xD0).
		name:        "macroman_cr.csv",
		data:        []byte("id,desc\r1,it\xD5s 6\xD018 ft\r2,\xD2caf\x8E\xD3\r"),
		mustContain: [][]byte{{0xD5}, {0xD0}, {0x8E}, []byte("ft\r2")},
		dialect:     Dialect{Encoding: EncodingMacintosh, Delimiter: ','},
		header:      []string{"id", "desc"},
		rows:        [][]string{{"1", "it’s 6–18 ft"}, {"2", "“café”"}},
	},
	{
		// The same bytes with CRLF line breaks: no evidence of a Mac.
		name:        "punctuation_crlf.csv",
		data:        []byte("id,desc\r\n1,it\xD5s\r\n"),
		mustContain: [][]byte{{0xD5}, []byte("\r\n1")},
		dialect:     Dialect{Encoding: EncodingWindows1252, Delimiter: ','},
		header:      []string{"id", "desc"},
		rows:        [][]string{{"1", "itÕs"}},
	},
	{
		// windows-1252 leaves five bytes unassigned; they are kept as the
		// C1 controls of the same number, never replaced.
		name:        "windows1252_unassigned.csv",
		data:        []byte("a,b\n\x81\xE9,\x9D\n"),
		mustContain: [][]byte{{0x81}, {0x9D}},
		dialect:     Dialect{Encoding: EncodingWindows1252, Delimiter: ','},
		header:      []string{"a", "b"},
		rows:        [][]string{{"\u0081é", "\u009D"}},
	},
	{
		// A closing quote followed by more text ends the quoted part; the
		// rest of the file is not swallowed into one cell.
		name:     "stray_quote.csv",
		data:     []byte("\"x\"y,2\n3,4\n5,6\n"),
		dialect:  Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:   []string{"xy", "2"},
		rows:     [][]string{{"3", "4"}, {"5", "6"}},
		repaired: 1,
	},
	{
		// A space before the quote: the quote is data and the comma inside
		// it splits the cell, so the row is longer than the header; its
		// last cell becomes a column instead of being dropped.
		name:     "space_quote.csv",
		data:     []byte("a,b\n1, \"x,y\"\n2,z\n"),
		dialect:  Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:   []string{"a", "b"},
		rows:     [][]string{{"1", ` "x`}, {"2", "z"}},
		long:     1,
		wide:     []string{"a", "b", "column_3"},
		wideRows: [][]string{{"1", ` "x`, `y"`}, {"2", "z", ""}},
	},
	{
		name:   "binary.png",
		data:   []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 0x0D, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89},
		notCSV: reasonNUL,
	},
	{
		name:        "nul.csv",
		data:        []byte("a,b\n1,\x002\n"),
		mustContain: [][]byte{{0}},
		notCSV:      reasonNUL,
	},
	{
		name:   "controls.bin",
		data:   bytes.Repeat([]byte{0x01, 'a', 0x02, 0x1B, 0x7F}, 20),
		notCSV: reasonNotText,
	},
	{
		name:   "empty.csv",
		data:   []byte{},
		notCSV: reasonEmpty,
	},
	{
		name:    "header_only.csv",
		data:    []byte("id,name,amount\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:  []string{"id", "name", "amount"},
	},
	{
		name:    "single_column.csv",
		data:    []byte("name\nAnn\nBob\n"),
		dialect: Dialect{Encoding: EncodingUTF8, Delimiter: ','},
		header:  []string{"name"},
		rows:    [][]string{{"Ann"}, {"Bob"}},
	},
}

func TestFixtureFiles(t *testing.T) {
	for _, f := range fixtures {
		path := filepath.Join("testdata", f.name)
		if *update {
			if err := os.WriteFile(path, f.data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestFixtureFiles -update)", err)
		}
		if !bytes.Equal(got, f.data) {
			t.Errorf("%s differs from its definition (run go test -run TestFixtureFiles -update)", path)
		}
		for _, m := range f.mustContain {
			if !bytes.Contains(got, m) {
				t.Errorf("%s lacks bytes % X", path, m)
			}
		}
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
