package filter

import (
	"strings"
)

// Binding strength of each node in SQL text; a child is parenthesised only
// when it binds more loosely than its context requires.
const (
	precOr = iota + 1
	precAnd
	precNot
	precAtom
)

// SQL renders the canonical SQL text of an expression: identifiers quoted
// only when needed, strings single-quoted (a quote inside doubled), numbers as
// written, and only the parentheses the precedence rules require.
// ParseSQL(SQL(e)) is equivalent to e for every tree that ParseSQL and
// FromInput build (ModeAuto). For the forced modes of the legacy syntax,
// which SQL cannot express, it renders the closest comparison: the constant
// bare for ModeNumber (when it is a valid number token) and quoted for
// ModeText; the result then follows the column kind instead (see the
// package documentation). A nil expression renders as TRUE.
func SQL(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, precOr)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr, ctx int) {
	if isNil(e) {
		b.WriteString("TRUE")
		return
	}
	switch x := e.(type) {
	case *Or:
		writeList(b, x.Args, " OR ", "FALSE", precOr, ctx)
	case *And:
		writeList(b, x.Args, " AND ", "TRUE", precAnd, ctx)
	case *Not:
		if ctx > precNot {
			b.WriteByte('(')
		}
		b.WriteString("NOT ")
		writeExpr(b, x.Arg, precNot)
		if ctx > precNot {
			b.WriteByte(')')
		}
	case *Const:
		if x.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case *Compare:
		writeIdent(b, x.Col.Name)
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		b.WriteByte(' ')
		writeLit(b, x.Value, x.Mode)
	case *In:
		if len(x.Values) == 0 {
			// Not parseable as "IN ()"; these are the equivalent forms.
			if x.Negated {
				writeIdent(b, x.Col.Name)
				b.WriteString(" IS NOT NULL")
			} else {
				b.WriteString("FALSE")
			}
			return
		}
		writeIdent(b, x.Col.Name)
		if x.Negated {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		for i, v := range x.Values {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLit(b, v, x.Mode)
		}
		b.WriteByte(')')
	case *Between:
		writeIdent(b, x.Col.Name)
		if x.Negated {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		writeLit(b, x.Low, x.Mode)
		b.WriteString(" AND ")
		writeLit(b, x.High, x.Mode)
	case *Like:
		writeIdent(b, x.Col.Name)
		if x.Negated {
			b.WriteString(" NOT")
		}
		if x.Fold {
			b.WriteString(" ILIKE ")
		} else {
			b.WriteString(" LIKE ")
		}
		writeString(b, x.Pattern)
	case *IsNull:
		writeIdent(b, x.Col.Name)
		if x.Negated {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	}
}

// writeList renders AND/OR; an empty list is its identity, a single
// argument renders as itself.
func writeList(b *strings.Builder, args []Expr, sep, empty string, prec, ctx int) {
	switch len(args) {
	case 0:
		b.WriteString(empty)
		return
	case 1:
		writeExpr(b, args[0], ctx)
		return
	}
	if ctx > prec {
		b.WriteByte('(')
	}
	for i, a := range args {
		if i > 0 {
			b.WriteString(sep)
		}
		// Same-operator children need no parentheses (associativity).
		writeExpr(b, a, prec)
	}
	if ctx > prec {
		b.WriteByte(')')
	}
}

// writeIdent writes a column name bare when the lexer would read it back
// as the same identifier, double-quoted otherwise.
func writeIdent(b *strings.Builder, name string) {
	bare := name != "" && isIdentStart(name[0]) && !isKeyword(name)
	for i := 1; bare && i < len(name); i++ {
		bare = isIdentChar(name[i])
	}
	if bare {
		b.WriteString(name)
		return
	}
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(name, `"`, `""`))
	b.WriteByte('"')
}

func writeLit(b *strings.Builder, l Literal, mode Mode) {
	switch {
	case mode == ModeText:
		writeString(b, l.Text)
	case (l.Type == LitNumber || mode == ModeNumber) && isSQLNumber(l.Text):
		b.WriteString(l.Text)
	case l.Type == LitBool && (l.Text == "true" || l.Text == "false"):
		b.WriteString(strings.ToUpper(l.Text))
	default:
		writeString(b, l.Text)
	}
}

func writeString(b *strings.Builder, s string) {
	b.WriteByte('\'')
	b.WriteString(strings.ReplaceAll(s, "'", "''"))
	b.WriteByte('\'')
}
