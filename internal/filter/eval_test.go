package filter

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/csvio"
)

// evalCase: the SQL filter, the column whose cell is set, and per cell value
// whether the row matches. Every other cell of the row is empty (NULL).
type evalCase struct {
	sql  string
	col  string
	want map[string]bool
}

var evalCases = []evalCase{
	// ---- KindNumber: numeric when the constant is a number.
	{"n > 30", "n", map[string]bool{"31": true, "30": false, "30.5": true, " 31 ": true, "abc": false, "": false,
		"1e2": true, "-5": false, "+40": true, "Inf": false, "NaN": false, "0x20": false, "  ": false, "3_1": false}},
	{"n >= 30", "n", map[string]bool{"30": true, "30.0": true, "29.999": false, "abc": false, "": false}},
	{"n < 30", "n", map[string]bool{"29": true, "30": false, "abc": false, "": false, "-1e9": true}},
	{"n <= 30", "n", map[string]bool{"30": true, "3e1": true, "30.01": false, "": false}},
	{"n = 30", "n", map[string]bool{"30": true, "30.0": true, "030": true, "3e1": true, "31": false, "abc": false, "": false}},
	{"n == 30", "n", map[string]bool{"30": true, "31": false}},
	{"n != 30", "n", map[string]bool{"31": true, "30.0": false, "abc": true, "": false}},
	{"n <> 30", "n", map[string]bool{"31": true, "30": false, "": false}},
	{"n = '30'", "n", map[string]bool{"30.0": true}}, // numeric affinity: quoted or not, a number
	{"n = ' 030 '", "n", map[string]bool{"30": true, "31": false}},
	{"n > -5", "n", map[string]bool{"-4": true, "-5": false, "-6": false}},
	{"n > -.5", "n", map[string]bool{"0": true, "-1": false}},
	{"n = 1.5e3", "n", map[string]bool{"1500": true, "1500.0": true, "1.5E3": true, "1501": false}},
	{"n > 123456789012345678", "n", map[string]bool{"123456789012345679999": true, "1": false}},
	{"n = 'abc'", "n", map[string]bool{"abc": true, "ABC": false, "": false, "5": false}}, // not a number: text
	{"n > 'b'", "n", map[string]bool{"c": true, "a": false, "5": false}},
	{"n < 'abc'", "n", map[string]bool{"5": true, "-1e9": true, "": false}}, // numbers sort before text
	{"n != 'abc'", "n", map[string]bool{"5": true, "abc": false}},
	{"n = TRUE", "n", map[string]bool{"1": true, "1.0": true, "0": false, "true": false}},
	{"n < FALSE", "n", map[string]bool{"-1": true, "0": false}},

	// ---- Whole numbers compare exactly, never through float64.
	{"n = 9007199254740993", "n", map[string]bool{"9007199254740993": true, "9007199254740992": false,
		"9007199254740994": false, "9007199254740993.0": false}}, // the float literal rounds to ...992
	{"n = 9007199254740992.0", "n", map[string]bool{"9007199254740992": true, "9007199254740993": false}},
	{"n > 9007199254740992", "n", map[string]bool{"9007199254740993": true, "9007199254740992": false}},
	{"n = 1234567890123456789", "n", map[string]bool{"1234567890123456789": true, "1234567890123456700": false, "1234567890123456768": false}},
	{"n IN (1234567890123456750)", "n", map[string]bool{"1234567890123456750": true, "1234567890123456700": false, "1234567890123456789": false}},
	{"n IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 1234567890123456750)", "n", map[string]bool{"1234567890123456750": true, "1234567890123456768": false, "9.0": true}},
	{"n != 9007199254740993", "n", map[string]bool{"9007199254740992": true, "9007199254740993": false, "9007199254740994": true}},
	{"n NOT IN (9007199254740993)", "n", map[string]bool{"9007199254740992": true, "9007199254740993": false}},
	{"n BETWEEN 9007199254740993 AND 9007199254740995", "n", map[string]bool{"9007199254740992": false, "9007199254740993": true, "9007199254740996": false}},
	{"n = 123456789012345678901234567890", "n", map[string]bool{"123456789012345678901234567890": true,
		"123456789012345678901234567891": false, "1.2345678901234568e29": false, "0123456789012345678901234567890": true}},
	{"n < 123456789012345678901234567890", "n", map[string]bool{"123456789012345678901234567889": true, "1.2345678901234568e29": true,
		"-123456789012345678901234567890": true, "123456789012345678901234567891": false}},
	{"n = 9223372036854775808", "n", map[string]bool{"9223372036854775808": true, "9223372036854775807": false, "9.223372036854775808e18": true}},
	{"n = 0.1", "n", map[string]bool{"0.1": true, "0.10000000000000001": true, "0.1000000000000001": false}}, // floats as floats

	// ---- One rule for what a number is: 1e400 is text, as in the profile.
	{"n = 1e400", "n", map[string]bool{"5": false, "1e400": true, "Inf": false}},
	{"n < 1e400", "n", map[string]bool{"5": true, "1e308": true}},
	{"n > 1e400", "n", map[string]bool{"5": false, "1e308": false}},
	{"s = 1e400", "s", map[string]bool{"1e400": true, "Inf": false, "1": false}},
	{"n IN (1, 2, 3)", "n", map[string]bool{"2": true, "2.0": true, "4": false, "": false, "x": false}},
	{"n IN (1, 'x')", "n", map[string]bool{"x": true, "1": true, "1.0": true, "y": false}},
	{"n NOT IN (1, 2)", "n", map[string]bool{"3": true, "1": false, "1.00": false, "": false, "abc": true}},
	{"n BETWEEN 1 AND 5", "n", map[string]bool{"1": true, "5": true, "3": true, "0.9": false, "5.1": false, "abc": false, "": false}},
	{"n NOT BETWEEN 1 AND 5", "n", map[string]bool{"6": true, "3": false, "abc": true, "": false}},
	{"n BETWEEN 5 AND 1", "n", map[string]bool{"3": false}},
	{"n LIKE '1%'", "n", map[string]bool{"12": true, "21": false, "": false}},
	{"n IS NULL", "n", map[string]bool{"": true, " ": false, "0": false}},
	{"n IS NOT NULL", "n", map[string]bool{"": false, "x": true, " ": true}},
	{"NOT n > 30", "n", map[string]bool{"": true, "abc": true, "31": false, "30": true}},

	// ---- KindText: a quoted constant is text; a number constant compares
	// numerically with the cells that are numbers (by type inference's
	// rule), byte-wise with the others.
	{"s = 'abc'", "s", map[string]bool{"abc": true, "ABC": false, " abc": false, "": false}},
	{"s != 'abc'", "s", map[string]bool{"abd": true, "abc": false, "": false}},
	{"s > 'b'", "s", map[string]bool{"c": true, "a": false, "B": false, "b": false, "ba": true}},
	{"s >= 'b'", "s", map[string]bool{"b": true, "a": false}},
	{"s < 'b'", "s", map[string]bool{"a": true, "B": true, "b": false, "": false}},
	{"s <= 'b'", "s", map[string]bool{"b": true, "c": false}},
	{"s > 9", "s", map[string]bool{"10": true, "9": false, "a": true, "": false}},
	{"s < '10'", "s", map[string]bool{"9": false, "09": true, "10": false, "1": true, "a": false}},
	{"s < 10", "s", map[string]bool{"9": true, "09": true, "10": false, "1": true, "a": false}},
	{"s = 10", "s", map[string]bool{"10.0": true, "1e1": true, "ten": false, "": false}},
	{"s != 10", "s", map[string]bool{"10.0": false, "ten": true, "": false}},
	{"s IN ('a', 'b')", "s", map[string]bool{"a": true, "b": true, "c": false, "": false, "A": false}},
	{"s IN ('1', 'x')", "s", map[string]bool{"1.0": false, "1": true, "x": true, "2": false}},
	{"s IN (1, 'x')", "s", map[string]bool{"1.0": true, "1": true, "x": true, "01": false}},
	{"s IN (1, '1.0', 2, 3, 4, 5, 6, 7, 8, 9, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i')", "s",
		map[string]bool{"1.0": true, "1e0": true, "9": true, "i": true, "10": false, "01": false}},
	{"s NOT IN (1, 'x')", "s", map[string]bool{"1.0": false, "x": false, "01": true, "": false}},
	// ZIP codes: a quoted constant is never a number on a TEXT column.
	{"s = '02134'", "s", map[string]bool{"02134": true, "2134": false, "2134.0": false}},
	{"s = '2134'", "s", map[string]bool{"2134": true, "02134": false, "2134.0": false}},
	{"s = 2134", "s", map[string]bool{"2134": true, "2134.0": true, "02134": false, " 2134": false}},
	{"s = 02134", "s", map[string]bool{"02134": true, "2134": false}}, // 02134 is no number: compared as written
	{"s != '02134'", "s", map[string]bool{"2134": true, "02134": false}},
	{"s BETWEEN '02000' AND '02999'", "s", map[string]bool{"02134": true, "2134": false, "02999": true}},
	{"s = 9007199254740993", "s", map[string]bool{"9007199254740993": true, "9007199254740992": false, "x": false}},
	{"s IN (1234567890123456750)", "s", map[string]bool{"1234567890123456750": true, "1234567890123456700": false}},
	{"s NOT IN ('a', 'b')", "s", map[string]bool{"a": false, "c": true, "": false}},
	{"s BETWEEN 'b' AND 'd'", "s", map[string]bool{"c": true, "e": false, "bb": true, "d": true, "dd": false}},
	{"s BETWEEN 1 AND 10", "s", map[string]bool{"5": true, "2": true, "11": false, "a": false}},
	{"s LIKE 'a%'", "s", map[string]bool{"abc": true, "a": true, "Abc": false, "": false, "ba": false}},
	{"s LIKE '%b%'", "s", map[string]bool{"abc": true, "b": true, "ac": false}},
	{"s LIKE '%c'", "s", map[string]bool{"abc": true, "cb": false}},
	{"s LIKE 'abc'", "s", map[string]bool{"abc": true, "abcd": false}},
	{"s LIKE 'a_c'", "s", map[string]bool{"abc": true, "ac": false, "aéc": true, "abbc": false}},
	{"s LIKE 'a%c%e'", "s", map[string]bool{"abcde": true, "ace": true, "aec": false, "acee": true}},
	{"s LIKE '_'", "s", map[string]bool{"é": true, "ab": false, "": false}},
	{"s LIKE '%'", "s", map[string]bool{"x": true, "": false}},
	{`s LIKE 'a\%'`, "s", map[string]bool{"a%": true, "ab": false}},
	{`s LIKE 'a\_c'`, "s", map[string]bool{"a_c": true, "abc": false}},
	{`s LIKE 'a\\%'`, "s", map[string]bool{`a\bc`: true, "abc": false}},
	{"s NOT LIKE 'a%'", "s", map[string]bool{"b": true, "a": false, "": false}},
	{"s ILIKE 'ABC'", "s", map[string]bool{"abc": true, "aBc": true, "abd": false}},
	{"s ILIKE 'straße%'", "s", map[string]bool{"STRAẞE 1": true, "STRASSE": false}},
	{"s ILIKE 'k'", "s", map[string]bool{"\u212a": true, "K": true, "x": false}},
	{"s ILIKE '%É%'", "s", map[string]bool{"café": true, "cafe": false}},
	{"s ILIKE '%x_z'", "s", map[string]bool{"aXyZ": true, "xz": false}},
	{"s NOT ILIKE 'a%'", "s", map[string]bool{"Abc": false, "b": true, "": false}},
	{"s = ''", "s", map[string]bool{"": false, "x": false}},
	{"s != ''", "s", map[string]bool{"": false, "x": true}},
	{"s IS NULL", "s", map[string]bool{"": true, "a": false}},

	// ---- KindBool.
	{"b = TRUE", "b", map[string]bool{"yes": true, "Y": true, "1": true, "TRUE": true, "t": true, "no": false, "maybe": false, "": false}},
	{"b = 'no'", "b", map[string]bool{"false": true, "0": true, "F": true, "N": true, "yes": false}},
	{"b != true", "b", map[string]bool{"no": true, "maybe": true, "yes": false, "": false}},
	{"b IN (true)", "b", map[string]bool{"t": true, "f": false, "": false}},
	{"b IN ('maybe', 'no')", "b", map[string]bool{"maybe": true, "0": true, "1": false}},
	{"b = 'maybe'", "b", map[string]bool{"maybe": true, "no": false}},
	{"b > false", "b", map[string]bool{"true": true, "false": false, "x": false}},
	{"b BETWEEN false AND true", "b", map[string]bool{"true": true, "false": true, "x": false}},

	// ---- KindTime.
	{"t > '2024-01-01'", "t", map[string]bool{"2024-01-02": true, "2024-01-01": false, "2024-01-01 00:00:01": true,
		"2023-12-31T23:59:59Z": false, "2024-01-01T00:30:00+01:00": false, "2024-01-01T00:30:00-01:00": true,
		"garbage": false, "": false, "2024-02-30": false}},
	{"t = '2024-01-01'", "t", map[string]bool{"2024-01-01T00:00:00Z": true, "2024-01-01 00:00:00": true,
		"2024-01-01T01:00:00+01:00": true, " 2024-01-01 ": true, "2024-01-01T00:00:00.000000001Z": false}},
	{"t BETWEEN '2024-01-01' AND '2024-12-31'", "t", map[string]bool{"2024-06-15": true, "2025-01-01": false}},
	{"t IN ('2024-01-01', '2024-02-01')", "t", map[string]bool{"2024-02-01T00:00:00Z": true, "2024-03-01": false, "x": false}},
	{"t < '2024-01-01T00:00:00.5Z'", "t", map[string]bool{"2024-01-01T00:00:00.25Z": true, "2024-01-01T00:00:00.75Z": false}},
	{"t = 'soon'", "t", map[string]bool{"soon": true, "2024-01-01": false}},
	{"t != '2024-01-01'", "t", map[string]bool{"garbage": true, "2024-01-02": true, "2024-01-01": false, "": false}},
	{"t >= '2000-02-29 12:00:00'", "t", map[string]bool{"2000-02-29T12:00:00Z": true, "2000-02-29": false}},

	// ---- quoted identifiers, constants, logic.
	{`"Primary Fur Color" = 'Gray'`, "Primary Fur Color", map[string]bool{"Gray": true, "gray": false}},
	{`"primary fur color" = 'Gray'`, "Primary Fur Color", map[string]bool{"Gray": true}}, // case-insensitive fallback
	{"S = 'x'", "s", map[string]bool{"x": true}},
	{"TRUE", "s", map[string]bool{"": true, "x": true}},
	{"FALSE", "s", map[string]bool{"": false, "x": false}},
	{"NOT FALSE", "s", map[string]bool{"x": true}},
	{"s = 'a' OR s = 'b'", "s", map[string]bool{"a": true, "b": true, "c": false}},
	{"s >= 'a' AND s < 'b'", "s", map[string]bool{"a": true, "ab": true, "b": false}},
	{"NOT (s = 'a' OR s = 'b')", "s", map[string]bool{"a": false, "c": true, "": true}},
	{"NOT s IN ('a')", "s", map[string]bool{"a": false, "": true}}, // differs from NOT IN on NULL only
	{"s NOT IN ('a')", "s", map[string]bool{"a": false, "": false}},
	{"not s = 'a' and s is not null", "s", map[string]bool{"a": false, "b": true, "": false}},
}

