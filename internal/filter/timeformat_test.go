package filter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/csvio"
)

// dateFamily is how one csvio date format writes a date and a date-time.
type dateFamily struct {
	format         string
	date, dateTime string // time package layouts
}

var dateFamilies = []dateFamily{
	{csvio.DateISO, "2006-01-02", "2006-01-02 15:04"},
	{"", "2006-01-02", "2006-01-02T15:04:05Z"}, // files profiled before DateFormat
	{csvio.DateUS, "01/02/2006", "1/2/2006 3:04 PM"},
	{csvio.DateEU, "02/01/2006", "02/01/2006 15:04"},
	{csvio.DateDE, "02.01.2006", "2.1.2006 15:04"},
}

// write renders t in the family: date only at midnight.
func (f dateFamily) write(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 {
		return t.Format(f.date)
	}
	return t.Format(f.dateTime)
}

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// timeRows are the cells of the date column, as instants; written in each
// family they must filter the same way. The last two rows are a NULL and a
// cell that is no date.
var timeRows = []time.Time{
	day(2019, 12, 31),
	day(2020, 1, 1),
	day(2020, 1, 1).Add(12*time.Hour + 30*time.Minute),
	day(2020, 1, 2),
	day(2020, 2, 1), // day and month swapped: 01/02 vs 02/01
	day(2020, 12, 31),
	day(2021, 6, 15).Add(8 * time.Hour),
}

const nullRow, junkRow = 7, 8

