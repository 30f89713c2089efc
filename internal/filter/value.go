package filter

import (
	"strings"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/csvio"
)

// Cell value parsers. They run once per row per condition, so none of them
// allocates.

// numAffinity reads s as a numeric column reads its cells and the text
// constants compared with them, the way SQLite's numeric affinity converts
// text: spaces around the number are ignored and leading zeros are allowed
// (' 030 ' is 30). What a number is otherwise is csvio.ParseNumber's one
// rule, shared with type inference: no NaN, Inf, hex or digit separators,
// nothing beyond float64's range (1e400 is text, never +Inf). Whole numbers
// keep every digit, so comparisons are exact.
func numAffinity(s string) (csvio.Number, bool) {
	return csvio.ParseNumberLenient(trimSpace(s))
}

// numStrict reads a cell of a TEXT column: it is a number exactly when type
// inference counts it as one (no spaces, no leading zeros: 02134 is a code).
func numStrict(s string) (csvio.Number, bool) { return csvio.ParseNumber(s) }

// cmpAffinity compares a cell read by numAffinity with n; ok is false when
// it is not a number. It runs on every row: csvio.CompareText compares the
// usual short whole number without building a Number.
func cmpAffinity(cell string, n csvio.Number) (int, bool) {
	return csvio.CompareText(trimSpace(cell), n, true)
}

// cmpStrict is cmpAffinity for a cell read by numStrict.
func cmpStrict(cell string, n csvio.Number) (int, bool) {
	return csvio.CompareText(cell, n, false)
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
// number token of ParseSQL's lexer.
func isSQLNumber(s string) bool { return floatSyntax(s) }

// trimSpace is strings.TrimSpace with a fast exit for the usual cell that
// starts and ends with a printable ASCII byte.
func trimSpace(s string) string {
	if n := len(s); n > 0 && s[0] > ' ' && s[0] < utf8.RuneSelf && s[n-1] > ' ' && s[n-1] < utf8.RuneSelf {
		return s
	}
	return strings.TrimSpace(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

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
