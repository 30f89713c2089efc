package filter

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testCols is the table most tests run on: one column of each kind.
var testCols = []Column{
	{Name: "n", Kind: KindNumber},
	{Name: "s", Kind: KindText},
	{Name: "b", Kind: KindBool},
	{Name: "t", Kind: KindTime},
	{Name: "Primary Fur Color", Kind: KindText},
}

// rowWith builds a row of testCols with one cell set.
func rowWith(col, cell string) []string {
	row := make([]string, len(testCols))
	for i, c := range testCols {
		if c.Name == col {
			row[i] = cell
			return row
		}
	}
	panic("no column " + col)
}

func mustSQL(t testing.TB, src string) Expr {
	t.Helper()
	e, err := ParseSQL(src)
	if err != nil {
		t.Fatalf("ParseSQL(%q): %v", src, err)
	}
	return e
}

func mustCompile(t testing.TB, e Expr, cols []Column) Predicate {
	t.Helper()
	p, err := Compile(e, cols)
	if err != nil {
		t.Fatalf("Compile(%s): %v", SQL(e), err)
	}
	return p
}

// asError checks that err is an *Error and returns it.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *filter.Error", err, err)
	}
	return fe
}

// tree prints an expression fully parenthesised, to check how it parsed
// independently of SQL()'s minimal parentheses.
func tree(e Expr) string {
	if isNil(e) {
		return "nil"
	}
	lits := func(ls []Literal) string {
		var parts []string
		for _, l := range ls {
			parts = append(parts, lit(l))
		}
		return strings.Join(parts, " ")
	}
	switch x := e.(type) {
	case *And:
		return "(and " + trees(x.Args) + ")"
	case *Or:
		return "(or " + trees(x.Args) + ")"
	case *Not:
		return "(not " + tree(x.Arg) + ")"
	case *Const:
		return fmt.Sprint(x.Value)
	case *Compare:
		return fmt.Sprintf("(%s %s %s%s)", x.Op, x.Col.Name, lit(x.Value), mode(x.Mode))
	case *In:
		return fmt.Sprintf("(%sin %s %s%s)", neg(x.Negated), x.Col.Name, lits(x.Values), mode(x.Mode))
	case *Between:
		return fmt.Sprintf("(%sbetween %s %s %s%s)", neg(x.Negated), x.Col.Name, lit(x.Low), lit(x.High), mode(x.Mode))
	case *Like:
		op := "like"
		if x.Fold {
			op = "ilike"
		}
		return fmt.Sprintf("(%s%s %s %q)", neg(x.Negated), op, x.Col.Name, x.Pattern)
	case *IsNull:
		return fmt.Sprintf("(%snull %s)", neg(x.Negated), x.Col.Name)
	}
	return "?"
}

func trees(es []Expr) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, tree(e))
	}
	return strings.Join(parts, " ")
}

func lit(l Literal) string {
	switch l.Type {
	case LitNumber:
		return "#" + l.Text
	case LitBool:
		return "?" + l.Text
	}
	return fmt.Sprintf("%q", l.Text)
}

func neg(b bool) string {
	if b {
		return "not-"
	}
	return ""
}

func mode(m Mode) string {
	switch m {
	case ModeNumber:
		return " :num"
	case ModeText:
		return " :text"
	}
	return ""
}

func ptr[T any](v T) *T { return &v }