func TestEvalTable(t *testing.T) {
	for _, c := range evalCases {
		p := mustCompile(t, mustSQL(t, c.sql), testCols)
		for cell, want := range c.want {
			if got := p(rowWith(c.col, cell)); got != want {
				t.Errorf("%s with %s=%q: got %v, want %v", c.sql, c.col, cell, got, want)
			}
		}
	}
}

// TestEvalSameAcrossSyntaxes runs each single-condition case of the table
// through the typed input too: the same filter must keep the same rows.
func TestEvalSameAcrossSyntaxes(t *testing.T) {
	for _, c := range evalCases {
		in := inputFromSQL(mustSQL(t, c.sql))
		if in == nil {
			continue
		}
		e, err := FromInput(in)
		if err != nil {
			t.Fatalf("%s: FromInput: %v", c.sql, err)
		}
		p := mustCompile(t, e, testCols)
		for cell, want := range c.want {
			if got := p(rowWith(c.col, cell)); got != want {
				t.Errorf("input %s with %q: got %v, want %v", SQL(e), cell, got, want)
			}
		}
	}
}

// inputFromSQL translates a parsed tree into the typed input, or nil when
// the input cannot express it (TRUE/FALSE, NOT BETWEEN, NOT LIKE).
func inputFromSQL(e Expr) *Input {
	switch x := e.(type) {
	case *And, *Or:
		var args []Expr
		if a, ok := x.(*And); ok {
			args = a.Args
		} else {
			args = x.(*Or).Args
		}
		var list []*Input
		for _, a := range args {
			in := inputFromSQL(a)
			if in == nil {
				return nil
			}
			list = append(list, in)
		}
		if _, ok := x.(*And); ok {
			return &Input{And: list}
		}
		return &Input{Or: list}
	case *Not:
		in := inputFromSQL(x.Arg)
		if in == nil {
			return nil
		}
		return &Input{Not: in}
	case *Compare:
		if !sameInInput(x.Col.Name, x.Value) {
			return nil
		}
		in := &Input{Column: ptr(x.Col.Name)}
		v := ptr(x.Value.Text)
		switch x.Op {
		case OpEq:
			in.Eq = v
		case OpNe:
			in.Ne = v
		case OpLt:
			in.Lt = v
		case OpLe:
			in.Lte = v
		case OpGt:
			in.Gt = v
		case OpGe:
			in.Gte = v
		}
		return in
	case *In:
		var vals []string
		for _, l := range x.Values {
			if !sameInInput(x.Col.Name, l) {
				return nil
			}
			vals = append(vals, l.Text)
		}
		if x.Negated {
			return &Input{Column: ptr(x.Col.Name), NotIn: vals}
		}
		return &Input{Column: ptr(x.Col.Name), In: vals}
	case *Between:
		if x.Negated || !sameInInput(x.Col.Name, x.Low) || !sameInInput(x.Col.Name, x.High) {
			return nil
		}
		return &Input{Column: ptr(x.Col.Name), Between: []string{x.Low.Text, x.High.Text}}
	case *Like:
		switch {
		case x.Negated:
			return nil
		case x.Fold:
			return &Input{Column: ptr(x.Col.Name), Ilike: ptr(x.Pattern)}
		}
		return &Input{Column: ptr(x.Col.Name), Like: ptr(x.Pattern)}
	case *IsNull:
		return &Input{Column: ptr(x.Col.Name), IsNull: ptr(!x.Negated)}
	}
	return nil
}

