package filter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// LIKE matching without regexp and without backtracking.
//
// A pattern is split at its '%' wildcards into segments; a segment is a
// fixed sequence of literal text and '_' (exactly one rune). The first
// segment must match at the start of the cell, the last one at the end, and
// the ones between are searched left to right, each at its leftmost match.
// Taking the leftmost match is always right: a segment consumes a fixed
// number of runes, so an earlier start also ends earlier and leaves the
// most room for the rest. Cost is O(len(cell) * len(pattern)) at worst and
// no pattern (%a%a%a%a%b included) can blow up.

// likeTok is a piece of a segment: literal text, or '_' when one is set.
type likeTok struct {
	lit string
	one bool
}

type likeShape uint8

const (
	shapeGeneral  likeShape = iota
	shapeExact              // abc
	shapePrefix             // abc%
	shapeSuffix             // %abc
	shapeContains           // %abc%
	shapeAny                // %
)

type likeMatcher struct {
	fold  bool
	shape likeShape
	lit   string      // the literal of the special shapes
	segs  [][]likeTok // shapeGeneral: segments between '%'s
}

// compileLike parses a LIKE pattern: % any run, _ one rune, backslash
// escapes the next character (\% \_ \\; before any other character it just
// means that character, and a trailing backslash is a literal backslash).
func compileLike(pattern string, fold bool) *likeMatcher {
	m := &likeMatcher{fold: fold}
	var segs [][]likeTok
	var cur []likeTok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			cur = append(cur, likeTok{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			lit.WriteByte(pattern[i])
		case '%':
			flush()
			segs = append(segs, cur)
			cur = nil
		case '_':
			flush()
			cur = append(cur, likeTok{one: true})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	segs = append(segs, cur)

	// Recognise the common shapes, which strings.HasPrefix & co. do faster.
	plain := func(seg []likeTok) (string, bool) {
		switch {
		case len(seg) == 0:
			return "", true
		case len(seg) == 1 && !seg[0].one:
			return seg[0].lit, true
		}
		return "", false
	}
	first, firstPlain := plain(segs[0])
	last, lastPlain := plain(segs[len(segs)-1])
	switch {
	case len(segs) == 1 && firstPlain:
		m.shape, m.lit = shapeExact, first
	case len(segs) == 2 && firstPlain && lastPlain && first == "" && last == "":
		m.shape = shapeAny
	case len(segs) == 2 && firstPlain && lastPlain && last == "":
		m.shape, m.lit = shapePrefix, first
	case len(segs) == 2 && firstPlain && lastPlain && first == "":
		m.shape, m.lit = shapeSuffix, last
	case len(segs) >= 3 && firstPlain && lastPlain && first == "" && last == "":
		// %x% or %%x%% etc.: only if at most one middle segment is non-empty
		var mid []likeTok
		n := 0
		for _, s := range segs[1 : len(segs)-1] {
			if len(s) > 0 {
				mid = s
				n++
			}
		}
		if l, ok := plain(mid); ok && n <= 1 {
			if l == "" {
				m.shape = shapeAny
			} else {
				m.shape, m.lit = shapeContains, l
			}
		}
	}
	if m.shape == shapeGeneral {
		m.segs = segs
	}
	return m
}

// match reports whether the whole of s matches the pattern.
func (m *likeMatcher) match(s string) bool {
	if !m.fold {
		switch m.shape {
		case shapeExact:
			return s == m.lit
		case shapePrefix:
			return strings.HasPrefix(s, m.lit)
		case shapeSuffix:
			return strings.HasSuffix(s, m.lit)
		case shapeContains:
			return strings.Contains(s, m.lit)
		case shapeAny:
			return true
		}
	} else {
		switch m.shape {
		case shapeExact:
			n, ok := prefixFold(s, m.lit)
			return ok && n == len(s)
		case shapePrefix:
			_, ok := prefixFold(s, m.lit)
			return ok
		case shapeSuffix:
			_, ok := suffixFold(s, m.lit)
			return ok
		case shapeContains:
			_, ok := m.find([]likeTok{{lit: m.lit}}, s, 0, len(s))
			return ok
		case shapeAny:
			return true
		}
	}
	segs := m.segs
	if len(segs) == 1 {
		end, ok := m.fwd(segs[0], s, 0, len(s))
		return ok && end == len(s)
	}
	lo, ok := m.fwd(segs[0], s, 0, len(s))
	if !ok {
		return false
	}
	hi, ok := m.bwd(segs[len(segs)-1], s, lo, len(s))
	if !ok {
		return false
	}
	for _, seg := range segs[1 : len(segs)-1] {
		if len(seg) == 0 {
			continue
		}
		if lo, ok = m.find(seg, s, lo, hi); !ok {
			return false
		}
	}
	return true
}

// fwd matches seg at s[i:] without passing hi; it returns the end.
func (m *likeMatcher) fwd(seg []likeTok, s string, i, hi int) (int, bool) {
	for _, t := range seg {
		switch {
		case t.one:
			if i >= hi {
				return 0, false
			}
			_, n := utf8.DecodeRuneInString(s[i:hi])
			i += n
		case m.fold:
			n, ok := prefixFold(s[i:hi], t.lit)
			if !ok {
				return 0, false
			}
			i += n
		default:
			if !strings.HasPrefix(s[i:hi], t.lit) {
				return 0, false
			}
			i += len(t.lit)
		}
	}
	return i, true
}

// bwd matches seg so that it ends at s[hi], not starting before lo; it
// returns the start.
func (m *likeMatcher) bwd(seg []likeTok, s string, lo, hi int) (int, bool) {
	for k := len(seg) - 1; k >= 0; k-- {
		t := seg[k]
		switch {
		case t.one:
			if hi <= lo {
				return 0, false
			}
			_, n := utf8.DecodeLastRuneInString(s[lo:hi])
			hi -= n
		case m.fold:
			n, ok := suffixFold(s[lo:hi], t.lit)
			if !ok {
				return 0, false
			}
			hi -= n
		default:
			if !strings.HasSuffix(s[lo:hi], t.lit) {
				return 0, false
			}
			hi -= len(t.lit)
		}
	}
	return hi, true
}

// find locates the leftmost match of seg inside s[lo:hi] and returns its end.
func (m *likeMatcher) find(seg []likeTok, s string, lo, hi int) (int, bool) {
	for i := lo; i <= hi; {
		if !m.fold && !seg[0].one {
			// Jump straight to the next occurrence of the leading literal.
			j := strings.Index(s[i:hi], seg[0].lit)
			if j < 0 {
				return 0, false
			}
			i += j
		}
		if end, ok := m.fwd(seg, s, i, hi); ok {
			return end, true
		}
		if i == hi {
			break
		}
		_, n := utf8.DecodeRuneInString(s[i:hi])
		i += n
	}
	return 0, false
}

// prefixFold reports whether s starts with lit under Unicode simple case
// folding and returns how many bytes of s matched (folded runes may differ
// in length: 'k' and the Kelvin sign U+212A).
func prefixFold(s, lit string) (int, bool) {
	i, j := 0, 0
	for j < len(lit) {
		if i >= len(s) {
			return 0, false
		}
		a, b := s[i], lit[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		ra, na := utf8.DecodeRuneInString(s[i:])
		rb, nb := utf8.DecodeRuneInString(lit[j:])
		if !runeFoldEq(ra, na, rb, nb, s[i], lit[j]) {
			return 0, false
		}
		i += na
		j += nb
	}
	return i, true
}

// suffixFold is prefixFold from the end: it returns how many trailing bytes
// of s matched lit.
func suffixFold(s, lit string) (int, bool) {
	i, j := len(s), len(lit)
	for j > 0 {
		if i <= 0 {
			return 0, false
		}
		a, b := s[i-1], lit[j-1]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i--
			j--
			continue
		}
		ra, na := utf8.DecodeLastRuneInString(s[:i])
		rb, nb := utf8.DecodeLastRuneInString(lit[:j])
		if !runeFoldEq(ra, na, rb, nb, s[i-1], lit[j-1]) {
			return 0, false
		}
		i -= na
		j -= nb
	}
	return len(s) - i, true
}

// runeFoldEq compares two decoded runes under simple folding; invalid UTF-8
// bytes (RuneError of width 1) only equal the very same byte.
func runeFoldEq(ra rune, na int, rb rune, nb int, ba, bb byte) bool {
	if (ra == utf8.RuneError && na == 1) || (rb == utf8.RuneError && nb == 1) {
		return na == nb && ba == bb
	}
	if ra == rb {
		return true
	}
	for r := unicode.SimpleFold(ra); r != ra; r = unicode.SimpleFold(r) {
		if r == rb {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// escapeLike quotes % _ and \ so that x matches itself in a LIKE pattern.
func escapeLike(x string) string {
	if !strings.ContainsAny(x, `%_\`) {
		return x
	}
	var b strings.Builder
	for i := 0; i < len(x); i++ {
		if c := x[i]; c == '%' || c == '_' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(x[i])
	}
	return b.String()
}
