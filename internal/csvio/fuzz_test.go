package csvio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
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
		case EncodingUTF8, EncodingUTF8BOM, EncodingUTF16LE, EncodingUTF16BE, EncodingWindows1252:
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

		// Without CR (which encoding/csv treats differently on purpose) and
		// without a BOM (which encoding/csv keeps), the lenient rules are
		// the same as encoding/csv with LazyQuotes.
		if bytes.IndexByte(data, '\r') < 0 && !bytes.HasPrefix(data, bomUTF8) {
			cr := csv.NewReader(bytes.NewReader(data))
			cr.Comma = rune(delim)
			cr.LazyQuotes = true
			cr.FieldsPerRecord = -1
			want, err := cr.ReadAll()
			if err == nil && !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("differs from encoding/csv:\n got %q\nwant %q", got, want)
			}
		}

		// The public path must not panic either.
		_, _ = Analyze(bytes.NewReader(data))
		r := NewReader(bytes.NewReader(data), d)
		if h, err := r.Header(); err == nil {
			for i := 0; ; i++ {
				rec, err := r.Read()
				if err != nil {
					break
				}
				if len(rec) != len(h) || i > limit {
					t.Fatalf("record of %d cells for %d columns", len(rec), len(h))
				}
			}
		}
	})
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