// sameInInput reports whether the typed input, whose values are all
// strings, can say what the SQL literal l says: its strings are numbers
// when type inference would count them as numbers, text otherwise, so a
// quoted number (or TRUE, a number) only means the same where the column's
// kind reads both alike.
func sameInInput(col string, l Literal) bool {
	if inputLit(l.Text).Type == l.Type {
		return true
	}
	for _, c := range testCols {
		if c.Name == col {
			return (c.Kind == KindNumber && l.Type != LitBool) || c.Kind == KindBool || c.Kind == KindTime
		}
	}
	return false
}

func TestMissingCellsAreNull(t *testing.T) {
	// A ragged CSV row shorter than the header: missing cells are NULL.
	for src, want := range map[string]bool{
		"t IS NULL": true, "t IS NOT NULL": false, "t = 'x'": false, "t != 'x'": false,
		"t IN ('x')": false, "t NOT IN ('x')": false, "t BETWEEN 'a' AND 'z'": false,
		"t LIKE '%'": false, "NOT t LIKE '%'": true, "n > 1": false, "n != 1": false,
	} {
		p := mustCompile(t, mustSQL(t, src), testCols)
		if got := p([]string{}); got != want {
			t.Errorf("%s on an empty row: got %v, want %v", src, got, want)
		}
	}
}

