package filter

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/csvio"
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

// parseTime reads a cell of a KindTime column after trimming spaces, in
// the column's date format only (csvio.ParseTime: the parser type inference
// used to call the column DATETIME, so every cell it accepted compares).
func parseTime(s, format string) (csvio.Instant, bool) {
	return csvio.ParseTime(trimSpace(s), format)
}

// parseTimeConst reads a constant compared with a KindTime column, after
// trimming spaces: ISO (which includes RFC 3339) or the column's own date
// format. The two never read the same text differently: an ISO date starts
// with a four-digit year, the other formats end with one.
func parseTimeConst(s, format string) (csvio.Instant, bool) {
	s = trimSpace(s)
	if t, ok := csvio.ParseTime(s, csvio.DateISO); ok {
		return t, true
	}
	return csvio.ParseTime(s, format)
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
