package csvio

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestProfiler(t *testing.T) {
	type want struct {
		typ      ColumnType
		nulls    int64
		min, max string // "" means nil
	}
	tests := []struct {
		name  string
		cells []string
		want  want
	}{
		{"integers", []string{"10", "9", "-3", "", "+4"}, want{TypeInteger, 1, "-3", "10"}},
		{"zero and one are integers", []string{"0", "1", "1"}, want{TypeInteger, 0, "0", "1"}},
		{"int64 bounds", []string{"9223372036854775807", "-9223372036854775808"}, want{TypeInteger, 0, "-9223372036854775808", "9223372036854775807"}},
		{"too big for int64 is float", []string{"1", "99999999999999999999"}, want{TypeFloat, 0, "1", "99999999999999999999"}},
		{"floats", []string{"1.5", "10", "2e3", ".5", "5."}, want{TypeFloat, 0, ".5", "2e3"}},
		{"long whole numbers compare by their digits", []string{"123456789012345678901234567890", "123456789012345678901234567891", "5", "123456789012345678901234567889"}, want{TypeFloat, 0, "5", "123456789012345678901234567891"}},
		{"whole numbers against floats exactly", []string{"9007199254740993", "9007199254740992.5", "9007199254740994.0"}, want{TypeFloat, 0, "9007199254740992.5", "9007199254740994.0"}},
		{"a float after int64 extremes", []string{"9007199254740993", "-9007199254740993", "9007199254740992.0"}, want{TypeFloat, 0, "-9007199254740993", "9007199254740993"}},
		{"longest whole number within float range", []string{strings.Repeat("9", 308), "1"}, want{TypeFloat, 0, "1", statText(strings.Repeat("9", 308))}},
		{"whole number beyond float range is text", []string{strings.Repeat("9", 309), "1"}, want{TypeText, 0, "1", statText(strings.Repeat("9", 309))}},
		{"ints then float", []string{"3", "1.5", "-2"}, want{TypeFloat, 0, "-2", "3"}},
		{"zero point", []string{"0.25", "-0.5", "0"}, want{TypeFloat, 0, "-0.5", "0.25"}},
		{"leading zeros are codes", []string{"007", "123"}, want{TypeText, 0, "007", "123"}},
		{"leading zero float", []string{"01.5", "2"}, want{TypeText, 0, "01.5", "2"}},
		{"nan is text", []string{"1", "NaN"}, want{TypeText, 0, "1", "NaN"}},
		{"inf is text", []string{"Inf"}, want{TypeText, 0, "Inf", "Inf"}},
		{"out of range float is text", []string{"1e999"}, want{TypeText, 0, "1e999", "1e999"}},
		{"spaces are text", []string{" 1", "2"}, want{TypeText, 0, " 1", "2"}},
		{"whitespace only is not null", []string{" ", "2"}, want{TypeText, 0, " ", "2"}},
		{"numbers then text", []string{"5", "10", "x"}, want{TypeText, 0, "10", "x"}},
		{"booleans", []string{"yes", "No", "T", "false", "", "y", "N", "TRUE", "f"}, want{TypeBoolean, 1, "N", "yes"}},
		{"bool and int", []string{"true", "1"}, want{TypeText, 0, "1", "true"}},
		{"iso dates", []string{"2024-03-01", "2023-12-31T23:00:00Z", "2024-03-01 08:00:00", "2024-02-29T10:00:00+02:00"}, want{TypeDateTime, 0, "2023-12-31T23:00:00Z", "2024-03-01 08:00:00"}},
		{"iso zones compare as instants", []string{"2024-01-01T10:00:00+05:00", "2024-01-01T06:00:00Z", "2024-01-01T02:30:00-0300"}, want{TypeDateTime, 0, "2024-01-01T10:00:00+05:00", "2024-01-01T06:00:00Z"}},
		{"iso fractions", []string{"2024-01-01T00:00:00.5Z", "2024-01-01T00:00:00.25Z", "2024/01/01 00:00"}, want{TypeDateTime, 0, "2024/01/01 00:00", "2024-01-01T00:00:00.5Z"}},
		{"us dates", []string{"12/31/2023", "1/2/2024", "02/01/2024 3:04 PM", "02/01/2024 15:03:59"}, want{TypeDateTime, 0, "12/31/2023", "02/01/2024 3:04 PM"}},
		{"ambiguous slash dates read as US", []string{"01/02/2024", "02/01/2024"}, want{TypeDateTime, 0, "01/02/2024", "02/01/2024"}},
		{"european dates", []string{"01/02/2024", "31/12/2023", "1/1/2024"}, want{TypeDateTime, 0, "31/12/2023", "01/02/2024"}},
		{"german dates", []string{"24.12.2023 18:00", "1.1.2024", "31.12.2023"}, want{TypeDateTime, 0, "24.12.2023 18:00", "1.1.2024"}},
		{"midnight am", []string{"1/1/2024 12:00 AM", "1/1/2024 1:00 AM"}, want{TypeDateTime, 0, "1/1/2024 12:00 AM", "1/1/2024 1:00 AM"}},
		{"mixed date families are text", []string{"2024-01-01", "01/02/2024"}, want{TypeText, 0, "01/02/2024", "2024-01-01"}},
		{"invalid day is text", []string{"2023-02-29"}, want{TypeText, 0, "2023-02-29", "2023-02-29"}},
		{"leap day", []string{"2024-02-29"}, want{TypeDateTime, 0, "2024-02-29", "2024-02-29"}},
		{"bad hour is text", []string{"2024-01-01 24:00"}, want{TypeText, 0, "2024-01-01 24:00", "2024-01-01 24:00"}},
		{"zone on slash date is text", []string{"01/02/2024 10:00Z"}, want{TypeText, 0, "01/02/2024 10:00Z", "01/02/2024 10:00Z"}},
		{"text byte order", []string{"b", "a", "B", "é"}, want{TypeText, 0, "B", "é"}},
		{"all empty", []string{"", "", ""}, want{TypeText, 3, "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProfiler([]string{"x", "pad"})
			for _, c := range tt.cells {
				// Reused backing storage: the profiler must copy what it keeps.
				buf := []byte(c)
				p.Add([]string{string(buf), "1"})
				for i := range buf {
					buf[i] = '#'
				}
			}
			cols := p.Columns()
			if p.Rows() != int64(len(tt.cells)) || len(cols) != 2 {
				t.Fatalf("rows %d cols %d", p.Rows(), len(cols))
			}
			c := cols[0]
			got := want{typ: c.Type, nulls: c.NullCount}
			if (c.Min == nil) != (c.Max == nil) {
				t.Fatal("min and max disagree on nil")
			}
			if c.Min != nil {
				got.min, got.max = *c.Min, *c.Max
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if c.Name != "x" || c.Index != 0 || cols[1].Index != 1 || cols[1].Type != TypeInteger {
				t.Fatalf("bad column identity %+v %+v", c, cols[1])
			}
		})
	}
}

func TestProfilerShortAndLongRecords(t *testing.T) {
	p := NewProfiler([]string{"a", "b"})
	p.Add([]string{"1"})
	p.Add([]string{"2", "x", "extra"})
	cols := p.Columns()
	if cols[1].NullCount != 1 || cols[0].Type != TypeInteger || *cols[1].Max != "x" {
		t.Fatalf("%+v", cols)
	}
}

// Add must not allocate per cell once the min/max buffers have grown, even
// when every cell is a new extreme.
func TestProfilerAddAllocs(t *testing.T) {
	p := NewProfiler([]string{"i", "f", "d", "t", "b", "n"})
	n := 0
	rec := make([]string, 6)
	strs := make([]string, 200)
	for i := range strs {
		strs[i] = fmt.Sprintf("%04d", i)
	}
	fill := func() {
		n++
		rec[0] = strs[n%100+100][1:]
		rec[1] = "1.5"
		rec[2] = "2024-01-02T10:00:00+02:00"
		rec[3] = strs[n%200]
		rec[4] = "yes"
		rec[5] = ""
	}
	for range 300 {
		fill()
		p.Add(rec)
	}
	if a := testing.AllocsPerRun(1000, func() { fill(); p.Add(rec) }); a != 0 {
		t.Fatalf("Add allocates %.1f times per record", a)
	}
}

func TestDaysFromCivil(t *testing.T) {
	for y := -1; y <= 2401; y += 7 {
		for m := 1; m <= 12; m++ {
			for _, d := range []int{1, 28} {
				want := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() / 86400
				if y < 1970 && time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix()%86400 != 0 {
					want--
				}
				if got := daysFromCivil(y, m, d); got != want || civilDays(y, m, d) != want {
					t.Fatalf("%d-%d-%d: %d, want %d", y, m, d, got, want)
				}
			}
		}
	}
}

func TestParseISOAgainstTime(t *testing.T) {
	tests := []struct{ in, layout string }{
		{"2024-02-29", "2006-01-02"},
		{"1999-12-31 23:59:59", "2006-01-02 15:04:05"},
		{"2024-06-01T12:34:56Z", time.RFC3339},
		{"2024-06-01T12:34:56.123456789+05:30", time.RFC3339Nano},
		{"2024-06-01T00:00:00-08:00", time.RFC3339},
		{"0001-01-01T00:00:00Z", time.RFC3339},
		{"9999-12-31T23:59:59Z", time.RFC3339},
	}
	for _, tt := range tests {
		tm, err := time.Parse(tt.layout, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseISO(tt.in)
		if !ok || got.Sec != tm.Unix() || got.Nsec != int32(tm.Nanosecond()) {
			t.Errorf("%s: %+v %v, want %d.%d", tt.in, got, ok, tm.Unix(), tm.Nanosecond())
		}
	}
	for _, bad := range []string{"2024-13-01", "2024-00-10", "2024-01-32", "2024-1-01", "2024-01-01T", "2024-01-01 10", "2024-01-01 10:60", "2024-01-01T10:00:00+2", "2024-01-01X10:00", "20240101", "2024-01-01T10:00:00 +02:00x"} {
		if _, ok := parseISO(bad); ok {
			t.Errorf("parseISO(%q) accepted", bad)
		}
	}
}

// TestPrefixKeyOrders: a smaller key means a smaller string, and for equal
// keys lessSameKey is the string order, on short strings of bytes that
// include zeros (the keys' padding) and bytes above 0x7F.
func TestPrefixKeyOrders(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	word := func() string {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = []byte{0, 1, 'a', 'b', 0x7F, 0x80, 0xFF}[rng.IntN(7)]
		}
		return string(b)
	}
	for range 200000 {
		a, b := word(), word()
		ka, kb := prefixKey(a), prefixKey(b)
		switch {
		case ka < kb && !(a < b), ka > kb && !(a > b):
			t.Fatalf("prefixKey(%q) = %x, prefixKey(%q) = %x: not their order", a, ka, b, kb)
		case ka == kb && lessSameKey(a, b) != (a < b):
			t.Fatalf("lessSameKey(%q, %q) = %v", a, b, lessSameKey(a, b))
		}
	}
}

// TestBatchCells: a batch gives back every cell it took, with its
// prefixKey, whether the cell was in the base buffer, near its end, or
// outside it.
func TestBatchCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	for round := range 200 {
		base := make([]byte, rng.IntN(200))
		for i := range base {
			base[i] = byte(rng.IntN(256))
		}
		b := &batch{}
		b.reset()
		var want []string
		for range rng.IntN(30) {
			rec := make([]string, rng.IntN(5))
			for k := range rec {
				if len(base) > 0 && rng.IntN(3) > 0 {
					i := rng.IntN(len(base))
					rec[k] = bstr(base[i : i+rng.IntN(len(base)-i+1)])
				} else {
					rec[k] = strings.Repeat("x", rng.IntN(10))
				}
			}
			b.add(rec, base)
			want = append(want, rec...)
		}
		b.seal()
		if len(b.refs) != len(want) {
			t.Fatalf("round %d: %d cells, want %d", round, len(b.refs), len(want))
		}
		for i, ref := range b.refs {
			if want[i] == "" {
				if ref.n != 0 {
					t.Fatalf("round %d: cell %d is %d bytes, want empty", round, i, ref.n)
				}
				continue
			}
			s, k := b.cellKey(ref)
			if s != want[i] || k != prefixKey(want[i]) || b.cell(ref) != want[i] {
				t.Fatalf("round %d: cell %d = %q %x, want %q %x", round, i, s, k, want[i], prefixKey(want[i]))
			}
		}
	}
}
