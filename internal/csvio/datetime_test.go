package csvio

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTimeFormats(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		in, format string
		want       time.Time // zero: must be refused
	}{
		// ISO, and "" meaning ISO (files profiled before DateFormat).
		{"2024-02-29", DateISO, utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2024-02-29", "", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2024/02/29 3:04 PM", DateISO, utc(2024, 2, 29, 15, 4, 0, 0)},
		{"2024-06-01T12:34:56.5+02:00", DateISO, utc(2024, 6, 1, 10, 34, 56, 5e8)},
		{"2024-06-01 12:34 -0130", "", utc(2024, 6, 1, 14, 4, 0, 0)},
		{"01/02/2024", DateISO, time.Time{}},
		{"2.1.2024", DateISO, time.Time{}},
		{" 2024-01-01", DateISO, time.Time{}}, // exactly as written: no trimming
		// US: month first.
		{"01/02/2024", DateUS, utc(2024, 1, 2, 0, 0, 0, 0)},
		{"12/31/2023 11:59:59 PM", DateUS, utc(2023, 12, 31, 23, 59, 59, 0)},
		{"1/2/2024 12:00 AM", DateUS, utc(2024, 1, 2, 0, 0, 0, 0)},
		{"1/2/2024 13:05", DateUS, utc(2024, 1, 2, 13, 5, 0, 0)},
		{"31/12/2023", DateUS, time.Time{}},
		{"2024-01-02", DateUS, time.Time{}},
		{"01/02/2024 10:00Z", DateUS, time.Time{}}, // no zones outside ISO
		{"01/02/2024T10:00", DateUS, time.Time{}},
		// European: day first.
		{"01/02/2024", DateEU, utc(2024, 2, 1, 0, 0, 0, 0)},
		{"31/12/2023 18:30", DateEU, utc(2023, 12, 31, 18, 30, 0, 0)},
		{"12/31/2023", DateEU, time.Time{}},
		{"29/02/2023", DateEU, time.Time{}},
		{"01.02.2024", DateEU, time.Time{}},
		// German: day first with dots.
		{"01.02.2024", DateDE, utc(2024, 2, 1, 0, 0, 0, 0)},
		{"24.12.2023 18:00:30,25", DateDE, utc(2023, 12, 24, 18, 0, 30, 25e7)},
		{"1.1.2024 1:00 pm", DateDE, utc(2024, 1, 1, 13, 0, 0, 0)},
		{"01/02/2024", DateDE, time.Time{}},
		{"32.01.2024", DateDE, time.Time{}},
		// Unknown formats read nothing.
		{"2024-01-01", "ISO", time.Time{}},
		{"01/02/2024", "mdy", time.Time{}},
	}
	for _, tt := range tests {
		got, ok := ParseTime(tt.in, tt.format)
		if tt.want.IsZero() {
			if ok {
				t.Errorf("ParseTime(%q, %q) = %+v, want refusal", tt.in, tt.format, got)
			}
			continue
		}
		want := Instant{Sec: tt.want.Unix(), Nsec: int32(tt.want.Nanosecond())}
		if !ok || got != want {
			t.Errorf("ParseTime(%q, %q) = %+v %v, want %+v", tt.in, tt.format, got, ok, want)
		}
	}
}

