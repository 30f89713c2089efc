package filter

import (
	"fmt"
	"sort"
	"strings"
)

// FromLegacy converts the old REST API's per-column clauses. All clauses
// must hold (AND), in sorted column order so the tree, and so its SQL text,
// is deterministic; an empty (or all-space) clause keeps every row. Clause
// grammar (operators case-insensitive, surrounding spaces ignored):
//
//	"> x", "< x", ">= x", "<= x"     numeric comparison (ModeNumber)
//	"= x", "== x", "!= x", "<> x"    string comparison (ModeText), one pair
//	                                 of surrounding ' or " quotes stripped
//	"IN (a, 'b', \"c\")"             string membership (ModeText)
//	"BETWEEN x AND y"                numeric, inclusive (ModeNumber)
//	"LIKE 'pattern'", "NOT LIKE ..." SQL LIKE; the quotes are optional
//
// The old API compared plain strings, so an empty quoted value found empty
// cells. Empty cells are NULL now, so to keep what those clauses meant:
//
//	"= ''"          becomes IS NULL
//	"!= ''"         becomes IS NOT NULL
//	"IN ('', a)"    becomes IN ('a') OR IS NULL
//
// An unparseable clause is an *Error with Path set to the column:
// `column "age": cannot understand the filter "~ 3"`.
func FromLegacy(clauses map[string]string) (Expr, error) {
	total := 0
	for k, v := range clauses {
		total += len(k) + len(v)
	}
	if total > MaxTextLen {
		return nil, limitErr(0, fmt.Sprintf("filter text is %d bytes, longer than the limit of %d", total, MaxTextLen))
	}
	cols := make([]string, 0, len(clauses))
	for k := range clauses {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	var args []Expr
	for _, col := range cols {
		e, err := legacyClause(col, clauses[col])
		if err != nil {
			return nil, err
		}
		if e != nil {
			args = append(args, e)
		}
	}
	var e Expr
	switch len(args) {
	case 0:
		e = &Const{Value: true}
	case 1:
		e = args[0]
	default:
		e = &And{Args: args}
	}
	if err := checkLimits(e); err != nil {
		return nil, err
	}
	return e, nil
}

// legacyClause parses one clause; nil, nil means "no condition".
func legacyClause(col, clause string) (Expr, error) {
	s := strings.TrimSpace(clause)
	if s == "" {
		return nil, nil
	}
	bad := func(why string) error {
		msg := fmt.Sprintf("cannot understand the filter %q", s)
		if why != "" {
			msg += ": " + why
		}
		return legacyErr(col, msg)
	}
	ref := Ref{Name: col}

	numeric := func(op Op, rest string) (Expr, error) {
		v := stripQuotes(strings.TrimSpace(rest))
		if _, ok := numAffinity(v); !ok {
			if v == "" {
				return nil, bad("a number is missing")
			}
			return nil, bad(fmt.Sprintf("%q is not a number", v))
		}
		return &Compare{Col: ref, Op: op, Value: numLit(v), Mode: ModeNumber}, nil
	}
	text := func(op Op, rest string) (Expr, error) {
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return nil, bad("a value is missing (write '' for an empty cell)")
		}
		v := stripQuotes(rest)
		if v == "" {
			return &IsNull{Col: ref, Negated: op == OpNe}, nil
		}
		return &Compare{Col: ref, Op: op, Value: Literal{Text: v}, Mode: ModeText}, nil
	}

	// Symbolic operators, longest first.
	for _, o := range []struct {
		tok     string
		op      Op
		numeric bool
	}{
		{">=", OpGe, true}, {"<=", OpLe, true}, {"==", OpEq, false}, {"!=", OpNe, false},
		{"<>", OpNe, false}, {">", OpGt, true}, {"<", OpLt, true}, {"=", OpEq, false},
	} {
		if strings.HasPrefix(s, o.tok) {
			if o.numeric {
				return numeric(o.op, s[len(o.tok):])
			}
			return text(o.op, s[len(o.tok):])
		}
	}

	word, rest := cutWord(s)
	negated := false
	if strings.EqualFold(word, "NOT") {
		negated = true
		word, rest = cutWord(strings.TrimSpace(rest))
		if !strings.EqualFold(word, "LIKE") {
			return nil, bad("")
		}
	}
	rest = strings.TrimSpace(rest)
	switch strings.ToUpper(word) {
	case "LIKE":
		if rest == "" {
			return nil, bad("the pattern is missing")
		}
		return &Like{Col: ref, Pattern: stripQuotes(rest), Negated: negated}, nil
	case "BETWEEN":
		f := strings.Fields(rest)
		if len(f) != 3 || !strings.EqualFold(f[1], "AND") {
			return nil, bad("expected BETWEEN x AND y")
		}
		lo, hi := stripQuotes(f[0]), stripQuotes(f[2])
		for _, v := range []string{lo, hi} {
			if _, ok := numAffinity(v); !ok {
				return nil, bad(fmt.Sprintf("%q is not a number", v))
			}
		}
		return &Between{Col: ref, Low: numLit(lo), High: numLit(hi), Mode: ModeNumber}, nil
	case "IN":
		items, ok := splitLegacyList(rest)
		if !ok {
			return nil, bad("expected IN (a, b, ...)")
		}
		var vals []Literal
		null := false
		for _, it := range items {
			if it == "" {
				null = true
				continue
			}
			vals = append(vals, Literal{Text: it})
		}
		switch {
		case !null:
			return &In{Col: ref, Values: vals, Mode: ModeText}, nil
		case len(vals) == 0:
			return &IsNull{Col: ref}, nil
		}
		return &Or{Args: []Expr{&In{Col: ref, Values: vals, Mode: ModeText}, &IsNull{Col: ref}}}, nil
	}
	return nil, bad("")
}

// cutWord splits off a leading run of ASCII letters. The word must end the
// text or be followed by a space, '(' or a quote, so "INDIA" is not "IN".
func cutWord(s string) (word, rest string) {
	i := 0
	for i < len(s) && (('a' <= s[i] && s[i] <= 'z') || ('A' <= s[i] && s[i] <= 'Z')) {
		i++
	}
	if i < len(s) && !strings.ContainsRune(" \t\r\n('\"", rune(s[i])) {
		return "", s
	}
	return s[:i], s[i:]
}

// numLit keeps a number as written, marked as a number only when SQL can
// print it bare (so "+5" is rendered '+5', which means the same).
func numLit(v string) Literal {
	if isSQLNumber(v) {
		return Literal{Text: v, Type: LitNumber}
	}
	return Literal{Text: v, Type: LitString}
}

// stripQuotes removes one pair of matching surrounding ' or " quotes.
func stripQuotes(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// splitLegacyList splits "(a, 'b', \"c\")" into its items: bare items are
// trimmed, quoted ones keep their inside (a doubled quote is a quote), so
// quoted items may contain commas. A bare empty item is an error (a typo,
// like "a,,b"); a quoted empty item is the empty string.
func splitLegacyList(s string) ([]string, bool) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, false
	}
	s = s[1 : len(s)-1]
	var items []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && (s[i] == '\'' || s[i] == '"') {
			text, end, ok := unquote(s, i)
			if !ok {
				return nil, false
			}
			items = append(items, text)
			i = end
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
		} else {
			j := strings.IndexByte(s[i:], ',')
			if j < 0 {
				j = len(s) - i
			}
			item := strings.TrimSpace(s[i : i+j])
			if item == "" {
				return nil, false
			}
			items = append(items, item)
			i += j
		}
		if i == len(s) {
			return items, true
		}
		if s[i] != ',' {
			return nil, false
		}
		i++
	}
}