func TestColumnResolution(t *testing.T) {
	cols := []Column{{Name: "Name"}, {Name: "name"}, {Name: "City"}, {Name: "dup"}, {Name: "dup"}}
	row := []string{"A", "b", "c", "first", "second"}
	for _, src := range []string{
		"Name = 'A'",    // exact match wins over the case-insensitive one
		"name = 'b'",    //
		"city = 'c'",    // unique case-insensitive match
		"dup = 'first'", // duplicate headers: the first wins
	} {
		p := mustCompile(t, mustSQL(t, src), cols)
		if !p(row) {
			t.Errorf("%s: want a match", src)
		}
	}
	_, err := Compile(mustSQL(t, "NAME = 'x'"), cols)
	if got, want := fmt.Sprint(err), `error at position 1: ambiguous column "NAME": it matches "Name", "name"; spell it exactly`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCompileErrors(t *testing.T) {
	cols := []Column{{Name: "age", Kind: KindNumber}, {Name: "city"}}
	many := make([]Column, 30)
	for i := range many {
		many[i] = Column{Name: fmt.Sprintf("c%d", i)}
	}
	for _, c := range []struct {
		e    Expr
		cols []Column
		want string
	}{
		{mustSQL(t, "agee > 1"), cols, `error at position 1: unknown column "agee" (columns: "age", "city")`},
		{mustSQL(t, "age > 1 AND\n  cty = 'x'"), cols, `error at position 15: unknown column "cty" (columns: "age", "city")`},
		{mustSQL(t, "x = 1"), nil, `error at position 1: unknown column "x" (the table has no columns)`},
		{mustSQL(t, "x = 1"), many, `error at position 1: unknown column "x" (the table has 30 columns)`},
		{&Compare{Col: Ref{Name: "x"}, Op: OpEq}, cols, `unknown column "x" (columns: "age", "city")`},
		{&Compare{Col: Ref{Name: "x", Path: "where.and[2]"}, Op: OpEq}, cols, `where.and[2]: unknown column "x" (columns: "age", "city")`},
		{&Compare{Col: Ref{Name: "age"}, Op: OpGt, Value: Literal{Text: "abc"}, Mode: ModeNumber}, cols, `column "age": "abc" is not a number`},
		{&In{Col: Ref{Name: "age"}, Values: []Literal{{Text: "1"}, {Text: "x"}}, Mode: ModeNumber}, cols, `column "age": "x" is not a number`},
		{&Compare{Col: Ref{Name: "age"}, Value: Literal{Text: "1"}}, cols, `invalid operator Op(0)`},
		{&Compare{Col: Ref{Name: "age"}, Op: OpEq, Mode: 9}, cols, `invalid comparison mode 9`},
	} {
		_, err := Compile(c.e, c.cols)
		if err == nil {
			t.Errorf("%s: no error, want %s", tree(c.e), c.want)
			continue
		}
		asError(t, err)
		if err.Error() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", tree(c.e), err, c.want)
		}
	}
}

