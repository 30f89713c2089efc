package filter

import (
	"fmt"
	"strconv"
	"strings"
)

// The SQL WHERE syntax. Grammar, loosest binding first:
//
//	or      = and { OR and }
//	and     = not { AND not }
//	not     = NOT not | primary
//	primary = "(" or ")" | TRUE | FALSE | column pred
//	pred    = cmpop value
//	        | [NOT] IN "(" value { "," value } ")"
//	        | [NOT] BETWEEN value AND value
//	        | [NOT] (LIKE | ILIKE) string
//	        | IS [NOT] NULL
//	value   = string | number | TRUE | FALSE
//
// A hand-written recursive-descent parser: the grammar is tiny, and it gives
// precise positions and messages that a generated parser would not.

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQIdent // "quoted identifier": never a keyword
	tString
	tNumber
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string // decoded text: identifier name, string contents, operator
	pos  int    // 1-based byte position
	src  string // the token as written, for messages
}

// keywords are reserved: a column with such a name must be double-quoted.
var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "IN": true, "BETWEEN": true,
	"LIKE": true, "ILIKE": true, "IS": true, "NULL": true, "TRUE": true, "FALSE": true,
}

func isKeyword(s string) bool {
	if len(s) > 7 {
		return false
	}
	return keywords[strings.ToUpper(s)]
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

// lex splits s into tokens. The text is at most MaxTextLen bytes, so the
// token slice stays small.
func lex(s string) ([]token, *Error) {
	var toks []token
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' || s[i] == '\v') {
			i++
		}
		if i >= len(s) {
			toks = append(toks, token{kind: tEOF, pos: len(s) + 1})
			return toks, nil
		}
		start := i
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			text, end, ok := unquote(s, i)
			if !ok {
				what := "string"
				if c == '"' {
					what = "quoted column name"
				}
				return nil, syntaxErr(start+1, "unterminated "+what)
			}
			kind := tString
			if c == '"' {
				kind = tQIdent
			}
			i = end
			toks = append(toks, token{kind: kind, text: text, pos: start + 1, src: s[start:i]})
		case isDigit(c) || ((c == '.' || c == '-' || c == '+') && i+1 < len(s) && (isDigit(s[i+1]) || (s[i+1] == '.' && c != '.' && i+2 < len(s) && isDigit(s[i+2])))):
			i++
			for i < len(s) && (isIdentChar(s[i]) || s[i] == '.' ||
				((s[i] == '+' || s[i] == '-') && (s[i-1] == 'e' || s[i-1] == 'E'))) {
				i++
			}
			if !floatSyntax(s[start:i]) {
				return nil, syntaxErr(start+1, fmt.Sprintf("invalid number %s", show(s[start:i])))
			}
			toks = append(toks, token{kind: tNumber, text: s[start:i], pos: start + 1, src: s[start:i]})
		case isIdentStart(c):
			for i < len(s) && isIdentChar(s[i]) {
				i++
			}
			toks = append(toks, token{kind: tIdent, text: s[start:i], pos: start + 1, src: s[start:i]})
		case c == '(':
			i++
			toks = append(toks, token{kind: tLParen, text: "(", pos: start + 1, src: "("})
		case c == ')':
			i++
			toks = append(toks, token{kind: tRParen, text: ")", pos: start + 1, src: ")"})
		case c == ',':
			i++
			toks = append(toks, token{kind: tComma, text: ",", pos: start + 1, src: ","})
		case c == '=' || c == '<' || c == '>' || c == '!':
			i++
			if i < len(s) && (s[i] == '=' || (c == '<' && s[i] == '>')) {
				i++
			}
			op := s[start:i]
			if op == "!" {
				return nil, syntaxErr(start+1, `unexpected "!" (use != or NOT)`)
			}
			toks = append(toks, token{kind: tOp, text: op, pos: start + 1, src: op})
		default:
			return nil, syntaxErr(start+1, fmt.Sprintf("unexpected character %s", show(s[start:start+runeLen(s[start:])])))
		}
	}
}

