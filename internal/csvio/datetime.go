package csvio

// Date and time parsing, shared by type inference and by the filter
// package (which compares the cells of DATETIME columns). time.Parse is not
// used: it allocates for failures and for numeric zones, and neither
// Profiler.Add nor a filter predicate may allocate per cell. Instants are
// compared as seconds plus nanoseconds so that years 0000-9999 need no
// overflow care.

// Date formats: the date family of a DATETIME column, recorded in
// Column.DateFormat and understood by ParseTime.
const (
	// DateISO is 2006-01-02 or 2006/01/02, optionally followed by a space or
	// T and a time of day, then optionally a zone (RFC 3339 is a special
	// case). The empty format means DateISO too: files profiled before
	// DateFormat existed only had ISO dates compared as times.
	DateISO = "iso"
	// DateUS is 01/02/2006 (month first) with an optional time of day.
	DateUS = "us"
	// DateEU is 02/01/2006 (day first) with an optional time of day.
	DateEU = "eu"
	// DateDE is 02.01.2006 (day first) with an optional time of day.
	DateDE = "de"
)

// Instant is a point in time: seconds since 1970-01-01T00:00:00Z and
// nanoseconds within the second (0 to 999999999). It is comparable with ==
// and can key a map; zone-less times are read as UTC.
type Instant struct {
	Sec  int64
	Nsec int32
}

// Compare returns -1, 0 or +1 as a is before, equal to or after b.
func (a Instant) Compare(b Instant) int {
	switch {
	case a.Sec < b.Sec:
		return -1
	case a.Sec > b.Sec:
		return 1
	case a.Nsec < b.Nsec:
		return -1
	case a.Nsec > b.Nsec:
		return 1
	}
	return 0
}

// ParseTime reads s, exactly as written (no trimming), in one date format
// (DateISO, DateUS, DateEU, DateDE; "" means DateISO) and reports whether
// it is a valid date or date-time of that format. The grammar is the one
// type inference uses (see the package doc): ISO dates take an optional
// time after a space or T and an optional zone Z, ±07, ±0700 or ±07:00;
// the other formats take one- or two-digit day and month and an optional
// time after a space, without a zone; a time is h[h]:mm[:ss[.fraction]],
// optionally followed by AM or PM (with or without a space). An unknown
// format reads nothing. ParseTime does not allocate.
func ParseTime(s, format string) (t Instant, ok bool) {
	switch format {
	case DateISO, "":
		return parseISO(s)
	case DateUS:
		return parseSlashDate(s, '/', false)
	case DateEU:
		return parseSlashDate(s, '/', true)
	case DateDE:
		return parseSlashDate(s, '.', true)
	}
	return Instant{}, false
}

// parseISO reads YYYY-MM-DD or YYYY/MM/DD, then an optional time after a
// space or T.
func parseISO(s string) (Instant, bool) {
	if len(s) < 10 {
		return Instant{}, false
	}
	sep := s[4]
	if (sep != '-' && sep != '/') || s[7] != sep {
		return Instant{}, false
	}
	y, ok1 := fourDigits(s[0:4])
	m, ok2 := twoDigits(s[5:7])
	d, ok3 := twoDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || !validDate(y, m, d) {
		return Instant{}, false
	}
	return withTime(y, m, d, s[10:], true)
}

// parseSlashDate reads A<sep>B<sep>YYYY with one- or two-digit A and B
// (month then day, or day then month if dayFirst) and an optional time of
// day without a zone.
func parseSlashDate(s string, sep byte, dayFirst bool) (Instant, bool) {
	a, s, ok := shortNum(s)
	if !ok || len(s) == 0 || s[0] != sep {
		return Instant{}, false
	}
	b, s, ok := shortNum(s[1:])
	if !ok || len(s) < 5 || s[0] != sep {
		return Instant{}, false
	}
	y, ok := fourDigits(s[1:5])
	m, d := a, b
	if dayFirst {
		m, d = b, a
	}
	if !ok || !validDate(y, m, d) {
		return Instant{}, false
	}
	return withTime(y, m, d, s[5:], false)
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

// twoDigits and fourDigits read a number of exactly that many digits at
// the start of s, which must be long enough; unrolled because they run for
// every date cell profiled or filtered.
func twoDigits(s string) (int, bool) {
	a, b := s[0]-'0', s[1]-'0'
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func fourDigits(s string) (int, bool) {
	a, b, c, d := s[0]-'0', s[1]-'0', s[2]-'0', s[3]-'0'
	return int(a)*1000 + int(b)*100 + int(c)*10 + int(d), a <= 9 && b <= 9 && c <= 9 && d <= 9
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
func withTime(y, m, d int, s string, iso bool) (Instant, bool) {
	sec := daysFromCivil(y, m, d) * 86400
	if s == "" {
		return Instant{Sec: sec}, true
	}
	if !(s[0] == ' ' || (iso && (s[0] == 'T' || s[0] == 't'))) {
		return Instant{}, false
	}
	h, s, ok := shortNum(s[1:])
	if !ok || len(s) < 3 || s[0] != ':' {
		return Instant{}, false
	}
	mi, ok := twoDigits(s[1:3])
	if !ok || mi > 59 {
		return Instant{}, false
	}
	s = s[3:]
	se, ns := 0, 0
	if len(s) >= 3 && s[0] == ':' {
		if se, ok = twoDigits(s[1:3]); !ok || se > 59 {
			return Instant{}, false
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
			return Instant{}, false
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
			return Instant{}, false
		}
		s = t[2:]
	}
	if h > 23 {
		return Instant{}, false
	}
	sec += int64(h*3600 + mi*60 + se)
	if len(s) > 0 && s[0] == ' ' && len(s) > 1 {
		s = s[1:]
	}
	if s != "" {
		if !iso {
			return Instant{}, false
		}
		off, ok := parseZone(s)
		if !ok {
			return Instant{}, false
		}
		sec -= int64(off)
	}
	return Instant{Sec: sec, Nsec: int32(ns)}, true
}

// parseZone reads Z, ±hh, ±hhmm or ±hh:mm and returns the offset in seconds.
func parseZone(s string) (int, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) < 3 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	h, ok := twoDigits(s[1:3])
	if !ok || h > 23 {
		return 0, false
	}
	m := 0
	switch rest := s[3:]; len(rest) {
	case 0:
	case 2:
		m, ok = twoDigits(rest)
	case 3:
		if rest[0] != ':' {
			return 0, false
		}
		m, ok = twoDigits(rest[1:])
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