// TestForcedModes checks the legacy modes on the evaluator directly.
func TestForcedModes(t *testing.T) {
	ref := Ref{Name: "s"} // a KindText column
	for _, c := range []struct {
		e    Expr
		want map[string]bool
	}{
		{&Compare{Col: ref, Op: OpGt, Value: Literal{Text: "9"}, Mode: ModeNumber},
			map[string]bool{"10": true, "a": false, "": false, "8": false}},
		{&Compare{Col: ref, Op: OpNe, Value: Literal{Text: "9"}, Mode: ModeNumber},
			map[string]bool{"10": true, "a": true, "9.0": false, "": false}},
		{&Compare{Col: Ref{Name: "n"}, Op: OpEq, Value: Literal{Text: "7"}, Mode: ModeText},
			map[string]bool{"7": true, "7.0": false, "": false}},
		{&In{Col: Ref{Name: "n"}, Values: []Literal{{Text: "7"}}, Mode: ModeText},
			map[string]bool{"7": true, "07": false}},
		{&In{Col: ref, Values: []Literal{{Text: "7"}, {Text: "8"}}, Mode: ModeNumber},
			map[string]bool{"7.0": true, "x": false, "9": false}},
		{&In{Col: ref, Values: []Literal{{Text: "7"}}, Mode: ModeNumber, Negated: true},
			map[string]bool{"7.0": false, "x": true, "": false}},
		{&Between{Col: ref, Low: Literal{Text: "2"}, High: Literal{Text: "10"}, Mode: ModeNumber},
			map[string]bool{"5": true, "a": false, "11": false}},
		{&Between{Col: Ref{Name: "t"}, Low: Literal{Text: "2"}, High: Literal{Text: "10"}, Mode: ModeNumber},
			map[string]bool{"5": true, "2024-01-01": false}},
		{&In{Col: ref}, map[string]bool{"x": false, "": false}},
		{&In{Col: ref, Negated: true}, map[string]bool{"x": true, "": false}},
		{&And{}, map[string]bool{"": true}},
		{&Or{}, map[string]bool{"": false}},
		{&Not{}, map[string]bool{"": false}},
		{&And{Args: []Expr{nil, &Const{Value: true}}}, map[string]bool{"": true}},
		{nil, map[string]bool{"x": true}},
	} {
		p := mustCompile(t, c.e, testCols)
		for cell, want := range c.want {
			col := "s"
			if r := colRef(c.e); r != nil {
				col = r.Name
			}
			if got := p(rowWith(col, cell)); got != want {
				t.Errorf("%s with %q: got %v, want %v", tree(c.e), cell, got, want)
			}
		}
	}
}

