package filter

import (
	"strings"
	"testing"
)

func TestFromLegacy(t *testing.T) {
	for _, c := range []struct {
		clauses map[string]string
		want    string // tree
	}{
		{nil, "true"},
		{map[string]string{"a": "", "b": "   "}, "true"},
		{map[string]string{"age": "> 30"}, "(> age #30 :num)"},
		{map[string]string{"age": "  >=30  "}, "(>= age #30 :num)"},
		{map[string]string{"age": "< '1.5'"}, "(< age #1.5 :num)"},
		{map[string]string{"age": "<= +2"}, "(<= age #+2 :num)"},
		{map[string]string{"city": "= NYC"}, `(= city "NYC" :text)`},
		{map[string]string{"city": "== 'New York'"}, `(= city "New York" :text)`},
		{map[string]string{"city": `!= "LA"`}, `(!= city "LA" :text)`},
		{map[string]string{"city": `<> LA`}, `(!= city "LA" :text)`},
		{map[string]string{"city": `= 'it's'`}, `(= city "it's" :text)`},
		{map[string]string{"city": `= ''`}, `(null city)`},
		{map[string]string{"city": `!= ""`}, `(not-null city)`},
		{map[string]string{"city": `IN (a, 'b', "c")`}, `(in city "a" "b" "c" :text)`},
		{map[string]string{"city": `in('a,b' , "x""y",  z z )`}, `(in city "a,b" "x\"y" "z z" :text)`},
		{map[string]string{"city": `IN ('', a)`}, `(or (in city "a" :text) (null city))`},
		{map[string]string{"city": `IN ('')`}, `(null city)`},
		{map[string]string{"age": "BETWEEN 1 AND 5"}, "(between age #1 #5 :num)"},
		{map[string]string{"age": "between '1' and -2.5"}, "(between age #1 #-2.5 :num)"},
		{map[string]string{"name": "LIKE 'A%'"}, `(like name "A%")`},
		{map[string]string{"name": "like A_%"}, `(like name "A_%")`},
		{map[string]string{"name": `NOT LIKE "%x%"`}, `(not-like name "%x%")`},
		{map[string]string{"name": `not  like'%x%'`}, `(not-like name "%x%")`},
		{map[string]string{"b": "> 1", "a": "= x", "c": ""}, `(and (= a "x" :text) (> b #1 :num))`},
	} {
		e, err := FromLegacy(c.clauses)
		if err != nil {
			t.Errorf("FromLegacy(%v): %v", c.clauses, err)
			continue
		}
		if got := tree(e); got != c.want {
			t.Errorf("FromLegacy(%v)\n got %s\nwant %s", c.clauses, got, c.want)
		}
	}
}

func TestFromLegacyErrors(t *testing.T) {
	for _, c := range []struct {
		col, clause, want string
	}{
		{"age", "~ 3", `column "age": cannot understand the filter "~ 3"`},
		{"age", "> abc", `column "age": cannot understand the filter "> abc": "abc" is not a number`},
		{"age", ">", `column "age": cannot understand the filter ">": a number is missing`},
		{"age", "> NaN", `column "age": cannot understand the filter "> NaN": "NaN" is not a number`},
		{"age", "> 1e400", `column "age": cannot understand the filter "> 1e400": "1e400" is not a number`},
		{"city", "=", `column "city": cannot understand the filter "=": a value is missing (write '' for an empty cell)`},
		{"city", "IN a, b", `column "city": cannot understand the filter "IN a, b": expected IN (a, b, ...)`},
		{"city", "IN ()", `column "city": cannot understand the filter "IN ()": expected IN (a, b, ...)`},
		{"city", "IN (a,,b)", `column "city": cannot understand the filter "IN (a,,b)": expected IN (a, b, ...)`},
		{"city", "IN ('a' b)", `column "city": cannot understand the filter "IN ('a' b)": expected IN (a, b, ...)`},
		{"city", "IN ('a)", `column "city": cannot understand the filter "IN ('a)": expected IN (a, b, ...)`},
		{"city", "INDIA", `column "city": cannot understand the filter "INDIA"`},
		{"age", "BETWEEN 1 5", `column "age": cannot understand the filter "BETWEEN 1 5": expected BETWEEN x AND y`},
		{"age", "BETWEEN 1 AND x", `column "age": cannot understand the filter "BETWEEN 1 AND x": "x" is not a number`},
		{"name", "LIKE", `column "name": cannot understand the filter "LIKE": the pattern is missing`},
		{"name", "NOT 'x'", `column "name": cannot understand the filter "NOT 'x'"`},
		{"name", "abc", `column "name": cannot understand the filter "abc"`},
	} {
		_, err := FromLegacy(map[string]string{"ok": "> 1", c.col: c.clause})
		if err == nil {
			t.Errorf("%s %q: no error, want %s", c.col, c.clause, c.want)
			continue
		}
		fe := asError(t, err)
		if err.Error() != c.want || fe.Path != c.col {
			t.Errorf("%s %q\n got %s (path %q)\nwant %s", c.col, c.clause, err, fe.Path, c.want)
		}
	}
	_, err := FromLegacy(map[string]string{"a": "= " + strings.Repeat("x", MaxTextLen)})
	if asError(t, err); err == nil || !strings.Contains(err.Error(), "longer than the limit") {
		t.Errorf("long legacy text: %v", err)
	}
}

// TestLegacyKeepsItsRules: the same clause means the old thing whatever the
// column kind, where SQL follows the kind.
func TestLegacyKeepsItsRules(t *testing.T) {
	cols := []Column{{Name: "n", Kind: KindNumber}, {Name: "s", Kind: KindText}}
	for _, c := range []struct {
		col, clause, cell string
		want              bool
	}{
		{"s", "> 9", "10", true},   // numeric although s is text ("10" < "9" as text)
		{"s", "> 9", "a", false},   // not a number: no match, where SQL would compare text
		{"n", "= 7", "7.0", false}, // plain strings although n is a number
		{"n", "= 7", "7", true},
		{"n", "IN (7, 8)", "07", false},
		{"n", "!= 7", "7.0", true},
		{"n", "!= 7", "", false}, // NULL never compares
		{"s", "BETWEEN 2 AND 10", "5", true},
		{"s", "BETWEEN 2 AND 10", "b", false},
		{"s", "LIKE 'a%'", "abc", true},
		{"s", "NOT LIKE 'a%'", "abc", false},
		{"s", "NOT LIKE 'a%'", "", false},
		{"s", "= ''", "", true},
		{"s", "!= ''", "", false},
		{"s", "IN ('', x)", "", true},
		{"s", "IN ('', x)", "x", true},
		// Numbers are read as the old server's float() read them (spaces
		// and leading zeros allowed) but compared exactly.
		{"s", "> 7", " 08 ", true},
		{"s", "= 02134", "2134", false},
		{"s", "> 9007199254740992", "9007199254740993", true},
		{"n", ">= 9007199254740993", "9007199254740992", false},
		{"n", "BETWEEN 1234567890123456789 AND 1234567890123456790", "1234567890123456700", false},
		{"s", "> 1", "1e400", false}, // beyond float64's range: not a number
		{"s", "> 1", "inf", false},
	} {
		e, err := FromLegacy(map[string]string{c.col: c.clause})
		if err != nil {
			t.Fatal(err)
		}
		row := []string{"", ""}
		if c.col == "s" {
			row[1] = c.cell
		} else {
			row[0] = c.cell
		}
		if got := mustCompile(t, e, cols)(row); got != c.want {
			t.Errorf("%s %q with %q: got %v, want %v", c.col, c.clause, c.cell, got, c.want)
		}
	}
}
