package filter

import (
	"strings"
	"testing"
)

func TestParseTree(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"a = 1", `(= a #1)`},
		{"a == 1", `(= a #1)`},
		{"a <> 'x'", `(!= a "x")`},
		{"a != -1.5e3", `(!= a #-1.5e3)`},
		{"a>=-5", `(>= a #-5)`},
		{"a < .5", `(< a #.5)`},
		{"a <= TRUE", `(<= a ?true)`},
		{"a > false", `(> a ?false)`},
		{"a = 'it''s'", `(= a "it's")`},
		{`"Primary Fur Color" = 'Gray'`, `(= Primary Fur Color "Gray")`},
		{`"say ""hi""" = ''`, `(= say "hi" "")`},
		{`"" IS NULL`, `(null )`},
		{`"and" = 1`, `(= and #1)`},
		{"_x9 IS NOT NULL", `(not-null _x9)`},
		{"a in (1, 'b', TRUE)", `(in a #1 "b" ?true)`},
		{"a NOT IN ('x')", `(not-in a "x")`},
		{"a between 1 and 5", `(between a #1 #5)`},
		{"a NOT BETWEEN 'a' AND 'b'", `(not-between a "a" "b")`},
		{"a LIKE 'x%'", `(like a "x%")`},
		{"a not ilike '%X'", `(not-ilike a "%X")`},
		{"TRUE", `true`},
		{"false", `false`},
		// precedence: NOT > AND > OR, comparisons tighter than NOT
		{"a = 1 OR b = 2 AND c = 3", `(or (= a #1) (and (= b #2) (= c #3)))`},
		{"a = 1 AND b = 2 OR c = 3", `(or (and (= a #1) (= b #2)) (= c #3))`},
		{"(a = 1 OR b = 2) AND c = 3", `(and (or (= a #1) (= b #2)) (= c #3))`},
		{"NOT a = 1 AND b = 2", `(and (not (= a #1)) (= b #2))`},
		{"NOT (a = 1 AND b = 2)", `(not (and (= a #1) (= b #2)))`},
		{"NOT NOT a = 1", `(not (not (= a #1)))`},
		{"a = 1 AND b = 2 AND c = 3", `(and (= a #1) (= b #2) (= c #3))`},
		{"a = 1 OR b = 2 OR c = 3", `(or (= a #1) (= b #2) (= c #3))`},
		{"a BETWEEN 1 AND 2 AND b = 3", `(and (between a #1 #2) (= b #3))`},
		{"((a = 1))", `(= a #1)`},
		{"age >= 30 AND (city IN ('NYC', 'LA') OR name LIKE 'A%') AND NOT email IS NULL",
			`(and (>= age #30) (or (in city "NYC" "LA") (like name "A%")) (not (null email)))`},
		{"\ta\n=\r1 ", `(= a #1)`},
		{"a = +5", `(= a #+5)`},
		{"a > +.5", `(> a #+.5)`},
		{"a = 1e400", `(= a #1e400)`}, // beyond float64: text when compared (see doc.go)
		// Blank text is no filter at all.
		{"", "nil"},
		{" \t\r\n\f\v", "nil"},
	} {
		e, err := ParseSQL(c.src)
		if err != nil {
			t.Errorf("ParseSQL(%q): %v", c.src, err)
			continue
		}
		if got := tree(e); got != c.want {
			t.Errorf("ParseSQL(%q)\n got %s\nwant %s", c.src, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"age >=", `syntax error at position 7: expected a value after ">="`},
		{"age >= AND x = 1", `syntax error at position 8: expected a value after ">=", found "AND"`},
		{"age", `syntax error at position 4: expected an operator (=, !=, <, <=, >, >=, IN, BETWEEN, LIKE, ILIKE, IS) after "age"`},
		{"age 5", `syntax error at position 5: expected an operator (=, !=, <, <=, >, >=, IN, BETWEEN, LIKE, ILIKE, IS) after "age", found "5"`},
		{"'abc' = x", `syntax error at position 1: expected a condition starting with a column name, found the value "'abc'" (write the column first)`},
		{"a = 'abc", `syntax error at position 5: unterminated string`},
		{`"abc = 1`, `syntax error at position 1: unterminated quoted column name`},
		{"a ~ 1", `syntax error at position 3: unexpected character "~"`},
		{"a = 1 AND é = 2", `syntax error at position 11: unexpected character "é"`},
		{"(a = 1", `syntax error at position 7: missing ")" for the "(" at position 1`},
		{"(a = 1 b", `syntax error at position 8: expected ")" for the "(" at position 1, found "b"`},
		{"a = 1)", `syntax error at position 6: unexpected ")" after a complete condition (missing AND or OR?)`},
		{"a = 1 b = 2", `syntax error at position 7: unexpected "b" after a complete condition (missing AND or OR?)`},
		{"a IN ()", `syntax error at position 7: expected a value after "(", found ")"`},
		{"a IN 1", `syntax error at position 6: expected "(" to start the IN list after "IN", found "1"`},
		{"a IN (1 2)", `syntax error at position 9: expected "," or ")" in the IN list after "1", found "2"`},
		{"a IN (1,", `syntax error at position 9: expected a value after ","`},
		{"a BETWEEN 1 OR 2", `syntax error at position 13: expected AND after "1", found "OR"`},
		{"a LIKE 5", `syntax error at position 8: expected a quoted pattern after "LIKE", found "5"`},
		{"a IS 5", `syntax error at position 6: expected NULL after "IS", found "5"`},
		{"a IS NOT", `syntax error at position 9: expected NULL after "NOT"`},
		{"a = NULL", `syntax error at position 5: NULL is not a value: use IS NULL or IS NOT NULL`},
		{"a NOT = 1", `syntax error at position 7: expected IN, BETWEEN, LIKE or ILIKE after "NOT", found "="`},
		{"a = 1 AND", `syntax error at position 10: expected a condition after "AND"`},
		{"a = 1 OR OR b = 1", `syntax error at position 10: expected a condition after "OR", found "OR"`},
		{"NOT", `syntax error at position 4: expected a condition after "NOT"`},
		{"a = 12abc", `syntax error at position 5: invalid number "12abc"`},
		{"a = 1.2.3", `syntax error at position 5: invalid number "1.2.3"`},
		{"a = 1e", `syntax error at position 5: invalid number "1e"`},
		{"a ! 1", `syntax error at position 3: unexpected "!" (use != or NOT)`},
		{"a = b", `syntax error at position 5: expected a value after "=", found "b" (strings take single quotes)`},
		{`a = "b"`, `syntax error at position 5: expected a value, found the column name "\"b\"" (strings take single quotes)`},
		{"a = AND", `syntax error at position 5: expected a value after "=", found "AND"`},
		{"a = -", `syntax error at position 5: unexpected character "-"`},
		{"in = 1", `syntax error at position 1: expected a condition, found "in"`},
		{"a = " + strings.Repeat("x", 50), `syntax error at position 5: expected a value after "=", found "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (strings take single quotes)`},
	} {
		_, err := ParseSQL(c.src)
		if err == nil {
			t.Errorf("ParseSQL(%q): no error, want %s", c.src, c.want)
			continue
		}
		asError(t, err)
		if err.Error() != c.want {
			t.Errorf("ParseSQL(%q)\n got %s\nwant %s", c.src, err, c.want)
		}
	}
}

