package csvio

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ColumnType is the SQL-ish type inferred for a column.
type ColumnType string

// Column types, from narrowest to widest where they nest (INTEGER is also
// FLOAT, everything is TEXT).
const (
	TypeInteger  ColumnType = "INTEGER"
	TypeFloat    ColumnType = "FLOAT"
	TypeBoolean  ColumnType = "BOOLEAN"
	TypeDateTime ColumnType = "DATETIME"
	TypeText     ColumnType = "TEXT"
)

// Column describes one column after profiling.
type Column struct {
	Name      string
	Index     int
	Type      ColumnType // narrowest type all non-empty cells fit; see the package doc
	NullCount int64      // empty cells
	// Min and Max are nil when the column has no non-empty cell. They hold
	// original cell text, ordered numerically for INTEGER and FLOAT,
	// chronologically for DATETIME and byte-wise otherwise.
	Min, Max *string
	// DateFormat is the date family every cell of a DATETIME column fits
	// (DateISO, DateUS, DateEU or DateDE), to be read back with ParseTime;
	// "" for other types. A DATETIME column stored without it (profiled
	// before the field existed) is ISO, which ParseTime's "" also means.
	DateFormat string `json:"dateFormat,omitempty"`
}

// Candidate types still possible for a column, as bits.
const (
	candInt uint8 = 1 << iota
	candFloat
	candBool
	candISO
	candMDY
	candDMY
	candDot
	candAll  = candInt | candFloat | candBool | candISO | candMDY | candDMY | candDot
	candDate = candISO | candMDY | candDMY | candDot
)

// Profiler infers column types and statistics from records one at a time.
// The type of a column is only known at the end, so it tracks min and max
// for every type still possible; extremes are copied into reused byte
// buffers, which is why Add does not allocate once they have grown.
type Profiler struct {
	names []string
	cols  []colStats
	rows  int64
}

type colStats struct {
	nulls int64
	seen  bool // a non-empty cell was added
	live  uint8
	// Byte order is tracked for every column because any later cell may
	// turn the column into TEXT. The 8-byte prefix keys settle almost every
	// comparison with one integer compare.
	tminK, tmaxK uint64
	text         span[struct{}]
	ints         span[int64]
	flts         span[float64]
	dates        [len(dateFamilies)]span[Instant]
}

// dateFamilies are the date formats type inference tries, in order of
// preference when several read every cell of a column (only US and
// European slash dates can both do so).
var dateFamilies = [...]struct {
	cand   uint8
	format string
}{
	{candISO, DateISO},
	{candMDY, DateUS},
	{candDMY, DateEU},
	{candDot, DateDE},
}

// span keeps the extremes of one ordering together with their cell text,
// copied into buffers that are reused when a new extreme arrives.
type span[T any] struct {
	min, max   T
	minT, maxT []byte
}

func (s *span[T]) init(v T, cell string) {
	s.setMin(v, cell)
	s.setMax(v, cell)
}

func (s *span[T]) setMin(v T, cell string) {
	s.min = v
	s.minT = append(s.minT[:0], cell...)
}

func (s *span[T]) setMax(v T, cell string) {
	s.max = v
	s.maxT = append(s.maxT[:0], cell...)
}

// prefixKey orders strings by their first 8 bytes: prefixKey(a) <
// prefixKey(b) implies a < b, and only equal keys need a full comparison.
func prefixKey(s string) uint64 {
	if len(s) >= 8 {
		return binary.BigEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
	}
	var k uint64
	for i := 0; i < len(s); i++ {
		k |= uint64(s[i]) << (56 - 8*i)
	}
	return k
}

// NewProfiler returns a Profiler for records of len(header) cells.
func NewProfiler(header []string) *Profiler {
	p := &Profiler{names: append([]string(nil), header...), cols: make([]colStats, len(header))}
	for i := range p.cols {
		p.cols[i].live = candAll
	}
	return p
}

// Add profiles one record. Cells missing from a short record count as empty;
// cells beyond the header are ignored. Add keeps no reference to record.
func (p *Profiler) Add(record []string) {
	p.rows++
	cols := p.cols
	for i := range cols {
		c := &cols[i]
		if i >= len(record) || record[i] == "" {
			c.nulls++
			continue
		}
		c.add(record[i])
	}
}

// Rows returns the number of records added.
func (p *Profiler) Rows() int64 { return p.rows }

func (c *colStats) add(s string) {
	first := !c.seen
	c.seen = true
	k := prefixKey(s)
	if first {
		c.tminK, c.tmaxK = k, k
		c.text.init(struct{}{}, s)
	} else if k < c.tminK || (k == c.tminK && s < string(c.text.minT)) {
		c.tminK = k
		c.text.setMin(struct{}{}, s)
	} else if k > c.tmaxK || (k == c.tmaxK && s > string(c.text.maxT)) {
		c.tmaxK = k
		c.text.setMax(struct{}{}, s)
	}
	live := c.live
	if live == 0 {
		return
	}
	if live&candInt != 0 {
		if v, ok := parseInt(s); ok {
			f := float64(v)
			if first {
				c.ints.init(v, s)
				c.flts.init(f, s)
			} else {
				if v < c.ints.min {
					c.ints.setMin(v, s)
				} else if v > c.ints.max {
					c.ints.setMax(v, s)
				}
				if f < c.flts.min {
					c.flts.setMin(f, s)
				} else if f > c.flts.max {
					c.flts.setMax(f, s)
				}
			}
			c.live = live &^ (candBool | candDate) // a number is neither
			return
		}
		live &^= candInt
	}
	if live&candFloat != 0 {
		if f, ok := parseFloat(s); ok {
			if first {
				c.flts.init(f, s)
			} else if f < c.flts.min {
				c.flts.setMin(f, s)
			} else if f > c.flts.max {
				c.flts.setMax(f, s)
			}
			c.live = live &^ (candBool | candDate)
			return
		}
		live &^= candFloat
	}
	if live&candBool != 0 && !isBool(s) {
		live &^= candBool
	}
	if live&candDate != 0 {
		live = c.addDate(s, live, first)
	}
	c.live = live
}