// Every family must read what the time package writes in that family.
func TestParseTimeMatchesTimePackage(t *testing.T) {
	layouts := map[string][]string{
		DateISO: {"2006-01-02", "2006/01/02 15:04", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 3:04:05 PM"},
		DateUS:  {"01/02/2006", "1/2/2006 15:04", "1/2/2006 3:04:05 PM", "01/02/2006 15:04:05.000"},
		DateEU:  {"02/01/2006", "2/1/2006 15:04", "02/01/2006 3:04 PM"},
		DateDE:  {"02.01.2006", "2.1.2006 15:04:05", "02.01.2006 15:04"},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for format, ls := range layouts {
		for range 2000 {
			tm := time.Unix(r.Int64N(300*365*86400)-150*365*86400, r.Int64N(1e9)).UTC()
			layout := ls[r.IntN(len(ls))]
			s := tm.Format(layout)
			ref, err := time.Parse(layout, s)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := ParseTime(s, format)
			if !ok || got.Sec != ref.Unix() || int(got.Nsec) != ref.Nanosecond() {
				t.Fatalf("ParseTime(%q, %q) = %+v %v, want %d.%09d", s, format, got, ok, ref.Unix(), ref.Nanosecond())
			}
		}
	}
}

func TestInstantCompare(t *testing.T) {
	a, b, c := Instant{Sec: -1, Nsec: 5}, Instant{Sec: 0}, Instant{Sec: 0, Nsec: 1}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || b.Compare(c) != -1 || c.Compare(b) != 1 || c.Compare(c) != 0 {
		t.Fatal("Instant.Compare is not chronological")
	}
}

func TestParseTimeAllocs(t *testing.T) {
	cells := []string{"2024-06-01T12:34:56.5+02:00", "12/31/2023 11:59 PM", "31/12/2023", "24.12.2023 18:00", "garbage", "2024-13-01"}
	formats := []string{DateISO, DateUS, DateEU, DateDE, ""}
	if a := testing.AllocsPerRun(100, func() {
		for _, c := range cells {
			for _, f := range formats {
				ParseTime(c, f)
			}
		}
	}); a != 0 {
		t.Fatalf("ParseTime allocates %.1f times", a)
	}
}

// The profiler records the family it settled on; only DATETIME columns
// have one.
func TestProfilerDateFormat(t *testing.T) {
	tests := []struct {
		name   string
		cells  []string
		typ    ColumnType
		format string
	}{
		{"iso", []string{"2024-01-02", "2023-12-31T23:00:00Z", "2024/03/01 08:00"}, TypeDateTime, DateISO},
		{"us", []string{"12/31/2023", "1/2/2024 3:04 PM"}, TypeDateTime, DateUS},
		{"eu", []string{"31/12/2023", "1/2/2024 15:04"}, TypeDateTime, DateEU},
		{"de", []string{"31.12.2023", "1.2.2024 15:04"}, TypeDateTime, DateDE},
		{"ambiguous slash dates are us", []string{"01/02/2024", "02/01/2024"}, TypeDateTime, DateUS},
		{"us then eu only is text", []string{"12/31/2023", "31/12/2023"}, TypeText, ""},
		{"iso and us is text", []string{"2024-01-01", "01/02/2024"}, TypeText, ""},
		{"iso and de is text", []string{"2024-01-01", "02.01.2024"}, TypeText, ""},
		{"eu and de is text", []string{"31/12/2023", "31.12.2023"}, TypeText, ""},
		{"dates then words is text", []string{"2024-01-01", "soon"}, TypeText, ""},
		{"integers have none", []string{"1", "2"}, TypeInteger, ""},
		{"empty column has none", []string{"", ""}, TypeText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewProfiler([]string{"d"})
			for _, c := range tt.cells {
				p.Add([]string{c})
			}
			c := p.Columns()[0]
			if c.Type != tt.typ || c.DateFormat != tt.format {
				t.Fatalf("type %s format %q, want %s %q", c.Type, c.DateFormat, tt.typ, tt.format)
			}
		})
	}
}

// For random columns of every family, the profile must agree with
// ParseTime: the recorded format reads every cell, and Min and Max are the
// cells with the extreme instants.
func TestProfilerAgreesWithParseTime(t *testing.T) {
	layouts := map[string]string{
		DateISO: "2006-01-02 15:04:05", DateUS: "1/2/2006 3:04 PM", DateEU: "2/1/2006 15:04", DateDE: "02.01.2006 15:04",
	}
	r := rand.New(rand.NewPCG(8, 9))
	for format, layout := range layouts {
		for range 50 {
			p := NewProfiler([]string{"d"})
			var cells []string
			for range 1 + r.IntN(30) {
				tm := time.Unix(r.Int64N(100*365*86400), 0).UTC()
				if format == DateEU { // a day over 12 makes the column unambiguous
					tm = time.Date(tm.Year(), tm.Month(), 13+r.IntN(15), tm.Hour(), tm.Minute(), 0, 0, time.UTC)
				}
				cells = append(cells, tm.Format(layout))
				p.Add(cells[len(cells)-1:])
			}
			c := p.Columns()[0]
			if c.Type != TypeDateTime || c.DateFormat != format {
				t.Fatalf("%q: type %s format %q, want DATETIME %q", cells, c.Type, c.DateFormat, format)
			}
			lo, _ := ParseTime(*c.Min, c.DateFormat)
			hi, _ := ParseTime(*c.Max, c.DateFormat)
			for _, s := range cells {
				v, ok := ParseTime(s, c.DateFormat)
				if !ok || v.Compare(lo) < 0 || v.Compare(hi) > 0 {
					t.Fatalf("%q: %q (%v) outside [%s, %s]", cells, s, ok, *c.Min, *c.Max)
				}
			}
		}
	}
}

// Columns are stored as JSON in the files table: DateFormat must survive
// the round trip, be absent for other types, and rows stored before it
// existed read back with an empty format, which ParseTime reads as ISO.
func TestColumnJSONRoundTrip(t *testing.T) {
	p := NewProfiler([]string{"iso", "us", "eu", "de", "n", "mixed"})
	p.Add([]string{"2024-01-02", "12/31/2023", "31/12/2023", "31.12.2023", "1", "2024-01-02"})
	p.Add([]string{"2024-01-03T10:00:00Z", "1/2/2024 3:04 PM", "1/2/2024", "1.2.2024", "", "01/02/2024"})
	cols := p.Columns()
	b, err := json.Marshal(cols)
	if err != nil {
		t.Fatal(err)
	}
	var back []Column
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cols) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, cols)
	}
	var formats []string
	for _, c := range back {
		formats = append(formats, fmt.Sprintf("%s:%s", c.Type, c.DateFormat))
	}
	if got, want := strings.Join(formats, " "), "DATETIME:iso DATETIME:us DATETIME:eu DATETIME:de INTEGER: TEXT:"; got != want {
		t.Fatalf("formats %s, want %s", got, want)
	}
	if n := strings.Count(string(b), `"dateFormat"`); n != 4 {
		t.Fatalf("dateFormat written %d times, want 4 (DATETIME columns only): %s", n, b)
	}

	old := `[{"Name":"joined","Index":0,"Type":"DATETIME","NullCount":0,"Min":"2024-01-02","Max":"2024-01-03T10:00:00Z"}]`
	var oc []Column
	if err := json.Unmarshal([]byte(old), &oc); err != nil {
		t.Fatal(err)
	}
	if oc[0].DateFormat != "" {
		t.Fatalf("old row format %q", oc[0].DateFormat)
	}
	if _, ok := ParseTime(*oc[0].Max, oc[0].DateFormat); !ok {
		t.Fatal("an old row's ISO cells must read with its empty format")
	}
}
