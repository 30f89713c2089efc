package filter

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cutline/cutline/internal/csvio"
)

// Kind is a column's inferred type; it chooses how ModeAuto comparisons
// read the cells of that column.
type Kind int

// The column kinds. An unknown Kind value behaves as KindText.
const (
	KindText Kind = iota
	KindNumber
	KindBool
	KindTime
)

// String returns the lower-case name of the kind.
func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindNumber:
		return "number"
	case KindBool:
		return "bool"
	case KindTime:
		return "time"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Column describes one column of the table a filter runs on; its index in
// the slice given to Compile is its index in every row.
type Column struct {
	Name string
	Kind Kind
	// TimeFormat is the date format of a KindTime column's cells, as
	// recorded by type inference (csvio.Column.DateFormat: csvio.DateISO,
	// DateUS, DateEU or DateDE; "" means ISO). Other kinds ignore it.
	TimeFormat string
}

// Predicate reports whether a row is kept. The row holds one cell per
// column ("" is NULL); a row shorter than the table reads missing cells as
// NULL. A Predicate never retains the row or its strings, does not
// allocate in the common case, and is safe for concurrent use.
type Predicate func(row []string) bool

// Compile resolves column names (an exact match first, then a
// case-insensitive one if it is unique; with duplicate names the first
// wins) and parses every constant once, returning the predicate run per
// row. A nil expression keeps every row. Errors are *Error, carrying the
// position or input path of the offending column when the tree has one.
func Compile(e Expr, cols []Column) (Predicate, error) {
	if err := checkLimits(e); err != nil {
		return nil, err
	}
	c := &compiler{cols: cols}
	p, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	return p, nil
}

type compiler struct {
	cols []Column
}

func alwaysTrue([]string) bool  { return true }
func alwaysFalse([]string) bool { return false }

func (c *compiler) compile(e Expr) (Predicate, error) {
	if isNil(e) {
		return alwaysTrue, nil
	}
	switch x := e.(type) {
	case *Const:
		if x.Value {
			return alwaysTrue, nil
		}
		return alwaysFalse, nil
	case *And:
		ps, err := c.compileAll(x.Args)
		if err != nil {
			return nil, err
		}
		return and(ps), nil
	case *Or:
		ps, err := c.compileAll(x.Args)
		if err != nil {
			return nil, err
		}
		return or(ps), nil
	case *Not:
		p, err := c.compile(x.Arg)
		if err != nil {
			return nil, err
		}
		return func(row []string) bool { return !p(row) }, nil
	case *IsNull:
		idx, _, err := c.resolve(x.Col)
		if err != nil {
			return nil, err
		}
		if x.Negated {
			return func(row []string) bool { return idx < len(row) && row[idx] != "" }, nil
		}
		return func(row []string) bool { return idx >= len(row) || row[idx] == "" }, nil
	case *Compare:
		return c.compare(x)
	case *Between:
		return c.between(x)
	case *In:
		return c.in(x)
	case *Like:
		idx, _, err := c.resolve(x.Col)
		if err != nil {
			return nil, err
		}
		m, neg := compileLike(x.Pattern, x.Fold), x.Negated
		return func(row []string) bool {
			if idx >= len(row) || row[idx] == "" {
				return false
			}
			return m.match(row[idx]) != neg
		}, nil
	}
	return nil, &Error{Msg: fmt.Sprintf("unsupported expression %T", e)}
}

