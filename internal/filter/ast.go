package filter

import (
	"fmt"
	"strconv"
)

// Expr is a node of the filter AST. The three front ends (FromInput,
// ParseSQL, FromLegacy) all build trees of the concrete types below, and
// Compile, SQL and Columns consume them, so every syntax shares one meaning.
//
// The interface is sealed (the unexported method) because Compile must know
// every node type; String renders the node as canonical SQL, like SQL does.
// A nil Expr means "no filter" everywhere: it keeps every row.
type Expr interface {
	String() string
	isExpr()
}

// Op is a comparison operator of a Compare node.
type Op uint8

// The comparison operators. The zero value is invalid on purpose so that a
// forgotten Op in a hand-built tree is an error rather than a silent "=".
const (
	OpEq Op = iota + 1 // =
	OpNe               // != (also written <>)
	OpLt               // <
	OpLe               // <=
	OpGt               // >
	OpGe               // >=
)

// String returns the SQL spelling of the operator.
func (o Op) String() string {
	switch o {
	case OpEq:
		return "="
	case OpNe:
		return "!="
	case OpLt:
		return "<"
	case OpLe:
		return "<="
	case OpGt:
		return ">"
	case OpGe:
		return ">="
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Mode says how a comparison treats its operands. Only the legacy syntax
// produces forced modes: it always compared <, >, BETWEEN as numbers and
// =, !=, IN as plain strings, whatever the column's type, and keeping that
// as data on the node lets one evaluator serve all three syntaxes.
type Mode uint8

// The comparison modes.
const (
	// ModeAuto picks the comparison from the column kind and the constant
	// (see the package documentation). ParseSQL and FromInput produce it.
	ModeAuto Mode = iota
	// ModeNumber compares numerically; a cell that is not a number does not
	// match (except for != and the NOT forms, which are complements).
	ModeNumber
	// ModeText compares the raw cell and the constant byte-wise.
	ModeText
)

// LitType records how a constant was written. It only matters for
// rendering (SQL prints numbers bare and strings quoted); evaluation looks
// at the literal's text alone, so `age = 30` and `age = '30'` behave the
// same, exactly as the typed input, whose constants are all strings, does.
type LitType uint8

// The literal types.
const (
	LitString LitType = iota // 'text'
	LitNumber                // 12, -1.5e3
	LitBool                  // TRUE, FALSE
)

// Literal is a constant operand.
type Literal struct {
	Text string
	Type LitType
}

// Ref names a column. Pos (1-based byte offset in the SQL text) and Path
// (GraphQL input path) only serve error messages from Compile.
type Ref struct {
	Name string
	Pos  int
	Path string
}

// And holds when every argument holds; with no arguments it is TRUE.
type And struct{ Args []Expr }

// Or holds when some argument holds; with no arguments it is FALSE.
type Or struct{ Args []Expr }

// Not is the logical NOT: it simply negates its argument (two-valued logic),
// so NOT (age > 30) matches empty cells. A nil Arg is TRUE.
type Not struct{ Arg Expr }

// Const is TRUE or FALSE.
type Const struct{ Value bool }

// Compare is `column op constant`.
type Compare struct {
	Col   Ref
	Op    Op
	Value Literal
	Mode  Mode
}

// In is `column [NOT] IN (v1, v2, ...)`.
type In struct {
	Col     Ref
	Values  []Literal
	Negated bool
	Mode    Mode
}

// Between is `column [NOT] BETWEEN low AND high` (inclusive).
type Between struct {
	Col       Ref
	Low, High Literal
	Negated   bool
	Mode      Mode
}

// Like is `column [NOT] LIKE|ILIKE 'pattern'`; Fold selects ILIKE.
type Like struct {
	Col     Ref
	Pattern string
	Fold    bool
	Negated bool
}

// IsNull is `column IS [NOT] NULL`; NULL is the empty cell.
type IsNull struct {
	Col     Ref
	Negated bool
}

func (*And) isExpr()     {}
func (*Or) isExpr()      {}
func (*Not) isExpr()     {}
func (*Const) isExpr()   {}
func (*Compare) isExpr() {}
func (*In) isExpr()      {}
func (*Between) isExpr() {}
func (*Like) isExpr()    {}
func (*IsNull) isExpr()  {}

// String renders the node as canonical SQL.
func (e *And) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *Or) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *Not) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *Const) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *Compare) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *In) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *Between) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *Like) String() string { return SQL(e) }

