package files_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

// A DATETIME column keeps its date family through the files table, and
// Select compares its cells chronologically whatever the family.
func TestDateColumnsFilterChronologically(t *testing.T) {
	const body = "id,iso,us,eu,de,mixed\n" +
		"0,2019-12-31,12/31/2019,31/12/2019,31.12.2019,2019-12-31\n" +
		"1,2020-01-01,01/01/2020,01/01/2020,01.01.2020,01/01/2020\n" +
		"2,2020-01-01 12:30,1/1/2020 12:30 PM,1/1/2020 12:30,1.1.2020 12:30,1.1.2020\n" +
		"3,2020-02-01,02/01/2020,01/02/2020,01.02.2020,2020-02-01\n" +
		"4,2021-06-15,06/15/2021,15/06/2021,15.06.2021,06/15/2021\n"
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		up := e.upload(t, e.alice, "dates.csv", body)
		f, err := e.svc.Get(ctx, e.alice, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, c := range f.Columns()[1:] {
			got += fmt.Sprintf("%s:%s:%s ", c.Name, c.Type, c.DateFormat)
		}
		if want := "iso:DATETIME:iso us:DATETIME:us eu:DATETIME:eu de:DATETIME:de mixed:TEXT: "; got != want {
			t.Fatalf("stored columns %q, want %q", got, want)
		}

		ids := func(f *files.File, sql string) string {
			t.Helper()
			where, err := filter.ParseSQL(sql)
			if err != nil {
				t.Fatal(err)
			}
			sel, err := files.Select(f, []string{"id"}, where)
			if err != nil {
				t.Fatal(err)
			}
			page, err := e.svc.Rows(ctx, f, sel, 100, "")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range page.Rows {
				out = append(out, *r.Values[0])
			}
			return fmt.Sprint(out)
		}
		native := map[string][2]string{ // 2020-02-01 and 2020-12-31 in each family
			"iso": {"2020-02-01", "2020-12-31"},
			"us":  {"02/01/2020", "12/31/2020"},
			"eu":  {"01/02/2020", "31/12/2020"},
			"de":  {"01.02.2020", "31.12.2020"},
		}
		for col, n := range native {
			for _, tt := range []struct{ sql, want string }{
				{col + " > '2020-01-01'", "[2 3 4]"},
				{col + " BETWEEN '2020-01-01' AND '" + n[1] + "'", "[1 2 3]"},
				{col + " BETWEEN '2020-01-01' AND '2020-12-31'", "[1 2 3]"},
				{col + " = '" + n[0] + "'", "[3]"},
				{col + " = '2020-02-01'", "[3]"},
				{col + " < '" + n[0] + "'", "[0 1 2]"},
			} {
				if got := ids(f, tt.sql); got != tt.want {
					t.Errorf("%s: ids %s, want %s", tt.sql, got, tt.want)
				}
			}
		}
		// A column mixing families is TEXT and compares byte-wise.
		if got := ids(f, "mixed > '2020-01-01'"); got != "[3]" {
			t.Errorf("mixed > '2020-01-01': ids %s, want [3]", got)
		}
		// Files stored before DateFormat existed have no format: ISO.
		cols := append(f.Columns()[:0:0], f.Columns()...)
		cols[1].DateFormat = ""
		old := files.File{Annotated: files.Annotated{Summary: files.Summary{ID: f.ID, ObjectKey: f.ObjectKey, Encoding: f.Encoding,
			Delimiter: f.Delimiter}}, Profile: files.NewProfile(cols)}
		if got := ids(&old, "iso > '2020-01-01'"); got != "[2 3 4]" {
			t.Errorf("iso column without a format: ids %s, want [2 3 4]", got)
		}
	})
}
