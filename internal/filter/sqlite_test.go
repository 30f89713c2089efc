package filter

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// The comparison rules are modelled on SQLite's type affinity. Where the
// two are meant to agree, they must: a numeric column (INTEGER affinity)
// against number constants and quoted ones, numbers or words, and a TEXT
// column against quoted constants, with no NULL cells (our logic is
// two-valued). A TEXT column against a bare number is where we depart on
// purpose (see doc.go), so it is left out. Every filter runs in SQLite and
// through Compile over the same cells, and both must keep the same rows.
func TestAgreesWithSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the in-memory table is per connection
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, s TEXT)"); err != nil {
		t.Fatal(err)
	}

	// Whole numbers across the places where float64 loses digits, floats,
	// and text cells of every shape a TEXT column of a CSV file holds.
	nums := []string{"0", "-1", "1", "7", "30", "-30", "1.5", "-0.5", "2.25", "1e3", "1000",
		"9007199254740991", "9007199254740992", "9007199254740993", "9007199254740994", "-9007199254740993",
		"1234567890123456789", "1234567890123456700", "1234567890123456750", "1234567890123456768",
		"9223372036854775807", "-9223372036854775808", "9007199254740992.5", "1e300", "0.1", "0.30000000000000004"}
	texts := []string{"02134", "2134", "abc", "ABC", "a", "b", "ab", "", " 7", "7", "07", "10", "9", "1e400",
		"Café", "Zürich", "zoo", "N/A", "9007199254740993", "9007199254740992", "-1", "1.5"}
	texts = slices.DeleteFunc(texts, func(s string) bool { return s == "" }) // no NULLs
	var rows [][]string
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		row := []string{nums[r.IntN(len(nums))], texts[r.IntN(len(texts))]}
		rows = append(rows, row)
		// Inserted as text: the column's affinity converts it, as an
		// import of the CSV would.
		if _, err := db.Exec("INSERT INTO t VALUES (?, ?, ?)", i, row[0], row[1]); err != nil {
			t.Fatal(err)
		}
	}
	cols := []Column{{Name: "n", Kind: KindNumber}, {Name: "s", Kind: KindText}}

	quote := func(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
	nConst := func() string {
		switch r.IntN(4) {
		case 0, 1:
			return nums[r.IntN(len(nums))] // bare number
		case 2:
			return quote(nums[r.IntN(len(nums))]) // quoted number
		}
		return quote([]string{"abc", "007", " 30 ", "1e400", "+5", "9007199254740993.0", "x1"}[r.IntN(7)])
	}
	sConst := func() string { return quote(texts[r.IntN(len(texts))]) }
	ops := []string{"=", "!=", "<", "<=", ">", ">="}
	cond := func() string {
		col, c := "n", nConst
		if r.IntN(2) == 0 {
			col, c = "s", sConst
		}
		switch r.IntN(5) {
		case 0:
			items := []string{c(), c(), c()}
			if r.IntN(2) == 0 {
				return col + " NOT IN (" + strings.Join(items, ", ") + ")"
			}
			return col + " IN (" + strings.Join(items, ", ") + ")"
		case 1:
			return col + " BETWEEN " + c() + " AND " + c()
		}
		return col + " " + ops[r.IntN(len(ops))] + " " + c()
	}

	for range 1500 {
		src := cond()
		switch r.IntN(4) {
		case 0:
			src += " AND " + cond()
		case 1:
			src = "(" + src + " OR " + cond() + ")"
		case 2:
			src = "NOT " + src
		}
		want, err := sqliteIDs(db, src)
		if err != nil {
			t.Fatalf("SQLite refuses %s: %v", src, err)
		}
		e, err := ParseSQL(src)
		if err != nil {
			t.Fatalf("ParseSQL(%s): %v", src, err)
		}
		p := mustCompile(t, e, cols)
		var got []int
		for i, row := range rows {
			if p(row) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: kept %d rows, SQLite %d; first difference: %s", src, len(got), len(want), firstDiff(rows, got, want))
		}
	}
}

func sqliteIDs(db *sql.DB, where string) ([]int, error) {
	rs, err := db.Query("SELECT id FROM t WHERE " + where + " ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var ids []int
	for rs.Next() {
		var id int
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rs.Err()
}

func firstDiff(rows [][]string, got, want []int) string {
	in := func(ids []int, i int) bool { _, ok := slices.BinarySearch(ids, i); return ok }
	for i, row := range rows {
		if in(got, i) != in(want, i) {
			return fmt.Sprintf("row %q: ours %v, SQLite %v", row, in(got, i), in(want, i))
		}
	}
	return "none"
}