// String renders the node as canonical SQL.
func (e *IsNull) String() string { return SQL(e) }

// Limits against hostile input. They are generous for hand-written filters
// and keep parsing, compiling and memory bounded for generated ones.
const (
	// MaxTextLen caps the filter text in bytes (SQL text, the sum of the
	// legacy clauses and column names, the sum of the typed input's strings).
	MaxTextLen = 64 << 10
	// MaxNodes caps the number of AST nodes (IN items are not nodes).
	MaxNodes = 1000
	// MaxDepth caps nesting: AST depth, and parentheses/NOT in SQL text.
	MaxDepth = 64
	// MaxInItems caps the total number of IN items in one filter.
	MaxInItems = 10000
)

// Columns lists the distinct column names an expression refers to, in order
// of first appearance.
func Columns(e Expr) []string {
	var out []string
	seen := map[string]bool{}
	walk(e, func(x Expr) {
		if r := colRef(x); r != nil && !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r.Name)
		}
	})
	return out
}

// colRef returns the column reference of a leaf node, nil for others.
func colRef(e Expr) *Ref {
	switch x := e.(type) {
	case *Compare:
		return &x.Col
	case *In:
		return &x.Col
	case *Between:
		return &x.Col
	case *Like:
		return &x.Col
	case *IsNull:
		return &x.Col
	}
	return nil
}

// walk visits e and its descendants in pre-order, skipping nils.
func walk(e Expr, f func(Expr)) {
	if isNil(e) {
		return
	}
	f(e)
	switch x := e.(type) {
	case *And:
		for _, a := range x.Args {
			walk(a, f)
		}
	case *Or:
		for _, a := range x.Args {
			walk(a, f)
		}
	case *Not:
		walk(x.Arg, f)
	}
}

// isNil reports whether e is nil or a typed nil pointer, both of which mean
// "no filter" (TRUE); a typed nil would otherwise panic on field access.
func isNil(e Expr) bool {
	switch x := e.(type) {
	case nil:
		return true
	case *And:
		return x == nil
	case *Or:
		return x == nil
	case *Not:
		return x == nil
	case *Const:
		return x == nil
	case *Compare:
		return x == nil
	case *In:
		return x == nil
	case *Between:
		return x == nil
	case *Like:
		return x == nil
	case *IsNull:
		return x == nil
	}
	return false
}

// checkLimits enforces MaxNodes, MaxDepth and MaxInItems on any tree,
// including hand-built ones handed to Compile. Depth counts nested AND, OR
// and NOT nodes (a lone comparison has depth 0). Recursion stops as soon
// as a limit is passed, so even a cyclic tree cannot run away.
func checkLimits(e Expr) *Error {
	var nodes, items int
	var visit func(e Expr, depth int) *Error
	visit = func(e Expr, depth int) *Error {
		if isNil(e) {
			return nil
		}
		nodes++
		if nodes > MaxNodes {
			return limitErr(0, fmt.Sprintf("more than %d conditions", MaxNodes))
		}
		var kids []Expr
		switch x := e.(type) {
		case *And:
			kids = x.Args
		case *Or:
			kids = x.Args
		case *Not:
			kids = []Expr{x.Arg}
		case *In:
			items += len(x.Values)
			if items > MaxInItems {
				return limitErr(0, fmt.Sprintf("more than %d IN items in total", MaxInItems))
			}
			return nil
		default:
			return nil
		}
		if depth+1 > MaxDepth {
			return limitErr(0, fmt.Sprintf("nesting deeper than the limit of %d", MaxDepth))
		}
		for _, k := range kids {
			if err := visit(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(e, 0)
}
