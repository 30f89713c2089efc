package csvio

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func FuzzSniff(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.data)
	}
	f.Add([]byte("a;b\n\"x\ny\";1\n"))
	f.Add([]byte{0xFF, 0xFE, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Sniff(data)
		if err != nil {
			if !errors.Is(err, ErrNotCSV) {
				t.Fatalf("error %v does not wrap ErrNotCSV", err)
			}
			return
		}
		switch d.Encoding {
		case EncodingUTF8, EncodingUTF8BOM, EncodingUTF16LE, EncodingUTF16BE, EncodingWindows1252, EncodingMacintosh:
		default:
			t.Fatalf("encoding %q", d.Encoding)
		}
		if bytes.IndexByte([]byte{',', ';', '\t', '|'}, d.Delimiter) < 0 {
			t.Fatalf("delimiter %q", d.Delimiter)
		}
	})
}

// rawRecords reads every record without header handling or normalisation.
func rawRecords(t *testing.T, r *Reader, limit int) ([][]string, error) {
	var out [][]string
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("more than %d records: reader does not terminate", limit)
		}
		nf, err := r.next(true)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec := make([]string, nf)
		for j, v := range r.record[:nf] {
			rec[j] = strings.Clone(v)
		}
		out = append(out, rec)
	}
}

func FuzzReader(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(fx.data, byte(','))
	}
	f.Add([]byte("a,b\n\"x\"\"y\",\"p\"q\"\n\"open"), byte(','))
	f.Add([]byte("a;b\r\n1;\"2\r\n3\"\r\r\n"), byte(';'))
	f.Fuzz(func(t *testing.T, data []byte, delim byte) {
		switch delim {
		case ',', ';', '\t', '|':
		default:
			delim = ','
		}
		d := Dialect{Encoding: EncodingUTF8, Delimiter: delim}
		limit := len(data) + 1
		got, err := rawRecords(t, NewReader(bytes.NewReader(data), d), limit)
		if err != nil {
			t.Fatal(err)
		}
		// Refills at every byte must not change anything.
		small, err := rawRecords(t, newSmallReader(iotest.OneByteReader(bytes.NewReader(data)), d, 1, 1<<20), limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, small) {
			t.Fatalf("buffer size changes the result:\n%q\n%q", got, small)
		}

		// Without CR (which both references treat differently on purpose)
		// and without a BOM (which they keep), the repairs are those of
		// Python's csv module, and the rules files stored before them are
		// read with are those of encoding/csv with LazyQuotes.
		if bytes.IndexByte(data, '\r') < 0 && !bytes.HasPrefix(data, bomUTF8) {
			if want := pythonCSV(string(data), delim); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("differs from Python's csv:\n got %q\nwant %q", got, want)
			}
			lazy, err := rawRecords(t, NewReader(bytes.NewReader(data), Dialect{Encoding: EncodingUTF8, Delimiter: delim, Unverified: true}), limit)
			if err != nil {
				t.Fatal(err)
			}
			cr := csv.NewReader(bytes.NewReader(data))
			cr.Comma = rune(delim)
			cr.LazyQuotes = true
			cr.FieldsPerRecord = -1
			want, err := cr.ReadAll()
			if err == nil && utf8.Valid(data) && !reflect.DeepEqual(lazy, want) && !(len(lazy) == 0 && len(want) == 0) {
				t.Fatalf("unverified rules differ from encoding/csv:\n got %q\nwant %q", lazy, want)
			}
		}

		// The public path must not panic either, must keep every cell and
		// must hand out valid UTF-8 only.
		s, aerr := Analyze(bytes.NewReader(data))
		r := NewReader(bytes.NewReader(data), d)
		if aerr == nil {
			r = NewReader(bytes.NewReader(data), s.Dialect)
			r.SetWidth(len(s.Columns))
		}
		if h, err := r.Header(); err == nil {
			width := max(len(h), len(s.Columns))
			for i := 0; ; i++ {
				rec, err := r.Read()
				if err != nil {
					break
				}
				if len(rec) != width || i > limit {
					t.Fatalf("record of %d cells for %d columns", len(rec), width)
				}
				for _, c := range rec {
					if aerr == nil && !utf8.ValidString(c) {
						t.Fatalf("cell %q of a %s file is not UTF-8", c, s.Dialect.Encoding)
					}
				}
			}
		}
	})
}