func TestSQLRender(t *testing.T) {
	for _, c := range []struct {
		e    Expr
		want string
	}{
		{mustSQL(t, "a=1 and (b='x' or c like 'y%') and not d is null"), "a = 1 AND (b = 'x' OR c LIKE 'y%') AND NOT d IS NULL"},
		{mustSQL(t, "((a = 1) OR (b = 2)) OR c = 3"), "a = 1 OR b = 2 OR c = 3"},
		{mustSQL(t, "NOT (a = 1 OR b = 2)"), "NOT (a = 1 OR b = 2)"},
		{mustSQL(t, "NOT (NOT (a = 1))"), "NOT NOT a = 1"},
		{mustSQL(t, "(a = 1 AND b = 2) AND c = 3"), "a = 1 AND b = 2 AND c = 3"},
		{mustSQL(t, "a = 1 AND (b = 2 OR c = 3 AND d = 4)"), "a = 1 AND (b = 2 OR c = 3 AND d = 4)"},
		{mustSQL(t, `"Primary Fur Color" <> 'it''s'`), `"Primary Fur Color" != 'it''s'`},
		{mustSQL(t, `"a""b" in (1, 'x', true)`), `"a""b" IN (1, 'x', TRUE)`},
		{mustSQL(t, `"select" not between -1 and 2e3`), `select NOT BETWEEN -1 AND 2e3`}, // not a keyword here
		{mustSQL(t, `"NULL" not ilike 'a\%'`), `"NULL" NOT ILIKE 'a\%'`},
		{mustSQL(t, `"9lives" is not null`), `"9lives" IS NOT NULL`},
		{mustSQL(t, `true and false`), `TRUE AND FALSE`},
		{&And{}, "TRUE"},
		{&Or{}, "FALSE"},
		{&And{Args: []Expr{&Or{Args: []Expr{mustSQL(t, "a=1")}}}}, "a = 1"},
		{&And{Args: []Expr{&Or{}, &Const{Value: true}}}, "FALSE AND TRUE"},
		{&Not{}, "NOT TRUE"},
		{nil, "TRUE"},
		{&In{Col: Ref{Name: "a"}}, "FALSE"},
		{&In{Col: Ref{Name: "a"}, Negated: true}, "a IS NOT NULL"},
		{&Compare{Col: Ref{Name: "a"}, Op: OpGt, Value: Literal{Text: "5"}, Mode: ModeNumber}, "a > 5"},
		{&Compare{Col: Ref{Name: "a"}, Op: OpGt, Value: Literal{Text: "+5"}, Mode: ModeNumber}, "a > +5"},
		{mustSQL(t, "a >= +.5 AND a < -.5"), "a >= +.5 AND a < -.5"},
		{&Compare{Col: Ref{Name: "a"}, Op: OpEq, Value: Literal{Text: "5", Type: LitNumber}, Mode: ModeText}, "a = '5'"},
		{&Compare{Col: Ref{Name: "a"}, Op: OpEq, Value: Literal{Text: "5 or 1=1", Type: LitNumber}}, "a = '5 or 1=1'"},
		{&Compare{Col: Ref{Name: "a"}, Op: OpEq, Value: Literal{Text: "yes", Type: LitBool}}, "a = 'yes'"},
	} {
		if got := SQL(c.e); got != c.want {
			t.Errorf("SQL(%s)\n got %s\nwant %s", tree(c.e), got, c.want)
		}
		if c.e != nil {
			if got := c.e.String(); got != c.want {
				t.Errorf("String() = %s, want %s", got, c.want)
			}
		}
		// canonical text is a fixed point
		e2, err := ParseSQL(c.want)
		if err != nil {
			t.Errorf("ParseSQL(SQL(e)) = %v for %s", err, c.want)
			continue
		}
		if again := SQL(e2); again != c.want {
			t.Errorf("SQL(ParseSQL(%q)) = %q", c.want, again)
		}
	}
}
