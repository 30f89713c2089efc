package csvio

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	type res int
	const (
		no res = iota
		integer
		long
		float
	)
	tests := []struct {
		in      string
		strict  res
		lenient res
	}{
		{"0", integer, integer},
		{"-0", integer, integer},
		{"+42", integer, integer},
		{"9223372036854775807", integer, integer},
		{"-9223372036854775808", integer, integer},
		{"9223372036854775808", long, long},
		{"-9223372036854775809", long, long},
		{"123456789012345678901234567890", long, long},
		{"007", no, integer},
		{"-007", no, integer},
		{"00", no, integer},
		{"0009223372036854775808", no, long},
		{"01.5", no, float},
		{"0.5", float, float},
		{".5", float, float},
		{"5.", float, float},
		{"-1.5e-3", float, float},
		{"1E10", float, float},
		{"1e400", no, no},
		{"-1e400", no, no},
		{"1e-400", float, float}, // underflows to 0, as floats do
		{strings.Repeat("9", 308), long, long},
		{strings.Repeat("9", 309), no, no}, // beyond float64's range, like 1e400
		{"1.7976931348623157e308", float, float},
		{"", no, no},
		{"-", no, no},
		{".", no, no},
		{"1e", no, no},
		{"1e+", no, no},
		{" 1", no, no},
		{"1 ", no, no},
		{"NaN", no, no},
		{"Inf", no, no},
		{"0x10", no, no},
		{"1_000", no, no},
		{"1,5", no, no},
		{"--1", no, no},
	}
	kind := func(n Number, ok bool) res {
		if !ok {
			return no
		}
		switch n.kind {
		case numInt:
			return integer
		case numBig:
			return long
		}
		return float
	}
	for _, tt := range tests {
		if got := kind(ParseNumber(tt.in)); got != tt.strict {
			t.Errorf("ParseNumber(%q) = %d, want %d", tt.in, got, tt.strict)
		}
		if got := kind(ParseNumberLenient(tt.in)); got != tt.lenient {
			t.Errorf("ParseNumberLenient(%q) = %d, want %d", tt.in, got, tt.lenient)
		}
	}
	if n, _ := ParseNumberLenient("-0042"); n.kind != numInt || n.i != -42 {
		t.Errorf("-0042 = %+v", n)
	}
	if n, _ := ParseNumberLenient("0009223372036854775808"); n.digits != "9223372036854775808" {
		t.Errorf("long number digits %q", n.digits)
	}
}

// The float fast path must give exactly what strconv.ParseFloat gives.
func TestParseNumberFloatsMatchStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		if n > 1 && b[0] == '0' {
			b[0] = '1'
		}
		return string(b)
	}
	for range 200000 {
		s := ""
		if rng.IntN(3) == 0 {
			s = "-"
		}
		s += digits(rng.IntN(12))
		s += "." + digits(rng.IntN(12))
		if rng.IntN(4) == 0 {
			s += "e" + strconv.Itoa(rng.IntN(60)-30)
		}
		got, ok := ParseNumber(s)
		want, err := strconv.ParseFloat(s, 64)
		if !ok {
			if err == nil && strings.Trim(s, "-.") != "" && !strings.HasPrefix(strings.TrimPrefix(s, "-"), "0") {
				t.Fatalf("ParseNumber(%q) refused, strconv says %v", s, want)
			}
			continue
		}
		if err != nil || got.kind != numFloat || math.Float64bits(got.f) != math.Float64bits(want) {
			t.Fatalf("ParseNumber(%q) = %+v, strconv = %v, %v", s, got, want, err)
		}
	}
}

// exact is the value of a Number as a rational, the reference for Compare.
func exact(t *testing.T, n Number) *big.Rat {
	t.Helper()
	r := new(big.Rat)
	switch n.kind {
	case numInt:
		r.SetInt64(n.i)
	case numBig:
		if _, ok := r.SetString(n.digits); !ok {
			t.Fatalf("digits %q", n.digits)
		}
		if n.neg {
			r.Neg(r)
		}
	default:
		r.SetFloat64(n.f)
	}
	return r
}