// unquote reads a quoted string or identifier starting at s[i] (the quote),
// with the quote doubled inside as its escape; it returns the contents and
// the index after the closing quote.
func unquote(s string, i int) (string, int, bool) {
	q := s[i]
	i++
	start := i
	var b *strings.Builder
	for i < len(s) {
		if s[i] != q {
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == q { // doubled quote
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(s[start : i+1])
			i += 2
			start = i
			continue
		}
		if b == nil {
			return s[start:i], i + 1, true
		}
		b.WriteString(s[start:i])
		return b.String(), i + 1, true
	}
	return "", 0, false
}

func runeLen(s string) int {
	for n := 1; n < len(s) && n < 4; n++ {
		if s[n]&0xC0 != 0x80 {
			return n
		}
	}
	return min(len(s), 4)
}

// show quotes a piece of input for a message, shortening long ones.
func show(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return strconv.Quote(s)
}

type parser struct {
	toks  []token
	i     int
	depth int
	nodes int
	items int
}

// ParseSQL parses a SQL WHERE expression such as
//
//	age >= 30 AND (city IN ('NYC', 'LA') OR name LIKE 'A%') AND NOT email IS NULL
//
// Precedence is NOT > AND > OR, and comparisons bind tighter than NOT.
// Keywords are case-insensitive; identifiers are bare ([A-Za-z_][A-Za-z0-9_]*)
// or double-quoted with a double quote inside doubled; strings are
// single-quoted with a single quote inside doubled; numbers may have a
// sign, a fraction and an exponent. An empty or all-blank text is no filter:
// ParseSQL returns nil, which keeps every row.
// Errors are *Error with the 1-based byte position of the offending token.
func ParseSQL(s string) (Expr, error) {
	if len(s) > MaxTextLen {
		return nil, limitErr(0, fmt.Sprintf("filter text is %d bytes, longer than the limit of %d", len(s), MaxTextLen))
	}
	toks, lerr := lex(s)
	if lerr != nil {
		return nil, lerr
	}
	if toks[0].kind == tEOF {
		return nil, nil
	}
	p := &parser{toks: toks}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, syntaxErr(t.pos, fmt.Sprintf("unexpected %s after a complete condition (missing AND or OR?)", show(t.src)))
	}
	// Parentheses can nest AND inside OR inside AND..., so the AST may be
	// deeper than the parenthesis depth checked while parsing.
	if err := checkLimits(e); err != nil {
		return nil, err
	}
	return e, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// isKw reports whether the next token is the bare keyword kw.
func (p *parser) isKw(kw string) bool {
	t := p.toks[p.i]
	return t.kind == tIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

// expected builds `expected WHAT after "PREV", found "TOK"` at the next token.
func (p *parser) expected(what string) *Error {
	t := p.peek()
	msg := "expected " + what
	if p.i > 0 {
		msg += " after " + show(p.toks[p.i-1].src)
	}
	if t.kind != tEOF {
		msg += ", found " + show(t.src)
	}
	return syntaxErr(t.pos, msg)
}

// node counts an AST node against MaxNodes.
func (p *parser) node(pos int) *Error {
	p.nodes++
	if p.nodes > MaxNodes {
		return limitErr(pos, fmt.Sprintf("more than %d conditions", MaxNodes))
	}
	return nil
}

// enter bounds the recursion depth (parentheses and NOT), which protects the
// stack as well as enforcing MaxDepth.
func (p *parser) enter(pos int) *Error {
	p.depth++
	if p.depth > MaxDepth {
		return limitErr(pos, fmt.Sprintf("nesting deeper than the limit of %d", MaxDepth))
	}
	return nil
}

func (p *parser) parseOr() (Expr, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if !p.isKw("OR") {
		return first, nil
	}
	// Counted before its arguments so that an overlong chain fails at
	// the condition that passes the limit.
	if err := p.node(p.peek().pos); err != nil {
		return nil, err
	}
	args := []Expr{first}
	for p.acceptKw("OR") {
		e, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return &Or{Args: args}, nil
}

func (p *parser) parseAnd() (Expr, error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	if !p.isKw("AND") {
		return first, nil
	}
	// Counted before its arguments so that an overlong chain fails at
	// the condition that passes the limit.
	if err := p.node(p.peek().pos); err != nil {
		return nil, err
	}
	args := []Expr{first}
	for p.acceptKw("AND") {
		e, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return &And{Args: args}, nil
}

func (p *parser) parseNot() (Expr, error) {
	if !p.isKw("NOT") {
		return p.parsePrimary()
	}
	t := p.next()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	x, err := p.parseNot()
	p.depth--
	if err != nil {
		return nil, err
	}
	if err := p.node(t.pos); err != nil {
		return nil, err
	}
	return &Not{Arg: x}, nil
}

func (p *parser) parsePrimary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		e, err := p.parseOr()
		p.depth--
		if err != nil {
			return nil, err
		}
		if r := p.peek(); r.kind != tRParen {
			if r.kind == tEOF {
				return nil, syntaxErr(r.pos, fmt.Sprintf(`missing ")" for the "(" at position %d`, t.pos))
			}
			return nil, syntaxErr(r.pos, fmt.Sprintf(`expected ")" for the "(" at position %d, found %s`, t.pos, show(r.src)))
		}
		p.next()
		return e, nil
	case tQIdent:
		p.next()
		return p.parsePred(Ref{Name: t.text, Pos: t.pos})
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			p.next()
			if err := p.node(t.pos); err != nil {
				return nil, err
			}
			return &Const{Value: strings.EqualFold(t.text, "TRUE")}, nil
		}
		if !isKeyword(t.text) {
			p.next()
			return p.parsePred(Ref{Name: t.text, Pos: t.pos})
		}
	case tString, tNumber:
		return nil, syntaxErr(t.pos, fmt.Sprintf("expected a condition starting with a column name, found the value %s (write the column first)", show(t.src)))
	}
	return nil, p.expected("a condition")
}

// parsePred parses what follows a column name.
func (p *parser) parsePred(col Ref) (Expr, error) {
	if err := p.node(col.Pos); err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind == tOp {
		p.next()
		var op Op
		switch t.text {
		case "=", "==":
			op = OpEq
		case "!=", "<>":
			op = OpNe
		case "<":
			op = OpLt
		case "<=":
			op = OpLe
		case ">":
			op = OpGt
		case ">=":
			op = OpGe
		}
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		return &Compare{Col: col, Op: op, Value: v}, nil
	}
	negated := false
	if p.acceptKw("NOT") {
		negated = true
		if !p.isKw("IN") && !p.isKw("BETWEEN") && !p.isKw("LIKE") && !p.isKw("ILIKE") {
			return nil, p.expected("IN, BETWEEN, LIKE or ILIKE")
		}
	}
	switch {
	case p.acceptKw("IN"):
		if p.peek().kind != tLParen {
			return nil, p.expected(`"(" to start the IN list`)
		}
		p.next()
		var vals []Literal
		for {
			vt := p.peek()
			v, err := p.parseValue()
			if err != nil {
				return nil, err
			}
			p.items++
			if p.items > MaxInItems {
				return nil, limitErr(vt.pos, fmt.Sprintf("more than %d IN items in total", MaxInItems))
			}
			vals = append(vals, v)
			if p.peek().kind == tComma {
				p.next()
				continue
			}
			if p.peek().kind != tRParen {
				return nil, p.expected(`"," or ")" in the IN list`)
			}
			p.next()
			break
		}
		return &In{Col: col, Values: vals, Negated: negated}, nil
	case p.acceptKw("BETWEEN"):
		lo, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		if !p.acceptKw("AND") {
			return nil, p.expected("AND")
		}
		hi, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		return &Between{Col: col, Low: lo, High: hi, Negated: negated}, nil
	case p.isKw("LIKE") || p.isKw("ILIKE"):
		kw := p.next()
		pt := p.peek()
		if pt.kind != tString {
			return nil, p.expected("a quoted pattern")
		}
		p.next()
		return &Like{Col: col, Pattern: pt.text, Fold: strings.EqualFold(kw.text, "ILIKE"), Negated: negated}, nil
	case p.acceptKw("IS"):
		not := p.acceptKw("NOT")
		if !p.acceptKw("NULL") {
			return nil, p.expected("NULL")
		}
		return &IsNull{Col: col, Negated: not}, nil
	}
	return nil, p.expected("an operator (=, !=, <, <=, >, >=, IN, BETWEEN, LIKE, ILIKE, IS)")
}

func (p *parser) parseValue() (Literal, error) {
	t := p.peek()
	switch t.kind {
	case tString:
		p.next()
		return Literal{Text: t.text, Type: LitString}, nil
	case tNumber:
		p.next()
		return Literal{Text: t.text, Type: LitNumber}, nil
	case tIdent:
		switch strings.ToUpper(t.text) {
		case "TRUE", "FALSE":
			p.next()
			return Literal{Text: strings.ToLower(t.text), Type: LitBool}, nil
		case "NULL":
			return Literal{}, syntaxErr(t.pos, "NULL is not a value: use IS NULL or IS NOT NULL")
		}
		if !isKeyword(t.text) {
			err := p.expected("a value")
			err.Msg += " (strings take single quotes)"
			return Literal{}, err
		}
	case tQIdent:
		return Literal{}, syntaxErr(t.pos, fmt.Sprintf("expected a value, found the column name %s (strings take single quotes)", show(t.src)))
	}
	return Literal{}, p.expected("a value")
}
