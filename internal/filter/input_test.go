package filter

import (
	"fmt"
	"strings"
	"testing"
)

func TestFromInput(t *testing.T) {
	col := ptr("s")
	for _, c := range []struct {
		in   *Input
		want string // canonical SQL
	}{
		{nil, "TRUE"},
		{&Input{Column: col, Eq: ptr("x")}, "s = 'x'"},
		{&Input{Column: col, Ne: ptr("x")}, "s != 'x'"},
		{&Input{Column: col, Gt: ptr("1")}, "s > 1"},
		{&Input{Column: col, Gte: ptr("1")}, "s >= 1"},
		{&Input{Column: col, Lt: ptr("1")}, "s < 1"},
		{&Input{Column: col, Lte: ptr("1")}, "s <= 1"},
		// Values are strings; those type inference counts as numbers are
		// numbers, the rest text (codes with leading zeros, spaces, 1e400).
		{&Input{Column: col, Eq: ptr("02134")}, "s = '02134'"},
		{&Input{Column: col, Eq: ptr("2134")}, "s = 2134"},
		{&Input{Column: col, Eq: ptr("+5")}, "s = +5"},
		{&Input{Column: col, Eq: ptr("-1.5e3")}, "s = -1.5e3"},
		{&Input{Column: col, Eq: ptr(" 7")}, "s = ' 7'"},
		{&Input{Column: col, Eq: ptr("1e400")}, "s = '1e400'"},
		{&Input{Column: col, In: []string{"1", "01", "x"}}, "s IN (1, '01', 'x')"},
		{&Input{Column: col, In: []string{"a", "b"}}, "s IN ('a', 'b')"},
		{&Input{Column: col, NotIn: []string{"a"}}, "s NOT IN ('a')"},
		{&Input{Column: col, Between: []string{"1", "5"}}, "s BETWEEN 1 AND 5"},
		{&Input{Column: col, Like: ptr("a%")}, "s LIKE 'a%'"},
		{&Input{Column: col, Ilike: ptr("a%")}, "s ILIKE 'a%'"},
		{&Input{Column: col, Contains: ptr("50%_off")}, `s LIKE '%50\%\_off%'`},
		{&Input{Column: col, StartsWith: ptr(`a\b`)}, `s LIKE 'a\\b%'`},
		{&Input{Column: col, EndsWith: ptr("it's")}, `s LIKE '%it''s'`},
		{&Input{Column: col, IsNull: ptr(true)}, "s IS NULL"},
		{&Input{Column: col, IsNull: ptr(false)}, "s IS NOT NULL"},
		{&Input{Column: ptr("Primary Fur Color"), Eq: ptr("Gray")}, `"Primary Fur Color" = 'Gray'`},
		{&Input{And: []*Input{}}, "TRUE"},
		{&Input{Or: []*Input{}}, "FALSE"},
		{&Input{Not: &Input{Column: col, Eq: ptr("x")}}, "NOT s = 'x'"},
		{&Input{And: []*Input{
			{Column: col, Eq: ptr("x")},
			{Or: []*Input{{Column: col, Eq: ptr("y")}, {Not: &Input{Column: col, IsNull: ptr(true)}}}},
		}}, "s = 'x' AND (s = 'y' OR NOT s IS NULL)"},
	} {
		e, err := FromInput(c.in)
		if err != nil {
			t.Errorf("FromInput: %v (want %s)", err, c.want)
			continue
		}
		if got := SQL(e); got != c.want {
			t.Errorf("FromInput: got %s, want %s", got, c.want)
		}
	}
}

