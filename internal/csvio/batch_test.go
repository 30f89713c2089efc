package csvio

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// randomCell returns a cell of the given style, now and then one of
// another: columns stay typed for a while, then some turn TEXT.
func randomCell(rng *rand.Rand, style int) string {
	if rng.IntN(40) == 0 {
		style = rng.IntN(12)
	}
	switch style {
	case 0:
		return strconv.Itoa(rng.IntN(2000) - 1000)
	case 1:
		return []string{"9223372036854775807", "-9223372036854775808", "9223372036854775808", "007", "+5", "0"}[rng.IntN(6)]
	case 2:
		return strconv.FormatFloat(rng.NormFloat64()*1e3, 'f', rng.IntN(4), 64)
	case 3:
		return []string{"1e400", "2e3", ".5", "5.", "-0.0", "9007199254740993", "1.5e-7"}[rng.IntN(7)]
	case 4:
		// Equal instants spelt differently too.
		return []string{"2024-01-02", "2023-12-31T23:59:59Z", "2024/02/29", "2023-02-29", "01/02/2024", "13/02/2024", "02.01.2024 10:00",
			"2024/01/02", "2023-12-31 23:59:59", "2024-02-29T00:00:00+00:00"}[rng.IntN(10)]
	case 5:
		return []string{"true", "False", "y", "N", "yes", "no"}[rng.IntN(6)]
	case 6:
		return []string{"", "", "x"}[rng.IntN(3)]
	case 8:
		// Equal values spelt differently: which one an extreme keeps.
		return []string{"7", "+7", "7.0", "0", "-0", "+0", "0.0", "7e0", "2024-01-02", "2024/01/02"}[rng.IntN(10)]
	case 9:
		return []string{"1.5", "1.50", "15e-1", "-2.0", "-2.00", "-2e0", "0.5"}[rng.IntN(7)]
	case 10:
		// ISO only: equal instants spelt differently, which one an
		// extreme keeps.
		return []string{"2024-01-02", "2024/01/02", "2024-01-02 00:00", "2023-12-31T23:00:00-01:00", "1999-12-31", "2030-06-15T12:00:00Z", "2030-06-15 12:00:00"}[rng.IntN(7)]
	case 7:
		return []string{"Zürich", "caf\xe9", "it\xd5s", "\xd0", "Ōsaka", "abcdefgh", "abcdefghi", "abc"}[rng.IntN(8)]
	}
	b := make([]byte, rng.IntN(12))
	for i := range b {
		b[i] = byte(' ' + rng.IntN(95))
	}
	return string(b)
}

// profileBoth profiles records with Add, one record after the other, and
// with addBatch, in batches of random sizes, and fails unless every
// reading of the profile (each candidate encoding) is the same.
func profileBoth(t *testing.T, rng *rand.Rand, header []string, records [][]string, grow, eightBit bool) {
	t.Helper()
	one, batched := NewProfiler(header), NewProfiler(header)
	for _, p := range []*Profiler{one, batched} {
		p.grow, p.eightBit, p.maybeHigh = grow, eightBit, eightBit
	}
	for _, r := range records {
		one.Add(r)
	}
	// The batch's cells sit in a base buffer, as the reader lends it, and
	// now and then in the arena, as the reader's scratch cells do.
	b := &batch{}
	var pending [][]string
	flush := func() {
		b.reset()
		size := 0
		for _, r := range pending {
			for _, c := range r {
				size += len(c)
			}
		}
		base := make([]byte, 0, size)
		for _, r := range pending {
			if rng.IntN(5) == 0 {
				b.add(r, nil) // every cell into the arena
				continue
			}
			rec := make([]string, len(r))
			for k, c := range r {
				at := len(base)
				base = append(base, c...)
				rec[k] = bstr(base[at:len(base):len(base)])
			}
			b.add(rec, base[:size])
		}
		b.seal()
		batched.addBatch(b)
		pending = pending[:0]
	}
	for _, r := range records {
		pending = append(pending, r)
		if rng.IntN(7) == 0 {
			flush()
		}
	}
	flush()
	if one.Rows() != batched.Rows() {
		t.Fatalf("rows: Add %d, addBatch %d", one.Rows(), batched.Rows())
	}
	names := make([]string, len(one.names))
	for i := range names {
		names[i] = "c" + strconv.Itoa(i)
	}
	if len(batched.names) != len(names) {
		t.Fatalf("columns: Add %d, addBatch %d", len(names), len(batched.names))
	}
	for _, table := range []*byteTable{nil, &windows1252, &macintosh} {
		a, b := one.columns(names, table), batched.columns(names, table)
		if !reflect.DeepEqual(a, b) {
			for i := range a {
				if !reflect.DeepEqual(a[i], b[i]) {
					t.Fatalf("column %d differs:\nAdd      %+v %v %v\naddBatch %+v %v %v", i, a[i], deref(a[i].Min), deref(a[i].Max), b[i], deref(b[i].Min), deref(b[i].Max))
				}
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

// TestAddBatchIsAdd: Analyze profiles column by column, and must give the
// profile Add gives record by record, on random records of every type,
// ragged, in every byte order.
func TestAddBatchIsAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for round := range 300 {
		width := 1 + rng.IntN(8)
		styles := make([]int, width+3)
		for i := range styles {
			styles[i] = rng.IntN(12)
		}
		header := make([]string, width)
		records := make([][]string, rng.IntN(400))
		for r := range records {
			n := width
			if rng.IntN(10) == 0 {
				n = rng.IntN(width + 4) // short and long records
			}
			rec := make([]string, n)
			for i := range rec {
				rec[i] = randomCell(rng, styles[i])
			}
			records[r] = rec
		}
		profileBoth(t, rng, header, records, round%2 == 0, round%3 != 0)
	}
}

// TestAddBatchIsAddOnFixtures does the same over the records of every
// CSV file in testdata.
func TestAddBatchIsAddOnFixtures(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if len(paths) == 0 {
		t.Fatal("no fixtures")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Sniff(data)
		if err != nil {
			continue // not a CSV file: Analyze profiles nothing
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
			profileBoth(t, rng, rd.raw, records, true, true)
			profileBoth(t, rng, rd.raw, records, false, false)
		})
	}
}
