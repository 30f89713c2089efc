package filter

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Cell value parsers. They run once per row per condition, so none of them
// allocates: strconv.ParseFloat allocates a *NumError on failure, which is
// why the syntax is checked by hand first and ParseFloat only sees text it
// will accept.

// parseNum parses a decimal number (optional sign, digits with an optional
// fraction, optional exponent) after trimming spaces. NaN, Inf, hex and
// underscores are refused: a CSV cell saying "Infinity" is text, not a
// number. Out-of-range values become ±Inf (or 0) rather than failing.
func parseNum(s string) (float64, bool) {
	s = trimSpace(s)
	n := len(s)
	if n == 0 {
		return 0, false
	}
	// Fast path: short integers, by far the most common numeric cells.
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	if d := n - i; d > 0 && d <= 15 {
		var v int64
		j := i
		for ; j < n; j++ {
			c := s[j] - '0'
			if c > 9 {
				break
			}
			v = v*10 + int64(c)
		}
		if j == n {
			f := float64(v) // exact: 15 digits fit in a float64 mantissa
			if neg {
				f = -f
			}
			return f, true
		}
	}
	if !floatSyntax(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// floatSyntax reports whether s is [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?
func floatSyntax(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// isSQLNumber reports whether s can be written bare in SQL text, i.e. is a
// number token of ParseSQL's lexer: floatSyntax without a '+' sign.
func isSQLNumber(s string) bool {
	return s != "" && s[0] != '+' && floatSyntax(s)
}

// trimSpace is strings.TrimSpace with a fast exit for the usual cell that
// starts and ends with a printable ASCII byte.
func trimSpace(s string) string {
	if n := len(s); n > 0 && s[0] > ' ' && s[0] < utf8.RuneSelf && s[n-1] > ' ' && s[n-1] < utf8.RuneSelf {
		return s
	}
	return strings.TrimSpace(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// tval is an instant: seconds since the Unix epoch and nanoseconds. A plain
// comparable struct, so it can key a map for IN lists.
type tval struct {
	sec  int64
	nsec int32
}

func cmpTime(a, b tval) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nsec < b.nsec:
		return -1
	case a.nsec > b.nsec:
		return 1
	}
	return 0
}

// parseTime accepts, after trimming spaces:
//
//	2006-01-02
//	2006-01-02 15:04:05          (or with T; UTC when no zone is given)
//	2006-01-02T15:04:05.999Z07:00 (RFC 3339; fraction and zone optional)
//
// It is hand-written because time.Parse allocates on every failure, and a
// typed column still meets the odd malformed cell.
func parseTime(s string) (tval, bool) {
	s = trimSpace(s)
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return tval{}, false
	}
	y, ok1 := num2(s[0:2])
	y2, ok2 := num2(s[2:4])
	mo, ok3 := num2(s[5:7])
	d, ok4 := num2(s[8:10])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return tval{}, false
	}
	y = y*100 + y2
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) {
		return tval{}, false
	}
	sec := daysFromCivil(y, mo, d) * 86400
	if len(s) == 10 {
		return tval{sec: sec}, true
	}
	if len(s) < 19 || (s[10] != ' ' && s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return tval{}, false
	}
	hh, ok1 := num2(s[11:13])
	mm, ok2 := num2(s[14:16])
	ss, ok3 := num2(s[17:19])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return tval{}, false
	}
	sec += int64(hh*3600 + mm*60 + ss)
	rest := s[19:]
	var nsec int32
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := int32(100000000)
		for i < len(rest) && isDigit(rest[i]) {
			nsec += int32(rest[i]-'0') * scale // digits past the 9th are dropped
			scale /= 10
			i++
		}
		if i == 1 {
			return tval{}, false
		}
		rest = rest[i:]
	}
	switch {
	case rest == "" || rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		zh, ok1 := num2(rest[1:3])
		zm, ok2 := num2(rest[4:6])
		if !ok1 || !ok2 || zh > 23 || zm > 59 {
			return tval{}, false
		}
		off := int64(zh*3600 + zm*60)
		if rest[0] == '+' {
			off = -off
		}
		sec += off
	default:
		return tval{}, false
	}
	return tval{sec: sec, nsec: nsec}, true
}

func num2(s string) (int, bool) {
	if !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm), for years 0..9999.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseBool accepts true/false/yes/no/t/f/y/n/1/0 in any case, trimmed.
func parseBool(s string) (v, ok bool) {
	s = trimSpace(s)
	if len(s) == 0 || len(s) > 5 {
		return false, false
	}
	var buf [5]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(s)]) { // no allocation: the conversion is only compared
	case "true", "yes", "t", "y", "1":
		return true, true
	case "false", "no", "f", "n", "0":
		return false, true
	}
	return false, false
}
