package filter

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cutline/cutline/internal/csvio"
)

// Input mirrors the GraphQL input type RowFilter field by field; a GraphQL
// library binds to it by field name, so the names and types are fixed.
// Each object is either exactly one of And, Or, Not, or a Column with
// exactly one operator.
type Input struct {
	And []*Input
	Or  []*Input
	Not *Input

	Column *string

	Eq, Ne, Gt, Gte, Lt, Lte *string

	In, NotIn, Between []string // Between: exactly two values

	Like, Ilike, Contains, StartsWith, EndsWith *string

	IsNull *bool // true: IS NULL; false: IS NOT NULL
}

// FromInput converts a typed GraphQL filter. A nil input is TRUE (no
// filter). An empty and list is TRUE and an empty or list is FALSE, their
// identities, so that clients building lists programmatically need no
// special case. Errors are *Error with Path set to the offending object,
// such as "where.and[1].or[0]".
func FromInput(in *Input) (Expr, error) {
	if in == nil {
		return &Const{Value: true}, nil
	}
	c := &inputConv{}
	e, err := c.conv(in, "where", 0)
	if err != nil {
		return nil, err
	}
	return e, nil
}

type inputConv struct {
	nodes, items, text int
}

// addText counts strings against MaxTextLen, the same budget SQL text has.
func (c *inputConv) addText(path string, ss ...string) *Error {
	for _, s := range ss {
		c.text += len(s)
	}
	if c.text > MaxTextLen {
		return &Error{Path: path, Msg: fmt.Sprintf("filter text is longer than the limit of %d bytes", MaxTextLen)}
	}
	return nil
}

func (c *inputConv) conv(in *Input, path string, depth int) (Expr, error) {
	if in == nil {
		return nil, pathErr(path, "null filter")
	}
	c.nodes++
	if c.nodes > MaxNodes {
		return nil, pathErr(path, fmt.Sprintf("more than %d conditions", MaxNodes))
	}

	var structural []string
	if in.And != nil {
		structural = append(structural, "and")
	}
	if in.Or != nil {
		structural = append(structural, "or")
	}
	if in.Not != nil {
		structural = append(structural, "not")
	}
	ops := in.operators()
	switch {
	case len(structural) > 1 || (len(structural) == 1 && (in.Column != nil || len(ops) > 0)):
		found := structural
		if in.Column != nil {
			found = append(found, "column")
		}
		found = append(found, ops...)
		return nil, pathErr(path, "set exactly one of and, or, not, or a column with one operator; found "+strings.Join(found, ", "))
	case len(structural) == 1:
		// depth counts and/or/not levels, as checkLimits does; checked
		// before recursing, so a cyclic Go value cannot run away either.
		if depth+1 > MaxDepth {
			return nil, pathErr(path, fmt.Sprintf("nesting deeper than the limit of %d", MaxDepth))
		}
		switch structural[0] {
		case "and", "or":
			list, sub := in.And, "and"
			if structural[0] == "or" {
				list, sub = in.Or, "or"
			}
			args := make([]Expr, 0, len(list))
			for i, x := range list {
				e, err := c.conv(x, path+"."+sub+"["+strconv.Itoa(i)+"]", depth+1)
				if err != nil {
					return nil, err
				}
				args = append(args, e)
			}
			if sub == "or" {
				return &Or{Args: args}, nil
			}
			return &And{Args: args}, nil
		default:
			e, err := c.conv(in.Not, path+".not", depth+1)
			if err != nil {
				return nil, err
			}
			return &Not{Arg: e}, nil
		}
	case in.Column == nil && len(ops) == 0:
		return nil, pathErr(path, "empty filter: set one of and, or, not, or a column with one operator")
	case in.Column == nil:
		return nil, pathErr(path, "operator "+strings.Join(ops, ", ")+" needs a column")
	case len(ops) == 0:
		return nil, pathErr(path, fmt.Sprintf("column %q needs an operator (eq, ne, gt, gte, lt, lte, in, notIn, between, like, ilike, contains, startsWith, endsWith or isNull)", *in.Column))
	case len(ops) > 1:
		return nil, pathErr(path, fmt.Sprintf("column %q has %d operators (%s): use one per object and combine objects with and", *in.Column, len(ops), strings.Join(ops, ", ")))
	}
	return c.leaf(in, path)
}

