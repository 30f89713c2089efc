package csvio

import (
	"cmp"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Number is a numeric value read from text without losing anything the
// comparison rules need: a whole number that fits an int64 is that int64, a
// longer whole number keeps its decimal digits, and a number written with
// a fraction or an exponent is a float64 (floats compare as floats). The
// zero value is the integer 0.
//
// A Number read from a string may refer to that string's bytes (the digits
// of a long whole number); it is only valid as long as they are.
type Number struct {
	i      int64   // numInt
	f      float64 // numFloat
	digits string  // numBig: magnitude, no sign, no leading zeros, more than int64 holds
	kind   numKind
	neg    bool // numBig
}

type numKind uint8

const (
	numInt numKind = iota
	numBig
	numFloat
)

// ParseNumber reads s as type inference counts numbers: an optional sign,
// then digits with an optional fraction (".5" and "5." too) and an optional
// exponent, without spaces, and without a leading zero before another digit
// (007 and 01.5 are codes, not numbers). NaN, Inf, hex and digit separators
// are not numbers, and neither is a value beyond float64's range (1e400,
// or a whole number above about 1.8e308): there is one rule for what a
// number is, and the column profile and the filter both use it.
func ParseNumber(s string) (Number, bool) { return parseNumber(s, false) }

// ParseNumberLenient is ParseNumber with leading zeros allowed (007 is 7),
// the way SQLite's numeric affinity and Python's float() read text: for
// the filter's numeric comparisons, whose constants a user typed.
func ParseNumberLenient(s string) (Number, bool) { return parseNumber(s, true) }

// safeIntDigits: up to 18 digits always fit an int64, so only 19-digit
// values need a range check.
const safeIntDigits = 18

func parseNumber(s string, zeros bool) (Number, bool) {
	n := len(s)
	if n == 0 {
		return Number{}, false
	}
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	if zeros {
		// Leading zeros add nothing to the value; keep the last one before
		// a non-digit so that 0.5 and 0 stay what they are.
		for i+1 < n && s[i] == '0' && isDigit(s[i+1]) {
			i++
		}
	}
	intStart := i
	var mant uint64
	// mant only matters for up to 19 digits (whole numbers) or 15 (the
	// float fast path); beyond, it overflows unused.
	for i < n && isDigit(s[i]) {
		mant = mant*10 + uint64(s[i]-'0')
		i++
	}
	intDigits := i - intStart
	if intDigits > 1 && s[intStart] == '0' {
		return Number{}, false // a code such as 007
	}
	if i == n {
		if intDigits == 0 {
			return Number{}, false
		}
		return wholeNumber(s[intStart:], mant, neg)
	}
	// A fraction or an exponent: a float.
	fracDigits := 0
	if s[i] == '.' {
		i++
		j := i
		for i < n && isDigit(s[i]) {
			mant = mant*10 + uint64(s[i]-'0')
			i++
		}
		fracDigits = i - j
	}
	if intDigits+fracDigits == 0 {
		return Number{}, false
	}
	exp := 0
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < n && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		j := i
		for i < n && isDigit(s[i]) {
			if exp < 100000 {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == j {
			return Number{}, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != n {
		return Number{}, false
	}
	// Up to 15 digits and a small power of ten: one correctly rounded IEEE
	// operation on two exact operands, which is what ParseFloat would give,
	// at a fraction of its cost.
	if e10 := exp - fracDigits; intDigits+fracDigits <= 15 && e10 >= -22 && e10 <= 22 {
		f := float64(mant)
		if e10 < 0 {
			f /= pow10[-e10]
		} else {
			f *= pow10[e10]
		}
		if neg {
			f = -f
		}
		return Number{kind: numFloat, f: f}, true
	}
	// The syntax is checked, so ParseFloat (which would also take NaN, hex
	// and underscores, and allocates its errors) only sees numbers.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range: ±Inf would equal every other huge value
		return Number{}, false
	}
	return Number{kind: numFloat, f: f}, true
}

// parseFloat is parseNumber's common float without building a Number: it
// reads a number with a fraction, no exponent and at most 15 digits to the
// same float64, and reports false for anything else (whole numbers,
// exponents, longer numbers, what is not a number), which parseNumber
// then decides.
func parseFloat(s string) (float64, bool) {
	n := len(s)
	if n == 0 {
		return 0, false
	}
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	intStart := i
	var mant uint64
	for i < n && isDigit(s[i]) {
		mant = mant*10 + uint64(s[i]-'0')
		i++
	}
	intDigits := i - intStart
	if i == n || (intDigits > 1 && s[intStart] == '0') {
		return 0, false // a whole number, or a code such as 007
	}
	fracDigits := 0
	if s[i] == '.' {
		i++
		j := i
		for i < n && isDigit(s[i]) {
			mant = mant*10 + uint64(s[i]-'0')
			i++
		}
		fracDigits = i - j
	}
	if i != n || intDigits+fracDigits == 0 || intDigits+fracDigits > 15 {
		return 0, false // an exponent, more digits, or not a number
	}
	// One correctly rounded division of two exact operands, as in
	// parseNumber.
	f := float64(mant) / pow10[fracDigits]
	if neg {
		f = -f
	}
	return f, true
}

// The steady states of the profiler read short numbers from their
// prefixKey: the cell's first 8 bytes as one big-endian word, zero-padded.
// Eight digits are checked and converted in a few word operations, with
// the same result as parseInt and parseFloat; a longer cell goes to them.

// parseIntKey is parseInt of s, whose prefixKey is k.
func parseIntKey(s string, k uint64) (int64, bool) {
	n := uint(len(s))
	if n > 8 || n == 0 {
		return parseInt(s)
	}
	neg := false
	if c := k >> 56; c == '-' || c == '+' {
		neg, k, n = c == '-', k<<8, n-1
		if n == 0 {
			return 0, false
		}
	}
	if n > 1 && k>>56 == '0' {
		return 0, false // a code such as 007
	}
	v, ok := keyDigits(k, n)
	if neg {
		return -int64(v), ok
	}
	return int64(v), ok
}

// parseFloatKey is parseFloat of s, whose prefixKey is k.
func parseFloatKey(s string, k uint64) (float64, bool) {
	n := uint(len(s))
	if n > 8 || n == 0 {
		return parseFloat(s)
	}
	neg := false
	if c := k >> 56; c == '-' || c == '+' {
		neg, k, n = c == '-', k<<8, n-1
	}
	// The first dot: a byte of k^dots is zero there (and only there; the
	// padding is not a dot).
	t := k ^ 0x2E2E2E2E2E2E2E2E
	z := ^((t&0x7F7F7F7F7F7F7F7F + 0x7F7F7F7F7F7F7F7F) | t | 0x7F7F7F7F7F7F7F7F)
	if z == 0 {
		return 0, false // no fraction: parseNumber's
	}
	dot := uint(bits.LeadingZeros64(z)) / 8
	if dot >= n || n == 1 || (dot > 1 && k>>56 == '0') {
		return 0, false // no digits, or a code such as 01.5
	}
	// The digits without the dot: those before it stay, those after it
	// move up by a byte.
	// (Shift counts are masked to tell the compiler they are below 64.)
	digits := k&^(^uint64(0)>>(8*dot&63)) | k<<(8*dot&63)<<8>>(8*dot&63)
	mant, ok := keyDigits(digits, n-1)
	if !ok {
		return 0, false
	}
	f := float64(mant) / pow10[n-1-dot]
	if neg {
		f = -f
	}
	return f, true
}

// keyDigits reads the first n (1 to 8) bytes of the big-endian word k as
// decimal digits, and reports false if one is not a digit.
func keyDigits(k uint64, n uint) (uint64, bool) {
	sh := (64 - 8*n) & 63 // n is 1 to 8
	low := ^uint64(0) >> sh
	x := k>>sh ^ 0x3030303030303030&low // the last digit in the lowest byte
	// A byte above 9 sets its high bit in x+0x76 (or has it set already).
	if ((x+0x7676767676767676&low)|x)&0x8080808080808080&low != 0 {
		return 0, false
	}
	x = x&0x00FF00FF00FF00FF + (x>>8&0x00FF00FF00FF00FF)*10
	x = x&0x0000FFFF0000FFFF + (x>>16&0x0000FFFF0000FFFF)*100
	return x&0xFFFFFFFF + (x>>32)*10000, true
}

// wholeNumber finishes a number of digits only, without leading zeros;
// mant holds its value if it has at most 19 digits.
func wholeNumber(d string, mant uint64, neg bool) (Number, bool) {
	switch {
	case len(d) <= safeIntDigits:
		v := int64(mant)
		if neg {
			v = -v
		}
		return Number{kind: numInt, i: v}, true
	case len(d) == 19 && !neg && mant <= math.MaxInt64:
		return Number{kind: numInt, i: int64(mant)}, true
	case len(d) == 19 && neg && mant <= 1<<63:
		return Number{kind: numInt, i: -int64(mant)}, true
	case len(d) >= 309:
		// Around float64's limit: the same range rule as for floats.
		if _, err := strconv.ParseFloat(d, 64); err != nil {
			return Number{}, false
		}
	}
	return Number{kind: numBig, neg: neg, digits: d}, true
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// IntNumber returns v as a Number.
func IntNumber(v int64) Number { return Number{kind: numInt, i: v} }

// Compare orders a and b by value, exactly: whole numbers digit by digit,
// floats as floats, and a whole number against a float by their exact
// values (SQLite's rule: 9007199254740993 > 9007199254740992.0 although
// the int would round to that float). It returns -1, 0 or +1.
func (a Number) Compare(b Number) int {
	switch {
	case a.kind == numInt && b.kind == numInt:
		return cmp.Compare(a.i, b.i)
	case a.kind == numFloat && b.kind == numFloat:
		return cmp.Compare(a.f, b.f)
	case a.kind == numInt && b.kind == numFloat:
		return cmpIntFloat(a.i, b.f)
	case a.kind == numFloat && b.kind == numInt:
		return -cmpIntFloat(b.i, a.f)
	}
	return cmpBig(a, b)
}

// Equal reports whether a and b have the same value.
func (a Number) Equal(b Number) bool { return a.Compare(b) == 0 }

// two63 is 2^63 as a float64, the first float beyond int64.
const two63 = 9223372036854775808.0

// cmpIntFloat compares an int64 with a float64 exactly (converting the int
// to a float could round it).
func cmpIntFloat(i int64, f float64) int {
	if f >= two63 {
		return -1
	}
	if f < -two63 {
		return 1
	}
	t := int64(f) // exact: f is in int64's range, truncated toward zero
	if c := cmp.Compare(i, t); c != 0 {
		return c
	}
	// i is f's integer part; the fraction decides.
	return cmp.Compare(float64(t), f)
}

// cmpBig compares when at least one side is a whole number beyond int64.
func cmpBig(a, b Number) int {
	if a.kind != numBig {
		return -cmpBig(b, a)
	}
	// a is beyond int64: its sign decides against anything within int64.
	sa := 1
	if a.neg {
		sa = -1
	}
	switch b.kind {
	case numInt:
		return sa
	case numFloat:
		if b.f > -two63 && b.f < two63 {
			return sa
		}
		// Floats this large are whole numbers: compare their exact digits.
		var buf [400]byte
		fb := b.f
		neg := fb < 0
		if neg {
			fb = -fb
		}
		d := strconv.AppendFloat(buf[:0], fb, 'f', 0, 64)
		return cmpDigits(a.neg, a.digits, neg, string(d))
	}
	return cmpDigits(a.neg, a.digits, b.neg, b.digits)
}

// cmpDigits compares two signed magnitudes written as digits without
// leading zeros.
func cmpDigits(aneg bool, a string, bneg bool, b string) int {
	if aneg != bneg {
		if aneg {
			return -1
		}
		return 1
	}
	c := cmp.Compare(len(a), len(b))
	if c == 0 {
		c = strings.Compare(a, b)
	}
	if aneg {
		return -c
	}
	return c
}

// NumberKey is a comparable form of a Number: two Numbers are Equal
// exactly when their keys are ==, so a map of keys is a set of values.
type NumberKey struct {
	i      int64
	f      float64
	digits string
	kind   numKind
	neg    bool
}

// Key returns n's NumberKey. The key of a long whole number may refer to
// the text n was read from, like n itself.
func (n Number) Key() NumberKey {
	switch n.kind {
	case numInt:
		return NumberKey{i: n.i}
	case numBig:
		return NumberKey{kind: numBig, neg: n.neg, digits: n.digits}
	}
	f := n.f
	if f == math.Trunc(f) {
		if f >= -two63 && f < two63 {
			return NumberKey{i: int64(f)} // 2.0 is 2, and -0 is 0
		}
		neg := f < 0
		if neg {
			f = -f
		}
		return NumberKey{kind: numBig, neg: neg, digits: strconv.FormatFloat(f, 'f', 0, 64)}
	}
	return NumberKey{kind: numFloat, f: f}
}

// in returns n read from text, the copy of the cell n was parsed from: a
// long whole number's digits then refer to the copy.
func (n Number) in(text []byte) Number {
	if n.kind == numBig {
		n.digits = bstr(text[len(text)-len(n.digits):])
	}
	return n
}

// CompareText reads s as a number (ParseNumber, or ParseNumberLenient with
// lenient) and compares it with n, like Compare; ok is false when s is not
// a number. It is what a filter runs on every cell, so the common cell, a
// short whole number, takes a path that builds no Number.
func CompareText(s string, n Number, lenient bool) (c int, ok bool) {
	i := 0
	if s != "" && (s[0] == '-' || s[0] == '+') {
		i = 1
	}
	if d := len(s) - i; d > 0 && d <= safeIntDigits && (lenient || s[i] != '0' || d == 1) {
		var v int64
		j := i
		for ; j < len(s); j++ {
			c := s[j] - '0'
			if c > 9 {
				break
			}
			v = v*10 + int64(c)
		}
		if j == len(s) {
			if s[0] == '-' {
				v = -v
			}
			switch n.kind {
			case numInt:
				return cmp.Compare(v, n.i), true
			case numFloat:
				return cmpIntFloat(v, n.f), true
			}
			if n.neg {
				return 1, true // n is below every int64
			}
			return -1, true
		}
	}
	m, ok := parseNumber(s, lenient)
	if !ok {
		return 0, false
	}
	return m.Compare(n), true
}
