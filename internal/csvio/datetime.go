package csvio

// Date and time recognition for type inference. time.Parse is not used: it
// allocates for failures and for numeric zones, and Profiler.Add must not
// allocate per cell. Instants are compared as seconds plus nanoseconds so
// that years 0000-9999 need no overflow care.

type instant struct {
	sec  int64
	nsec int32
}

func (a instant) before(b instant) bool {
	return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec)
}

// Date families: a column is DATETIME only if one family reads all its cells.
const (
	dtISO    = iota // 2006-01-02, 2006/01/02 [time] [zone]
	dtMDY           // 01/02/2006 [time]
	dtDMY           // 02/01/2006 [time]
	dtDMYDot        // 02.01.2006 [time]
	numDT
)

// parseISO reads YYYY-MM-DD or YYYY/MM/DD, then an optional time after a
// space or T.
func parseISO(s string) (instant, bool) {
	if len(s) < 10 {
		return instant{}, false
	}
	sep := s[4]
	if (sep != '-' && sep != '/') || s[7] != sep {
		return instant{}, false
	}
	y, ok1 := fixedDigits(s[0:4])
	m, ok2 := fixedDigits(s[5:7])
	d, ok3 := fixedDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return instant{}, false
	}
	return withTime(y, m, d, s[10:], true)
}

// parseSlash reads A<sep>B<sep>YYYY with one- or two-digit A and B and
// returns the rest of s for the time of day.
func parseSlash(s string, sep byte) (a, b, y int, rest string, ok bool) {
	a, s, ok = shortNum(s)
	if !ok || len(s) == 0 || s[0] != sep {
		return
	}
	b, s, ok = shortNum(s[1:])
	if !ok || len(s) < 5 || s[0] != sep {
		ok = false
		return
	}
	y, ok = fixedDigits(s[1:5])
	return a, b, y, s[5:], ok
}

// shortNum reads one or two leading digits.
func shortNum(s string) (int, string, bool) {
	if len(s) == 0 || !isDigit(s[0]) {
		return 0, s, false
	}
	v := int(s[0] - '0')
	if len(s) > 1 && isDigit(s[1]) {
		return v*10 + int(s[1]-'0'), s[2:], true
	}
	return v, s[1:], true
}

func isDigit(c byte) bool { return c-'0' <= 9 }

func fixedDigits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

func validDate(y, m, d int) bool {
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

func daysIn(y, m int) int {
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

// Days from 1970-01-01 to January 1st of the years a table covers: the
// general formula's divisions showed up in profiles of date columns.
const tableFirstYear, tableYears = 1900, 256

var yearStart = func() (t [tableYears]int64) {
	for i := range t {
		t[i] = civilDays(tableFirstYear+i, 1, 1)
	}
	return t
}()

var daysBeforeMonth = [13]int64{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

// daysFromCivil counts days from 1970-01-01 in the proleptic Gregorian
// calendar; m and d must be valid.
func daysFromCivil(y, m, d int) int64 {
	if i := y - tableFirstYear; uint(i) < tableYears {
		days := yearStart[i] + daysBeforeMonth[m] + int64(d-1)
		if m > 2 && y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			days++
		}
		return days
	}
	return civilDays(y, m, d)
}

// civilDays is Howard Hinnant's days_from_civil, valid for any year.
func civilDays(y, m, d int) int64 {
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

// withTime parses an optional time of day:
// (' ' | 'T' if iso) h[h]:mm[:ss[.fff]] [[' '](AM|PM)] and, if iso, an
// optional zone Z, ±hh, ±hhmm, ±hh:mm, directly or after a space.
func withTime(y, m, d int, s string, iso bool) (instant, bool) {
	sec := daysFromCivil(y, m, d) * 86400
	if s == "" {
		return instant{sec: sec}, true
	}
	if !(s[0] == ' ' || (iso && (s[0] == 'T' || s[0] == 't'))) {
		return instant{}, false
	}
	h, s, ok := shortNum(s[1:])
	if !ok || len(s) < 3 || s[0] != ':' {
		return instant{}, false
	}
	mi, ok := fixedDigits(s[1:3])
	if !ok || mi > 59 {
		return instant{}, false
	}
	s = s[3:]
	se, ns := 0, 0
	if len(s) >= 3 && s[0] == ':' {
		if se, ok = fixedDigits(s[1:3]); !ok || se > 59 {
			return instant{}, false
		}
		s = s[3:]
		if len(s) >= 2 && (s[0] == '.' || s[0] == ',') && isDigit(s[1]) {
			i, scale := 1, 100000000
			for ; i < len(s) && isDigit(s[i]); i++ {
				ns += int(s[i]-'0') * scale
				scale /= 10
			}
			s = s[i:]
		}
	}
	t := s
	if len(t) > 0 && t[0] == ' ' {
		t = t[1:]
	}
	if len(t) >= 2 && (t[1] == 'M' || t[1] == 'm') {
		if h < 1 || h > 12 {
			return instant{}, false
		}
		switch t[0] {
		case 'A', 'a':
			if h == 12 {
				h = 0
			}
		case 'P', 'p':
			if h != 12 {
				h += 12
			}
		default:
			return instant{}, false
		}
		s = t[2:]
	}
	if h > 23 {
		return instant{}, false
	}
	sec += int64(h*3600 + mi*60 + se)
	if len(s) > 0 && s[0] == ' ' && len(s) > 1 {
		s = s[1:]
	}
	if s != "" {
		if !iso {
			return instant{}, false
		}
		off, ok := parseZone(s)
		if !ok {
			return instant{}, false
		}
		sec -= int64(off)
	}
	return instant{sec: sec, nsec: int32(ns)}, true
}

// parseZone reads Z, ±hh, ±hhmm or ±hh:mm and returns the offset in seconds.
func parseZone(s string) (int, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	h, ok := fixedDigits(s[1:3])
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	switch rest := s[3:]; len(rest) {
	case 0:
	case 2:
		m, ok = fixedDigits(rest)
	case 3:
		if rest[0] != ':' {
			return 0, false
		}
		m, ok = fixedDigits(rest[1:])
	default:
		return 0, false
	}
	if !ok || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}
