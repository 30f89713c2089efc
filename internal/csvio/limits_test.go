package csvio

import (
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