// addDate feeds s to every date family still possible and returns the
// families that survive.
func (c *colStats) addDate(s string, live uint8, first bool) uint8 {
	for i := range dateFamilies {
		f := &dateFamilies[i]
		if live&f.cand == 0 {
			continue
		}
		if v, ok := ParseTime(s, f.format); ok {
			putInstant(&c.dates[i], v, s, first)
		} else {
			live &^= f.cand
		}
	}
	return live
}

func putInstant(d *span[Instant], v Instant, cell string, first bool) {
	switch {
	case first:
		d.init(v, cell)
	case v.Compare(d.min) < 0:
		d.setMin(v, cell)
	case v.Compare(d.max) > 0:
		d.setMax(v, cell)
	}
}

// MaxStatBytes bounds the text of a column's Min and Max: a longer
// extreme is kept as its first MaxStatBytes bytes (whole characters)
// followed by "…". The extremes are found on whole cells; only what the
// profile keeps of them is cut, so that a single huge cell does not make
// every file listing carry it.
const MaxStatBytes = 256

func statText(b []byte) string {
	if len(b) <= MaxStatBytes {
		return string(b)
	}
	cut := MaxStatBytes
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "…"
}

// Columns returns the profile of every column so far.
func (p *Profiler) Columns() []Column {
	out := make([]Column, len(p.cols))
	for i := range p.cols {
		c := &p.cols[i]
		col := Column{Name: p.names[i], Index: i, Type: TypeText, NullCount: c.nulls}
		if c.seen {
			lo, hi := c.text.minT, c.text.maxT
			switch live := c.live; {
			case live&candInt != 0:
				col.Type, lo, hi = TypeInteger, c.ints.minT, c.ints.maxT
			case live&candFloat != 0:
				col.Type, lo, hi = TypeFloat, c.flts.minT, c.flts.maxT
			case live&candBool != 0:
				col.Type = TypeBoolean
			case live&candDate != 0:
				for i, f := range dateFamilies {
					if live&f.cand != 0 {
						col.Type, col.DateFormat = TypeDateTime, f.format
						lo, hi = c.dates[i].minT, c.dates[i].maxT
						break
					}
				}
			}
			lmin, lmax := statText(lo), statText(hi)
			col.Min, col.Max = &lmin, &lmax
		}
		out[i] = col
	}
	return out
}

// parseInt accepts [+-]digits that fit in an int64, without leading zeros.
func parseInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	n := len(s) - i
	if n == 0 || n > 19 || (s[i] == '0' && n > 1) {
		return 0, false
	}
	var u uint64
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		u = u*10 + uint64(d)
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// parseFloat accepts [+-](d+[.d*]|.d+)([eE][+-]d+)? without a leading zero
// before other digits. The syntax is checked here because ParseFloat
// allocates its error and accepts NaN, Inf, hex and underscores; values with
// at most 15 digits and a small exponent are converted here too, exactly
// (one correctly rounded IEEE operation on two exact operands), because
// ParseFloat's general path costs more than all the rest of profiling a cell.
func parseFloat(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	i, neg := 0, false
	if s[0] == '+' || s[0] == '-' {
		neg, i = s[0] == '-', 1
	}
	var mant uint64
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		mant = mant*10 + uint64(s[i]-'0')
		i++
	}
	intDigits := i - intStart
	if intDigits > 1 && s[intStart] == '0' {
		return 0, false
	}
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && isDigit(s[i]) {
			mant = mant*10 + uint64(s[i]-'0')
			i++
		}
		fracDigits = i - j
	}
	if intDigits+fracDigits == 0 {
		return 0, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		j := i
		for i < len(s) && isDigit(s[i]) {
			if exp < 100000 {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == j {
			return 0, false
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return 0, false
	}
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
		return f, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of range: ±Inf would poison min and max
		return 0, false
	}
	return f, true
}

var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// isBool accepts true false yes no t f y n in any case.
func isBool(s string) bool {
	switch len(s) {
	case 1:
		switch s[0] | 0x20 {
		case 't', 'f', 'y', 'n':
			return true
		}
	case 2:
		return s[0]|0x20 == 'n' && s[1]|0x20 == 'o'
	case 3:
		return s[0]|0x20 == 'y' && s[1]|0x20 == 'e' && s[2]|0x20 == 's'
	case 4:
		return s[0]|0x20 == 't' && s[1]|0x20 == 'r' && s[2]|0x20 == 'u' && s[3]|0x20 == 'e'
	case 5:
		return s[0]|0x20 == 'f' && s[1]|0x20 == 'a' && s[2]|0x20 == 'l' && s[3]|0x20 == 's' && s[4]|0x20 == 'e'
	}
	return false
}
