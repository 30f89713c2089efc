package csvio

import (
	"encoding/binary"
	"math"
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
	// grow adds a column for every cell beyond the last one (Analyze:
	// rows longer than the header keep their cells).
	grow bool
	// eightBit: the cells are raw bytes whose encoding is only decided
	// after the last one (UTF-8, windows-1252 or Mac Roman), so text
	// extremes are kept in the byte order of each candidate. maybeHigh
	// says a byte above 0x7F may be in the cells; until then every cell is
	// ASCII and the orders agree.
	eightBit, maybeHigh bool
	// altOrders is how many of altOrders are still possible: Mac Roman
	// is out once a line ended with LF (see Analyze).
	altOrders int
	starts    []int32 // addBatch's, reused
}

// altOrders are the single-byte encodings an 8-bit profile keeps text
// extremes for, besides UTF-8's byte order.
var altOrders = [...]*byteTable{&windows1252, &macintosh}

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
	// nums orders every number exactly once a cell that is not an int64
	// arrived (numsOn); while all are int64s, ints is enough.
	nums   span[Number]
	numsOn bool
	dates  [len(dateFamilies)]span[Instant]
	// alt holds the text extremes in the order of each of altOrders, once
	// a cell of the column was not ASCII (before that they are text's).
	alt *altSpans
}