// pythonCSV is a model of CPython's csv.reader (Modules/_csv.c) with the
// default dialect and strict=False, for input without CR: the reference
// for how broken quoting is repaired. Blank lines, which Python returns as
// empty records, are left out, as Reader skips them. TestPythonCSVModel
// checks the model against Python itself.
func pythonCSV(data string, delim byte) [][]string {
	const (
		startRecord = iota
		startField
		inField
		inQuoted
		quoteInQuoted
	)
	var out [][]string
	var rec []string
	var field []byte
	state := startRecord
	save := func() { rec = append(rec, string(field)); field = field[:0] }
	end := func() {
		save()
		out = append(out, rec)
		rec = nil
		state = startRecord
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch state {
		case startRecord:
			if c == '\n' {
				continue
			}
			state = startField
			fallthrough
		case startField:
			switch c {
			case '"':
				state = inQuoted
			case delim:
				save()
			case '\n':
				end()
			default:
				field = append(field, c)
				state = inField
			}
		case inField:
			switch c {
			case delim:
				save()
				state = startField
			case '\n':
				end()
			default:
				field = append(field, c)
			}
		case inQuoted:
			if c == '"' {
				state = quoteInQuoted
			} else {
				field = append(field, c)
			}
		case quoteInQuoted:
			switch c {
			case '"':
				field = append(field, c)
				state = inQuoted
			case delim:
				save()
				state = startField
			case '\n':
				end()
			default:
				field = append(field, c)
				state = inField
			}
		}
	}
	if state != startRecord {
		end()
	}
	return out
}

// The model above must be what Python's csv module does.
func TestPythonCSVModel(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	inputs := []string{
		"\"x\"y,2\n3,4\n5,6\n", "a,b\n1, \"x,y\"\n", "\"a\"b\",c\n", "a\"b,c\n", "\"abc\n1,2\n",
		"\"x\"\"y\"z\"\n", "\"\"\n\"\"\"\"\n", "a,\"b\"\"\n\n\nc", ",,\n\"\",\n", "\"p\"q\"r\"s\",t",
	}
	rng := rand.New(rand.NewPCG(9, 10))
	alphabet := []byte("ab,\"\n ")
	for range 300 {
		b := make([]byte, rng.IntN(14))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	in, _ := json.Marshal(inputs)
	cmd := exec.Command(py, "-c", `import csv, io, json, sys
out = [[r for r in csv.reader(io.StringIO(s, newline='')) if r] for s in json.load(sys.stdin)]
json.dump(out, sys.stdout)`)
	cmd.Stdin = bytes.NewReader(in)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var want [][][]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for i, s := range inputs {
		got := pythonCSV(s, ',')
		if !reflect.DeepEqual(got, want[i]) && !(len(got) == 0 && len(want[i]) == 0) {
			t.Errorf("%q: model %q, Python %q", s, got, want[i])
		}
		// And the reader agrees with both.
		r, err := rawRecords(t, NewReader(strings.NewReader(s), Dialect{}), len(s)+1)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r, want[i]) && !(len(r) == 0 && len(want[i]) == 0) {
			t.Errorf("%q: reader %q, Python %q", s, r, want[i])
		}
	}
}

// FuzzRFC4180 generates well-formed files with encoding/csv's writer and
// checks that Reader gives back exactly the records written.
func FuzzRFC4180(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(10))
	f.Add(uint64(42), uint8(1), uint8(50))
	f.Fuzz(func(t *testing.T, seed uint64, ncol, nrow uint8) {
		rng := rand.New(rand.NewPCG(seed, seed>>1))
		cols := 1 + int(ncol)%8
		var records [][]string
		for range 1 + int(nrow)%64 {
			rec := make([]string, cols)
			for i := range rec {
				rec[i] = randomField(rng)
			}
			if cols == 1 && rec[0] == "" {
				rec[0] = "x" // encoding/csv writes it as a blank line
			}
			records = append(records, rec)
		}
		for _, useCRLF := range []bool{false, true} {
			var b bytes.Buffer
			w := csv.NewWriter(&b)
			w.UseCRLF = useCRLF
			if err := w.WriteAll(records); err != nil {
				t.Fatal(err)
			}
			got, err := rawRecords(t, NewReader(bytes.NewReader(b.Bytes()), Dialect{}), len(records)+1)
			if err != nil {
				t.Fatal(err)
			}
			want := records
			if useCRLF {
				// In this mode encoding/csv drops a lone \r and writes \n as
				// \r\n, inside quotes too.
				want = make([][]string, len(records))
				for i, rec := range records {
					want[i] = make([]string, len(rec))
					for j, v := range rec {
						want[i][j] = strings.ReplaceAll(strings.ReplaceAll(v, "\r", ""), "\n", "\r\n")
					}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("crlf=%v: got %q\nwant %q\nfile %q", useCRLF, got, want, b.String())
			}
		}
	})
}