func TestColumns(t *testing.T) {
	e := mustSQL(t, `a = 1 AND (b IN (1) OR NOT a > 2 OR "c d" LIKE 'x' OR e IS NULL OR f BETWEEN 1 AND 2)`)
	got := fmt.Sprint(Columns(e))
	if want := "[a b c d e f]"; got != want {
		t.Errorf("Columns = %s, want %s", got, want)
	}
	if Columns(nil) != nil {
		t.Error("Columns(nil) should be empty")
	}
}

func TestValueParsers(t *testing.T) {
	// numAffinity: a numeric column's cells and the constants compared with
	// them; numStrict: the cells of a TEXT column (type inference's rule).
	for s, want := range map[string][2]bool{
		"1": {true, true}, "-1": {true, true}, "+1": {true, true}, "1.": {true, true}, ".5": {true, true},
		"-.5": {true, true}, "1e5": {true, true}, "1E-5": {true, true}, "1e": {}, "e5": {}, ".": {}, "-": {},
		"": {}, "NaN": {}, "inf": {}, "Infinity": {}, "0x10": {}, "1_000": {}, "1,5": {}, "--1": {}, "1.2.3": {},
		" 7 ": {true, false}, "007": {true, false}, "-0.5": {true, true}, "00.5": {true, false},
		"1e999": {}, "-1e400": {}, "1e-400": {true, true}, // beyond float64's range is text, like in the profile
		"1234567890123456789012345": {true, true},
	} {
		if _, ok := numAffinity(s); ok != want[0] {
			t.Errorf("numAffinity(%q) ok = %v, want %v", s, ok, want[0])
		}
		if _, ok := numStrict(s); ok != want[1] {
			t.Errorf("numStrict(%q) ok = %v, want %v", s, ok, want[1])
		}
	}
	for s, want := range map[string]int64{"-12": -12, " 0042 ": 42, "-0": 0} {
		if n, ok := numAffinity(s); !ok || !n.Equal(csvio.IntNumber(want)) {
			t.Errorf("numAffinity(%q) = %v, %v, want %d", s, n, ok, want)
		}
	}
	if n, _ := numAffinity("2.5e2"); !n.Equal(csvio.IntNumber(250)) {
		t.Errorf("numAffinity(2.5e2) = %v", n)
	}
	// Cells of an ISO column: csvio's ISO grammar (the one that made the
	// column DATETIME), so short times and compact zones are times too.
	for s, want := range map[string]bool{
		"2024-02-29": true, "2023-02-29": false, "2024-13-01": false, "2024-00-10": false, "2024-1-01": false,
		"2024-01-01T24:00:00Z": false, "2024-01-01T23:59:60Z": false, "2024-01-01T10:00:00+0100": true,
		"2024-01-01T10:00:00.Z": false, "2024-01-01x10:00:00": false, "2024-01-01 10:00": true, "0000-01-01": true,
		"9999-12-31T23:59:59.999999999999-23:59": true, "2024/01/02 3:04 PM": true, " 2024-01-02 ": true,
		"01/02/2024": false, "2.1.2024": false,
	} {
		if _, ok := parseTime(s, csvio.DateISO); ok != want {
			t.Errorf("parseTime(%q) ok = %v, want %v", s, ok, want)
		}
	}
	for s, want := range map[string]bool{"YES": true, "No": true, "T": true, "maybe": false, "": false, "truee": false, "tru": false} {
		if _, ok := parseBool(s); ok != want {
			t.Errorf("parseBool(%q) ok = %v, want %v", s, ok, want)
		}
	}
}

func TestParseTimeMatchesTimePackage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	layouts := []string{"2006-01-02", "2006-01-02 15:04:05", time.RFC3339, time.RFC3339Nano}
	for i := 0; i < 5000; i++ {
		want := time.Unix(r.Int64N(400*365*86400)-200*365*86400, r.Int64N(1e9)).In(time.FixedZone("", (r.IntN(48)-24)*1800))
		layout := layouts[r.IntN(len(layouts))]
		s := want.Format(layout)
		ref, err := time.Parse(layout, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseTime(s, csvio.DateISO)
		if !ok || got.Sec != ref.Unix() || int(got.Nsec) != ref.Nanosecond() {
			t.Fatalf("parseTime(%q) = %v %v, want %d.%09d", s, got, ok, ref.Unix(), ref.Nanosecond())
		}
	}
}