type altSpans struct {
	spans [len(altOrders)]span[struct{}]
	seen  bool
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

// copyFrom makes s a copy of o, in s's own buffers.
func (s *span[T]) copyFrom(o *span[T]) {
	s.min, s.max = o.min, o.max
	s.minT = append(s.minT[:0], o.minT...)
	s.maxT = append(s.maxT[:0], o.maxT...)
}

// prefixKey orders strings by their first 8 bytes: prefixKey(a) <
// prefixKey(b) implies a < b, and only equal keys need a full comparison.
// A shorter string is padded with zeros.
func prefixKey(s string) uint64 {
	n := len(s)
	switch {
	case n >= 8:
		return binary.BigEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
	case n >= 4:
		// Two overlapping 4-byte loads; the bytes they share are equal.
		hi := uint64(binary.BigEndian.Uint32(unsafe.Slice(unsafe.StringData(s), 4)))
		lo := uint64(binary.BigEndian.Uint32(unsafe.Slice(unsafe.StringData(s[n-4:]), 4)))
		return hi<<32 | lo<<(8*(8-n))
	case n > 0:
		// The first, middle and last byte are all of them.
		return uint64(s[0])<<56 | uint64(s[n/2])<<(56-8*(n/2)) | uint64(s[n-1])<<(56-8*(n-1))
	}
	return 0
}

// NewProfiler returns a Profiler for records of len(header) cells.
func NewProfiler(header []string) *Profiler {
	p := &Profiler{names: append([]string(nil), header...), cols: make([]colStats, len(header)), altOrders: len(altOrders)}
	for i := range p.cols {
		p.cols[i].live = candAll
	}
	return p
}

// reset makes p a new Profiler for records of its header (see
// NewProfiler), with the same settings, keeping its buffers.
func (p *Profiler) reset(header []string) {
	p.rows = 0
	p.names = append(p.names[:0], header...)
	for len(p.cols) < len(header) {
		p.cols = append(p.cols, colStats{})
	}
	p.cols = p.cols[:len(header)]
	for i := range p.cols {
		p.cols[i].reset()
	}
}

// reset makes c the state of a column without cells, keeping its buffers.
func (c *colStats) reset() {
	old := *c
	*c = colStats{live: candAll}
	c.text.minT, c.text.maxT = old.text.minT[:0], old.text.maxT[:0]
	c.ints.minT, c.ints.maxT = old.ints.minT[:0], old.ints.maxT[:0]
	c.nums.minT, c.nums.maxT = old.nums.minT[:0], old.nums.maxT[:0]
	for i := range c.dates {
		c.dates[i].minT, c.dates[i].maxT = old.dates[i].minT[:0], old.dates[i].maxT[:0]
	}
}

// Add profiles one record. Cells missing from a short record count as empty;
// cells beyond the header are ignored. Add keeps no reference to record.
func (p *Profiler) Add(record []string) {
	p.rows++
	if p.grow && len(record) > len(p.cols) {
		p.widen(len(record))
	}
	cols := p.cols
	alts := 0
	if p.eightBit && p.maybeHigh {
		alts = p.altOrders
	}
	for i := range cols {
		c := &cols[i]
		if i >= len(record) || record[i] == "" {
			c.nulls++
			continue
		}
		c.add(record[i], alts)
	}
}

// widen adds columns up to n, empty in every record before this one.
func (p *Profiler) widen(n int) { p.widenFrom(n, p.rows-1) }

// widenFrom adds columns up to n, with nulls empty cells already counted.
func (p *Profiler) widenFrom(n int, nulls int64) {
	for len(p.cols) < n {
		p.cols = append(p.cols, colStats{live: candAll, nulls: nulls})
		p.names = append(p.names, "")
	}
}

// addBatch profiles a batch of records (lens[r] cells for record r), with
// the same result as Add on each record in turn. It goes column by column:
// the columns of a profile are independent and each sees its cells in the
// same order, but one column's state stays in registers and the branches a
// column takes (its type) are the same cell after cell, which halves the
// cost of a record of mixed types. The column's steady state gets a loop
// of its own (addColumn).
func (p *Profiler) addBatch(b *batch) {
	lens := b.lens
	before := p.rows
	starts := p.starts[:0]
	at := int32(0)
	for _, n := range lens {
		starts = append(starts, at)
		at += n
		if p.grow && int(n) > len(p.cols) {
			// Records of this batch before this one are shorter: the
			// column loop counts their cells as empty.
			p.widenFrom(int(n), before)
		}
	}
	p.starts = starts
	p.rows += int64(len(lens))
	alts := 0
	if p.eightBit && p.maybeHigh {
		alts = p.altOrders
	}
	// Blocks of records small enough that their cells stay in the cache
	// from one column to the next; each column's cells of a block are
	// gathered first, with a stride when the records are equally long.
	var col [profileBlock]cellRef
	for lo := 0; lo < len(starts); lo += profileBlock {
		hi := min(lo+profileBlock, len(starts))
		bs, bl := starts[lo:hi], lens[lo:hi]
		width, even := bl[0], true
		for _, n := range bl {
			even = even && n == width
		}
		for i := range p.cols {
			cells := col[:len(bs)]
			switch {
			case even && int32(i) >= width:
				p.cols[i].nulls += int64(len(bs))
				continue
			case even:
				k := int(bs[0]) + i
				for r := range cells {
					cells[r] = b.refs[k]
					k += int(width)
				}
			default:
				for r := range cells {
					cells[r] = cellRef{}
					if bl[r] > int32(i) {
						cells[r] = b.refs[int(bs[r])+i]
					}
				}
			}
			p.cols[i].addColumn(b, cells, alts)
		}
	}
}

// profileBlock is how many records addBatch profiles column by column at
// a time.
const profileBlock = 128

// addColumn adds the cells of one column of a block of records (see
// addBatch). While the column is in a steady state (INTEGER, FLOAT,
// BOOLEAN, ISO dates or TEXT so far), a loop of that state's own takes its
// cells; the first cell it cannot take, and every cell outside a steady
// state, goes through add, which decides the state anew.
func (c *colStats) addColumn(b *batch, cells []cellRef, alts int) {
	for r := 0; r < len(cells); r++ {
		if c.seen {
			switch live := c.live; {
			case live == candInt|candFloat:
				r = c.intRun(b, cells, r)
			case live == candFloat && c.numsOn && c.nums.min.kind == numFloat && c.nums.max.kind == numFloat:
				r = c.floatRun(b, cells, r)
			case live == candBool:
				r = c.boolRun(b, cells, r)
			case live == candISO:
				r = c.dateRun(b, cells, r)
			case live == 0 && c.alt == nil:
				r = c.textRun(b, cells, r, alts)
			}
			if r == len(cells) {
				return
			}
		}
		if ref := cells[r]; ref.n == 0 {
			c.nulls++
		} else {
			c.add(b.cell(ref), alts)
		}
	}
}

// The loops of addColumn's steady states start at cell r and return the
// index of the first cell they do not take, or len(cells). Empty cells
// count as nulls in all of them. Each keeps the byte-order extremes too
// (addText), since a later cell may still make the column TEXT; the key
// settles most cells without a call.

// intRun takes the cells of an INTEGER column that are int64s. A typed
// cell is ASCII and a column with other orders (alt) is TEXT, so only byte
// order is due beside the numeric one.
func (c *colStats) intRun(b *batch, cells []cellRef, r int) int {
	for ; r < len(cells); r++ {
		ref := cells[r]
		if ref.n == 0 {
			c.nulls++
			continue
		}
		s, k := b.cellKey(ref)
		v, ok := parseIntKey(s, k)
		if !ok {
			return r
		}
		if v < c.ints.min {
			c.ints.setMin(v, s)
		} else if v > c.ints.max {
			c.ints.setMax(v, s)
		}
		if k <= c.tminK || k >= c.tmaxK {
			c.addText(s, k)
		}
	}
	return r
}

// floatRun takes the cells of a FLOAT column of floats that
// parseFloatKey reads (addNumber's common case).
func (c *colStats) floatRun(b *batch, cells []cellRef, r int) int {
	for ; r < len(cells); r++ {
		ref := cells[r]
		if ref.n == 0 {
			c.nulls++
			continue
		}
		s, k := b.cellKey(ref)
		f, ok := parseFloatKey(s, k)
		if !ok {
			return r
		}
		if f < c.nums.min.f {
			c.nums.setMin(Number{kind: numFloat, f: f}, s)
		} else if f > c.nums.max.f {
			c.nums.setMax(Number{kind: numFloat, f: f}, s)
		}
		if k <= c.tminK || k >= c.tmaxK {
			c.addText(s, k)
		}
	}
	return r
}

// boolRun takes the cells of a BOOLEAN column that are booleans.
func (c *colStats) boolRun(b *batch, cells []cellRef, r int) int {
	for ; r < len(cells); r++ {
		ref := cells[r]
		if ref.n == 0 {
			c.nulls++
			continue
		}
		s, k := b.cellKey(ref)
		if !isBool(s) {
			return r
		}
		if k <= c.tminK || k >= c.tmaxK {
			c.addText(s, k)
		}
	}
	return r
}

// dateRun takes the cells of a column of ISO dates (the only family left)
// that are ISO dates.
func (c *colStats) dateRun(b *batch, cells []cellRef, r int) int {
	d := &c.dates[0] // dateFamilies[0] is ISO
	for ; r < len(cells); r++ {
		ref := cells[r]
		if ref.n == 0 {
			c.nulls++
			continue
		}
		s, k := b.cellKey(ref)
		v, ok := parseISO(s)
		if !ok {
			return r
		}
		putInstant(d, v, s, false)
		if k <= c.tminK || k >= c.tmaxK {
			c.addText(s, k)
		}
	}
	return r
}

// textRun takes the cells of a TEXT column kept in one byte order: every
// cell, or, when the cells may be in another encoding (alts > 0), every
// ASCII cell (the first other one starts the other orders).
func (c *colStats) textRun(b *batch, cells []cellRef, r int, alts int) int {
	for ; r < len(cells); r++ {
		ref := cells[r]
		if ref.n == 0 {
			c.nulls++
			continue
		}
		s, k := b.cellKey(ref)
		if alts > 0 && !isASCII(s) {
			return r
		}
		if k <= c.tminK || k >= c.tmaxK {
			c.addText(s, k)
		}
	}
	return r
}

// merge adds to p the profile q of the records that follow p's, and
// leaves p the profile of both, exactly as if q's records had been added
// to p after its own: counts add up, a column's candidate types are those
// both kept, and each extreme is the smaller (larger) of the two, p's
// when they compare equal, since Add keeps the first of equal values. p
// and q must have been made for the same header with the same settings;
// q must not be used afterwards (p may take its buffers).
//
// One reading is exact only when both sides kept it up: the Mac Roman
// order, which a profile stops keeping once a line ended with LF (a side
// with fewer altOrders than the other leaves it stale), is read only for
// files without any.
func (p *Profiler) merge(q *Profiler) {
	if p.grow && len(q.cols) > len(p.cols) {
		p.widenFrom(len(q.cols), p.rows)
	}
	for i := range p.cols {
		if i >= len(q.cols) {
			p.cols[i].nulls += q.rows
			continue
		}
		p.cols[i].merge(&q.cols[i])
	}
	p.rows += q.rows
}

// merge adds d, the column's profile over the records after c's (see
// Profiler.merge).
func (c *colStats) merge(d *colStats) {
	c.nulls += d.nulls
	if !d.seen {
		return
	}
	if !c.seen {
		// d's, copied: d's buffers are d's Profiler's, which may be
		// reset for other records.
		c.seen, c.live, c.numsOn = true, d.live, d.numsOn
		c.tminK, c.tmaxK = d.tminK, d.tmaxK
		c.text.copyFrom(&d.text)
		c.ints.copyFrom(&d.ints)
		c.nums.copyFrom(&d.nums)
		c.nums.min, c.nums.max = d.nums.min.in(c.nums.minT), d.nums.max.in(c.nums.maxT)
		for i := range c.dates {
			c.dates[i].copyFrom(&d.dates[i])
		}
		c.alt = nil
		if d.alt != nil {
			c.alt = &altSpans{seen: d.alt.seen}
			for i := range c.alt.spans {
				c.alt.spans[i].copyFrom(&d.alt.spans[i])
			}
		}
		return
	}
	// Byte order, which every column keeps.
	if d.tminK < c.tminK || (d.tminK == c.tminK && lessSameKey(bstr(d.text.minT), bstr(c.text.minT))) {
		c.tminK = d.tminK
		c.text.setMin(struct{}{}, bstr(d.text.minT))
	}
	if d.tmaxK > c.tmaxK || (d.tmaxK == c.tmaxK && lessSameKey(bstr(c.text.maxT), bstr(d.text.maxT))) {
		c.tmaxK = d.tmaxK
		c.text.setMax(struct{}{}, bstr(d.text.maxT))
	}
	// The other byte orders, once either side saw a cell that is not
	// ASCII; a side without them saw only ASCII, which orders alike in
	// all of them.
	if c.alt != nil || d.alt != nil {
		if c.alt == nil {
			c.startAlt(true)
		}
		for i, t := range altOrders {
			a := &c.alt.spans[i]
			lo, hi := d.text.minT, d.text.maxT
			if d.alt != nil {
				lo, hi = d.alt.spans[i].minT, d.alt.spans[i].maxT
			}
			if t.less(bstr(lo), bstr(a.minT)) {
				a.setMin(struct{}{}, bstr(lo))
			}
			if t.less(bstr(a.maxT), bstr(hi)) {
				a.setMax(struct{}{}, bstr(hi))
			}
		}
	}
	live := c.live & d.live
	switch {
	case live&candInt != 0:
		// Both all int64s.
		if d.ints.min < c.ints.min {
			c.ints.setMin(d.ints.min, bstr(d.ints.minT))
		}
		if d.ints.max > c.ints.max {
			c.ints.setMax(d.ints.max, bstr(d.ints.maxT))
		}
	case live&candFloat != 0:
		// Numbers, not all int64s on at least one side: a side of int64s
		// has its extremes in ints (as addNumber finds them).
		if c.live&candInt != 0 {
			c.nums.min, c.nums.max = IntNumber(c.ints.min), IntNumber(c.ints.max)
			c.nums.minT = append(c.nums.minT[:0], c.ints.minT...)
			c.nums.maxT = append(c.nums.maxT[:0], c.ints.maxT...)
			c.numsOn = true
		}
		lo, hi, loT, hiT := d.nums.min, d.nums.max, d.nums.minT, d.nums.maxT
		if d.live&candInt != 0 {
			lo, hi, loT, hiT = IntNumber(d.ints.min), IntNumber(d.ints.max), d.ints.minT, d.ints.maxT
		}
		if lo.Compare(c.nums.min) < 0 {
			c.nums.setMin(lo, bstr(loT))
			c.nums.min = lo.in(c.nums.minT)
		}
		if hi.Compare(c.nums.max) > 0 {
			c.nums.setMax(hi, bstr(hiT))
			c.nums.max = hi.in(c.nums.maxT)
		}
	}
	for i := range dateFamilies {
		if live&dateFamilies[i].cand != 0 {
			cd, dd := &c.dates[i], &d.dates[i]
			if dd.min.Compare(cd.min) < 0 {
				cd.setMin(dd.min, bstr(dd.minT))
			}
			if dd.max.Compare(cd.max) > 0 {
				cd.setMax(dd.max, bstr(dd.maxT))
			}
		}
	}
	c.live = live
}

// startAlt starts the alternative orders before the first cell that is
// not ASCII: every earlier cell was, and ASCII orders alike in all of them.
func (c *colStats) startAlt(seen bool) {
	c.alt = &altSpans{seen: seen}
	for i := range c.alt.spans {
		a := &c.alt.spans[i]
		a.minT = append(a.minT, c.text.minT...)
		a.maxT = append(a.maxT, c.text.maxT...)
	}
}

// addAlt keeps the extremes of s in every alternative byte order.
func (c *colStats) addAlt(s string, n int) {
	if !c.alt.seen {
		c.alt.seen = true
		for i := range c.alt.spans {
			c.alt.spans[i].init(struct{}{}, s)
		}
		return
	}
	for i, t := range altOrders[:n] {
		a := &c.alt.spans[i]
		if t.less(s, bstr(a.minT)) {
			a.setMin(struct{}{}, s)
		} else if t.less(bstr(a.maxT), s) {
			a.setMax(struct{}{}, s)
		}
	}
}

// isASCII reports whether s has no byte above 0x7F.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))&msb != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Rows returns the number of records added.
func (p *Profiler) Rows() int64 { return p.rows }

// add profiles one non-empty cell. alts > 0 keeps the extremes in that
// many of altOrders too, once a cell is not ASCII.
func (c *colStats) add(s string, alts int) {
	first := !c.seen
	c.seen = true
	// A cell that reads as a number, a boolean or a date is ASCII: only
	// the others need looking at.
	if !c.addTyped(s, first) && alts > 0 && c.alt == nil && !isASCII(s) {
		c.startAlt(!first)
	}
	if first {
		k := prefixKey(s)
		c.tminK, c.tmaxK = k, k
		c.text.init(struct{}{}, s)
	} else {
		c.addText(s, prefixKey(s))
	}
	if c.alt != nil {
		c.addAlt(s, alts)
	}
}

// addText keeps the byte-order extremes of the column's cells, after the
// first; k is prefixKey(s). The loops of addColumn call it only when k
// does not settle the comparisons alone (when k is strictly between the
// extremes' keys, so is s).
func (c *colStats) addText(s string, k uint64) {
	if k < c.tminK || (k == c.tminK && lessSameKey(s, bstr(c.text.minT))) {
		c.tminK = k
		c.text.setMin(struct{}{}, s)
	} else if k > c.tmaxK || (k == c.tmaxK && lessSameKey(bstr(c.text.maxT), s)) {
		c.tmaxK = k
		c.text.setMax(struct{}{}, s)
	}
}

// lessSameKey reports whether s < t, for strings of the same prefixKey.
// When either has at most 8 bytes, the key holds all of its bytes, padded
// with zeros: the shorter one is a prefix of the other.
func lessSameKey(s, t string) bool {
	if len(s) <= 8 || len(t) <= 8 {
		return len(s) < len(t)
	}
	return s[8:] < t[8:]
}

// addTyped feeds s to the types still possible for the column and reports
// whether one of them took it.
func (c *colStats) addTyped(s string, first bool) bool {
	live := c.live
	if live == 0 {
		return false
	}
	if live&candInt != 0 {
		// The common case, a column of int64s, without building a Number.
		if v, ok := parseInt(s); ok {
			switch {
			case first:
				c.ints.init(v, s)
			case v < c.ints.min:
				c.ints.setMin(v, s)
			case v > c.ints.max:
				c.ints.setMax(v, s)
			}
			c.live = live &^ (candBool | candDate) // a number is neither
			return true
		}
	}
	if live&(candInt|candFloat) != 0 {
		if v, ok := ParseNumber(s); ok {
			c.addNumber(v, s, first, live)
			return true
		}
		live &^= candInt | candFloat
	}
	if live&candBool != 0 && !isBool(s) {
		live &^= candBool
	}
	if live&candDate != 0 {
		live = c.addDate(s, live, first)
	}
	c.live = live
	return live != 0
}

// addNumber records a numeric cell that is not an int64 in a column whose
// cells so far were all numbers (live has candInt only if they were all
// int64s), or any number once the column is not INTEGER.
func (c *colStats) addNumber(v Number, s string, first bool, live uint8) {
	c.live = live &^ (candBool | candDate) // a number is neither
	if live&candInt != 0 {
		c.live &^= candInt
		if !first {
			// Every earlier cell was an int64: their extremes are ints'.
			c.nums.min, c.nums.max = IntNumber(c.ints.min), IntNumber(c.ints.max)
			c.nums.minT = append(c.nums.minT[:0], c.ints.minT...)
			c.nums.maxT = append(c.nums.maxT[:0], c.ints.maxT...)
			c.numsOn = true
		}
	}
	if !c.numsOn {
		c.numsOn = true
		c.nums.init(v, s)
		c.nums.min = v.in(c.nums.minT)
		c.nums.max = v.in(c.nums.maxT)
		return
	}
	if v.kind == numFloat && c.nums.min.kind == numFloat && c.nums.max.kind == numFloat {
		// The common float column, without the general comparison.
		if v.f < c.nums.min.f {
			c.nums.setMin(v, s)
		} else if v.f > c.nums.max.f {
			c.nums.setMax(v, s)
		}
		return
	}
	if v.Compare(c.nums.min) < 0 {
		c.nums.setMin(v, s)
		c.nums.min = v.in(c.nums.minT)
	} else if v.Compare(c.nums.max) > 0 {
		c.nums.setMax(v, s)
		c.nums.max = v.in(c.nums.maxT)
	}
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

func statText(s string) string {
	if len(s) <= MaxStatBytes {
		return s
	}
	cut := MaxStatBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// statPrefix is what statText can keep of b: its first MaxStatBytes+1
// bytes, one more than it keeps, so that it still sees that b is longer.
func statPrefix(b []byte) []byte {
	if len(b) > MaxStatBytes+1 {
		return b[:MaxStatBytes+1]
	}
	return b
}

// Columns returns the profile of every column so far.
func (p *Profiler) Columns() []Column { return p.columns(p.names, nil) }

// columns returns the profile with the given names; for an 8-bit profile,
// t is the encoding the cells turned out to be in (nil for UTF-8), which
// orders and decodes the text extremes.
func (p *Profiler) columns(names []string, t *byteTable) []Column {
	alt := -1
	for i, o := range altOrders {
		if o == t {
			alt = i
		}
	}
	out := make([]Column, len(p.cols))
	for i := range p.cols {
		c := &p.cols[i]
		col := Column{Name: names[i], Index: i, Type: TypeText, NullCount: c.nulls}
		if c.seen {
			lo, hi := c.text.minT, c.text.maxT
			if alt >= 0 && c.alt != nil {
				lo, hi = c.alt.spans[alt].minT, c.alt.spans[alt].maxT
			}
			switch live := c.live; {
			case live&candInt != 0:
				col.Type, lo, hi = TypeInteger, c.ints.minT, c.ints.maxT
			case live&candFloat != 0:
				col.Type, lo, hi = TypeFloat, c.nums.minT, c.nums.maxT
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
			// statText keeps at most MaxStatBytes of an extreme, and
			// decoding an 8-bit cell never shortens it: a longer extreme
			// (a cell of megabytes) is not copied whole to be cut.
			lmin, lmax := string(statPrefix(lo)), string(statPrefix(hi))
			if t != nil {
				lmin, lmax = t.decodeString(lmin), t.decodeString(lmax)
			}
			// Cut after decoding, so that the cut falls between characters.
			lmin, lmax = statText(lmin), statText(lmax)
			col.Min, col.Max = &lmin, &lmax
		}
		out[i] = col
	}
	return out
}

// parseInt accepts [+-]digits that fit in an int64, without leading zeros:
// exactly the numbers ParseNumber reads as int64s.
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
