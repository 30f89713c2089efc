package filter

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

var fuzzCells = []string{"", "31", "abc", "yes", "2024-01-01", "Gray", "x", "10", "0",
	"2024-01-01T10:00:00+02:00", "é\u212a", " 5 ", "A%_b", "maybe", "\xff", "1e400", "-2.5"}

// checkExpr asserts what must hold for any tree a front end accepted: it
// renders to SQL that parses back to the same canonical text and the same
// meaning, and it compiles and evaluates without panicking.
func checkExpr(t *testing.T, e Expr) {
	// Every column the filter names exists, with a kind picked from its name.
	cols := slices.Clone(testCols)
	for _, name := range Columns(e) {
		cols = append(cols, Column{Name: name, Kind: Kind(len(name) % 4)})
	}
	text := SQL(e)
	back, err := ParseSQL(text)
	if err != nil {
		// A tree at the limits may render longer than MaxTextLen; that is the
		// only acceptable failure.
		if len(text) <= MaxTextLen {
			t.Fatalf("ParseSQL(SQL(e)) failed: %v\ntext: %q", err, text)
		}
		back = nil
	} else if again := SQL(back); again != text {
		t.Fatalf("SQL not a fixed point:\n%q\n%q", text, again)
	}
	p, err := Compile(e, cols)
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			t.Fatalf("Compile error %T %v", err, err)
		}
		return
	}
	var pBack Predicate
	if back != nil && !hasForcedMode(e) {
		if pBack, err = Compile(back, cols); err != nil {
			t.Fatalf("Compile(ParseSQL(SQL(e))): %v", err)
		}
	}
	row := make([]string, len(cols))
	for i := 0; i < 20; i++ {
		for j := range row {
			row[j] = fuzzCells[(i*7+j*3+j*j)%len(fuzzCells)]
		}
		got := p(row)
		if pBack != nil && pBack(row) != got {
			t.Fatalf("round trip changed the meaning of %s on %q", text, row)
		}
	}
	p(nil) // a row with no cells at all
}

// hasForcedMode reports legacy nodes, which SQL text renders approximately.
func hasForcedMode(e Expr) bool {
	forced := false
	walk(e, func(x Expr) {
		switch n := x.(type) {
		case *Compare:
			forced = forced || n.Mode != ModeAuto
		case *In:
			forced = forced || n.Mode != ModeAuto
		case *Between:
			forced = forced || n.Mode != ModeAuto
		}
	})
	return forced
}

func FuzzParseSQL(f *testing.F) {
	for _, s := range []string{
		"age >= 30 AND (city IN ('NYC', 'LA') OR name LIKE 'A%') AND NOT email IS NULL",
		`"Primary Fur Color" = 'Gray' OR s ILIKE '%é%'`,
		"n BETWEEN -1.5e3 AND .5 OR NOT (b = TRUE AND t > '2024-01-01')",
		"s NOT IN ('a''b', 1) AND n IS NOT NULL", "((((n = 1))))", "n =", "'x", `"`, "n ~ 1", "",
		"s LIKE '%a%a%a%a%b'", "NOT NOT NOT n <> 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseSQL(s)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if fe.Msg == "" {
				t.Fatal("empty message")
			}
			if fe.Pos > len(s)+1 {
				t.Fatalf("position %d past the end of %d bytes", fe.Pos, len(s))
			}
			return
		}
		if e == nil {
			if strings.Trim(s, " \t\n\r\f\v") != "" {
				t.Fatal("nil expression without error")
			}
			return // blank text: no filter
		}
		checkExpr(t, e)
	})
}

func FuzzFromLegacy(f *testing.F) {
	for _, c := range [][2]string{
		{"age", "> 30"}, {"city", "IN (a, 'b', \"c\")"}, {"age", "BETWEEN 1 AND 5"}, {"name", "NOT LIKE 'A%'"},
		{"x", "= 'q'"}, {"x", "!= ''"}, {"x", "~ 3"}, {"x", "IN ('a,b', '')"}, {"", ""}, {"n", "<= -1e9"},
	} {
		f.Add(c[0], c[1], "s", "")
	}
	f.Fuzz(func(t *testing.T, col1, clause1, col2, clause2 string) {
		e, err := FromLegacy(map[string]string{col1: clause1, col2: clause2})
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			return
		}
		checkExpr(t, e)
	})
}