// operators lists the operator fields that are set, by GraphQL name.
func (in *Input) operators() []string {
	var ops []string
	add := func(set bool, name string) {
		if set {
			ops = append(ops, name)
		}
	}
	add(in.Eq != nil, "eq")
	add(in.Ne != nil, "ne")
	add(in.Gt != nil, "gt")
	add(in.Gte != nil, "gte")
	add(in.Lt != nil, "lt")
	add(in.Lte != nil, "lte")
	add(in.In != nil, "in")
	add(in.NotIn != nil, "notIn")
	add(in.Between != nil, "between")
	add(in.Like != nil, "like")
	add(in.Ilike != nil, "ilike")
	add(in.Contains != nil, "contains")
	add(in.StartsWith != nil, "startsWith")
	add(in.EndsWith != nil, "endsWith")
	add(in.IsNull != nil, "isNull")
	return ops
}

// leaf converts a column with its single operator.
func (c *inputConv) leaf(in *Input, path string) (Expr, error) {
	col := Ref{Name: *in.Column, Path: path}
	if err := c.addText(path, col.Name); err != nil {
		return nil, err
	}
	str := func(s *string) (Literal, error) {
		if err := c.addText(path, *s); err != nil {
			return Literal{}, err
		}
		return inputLit(*s), nil
	}
	cmp := func(op Op, s *string) (Expr, error) {
		v, err := str(s)
		if err != nil {
			return nil, err
		}
		return &Compare{Col: col, Op: op, Value: v}, nil
	}
	like := func(pattern string, fold bool) (Expr, error) {
		if err := c.addText(path, pattern); err != nil {
			return nil, err
		}
		return &Like{Col: col, Pattern: pattern, Fold: fold}, nil
	}
	list := func(name string, vals []string) ([]Literal, error) {
		if len(vals) == 0 {
			return nil, pathErr(path, name+" needs at least one value")
		}
		c.items += len(vals)
		if c.items > MaxInItems {
			return nil, pathErr(path, fmt.Sprintf("more than %d IN items in total", MaxInItems))
		}
		lits := make([]Literal, len(vals))
		for i, v := range vals {
			if err := c.addText(path, v); err != nil {
				return nil, err
			}
			lits[i] = inputLit(v)
		}
		return lits, nil
	}
	switch {
	case in.Eq != nil:
		return cmp(OpEq, in.Eq)
	case in.Ne != nil:
		return cmp(OpNe, in.Ne)
	case in.Gt != nil:
		return cmp(OpGt, in.Gt)
	case in.Gte != nil:
		return cmp(OpGe, in.Gte)
	case in.Lt != nil:
		return cmp(OpLt, in.Lt)
	case in.Lte != nil:
		return cmp(OpLe, in.Lte)
	case in.In != nil, in.NotIn != nil:
		name, vals := "in", in.In
		if in.NotIn != nil {
			name, vals = "notIn", in.NotIn
		}
		lits, err := list(name, vals)
		if err != nil {
			return nil, err
		}
		return &In{Col: col, Values: lits, Negated: in.NotIn != nil}, nil
	case in.Between != nil:
		if len(in.Between) != 2 {
			return nil, pathErr(path, fmt.Sprintf("between needs exactly two values (low and high), got %d", len(in.Between)))
		}
		lo, err := str(&in.Between[0])
		if err != nil {
			return nil, err
		}
		hi, err := str(&in.Between[1])
		if err != nil {
			return nil, err
		}
		return &Between{Col: col, Low: lo, High: hi}, nil
	case in.Like != nil:
		return like(*in.Like, false)
	case in.Ilike != nil:
		return like(*in.Ilike, true)
	case in.Contains != nil:
		return like("%"+escapeLike(*in.Contains)+"%", false)
	case in.StartsWith != nil:
		return like(escapeLike(*in.StartsWith)+"%", false)
	case in.EndsWith != nil:
		return like("%"+escapeLike(*in.EndsWith), false)
	default: // IsNull
		return &IsNull{Col: col, Negated: !*in.IsNull}, nil
	}
}

// inputLit types a constant of the typed input, where every value is a
// string: one that type inference would count as a number (csvio.ParseNumber:
// 2134, -1.5, 1e3, but not 02134 or " 7") is a number, as if written bare in
// SQL, anything else is text, as if quoted. On a numeric column both compare
// numerically when they can; on a TEXT column only the number does.
func inputLit(v string) Literal {
	if _, ok := csvio.ParseNumber(v); ok {
		return Literal{Text: v, Type: LitNumber}
	}
	return Literal{Text: v, Type: LitString}
}