// Compare must agree with exact arithmetic on every pair, and Key with
// Compare's equality, across the places where float64 loses digits.
func TestNumberCompareIsExact(t *testing.T) {
	texts := []string{
		"0", "-0", "1", "-1", "0.5", "-0.5", "1.0", "2.0", "1e0",
		"9007199254740992", "9007199254740993", "9007199254740992.0", "9007199254740993.0", "9007199254740994",
		"1234567890123456789", "1234567890123456700", "1234567890123456750", "1234567890123456768",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "9223372036854775808.0",
		"9.223372036854775807e18", "-9223372036854775809", "-9.223372036854775808e18", "-9.3e18",
		"18446744073709551616", "1.8446744073709551616e19", "18446744073709551617",
		"123456789012345678901234567890", "1.2345678901234568e29", "123456789012345677877719597056",
		"-123456789012345678901234567890", "1e300", "1" + strings.Repeat("0", 300), "1e-300",
		"0.1", "0.10000000000000001", "0.30000000000000004",
	}
	var nums []Number
	for _, s := range texts {
		n, ok := ParseNumber(s)
		if !ok {
			t.Fatalf("%q is not a number", s)
		}
		nums = append(nums, n)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 3000 {
		var s string
		switch rng.IntN(4) {
		case 0:
			s = strconv.FormatInt(int64(rng.Uint64()), 10)
		case 1:
			s = strconv.FormatInt(1<<53+rng.Int64N(1000)-500, 10)
		case 2:
			s = strconv.FormatFloat(float64(int64(rng.Uint64()))+rng.Float64(), 'g', -1, 64)
		default:
			s = strconv.FormatUint(rng.Uint64(), 10) + strconv.Itoa(rng.IntN(1000))
		}
		n, ok := ParseNumber(s)
		if !ok {
			t.Fatalf("%q is not a number", s)
		}
		nums = append(nums, n)
	}
	for i, a := range nums {
		ra := exact(t, a)
		for j := 0; j < len(nums); j += 1 + rng.IntN(7) {
			b := nums[j]
			want := ra.Cmp(exact(t, b))
			if got := a.Compare(b); got != want {
				t.Fatalf("%d: Compare(%+v, %+v) = %d, want %d", i, a, b, got, want)
			}
			if (a.Key() == b.Key()) != (want == 0) {
				t.Fatalf("Key(%+v) == Key(%+v) is %v, Compare says %d", a, b, a.Key() == b.Key(), want)
			}
		}
	}
}

func TestParseNumberAllocs(t *testing.T) {
	cells := []string{"12345", "-9.75", "123456789012345678901234567890", "1.2345678901234567e200", "x"}
	if a := testing.AllocsPerRun(1000, func() {
		for _, c := range cells {
			n, _ := ParseNumber(c)
			_ = n.Compare(IntNumber(3))
		}
	}); a != 0 {
		t.Fatalf("%.1f allocations", a)
	}
}

// The profiler's int64 fast path takes exactly what ParseNumber reads as
// an int64.
func TestParseIntAgreesWithParseNumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		var b []byte
		if rng.IntN(3) == 0 {
			b = append(b, "+-"[rng.IntN(2)])
		}
		for k := rng.IntN(22); k > 0; k-- {
			b = append(b, "0123456789x."[rng.IntN(12)])
		}
		s := string(b)
		v, ok := parseInt(s)
		n, nok := ParseNumber(s)
		if ok != (nok && n.kind == numInt) || (ok && v != n.i) {
			t.Fatalf("%q: parseInt %d %v, ParseNumber %+v %v", s, v, ok, n, nok)
		}
	}
	for _, s := range []string{"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809"} {
		v, ok := parseInt(s)
		n, nok := ParseNumber(s)
		if ok != (nok && n.kind == numInt) || (ok && v != n.i) {
			t.Fatalf("%q: parseInt %d %v, ParseNumber %+v %v", s, v, ok, n, nok)
		}
	}
}

// CompareText's shortcut must agree with parsing then comparing.
func TestCompareText(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	consts := []string{"0", "30", "-30", "9007199254740993", "2.5", "-0.5", "1e300", "123456789012345678901234567890", "-123456789012345678901234567890"}
	for range 50000 {
		var b []byte
		if rng.IntN(3) == 0 {
			b = append(b, "+-"[rng.IntN(2)])
		}
		for k := rng.IntN(21); k > 0; k-- {
			b = append(b, "0123456789."[rng.IntN(11)])
		}
		s := string(b)
		for _, lenient := range []bool{false, true} {
			for _, cs := range consts {
				n, _ := ParseNumber(cs)
				c, ok := CompareText(s, n, lenient)
				m, mok := parseNumber(s, lenient)
				if ok != mok || (ok && c != m.Compare(n)) {
					t.Fatalf("CompareText(%q, %s, %v) = %d, %v; parse says %v %d", s, cs, lenient, c, ok, mok, m.Compare(n))
				}
			}
		}
	}
}

// numberLike returns a short string of digits, signs, dots, exponents and
// now and then another byte: what the profiler's word parsers must read
// exactly as parseInt and parseFloat do.
func numberLike(rng *rand.Rand) string {
	const alphabet = "0123456789012345678901234567890123456789+-..eE x\x00\xff"
	b := make([]byte, rng.IntN(11))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// TestKeyParsersAgree: parseIntKey and parseFloatKey, which read a cell's
// first 8 bytes as one word, give what parseInt and parseFloat give, and
// parseFloat's floats are parseNumber's.
func TestKeyParsersAgree(t *testing.T) {
	cases := []string{"", "0", "-0", "+0", "7", "+", "-", ".", "-.", "5.", ".5", "-.5", "+5.",
		"007", "00", "0.5", "01.5", "-01.5", "12345678", "-1234567", "123456789", "99999999",
		"-99999999", "9999999.", ".9999999", "1.2.3", "1e5", "1.5e3", "1.5E", "429.79",
		"60476.54", "-60476.5", "0.000001", "1234567.8", "12.34567890", "１２", "1 2", "1_0"}
	rng := rand.New(rand.NewPCG(7, 11))
	for range 200000 {
		cases = append(cases, numberLike(rng))
	}
	for _, s := range cases {
		k := prefixKey(s)
		wi, wok := parseInt(s)
		if gi, gok := parseIntKey(s, k); gi != wi || gok != wok {
			t.Fatalf("parseIntKey(%q) = %d, %v; parseInt %d, %v", s, gi, gok, wi, wok)
		}
		wf, wok := parseFloat(s)
		if gf, gok := parseFloatKey(s, k); math.Float64bits(gf) != math.Float64bits(wf) || gok != wok {
			t.Fatalf("parseFloatKey(%q) = %v, %v; parseFloat %v, %v", s, gf, gok, wf, wok)
		}
		if wok {
			if n, ok := ParseNumber(s); !ok || n.kind != numFloat || math.Float64bits(n.f) != math.Float64bits(wf) {
				t.Fatalf("parseFloat(%q) = %v; ParseNumber %+v, %v", s, wf, n, ok)
			}
		}
	}
}