// TestTimeColumnsFilterChronologically runs every case on a column of each
// date family, with constants written in ISO form and in the column's own
// form: the rows kept must not depend on either.
func TestTimeColumnsFilterChronologically(t *testing.T) {
	tests := []struct {
		sql    string      // %[1]s, %[2]s: the constants, quoted
		consts []time.Time // written in ISO or in the column's format
		want   []int       // rows kept
	}{
		{"d > %[1]s", []time.Time{day(2020, 1, 1)}, []int{2, 3, 4, 5, 6}},
		{"d >= %[1]s", []time.Time{day(2020, 1, 1)}, []int{1, 2, 3, 4, 5, 6}},
		{"d < %[1]s", []time.Time{day(2020, 1, 2)}, []int{0, 1, 2}},
		{"d = %[1]s", []time.Time{day(2020, 1, 1)}, []int{1}},
		{"d = %[1]s", []time.Time{day(2020, 2, 1)}, []int{4}},
		{"d = %[1]s", []time.Time{day(2021, 6, 15).Add(8 * time.Hour)}, []int{6}},
		{"d != %[1]s", []time.Time{day(2020, 1, 1)}, []int{0, 2, 3, 4, 5, 6, junkRow}},
		{"d BETWEEN %[1]s AND %[2]s", []time.Time{day(2020, 1, 1), day(2020, 12, 31)}, []int{1, 2, 3, 4, 5}},
		{"d BETWEEN %[1]s AND %[2]s", []time.Time{day(2020, 1, 2), day(2020, 2, 1)}, []int{3, 4}},
		{"d NOT BETWEEN %[1]s AND %[2]s", []time.Time{day(2020, 1, 1), day(2020, 12, 31)}, []int{0, 6, junkRow}},
		{"d IN (%[1]s, %[2]s)", []time.Time{day(2020, 1, 2), day(2021, 6, 15).Add(8 * time.Hour)}, []int{3, 6}},
		{"d > %[1]s AND d < %[2]s", []time.Time{day(2019, 12, 31), day(2020, 1, 2)}, []int{1, 2}},
	}
	iso := dateFamily{format: csvio.DateISO, date: "2006-01-02", dateTime: "2006-01-02T15:04:05Z07:00"}
	for _, fam := range dateFamilies {
		cols := []Column{{Name: "id", Kind: KindNumber}, {Name: "d", Kind: KindTime, TimeFormat: fam.format}}
		rows := make([][]string, 0, len(timeRows)+2)
		for i, tm := range timeRows {
			rows = append(rows, []string{fmt.Sprint(i), fam.write(tm)})
		}
		rows = append(rows, []string{fmt.Sprint(nullRow), ""}, []string{fmt.Sprint(junkRow), "n/a"})
		for _, tt := range tests {
			for _, spelling := range []dateFamily{iso, fam} {
				args := make([]any, len(tt.consts))
				for i, c := range tt.consts {
					args[i] = "'" + spelling.write(c) + "'"
				}
				sql := fmt.Sprintf(tt.sql, args...)
				name := fmt.Sprintf("%q column: %s", fam.format, sql)
				p := mustCompile(t, mustSQL(t, sql), cols)
				var got []int
				for i, row := range rows {
					if p(row) {
						got = append(got, i)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("%s: rows %v, want %v (cells %v)", name, got, tt.want, rows)
				}
			}
		}
	}
}

// A constant in another family than the column's is not a time for that
// column: it compares as text, like any non-time constant.
func TestTimeConstantOfAnotherFamilyIsText(t *testing.T) {
	cols := []Column{{Name: "d", Kind: KindTime, TimeFormat: csvio.DateUS}}
	for sql, want := range map[string]map[string]bool{
		// German spelling on a US column: text equality only.
		"d = '02.01.2020'": {"01/02/2020": false, "02.01.2020": true},
		// A day-first date that no US date can be: text order.
		"d > '31/12/2019'": {"01/02/2020": false, "4/1/2020": true},
		// ISO cells do not belong to a US column: uncomparable.
		"d > '2019-01-01'": {"2020-01-02": false, "01/02/2020": true},
	} {
		p := mustCompile(t, mustSQL(t, sql), cols)
		for cell, w := range want {
			if got := p([]string{cell}); got != w {
				t.Errorf("%s with d=%q: got %v, want %v", sql, cell, got, w)
			}
		}
	}
}

// Whatever the profiler calls DATETIME, the filter compares chronologically:
// each cell equals itself written as a constant, lies between Min and Max,
// and is after Min exactly when its instant is.
func TestProfiledDateColumnsAlwaysCompare(t *testing.T) {
	columns := map[string][]string{
		"iso": {"2024-01-02", "2024/01/03 10:00", "2024-01-01T23:00:00-02:00", "2024-01-02 3:04:05.5 PM", "2024-01-02T00:00:00Z"},
		"us":  {"12/31/2023", "1/2/2024 3:04 PM", "01/02/2024 15:04:05", "2/29/2024", "1/2/2024"},
		"eu":  {"31/12/2023", "1/2/2024 3:04 PM", "01/02/2024 15:04:05", "29/2/2024", "13/1/2024"},
		"de":  {"31.12.2023", "1.2.2024 15:04", "01.02.2024 15:04:05,25", "29.2.2024", "13.1.2024 12:00 AM"},
	}
	for name, cells := range columns {
		p := csvio.NewProfiler([]string{"d"})
		for _, c := range cells {
			p.Add([]string{c})
		}
		col := p.Columns()[0]
		if col.Type != csvio.TypeDateTime || col.DateFormat != name {
			t.Fatalf("%s: profiled as %s %q", name, col.Type, col.DateFormat)
		}
		cols := []Column{{Name: "d", Kind: KindTime, TimeFormat: col.DateFormat}}
		between := mustCompile(t, mustSQL(t, "d BETWEEN "+quote(*col.Min)+" AND "+quote(*col.Max)), cols)
		aboveMin := mustCompile(t, mustSQL(t, "d > "+quote(*col.Min)), cols)
		lo, _ := csvio.ParseTime(*col.Min, col.DateFormat)
		for _, c := range cells {
			eq := mustCompile(t, mustSQL(t, "d = "+quote(c)), cols)
			if !eq([]string{c}) || !between([]string{c}) {
				t.Errorf("%s: cell %q does not compare with itself or within [%s, %s]", name, c, *col.Min, *col.Max)
			}
			v, _ := csvio.ParseTime(c, col.DateFormat)
			if aboveMin([]string{c}) != (v.Compare(lo) > 0) {
				t.Errorf("%s: %q > Min %q is %v", name, c, *col.Min, aboveMin([]string{c}))
			}
		}
	}
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Per-row evaluation stays allocation-free on non-ISO time columns too.
func TestTimeFormatsDoNotAllocate(t *testing.T) {
	for _, fam := range dateFamilies {
		cols := []Column{{Name: "d", Kind: KindTime, TimeFormat: fam.format}}
		rows := [][]string{{fam.write(timeRows[2])}, {fam.write(timeRows[6])}, {"garbage"}, {""}, {"13/45/2020"}}
		for _, sql := range []string{
			"d > '2020-01-01'",
			"d BETWEEN '2020-01-01' AND " + quote(fam.write(day(2020, 12, 31))),
			"d IN ('2020-01-01', '2021-06-15 08:00', 'x')",
			"d != '2020-01-01' OR d = 'x'",
		} {
			p := mustCompile(t, mustSQL(t, sql), cols)
			if a := testing.AllocsPerRun(100, func() {
				for _, r := range rows {
					p(r)
				}
			}); a != 0 {
				t.Errorf("%q column, %s: %v allocations", fam.format, sql, a)
			}
		}
	}
}
