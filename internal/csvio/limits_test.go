package csvio

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestMaxColumns(t *testing.T) {
	for _, tc := range []struct {
		header  string
		max     int
		tooMany bool
	}{
		{"a,b,c", 3, false},
		{"a,b,c,d", 3, true},
		{"a,b,c", 0, false},
		{`"a,b",c`, 2, false},
		{strings.Repeat(",", 1<<20), 10, true},
	} {
		rd := NewReader(strings.NewReader(tc.header+"\n1,2,3\n"), Dialect{Delimiter: ','})
		rd.SetMaxColumns(tc.max)
		h, err := rd.Header()
		var wide *TooManyColumnsError
		if got := errors.As(err, &wide); got != tc.tooMany {
			t.Errorf("%.20q max %d: header %d names, err %v", tc.header, tc.max, len(h), err)
		}
		if tc.tooMany {
			if cap(rd.record) > 2*(tc.max+1) { // append doubles
				t.Errorf("%.20q: %d fields kept for a limit of %d", tc.header, cap(rd.record), tc.max)
			}
			if _, err := rd.Read(); err == nil {
				t.Errorf("%.20q: reading went on after the header was refused", tc.header)
			}
		}
	}
}

func TestStatTextIsBounded(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	p := NewProfiler([]string{"a"})
	p.Add([]string{long})
	p.Add([]string{"b"})
	c := p.Columns()[0]
	if len(*c.Max) > MaxStatBytes+len("…") || !strings.HasSuffix(*c.Max, "…") || !strings.HasPrefix(long, strings.TrimSuffix(*c.Max, "…")) {
		t.Fatalf("max of a 600-byte cell kept as %d bytes: %.40q", len(*c.Max), *c.Max)
	}
	if *c.Min != "b" {
		t.Fatalf("min = %q", *c.Min)
	}
}

// The cells of a long row become columns, so MaxColumns bounds rows too
// while Analyze reads: a file cannot grow its profile past the limit.
func TestMaxColumnsBoundsLongRows(t *testing.T) {
	data := "a,b\n1,2\n" + strings.Repeat("x,", 1<<16) + "\n"
	_, err := AnalyzeLimited(strings.NewReader(data), Limits{MaxColumns: 10})
	var wide *TooManyColumnsError
	if !errors.As(err, &wide) || wide.Line != 3 || !strings.Contains(err.Error(), "row 3 has more than 10 cells") {
		t.Fatalf("err = %v", err)
	}
	if s, err := AnalyzeAs(strings.NewReader("a,b\n1,2,3\n"), "", Limits{MaxColumns: 3}); err != nil || len(s.Columns) != 3 {
		t.Fatalf("a row at the limit: %+v, %v", s, err)
	}
}

// A long extreme is cut to MaxStatBytes as if it had been copied whole,
// at every length about the cut, in UTF-8 and in an 8-bit encoding.
func TestStatTextOfLongExtremes(t *testing.T) {
	for _, tc := range []struct {
		name, encoding string
		cell           []byte
		want           string // the cell in UTF-8
	}{
		{"ascii, the limit less one", "", bytes.Repeat([]byte("x"), MaxStatBytes-1), strings.Repeat("x", MaxStatBytes-1)},
		{"ascii, the limit", "", bytes.Repeat([]byte("x"), MaxStatBytes), strings.Repeat("x", MaxStatBytes)},
		{"ascii, the limit and one", "", bytes.Repeat([]byte("x"), MaxStatBytes+1), strings.Repeat("x", MaxStatBytes+1)},
		{"ascii, the limit and two", "", bytes.Repeat([]byte("x"), MaxStatBytes+2), strings.Repeat("x", MaxStatBytes+2)},
		{"ascii, a megabyte", "", bytes.Repeat([]byte("x"), 1<<20), strings.Repeat("x", 1<<20)},
		{"two-byte characters across the cut", "", bytes.Repeat([]byte("é"), MaxStatBytes), strings.Repeat("é", MaxStatBytes)},
		{"one byte then two-byte characters", "", append([]byte("x"), bytes.Repeat([]byte("é"), MaxStatBytes)...), "x" + strings.Repeat("é", MaxStatBytes)},
		{"windows-1252, the limit and one", "windows-1252", bytes.Repeat([]byte{0xE9}, MaxStatBytes+1), strings.Repeat("é", MaxStatBytes+1)},
		{"windows-1252, half the limit", "windows-1252", bytes.Repeat([]byte{0xE9}, MaxStatBytes/2), strings.Repeat("é", MaxStatBytes/2)},
		{"windows-1252, a megabyte", "windows-1252", bytes.Repeat([]byte{0xE9}, 1<<20), strings.Repeat("é", 1<<20)},
	} {
		data := append(append([]byte("a\n"), tc.cell...), '\n')
		s, err := AnalyzeAs(bytes.NewReader(data), tc.encoding, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		c := s.Columns[0]
		if want := statText(tc.want); *c.Min != want || *c.Max != want {
			t.Errorf("%s: min %d bytes, max %d bytes, want %d: %.20q", tc.name, len(*c.Min), len(*c.Max), len(want), *c.Max)
		}
	}
}