func (c *compiler) compileAll(args []Expr) ([]Predicate, error) {
	ps := make([]Predicate, len(args))
	for i, a := range args {
		p, err := c.compile(a)
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	return ps, nil
}

// and and or unroll the common small arities: a direct call chain is
// cheaper per row than a loop over a slice.
func and(ps []Predicate) Predicate {
	switch len(ps) {
	case 0:
		return alwaysTrue
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(row []string) bool { return a(row) && b(row) }
	case 3:
		a, b, d := ps[0], ps[1], ps[2]
		return func(row []string) bool { return a(row) && b(row) && d(row) }
	}
	return func(row []string) bool {
		for _, p := range ps {
			if !p(row) {
				return false
			}
		}
		return true
	}
}

func or(ps []Predicate) Predicate {
	switch len(ps) {
	case 0:
		return alwaysFalse
	case 1:
		return ps[0]
	case 2:
		a, b := ps[0], ps[1]
		return func(row []string) bool { return a(row) || b(row) }
	case 3:
		a, b, d := ps[0], ps[1], ps[2]
		return func(row []string) bool { return a(row) || b(row) || d(row) }
	}
	return func(row []string) bool {
		for _, p := range ps {
			if p(row) {
				return true
			}
		}
		return false
	}
}

// resolve finds a column: exact name first, then a unique case-insensitive
// match, so `WHERE city = ...` works on a "City" header without making
// "Name" and "name" headers ambiguous when spelled exactly.
func (c *compiler) resolve(r Ref) (int, Column, error) {
	for i, col := range c.cols {
		if col.Name == r.Name {
			return i, col, nil
		}
	}
	found := -1
	var matches []string
	for i, col := range c.cols {
		if strings.EqualFold(col.Name, r.Name) {
			if found < 0 {
				found = i
			}
			matches = append(matches, strconv.Quote(col.Name))
		}
	}
	switch {
	case len(matches) == 1:
		return found, c.cols[found], nil
	case len(matches) > 1:
		return 0, Column{}, refErr(r, fmt.Sprintf("ambiguous column %q: it matches %s; spell it exactly", r.Name, strings.Join(matches, ", ")))
	}
	msg := fmt.Sprintf("unknown column %q", r.Name)
	switch {
	case len(c.cols) == 0:
		msg += " (the table has no columns)"
	case len(c.cols) <= 20:
		names := make([]string, len(c.cols))
		for i, col := range c.cols {
			names[i] = strconv.Quote(col.Name)
		}
		msg += " (columns: " + strings.Join(names, ", ") + ")"
	default:
		msg += fmt.Sprintf(" (the table has %d columns)", len(c.cols))
	}
	return 0, Column{}, refErr(r, msg)
}

func refErr(r Ref, msg string) *Error {
	return &Error{Pos: r.Pos, Path: r.Path, Msg: msg}
}

// cmpKind is how one constant is compared with cells, fixed at compile time.
type cmpKind uint8

const (
	ckText         cmpKind = iota // byte-wise
	ckNumber                      // cell read with numAffinity, uncomparable if not a number
	ckTextOrNumber                // TEXT column, number constant: numeric when numStrict reads the cell, else byte-wise
	ckBeforeText                  // numeric column, text constant: every number sorts before it, other cells byte-wise
	ckTime                        // cell must be a time
	ckBool                        // cell must be a boolean
)

// operand is a constant parsed for its comparison.
type operand struct {
	kind cmpKind
	text string
	num  csvio.Number
	tm   csvio.Instant
	tfmt string // ckTime: the column's date format, for reading cells
	b    bool
}

// makeOperand applies the comparison rules (see doc.go) to one constant.
func makeOperand(l Literal, column Column, m Mode, col Ref) (operand, error) {
	o := operand{kind: ckText, text: l.Text}
	switch m {
	case ModeText:
		return o, nil
	case ModeNumber:
		v, ok := numAffinity(l.Text)
		if !ok {
			return o, notNumberErr(col, l.Text)
		}
		o.kind, o.num = ckNumber, v
		return o, nil
	case ModeAuto:
	default:
		return o, refErr(col, fmt.Sprintf("invalid comparison mode %d", m))
	}
	switch column.Kind {
	case KindNumber:
		if v, ok := numericConst(l); ok {
			o.kind, o.num = ckNumber, v
		} else {
			o.kind = ckBeforeText
		}
	case KindTime:
		if t, ok := parseTimeConst(l.Text, column.TimeFormat); ok {
			o.kind, o.tm, o.tfmt = ckTime, t, column.TimeFormat
		}
	case KindBool:
		if b, ok := parseBool(l.Text); ok {
			o.kind, o.b = ckBool, b
		}
	default: // KindText and unknown kinds: only a number constant is numeric
		if l.Type == LitNumber {
			if v, ok := numStrict(l.Text); ok {
				o.kind, o.num = ckTextOrNumber, v
			}
		}
	}
	return o, nil
}

// numericConst is the value of a constant compared with a numeric column:
// TRUE and FALSE are 1 and 0, as in SQLite, and any other constant, quoted
// or not, is a number when numAffinity reads it.
func numericConst(l Literal) (csvio.Number, bool) {
	if l.Type == LitBool {
		if l.Text == "true" {
			return csvio.IntNumber(1), true
		}
		return csvio.IntNumber(0), true
	}
	return numAffinity(l.Text)
}

func notNumberErr(col Ref, text string) *Error {
	return refErr(col, fmt.Sprintf("column %q: %q is not a number", col.Name, text))
}

// compare orders a non-NULL cell against the constant; ok is false when
// the cell cannot be compared (not a number for a number comparison...).
func (o *operand) compare(cell string) (c int, ok bool) {
	switch o.kind {
	case ckNumber:
		return cmpAffinity(cell, o.num)
	case ckTextOrNumber:
		if c, ok := cmpStrict(cell, o.num); ok {
			return c, true
		}
	case ckBeforeText:
		if _, ok := numAffinity(cell); ok {
			return -1, true
		}
	case ckTime:
		t, ok := parseTime(cell, o.tfmt)
		if !ok {
			return 0, false
		}
		return t.Compare(o.tm), true
	case ckBool:
		b, ok := parseBool(cell)
		if !ok {
			return 0, false
		}
		return cmpBool(b, o.b), true
	}
	return strings.Compare(cell, o.text), true
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

func opHolds(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	case OpGe:
		return c >= 0
	}
	return false
}

func (c *compiler) compare(x *Compare) (Predicate, error) {
	idx, col, err := c.resolve(x.Col)
	if err != nil {
		return nil, err
	}
	op := x.Op
	if op < OpEq || op > OpGe {
		return nil, refErr(x.Col, fmt.Sprintf("invalid operator %v", op))
	}
	o, err := makeOperand(x.Value, col, x.Mode, x.Col)
	if err != nil {
		return nil, err
	}
	// Specialised closures for the hottest cases; for a number comparison
	// a NULL or non-numeric cell fails numAffinity, which is exactly
	// "false" for every operator but != (left to the generic path).
	switch {
	case o.kind == ckNumber && op != OpNe:
		return numPred(idx, op, o.num), nil
	case o.kind == ckText && op == OpEq:
		t := o.text
		return func(row []string) bool { return idx < len(row) && row[idx] != "" && row[idx] == t }, nil
	case o.kind == ckText && op == OpNe:
		t := o.text
		return func(row []string) bool { return idx < len(row) && row[idx] != "" && row[idx] != t }, nil
	}
	return func(row []string) bool {
		if idx >= len(row) || row[idx] == "" {
			return false
		}
		c, ok := o.compare(row[idx])
		if !ok {
			return op == OpNe // uncomparable: unequal, neither less nor greater
		}
		return opHolds(op, c)
	}, nil
}

// numPred compares a numeric column's cells with a number; a NULL cell,
// or one that is not a number, fails every operator here.
func numPred(idx int, op Op, v csvio.Number) Predicate {
	switch op {
	case OpEq:
		return func(row []string) bool {
			if idx >= len(row) {
				return false
			}
			c, ok := cmpAffinity(row[idx], v)
			return ok && c == 0
		}
	case OpLt:
		return func(row []string) bool {
			if idx >= len(row) {
				return false
			}
			c, ok := cmpAffinity(row[idx], v)
			return ok && c < 0
		}
	case OpLe:
		return func(row []string) bool {
			if idx >= len(row) {
				return false
			}
			c, ok := cmpAffinity(row[idx], v)
			return ok && c <= 0
		}
	case OpGt:
		return func(row []string) bool {
			if idx >= len(row) {
				return false
			}
			c, ok := cmpAffinity(row[idx], v)
			return ok && c > 0
		}
	default: // OpGe
		return func(row []string) bool {
			if idx >= len(row) {
				return false
			}
			c, ok := cmpAffinity(row[idx], v)
			return ok && c >= 0
		}
	}
}

func (c *compiler) between(x *Between) (Predicate, error) {
	idx, col, err := c.resolve(x.Col)
	if err != nil {
		return nil, err
	}
	lo, err := makeOperand(x.Low, col, x.Mode, x.Col)
	if err != nil {
		return nil, err
	}
	hi, err := makeOperand(x.High, col, x.Mode, x.Col)
	if err != nil {
		return nil, err
	}
	neg := x.Negated
	if lo.kind == ckNumber && hi.kind == ckNumber {
		a, b := lo.num, hi.num
		return func(row []string) bool {
			if idx >= len(row) || row[idx] == "" {
				return false
			}
			v, ok := numAffinity(row[idx])
			return (ok && v.Compare(a) >= 0 && v.Compare(b) <= 0) != neg
		}, nil
	}
	return func(row []string) bool {
		if idx >= len(row) || row[idx] == "" {
			return false
		}
		cell := row[idx]
		c1, ok1 := lo.compare(cell)
		c2, ok2 := hi.compare(cell)
		return (ok1 && ok2 && c1 >= 0 && c2 <= 0) != neg
	}, nil
}

// smallSet is the size up to which IN lists are scanned linearly: for a
// handful of items that beats hashing the cell.
const smallSet = 8

// inSet answers IN for one list. Items that are values of the column's
// type go into the typed part, the others into the text part. On a
// numeric, time or bool column a cell that parses is looked up in the
// typed part only, one that does not in the text part only: such a cell
// can never equal an item that does not parse, so this is exactly "typed
// comparison when both sides are typed, text otherwise", with one parse
// per row. On a TEXT column only number constants are typed, and quoted
// items stay text, so a cell that is a number is looked up in both parts.
type inSet struct {
	parse  cmpKind // ckText (no parsing), ckNumber, ckTextOrNumber, ckTime or ckBool
	forced bool    // ModeNumber: a cell that is not a number matches nothing

	texts   []string
	textMap map[string]struct{}
	nums    []csvio.Number
	numMap  map[csvio.NumberKey]struct{}
	times   map[csvio.Instant]struct{}
	tfmt    string // ckTime: the column's date format
	bools   [2]bool
	typed   int // number of typed items
}

func (c *compiler) in(x *In) (Predicate, error) {
	idx, col, err := c.resolve(x.Col)
	if err != nil {
		return nil, err
	}
	s := &inSet{}
	switch x.Mode {
	case ModeText:
	case ModeNumber:
		s.parse, s.forced = ckNumber, true
	case ModeAuto:
		switch col.Kind {
		case KindNumber:
			s.parse = ckNumber
		case KindTime:
			s.parse, s.tfmt = ckTime, col.TimeFormat
		case KindBool:
			s.parse = ckBool
		default:
			s.parse = ckTextOrNumber
		}
	default:
		return nil, refErr(x.Col, fmt.Sprintf("invalid comparison mode %d", x.Mode))
	}
	for _, v := range x.Values {
		if s.add(v) {
			continue
		}
		if s.forced {
			return nil, notNumberErr(x.Col, v.Text)
		}
		s.texts = append(s.texts, v.Text)
	}
	if len(s.texts) > smallSet {
		s.textMap = make(map[string]struct{}, len(s.texts))
		for _, t := range s.texts {
			s.textMap[t] = struct{}{}
		}
		s.texts = nil
	}
	if len(s.nums) > smallSet {
		s.numMap = make(map[csvio.NumberKey]struct{}, len(s.nums))
		for _, n := range s.nums {
			s.numMap[n.Key()] = struct{}{}
		}
		s.nums = nil
	}
	neg := x.Negated
	return func(row []string) bool {
		if idx >= len(row) || row[idx] == "" {
			return false
		}
		return s.contains(row[idx]) != neg
	}, nil
}

// add files an item under the typed part if it is a value of the column's
// type; false otherwise.
func (s *inSet) add(l Literal) bool {
	v := l.Text
	switch s.parse {
	case ckNumber:
		n, ok := numAffinity(v)
		if !s.forced {
			n, ok = numericConst(l)
		}
		if ok {
			s.nums = append(s.nums, n)
			s.typed++
			return true
		}
	case ckTextOrNumber:
		if l.Type != LitNumber {
			return false
		}
		if n, ok := numStrict(v); ok {
			s.nums = append(s.nums, n)
			s.typed++
			return true
		}
	case ckTime:
		if t, ok := parseTimeConst(v, s.tfmt); ok {
			if s.times == nil {
				s.times = map[csvio.Instant]struct{}{}
			}
			s.times[t] = struct{}{}
			s.typed++
			return true
		}
	case ckBool:
		if b, ok := parseBool(v); ok {
			if b {
				s.bools[1] = true
			} else {
				s.bools[0] = true
			}
			s.typed++
			return true
		}
	}
	return false
}

// hasNumber looks n up in the typed part of a number list.
func (s *inSet) hasNumber(n csvio.Number) bool {
	if s.numMap != nil {
		_, hit := s.numMap[n.Key()]
		return hit
	}
	for _, m := range s.nums {
		if n.Equal(m) {
			return true
		}
	}
	return false
}

func (s *inSet) contains(cell string) bool {
	if s.typed > 0 {
		switch s.parse {
		case ckNumber:
			if n, ok := numAffinity(cell); ok {
				return s.hasNumber(n)
			}
		case ckTextOrNumber:
			if n, ok := numStrict(cell); ok && s.hasNumber(n) {
				return true
			}
		case ckTime:
			if t, ok := parseTime(cell, s.tfmt); ok {
				_, hit := s.times[t]
				return hit
			}
		case ckBool:
			if b, ok := parseBool(cell); ok {
				if b {
					return s.bools[1]
				}
				return s.bools[0]
			}
		}
	}
	if s.forced {
		return false
	}
	if s.textMap != nil {
		_, hit := s.textMap[cell]
		return hit
	}
	for _, t := range s.texts {
		if t == cell {
			return true
		}
	}
	return false
}