func TestInputSugarMatches(t *testing.T) {
	for _, c := range []struct {
		in   *Input
		want map[string]bool
	}{
		{&Input{Column: ptr("s"), Contains: ptr("50%")}, map[string]bool{"save 50% now": true, "save 500 now": false, "": false}},
		{&Input{Column: ptr("s"), StartsWith: ptr("a_")}, map[string]bool{"a_b": true, "ab": false, "A_b": false}},
		{&Input{Column: ptr("s"), EndsWith: ptr(`\`)}, map[string]bool{`a\`: true, "a": false}},
	} {
		e, err := FromInput(c.in)
		if err != nil {
			t.Fatal(err)
		}
		p := mustCompile(t, e, testCols)
		for cell, want := range c.want {
			if got := p(rowWith("s", cell)); got != want {
				t.Errorf("%s with %q: got %v, want %v", SQL(e), cell, got, want)
			}
		}
	}
}

// The typed input's values are strings: a value type inference counts as a
// number compares like a bare SQL number, any other like a quoted string.
func TestInputConstants(t *testing.T) {
	for _, c := range []struct {
		in   *Input
		col  string
		want map[string]bool
	}{
		{&Input{Column: ptr("s"), Eq: ptr("02134")}, "s", map[string]bool{"02134": true, "2134": false}},
		{&Input{Column: ptr("s"), Eq: ptr("2134")}, "s", map[string]bool{"2134": true, "2134.0": true, "02134": false}},
		{&Input{Column: ptr("s"), Gt: ptr("9")}, "s", map[string]bool{"10": true, "8": false}},
		{&Input{Column: ptr("s"), In: []string{"9007199254740993"}}, "s", map[string]bool{"9007199254740993": true, "9007199254740992": false}},
		{&Input{Column: ptr("n"), Eq: ptr("9007199254740993")}, "n", map[string]bool{"9007199254740993": true, "9007199254740992": false}},
		{&Input{Column: ptr("n"), Eq: ptr("030")}, "n", map[string]bool{"30": true}}, // a numeric column reads it as 30
		{&Input{Column: ptr("n"), Ne: ptr("1234567890123456789")}, "n", map[string]bool{"1234567890123456700": true, "1234567890123456789": false}},
		{&Input{Column: ptr("n"), Between: []string{"9007199254740993", "9007199254740994"}}, "n", map[string]bool{"9007199254740992": false, "9007199254740994": true}},
		{&Input{Column: ptr("n"), Lt: ptr("1e400")}, "n", map[string]bool{"1e308": true}}, // text: every number sorts before it
	} {
		e, err := FromInput(c.in)
		if err != nil {
			t.Fatal(err)
		}
		p := mustCompile(t, e, testCols)
		for cell, want := range c.want {
			if got := p(rowWith(c.col, cell)); got != want {
				t.Errorf("%s with %q: got %v, want %v", SQL(e), cell, got, want)
			}
		}
		// The rendered SQL (a derivation's filterSql) means the same.
		p2 := mustCompile(t, mustSQL(t, SQL(e)), testCols)
		for cell, want := range c.want {
			if got := p2(rowWith(c.col, cell)); got != want {
				t.Errorf("rendered %s with %q: got %v, want %v", SQL(e), cell, got, want)
			}
		}
	}
}

func TestFromInputErrors(t *testing.T) {
	col := ptr("age")
	leaf := &Input{Column: col, Eq: ptr("1")}
	deep := leaf
	for i := 0; i < MaxDepth+1; i++ {
		deep = &Input{Not: deep}
	}
	okDeep := leaf
	for i := 0; i < MaxDepth; i++ {
		okDeep = &Input{Not: okDeep}
	}
	wide := &Input{Or: make([]*Input, MaxNodes)}
	for i := range wide.Or {
		wide.Or[i] = leaf
	}
	bigIn := make([]string, MaxInItems/2+1)
	for i := range bigIn {
		bigIn[i] = "x"
	}
	cyclic := &Input{}
	cyclic.Not = cyclic

	for _, c := range []struct {
		in   *Input
		want string
	}{
		{&Input{}, "where: empty filter: set one of and, or, not, or a column with one operator"},
		{&Input{And: []*Input{leaf}, Or: []*Input{leaf}}, "where: set exactly one of and, or, not, or a column with one operator; found and, or"},
		{&Input{Not: leaf, Column: col, Eq: ptr("1")}, "where: set exactly one of and, or, not, or a column with one operator; found not, column, eq"},
		{&Input{And: []*Input{leaf, {Or: []*Input{leaf, {Column: col}}}}},
			`where.and[1].or[1]: column "age" needs an operator (eq, ne, gt, gte, lt, lte, in, notIn, between, like, ilike, contains, startsWith, endsWith or isNull)`},
		{&Input{Or: []*Input{{Eq: ptr("1")}}}, "where.or[0]: operator eq needs a column"},
		{&Input{Not: &Input{Column: col, Eq: ptr("1"), Gt: ptr("2")}}, `where.not: column "age" has 2 operators (eq, gt): use one per object and combine objects with and`},
		{&Input{And: []*Input{leaf, nil}}, "where.and[1]: null filter"},
		{&Input{Column: col, Between: []string{"1"}}, "where: between needs exactly two values (low and high), got 1"},
		{&Input{Column: col, Between: []string{"1", "2", "3"}}, "where: between needs exactly two values (low and high), got 3"},
		{&Input{Column: col, In: []string{}}, "where: in needs at least one value"},
		{&Input{Column: col, NotIn: []string{}}, "where: notIn needs at least one value"},
		{deep, fmt.Sprintf("where%s: nesting deeper than the limit of 64", strings.Repeat(".not", MaxDepth))},
		{cyclic, fmt.Sprintf("where%s: nesting deeper than the limit of 64", strings.Repeat(".not", MaxDepth))},
		{wide, "where.or[999]: more than 1000 conditions"},
		{&Input{And: []*Input{{Column: col, In: bigIn}, {Column: col, NotIn: bigIn}}}, "where.and[1]: more than 10000 IN items in total"},
		{&Input{Column: col, Eq: ptr(strings.Repeat("x", MaxTextLen))}, "where: filter text is longer than the limit of 65536 bytes"},
	} {
		_, err := FromInput(c.in)
		if err == nil {
			t.Errorf("no error, want %s", c.want)
			continue
		}
		fe := asError(t, err)
		if err.Error() != c.want {
			t.Errorf("\n got %s\nwant %s", err, c.want)
		}
		if fe.Path == "" {
			t.Errorf("%s: no path", err)
		}
	}
	if _, err := FromInput(okDeep); err != nil {
		t.Errorf("64 levels of not: %v", err)
	}
}

// TestInputUnknownColumnPath: Compile reports the input path of a column.
func TestInputUnknownColumnPath(t *testing.T) {
	e, err := FromInput(&Input{And: []*Input{{Column: ptr("s"), Eq: ptr("1")}, {Column: ptr("nope"), IsNull: ptr(true)}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(e, []Column{{Name: "s"}})
	fe := asError(t, err)
	if want := `where.and[1]: unknown column "nope" (columns: "s")`; err.Error() != want || fe.Path != "where.and[1]" {
		t.Errorf("got %s, want %s", err, want)
	}
}
