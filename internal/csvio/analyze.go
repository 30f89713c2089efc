package csvio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// sniffReaders holds the buffered readers Analyze sniffs through, for the
// same reason as bufPool.
var sniffReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, SniffSize) }}

// Summary is the result of Analyze.
type Summary struct {
	Dialect Dialect
	// Header holds the unique column names: the header row's, then
	// column_N for the cells of rows longer than the header.
	Header  []string
	Rows    int64 // data records, header and blank lines excluded
	Columns []Column
	// Short and Long count data records with fewer or more cells than the
	// header; Repaired counts records (the header included) whose broken
	// quoting was repaired (see Reader.Repaired).
	Short, Long, Repaired int64
}

// Analyze reads a whole stream of raw file bytes once: it sniffs the first
// SniffSize bytes, then profiles the header and every record, and decides
// the encoding once it has seen the last byte (see the package doc). A
// file whose only content is the header row is valid and has 0 rows.
// Rejected input gives a *NotCSVError, bytes that break the encoding a BOM
// announces an *EncodingError.
//
// Analyze stops reading at the first error. When it consumes an io.Pipe
// whose bytes also go elsewhere, the caller must close the pipe's reader
// with that error (PipeReader.CloseWithError) so that the writer does not
// block forever.
func Analyze(r io.Reader) (Summary, error) { return AnalyzeAs(r, "") }

// Limits bound what Analyze accepts; zero values do not limit.
type Limits struct {
	// MaxColumns refuses a header, or a row, wider than this with a
	// *TooManyColumnsError, before it takes more memory than that many
	// columns (the cells of a long row become columns).
	MaxColumns int
	// Workers is how many goroutines parse and profile the file's chunks
	// at once; 0 means GOMAXPROCS, 1 one reader on the caller's goroutine.
	// The summary is the same whatever the number.
	Workers int
}

// AnalyzeLimited is Analyze within limits.
func AnalyzeLimited(r io.Reader, limits Limits) (Summary, error) { return AnalyzeAs(r, "", limits) }

// AnalyzeAs is Analyze of a file whose encoding the caller states, by any
// name LookupEncoding knows; "" detects it. A byte order mark still wins
// over a stated UTF-8 or UTF-16, and bytes that are not valid in a stated
// UTF-8 or UTF-16 are an *EncodingError. Limits, if given, bound it as
// AnalyzeLimited.
func AnalyzeAs(r io.Reader, encoding string, limits ...Limits) (Summary, error) {
	var lim Limits
	if len(limits) > 0 {
		lim = limits[0]
	}
	s, _, err := analyze(r, encoding, lim, lim.chunking())
	return s, err
}

// chunking is how Analyze cuts a file within these limits.
func (l Limits) chunking() chunking {
	workers := l.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return chunking{workers: workers, size: chunkSize}
}

// chunkSize is what Analyze cuts a file into for its workers: large enough
// that the bytes carried from one chunk to the next and the merges cost
// little, small enough that a few in flight take little memory.
const chunkSize = 512 << 10

// analyze is AnalyzeAs, cut in chunks as c says; it also returns how many
// chunks it cut (0 when one reader read everything).
func analyze(r io.Reader, encoding string, lim Limits, c chunking) (Summary, int, error) {
	stated := ""
	if encoding != "" {
		var err error
		if stated, err = LookupEncoding(encoding); err != nil {
			return Summary{}, 0, err
		}
	}
	br := sniffReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		sniffReaders.Put(br)
	}()
	prefix, err := br.Peek(SniffSize)
	if err != nil && err != io.EOF {
		return Summary{}, 0, err
	}
	d, bom, err := sniff(prefix, stated)
	if err != nil {
		return Summary{}, 0, err
	}

	var (
		rd  *Reader
		cen *census
		u16 *utf16Check
	)
	switch d.Encoding {
	case EncodingUTF16LE, EncodingUTF16BE:
		u16 = &utf16Check{src: br, be: d.Encoding == EncodingUTF16BE}
		rd = NewReader(u16, d)
	case EncodingWindows1252, EncodingMacintosh:
		if stated != "" {
			rd = NewReader(br, d) // decoded as it is read
			break
		}
		fallthrough
	default:
		// UTF-8, or 8-bit text whose encoding the last byte may still
		// change: parsed as raw bytes, decided at the end.
		cen = &census{src: br}
		defer cen.stop(false)
		rd = newReader(cen, d)
	}
	defer rd.release()
	rd.grow = true
	rd.SetMaxColumns(lim.MaxColumns)
	if _, err := rd.Header(); err == io.EOF {
		return Summary{}, 0, &NotCSVError{reasonNoHeader}
	} else if err != nil {
		return Summary{}, 0, err
	}
	p := NewProfiler(rd.raw)
	p.grow = true
	p.eightBit = cen != nil && stated == ""
	chunks := 0
	if cen != nil && c.workers > 1 && !rd.lazy {
		chunks, err = profileChunks(rd, p, cen, c)
	} else {
		err = profileAll(rd, p, cen)
	}
	if err != nil {
		return Summary{}, chunks, err
	}

	if cen != nil {
		cen.stop(true)
	}
	var table *byteTable
	switch {
	case u16 != nil:
		if u16.bad {
			return Summary{}, 0, &EncodingError{Encoding: d.Encoding, Offset: u16.badAt, Reason: "is half of a character (an unpaired surrogate)"}
		}
	case cen == nil:
		table = nil // decoded while reading
	case !cen.chk.invalid:
		d.Encoding = EncodingUTF8
		if bom {
			d.Encoding = EncodingUTF8BOM
		}
	case bom || stated == EncodingUTF8:
		return Summary{}, 0, &EncodingError{Encoding: EncodingUTF8, Offset: cen.chk.invalidAt, Byte: cen.chk.invalidByte, Reason: "does not begin a valid UTF-8 character"}
	default:
		cr, lf := rd.lineEnds()
		d.Encoding, table = EncodingWindows1252, &windows1252
		if cr > 0 && lf == 0 && cen.chk.macPunct > 0 {
			d.Encoding, table = EncodingMacintosh, &macintosh
		}
	}
	names := make([]string, len(p.cols))
	for i, raw := range rd.raw {
		names[i] = raw
		if table != nil {
			names[i] = table.decodeString(raw)
		}
	}
	names = uniqueNames(names)
	return Summary{
		Dialect:  d,
		Header:   names,
		Rows:     p.Rows(),
		Columns:  p.columns(names, table),
		Short:    rd.Short(),
		Long:     rd.Long(),
		Repaired: rd.Repaired(),
	}, chunks, nil
}

// profileAll reads every record of rd into p. Parsing and profiling take
// about the same time, so they run on two goroutines: this one parses, the
// other profiles the records of the buffer before. The reader lends its
// buffers (Reader.lending): a batch refers to its cells by offset into the
// buffer they were read in, so nothing is copied but the rare cell built
// outside it, and a buffer goes back to the pool once its batch is
// profiled. At most four buffers (the reader's, one waiting and one being
// profiled, one ready) are in use.
func profileAll(rd *Reader, p *Profiler, cen *census) error {
	full := make(chan *batch, 1)
	free := make(chan *batch, 2)
	for range 2 {
		free <- batches.Get().(*batch)
	}
	alts := p.altOrders // the parser's; p is the profiler goroutine's from here
	done := make(chan struct{})
	go func() {
		defer close(done)
		for b := range full {
			p.maybeHigh, p.altOrders = b.maybeHigh, b.altOrders
			p.addBatch(b)
			for _, buf := range b.bufs {
				putBuffer(buf)
			}
			free <- b
		}
	}()
	rd.lending = true
	defer func() {
		rd.lending = false
		for _, buf := range rd.takeLent() {
			putBuffer(buf)
		}
	}()
	send := func(b *batch) {
		if _, lf := rd.lineEnds(); cen != nil && lf > 0 && alts > 1 {
			// Mac Roman needs CR-only lines: windows-1252 is the only
			// other candidate left.
			alts = 1
			cen.noMac.Store(true)
		}
		b.maybeHigh, b.altOrders = cen != nil && cen.high, alts
		b.seal()
		full <- b
	}
	err := func() error {
		b := <-free
		b.reset()
		for {
			rec, err := rd.Read()
			if lent := rd.takeLent(); len(lent) > 0 {
				// The records of the batch are in the buffers just lent
				// (the one read now is in the new buffer).
				b.bufs = append(b.bufs, lent...)
				send(b)
				b = <-free
				b.reset()
			}
			if err == io.EOF {
				send(b)
				return nil
			}
			if err != nil {
				return err
			}
			b.add(rec, rd.buf)
		}
	}()
	close(full)
	<-done
	for len(free) > 0 {
		batches.Put(<-free)
	}
	return err
}

// batch is a run of records handed from the parser to the profiler. Its
// cells are offsets, not strings: a batch holds thousands of cells, and
// as strings each would be a pointer for the garbage collector to follow
// and, while it marks, a write barrier to pass.
type batch struct {
	refs []cellRef // the records' cells
	lens []int32   // cells of each record
	// base is the buffer the records were read in (the reader's, lent);
	// arena holds the cells that were not in it, built in the reader's
	// scratch space. seal points bases at them for the profiler.
	base, arena []byte
	bases       [2]unsafe.Pointer
	bufs        [][]byte // the lent buffers, to give back after profiling
	maybeHigh   bool
	altOrders   int
}

// cellRef is a cell of a batch: n bytes at off in the batch's base, or in
// its arena when off has arenaBit set. An empty cell is the zero cellRef.
type cellRef struct{ off, n uint32 }

// arenaBit marks an offset into the arena. Buffers and arenas are far
// below 2 GiB (a record is at most 16 MiB).
const arenaBit = 1 << 31

var batches = sync.Pool{New: func() any {
	return &batch{refs: make([]cellRef, 0, 16<<10), lens: make([]int32, 0, 2<<10), arena: make([]byte, 0, 16<<10)}
}}

// add takes a record read from buf. Its cells stay valid as long as buf
// does, except those the reader built in its scratch space, which the next
// record overwrites: such cells, any other outside the batch's base, and
// the rare cell that starts in the last 8 bytes of the base (cellKey reads
// 8 bytes from a cell's start) are copied into the arena.
func (b *batch) add(rec []string, buf []byte) {
	if len(b.lens) == 0 {
		b.base = buf
	}
	b.lens = append(b.lens, int32(len(rec)))
	at := len(b.refs)
	b.refs = slices.Grow(b.refs, len(rec))[:at+len(rec)]
	refs := b.refs[at:]
	var start uintptr
	if len(b.base) > 0 {
		start = uintptr(unsafe.Pointer(unsafe.SliceData(b.base)))
	}
	size := uint64(len(b.base))
	rec = rec[:len(refs)]
	for k := range refs {
		c := rec[k]
		n := uint64(len(c))
		if n == 0 {
			refs[k] = cellRef{}
			continue
		}
		if off := uint64(uintptr(unsafe.Pointer(unsafe.StringData(c))) - start); off < size && max(n, 8) <= size-off {
			refs[k] = cellRef{uint32(off), uint32(n)}
			continue
		}
		// Should the arena grow, the offsets already taken still hold.
		off := len(b.arena)
		b.arena = append(b.arena, c...)
		refs[k] = cellRef{uint32(off) | arenaBit, uint32(n)}
	}
}

// seal makes the batch ready to be read (cell, cellKey). The arena ends
// with 8 bytes to spare, so that the key of its last cell can be read.
func (b *batch) seal() {
	b.arena = append(b.arena, 0, 0, 0, 0, 0, 0, 0, 0)
	b.bases = [2]unsafe.Pointer{unsafe.Pointer(unsafe.SliceData(b.base)), unsafe.Pointer(unsafe.SliceData(b.arena))}
}

// cell returns the text of a non-empty cell.
func (b *batch) cell(r cellRef) string {
	return unsafe.String((*byte)(unsafe.Add(b.bases[r.off>>31], r.off&^arenaBit)), r.n)
}

// cellKey returns the text of a non-empty cell and its prefixKey, read
// as the 8 bytes at the cell's start, masked to the cell's length: add
// and seal make sure that they are all in the batch's memory.
func (b *batch) cellKey(r cellRef) (string, uint64) {
	p := (*byte)(unsafe.Add(b.bases[r.off>>31], r.off&^arenaBit))
	k := binary.BigEndian.Uint64(unsafe.Slice(p, 8))
	return unsafe.String(p, r.n), k & keyMasks[min(r.n, 8)]
}

// keyMasks[n] keeps the first n bytes of a big-endian word.
var keyMasks = [9]uint64{0, 0xFF << 56, 0xFFFF << 48, 0xFFFFFF << 40, 0xFFFFFFFF << 32,
	0xFFFFFFFFFF << 24, 0xFFFFFFFFFFFF << 16, 0xFFFFFFFFFFFFFF << 8, 0xFFFFFFFFFFFFFFFF}

func (b *batch) reset() {
	if cap(b.arena) > 1<<20 {
		b.arena = nil // a huge scratched cell: let it go
	}
	b.refs, b.lens, b.arena, b.bufs = b.refs[:0], b.lens[:0], b.arena[:0], b.bufs[:0]
	b.base, b.bases = nil, [2]unsafe.Pointer{}
}

// EncodingError rejects bytes that are not valid in the encoding a byte
// order mark announced or the caller stated.
type EncodingError struct {
	Encoding string
	Offset   int64 // of the first bad byte, from the start of the file
	Byte     byte  // that byte, for UTF-8
	Reason   string
}

// ErrEncoding is wrapped by every *EncodingError.
var ErrEncoding = errors.New("bytes not valid in the file's encoding")

func (e *EncodingError) Error() string {
	what := "the code unit"
	if e.Encoding == EncodingUTF8 {
		what = fmt.Sprintf("the byte 0x%02X", e.Byte)
	}
	return fmt.Sprintf("the file is not valid %s: %s at byte offset %d %s (if the file is in another encoding, state it, e.g. windows-1252)",
		strings.ToUpper(e.Encoding), what, e.Offset, e.Reason)
}

// Unwrap lets errors.Is(err, ErrEncoding) match.
func (e *EncodingError) Unwrap() error { return ErrEncoding }

// census watches the raw bytes of a file go by on their way to the
// parser: whether any is above 0x7F (checked inline: one pass, eight bytes
// at a time, until the first such byte), and, from the first such byte on,
// whether they are all valid UTF-8 and how many read as typographic
// punctuation in Mac Roman. That check runs on its own goroutine over
// copies of the bytes, so it costs the parser nothing but a copy: text
// that is not ASCII is checked by another core while this one parses.
// Memory stays bounded: at most censusBuffers chunks of censusChunk bytes
// wait for the checker.
type census struct {
	src  io.Reader
	off  int64 // bytes seen before the current read
	high bool

	work    chan censusChunk
	free    chan []byte
	done    chan struct{}
	stopped bool
	// noMac stops counting Mac Roman punctuation once Mac Roman is out of
	// the question (a line ended with LF).
	noMac atomic.Bool
	// chk is the checker's; read it only after stop.
	chk utf8Check
}

type censusChunk struct {
	b   []byte
	off int64
}

const (
	censusChunk0  = 128 << 10
	censusBuffers = 3
)

func (c *census) Read(p []byte) (int, error) {
	n, err := c.src.Read(p)
	b := p[:n]
	off := c.off
	if !c.high {
		i := asciiPrefix(b)
		if i < len(b) {
			c.high = true
			c.start()
		}
		b, off = b[i:], off+int64(i) // what came before is ASCII, valid everywhere
	}
	for c.high && len(b) > 0 {
		k := min(len(b), censusChunk0)
		buf := append((<-c.free)[:0], b[:k]...)
		c.work <- censusChunk{buf, off}
		b, off = b[k:], off+int64(k)
	}
	c.off += int64(n)
	if err != nil {
		c.stop(err == io.EOF)
	}
	return n, err
}

// asciiPrefix returns how many leading bytes of b are ASCII. It sees
// every byte of a file that is all ASCII, so it takes 64 at a time.
func asciiPrefix(b []byte) int {
	i := 0
	for ; i+64 <= len(b); i += 64 {
		w := b[i : i+64 : i+64]
		if (loadWord(w)|loadWord(w[8:])|loadWord(w[16:])|loadWord(w[24:])|
			loadWord(w[32:])|loadWord(w[40:])|loadWord(w[48:])|loadWord(w[56:]))&msb != 0 {
			break
		}
	}
	for ; i+8 <= len(b); i += 8 {
		if loadWord(b[i:])&msb != 0 {
			break
		}
	}
	for i < len(b) && b[i] < 0x80 {
		i++
	}
	return i
}

// start runs the checker.
func (c *census) start() {
	c.work = make(chan censusChunk, censusBuffers)
	c.free = make(chan []byte, censusBuffers)
	c.done = make(chan struct{})
	for range censusBuffers {
		c.free <- make([]byte, 0, censusChunk0)
	}
	go func() {
		defer close(c.done)
		for ch := range c.work {
			c.chk.scan(ch.b, ch.off, !c.noMac.Load())
			c.free <- ch.b
		}
	}()
}

// stop waits for the checker; at the end of the file, a character still
// incomplete is invalid. Calling it again does nothing.
func (c *census) stop(eof bool) {
	if c.stopped {
		return
	}
	c.stopped = true
	if c.work == nil {
		return
	}
	close(c.work)
	<-c.done
	if eof && c.chk.need > 0 && !c.chk.invalid {
		c.chk.fail(c.chk.seqAt, c.chk.seqLead) // a character cut short by the end of the file
	}
}

// utf8Check is a streaming UTF-8 check (a character cut between two
// chunks is fine) that also counts Mac Roman punctuation bytes.
type utf8Check struct {
	invalid     bool
	invalidAt   int64
	invalidByte byte
	need        int  // continuation bytes still due
	lo, hi      byte // range of the next continuation byte
	seqAt       int64
	seqLead     byte // the sequence being checked starts here with this byte
	macPunct    int64
}

// macPunct marks the bytes Mac Roman reads as typographic punctuation
// (• … – — “ ” ‘ ’) and windows-1252 as ¥ É Ð Ñ Ò Ó Ô Õ: the evidence of a
// classic Mac export, together with CR-only line breaks.
var macPunct = [256]bool{0xA5: true, 0xC9: true, 0xD0: true, 0xD1: true, 0xD2: true, 0xD3: true, 0xD4: true, 0xD5: true}

func (c *utf8Check) fail(at int64, b byte) {
	c.invalid, c.invalidAt, c.invalidByte, c.need = true, at, b, 0
}

// scan checks b, which starts at offset off of the file.
func (c *utf8Check) scan(b []byte, off int64, countMac bool) {
	if countMac {
		for i := 0; i < len(b); i++ {
			if i+8 <= len(b) && loadWord(b[i:])&msb == 0 {
				i += 7
				continue
			}
			if macPunct[b[i]] {
				c.macPunct++
			}
		}
	}
	if c.invalid {
		return
	}
	// Finish a character the previous chunk cut, then check whole
	// characters in one call, and step into the one this chunk cuts.
	i := 0
	for ; i < len(b) && c.need > 0; i++ {
		c.step(b[i], off+int64(i))
	}
	if c.invalid {
		return
	}
	end := len(b)
	for k := len(b) - 1; k >= i && k >= len(b)-utf8.UTFMax+1; k-- {
		if utf8.RuneStart(b[k]) {
			if !utf8.FullRune(b[k:]) {
				end = k
			}
			break
		}
	}
	if !utf8.Valid(b[i:end]) {
		end = i // find the offending byte the slow way
	}
	for k := end; k < len(b) && !c.invalid; k++ {
		c.step(b[k], off+int64(k))
	}
}

// step advances the UTF-8 check by one byte (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF).
func (c *utf8Check) step(x byte, at int64) {
	if c.need > 0 {
		if x < c.lo || x > c.hi {
			c.fail(c.seqAt, c.seqLead) // report where the broken character starts
			return
		}
		c.need--
		c.lo, c.hi = 0x80, 0xBF
		return
	}
	c.lo, c.hi = 0x80, 0xBF
	c.seqAt, c.seqLead = at, x
	switch {
	case x < 0x80:
	case x >= 0xC2 && x <= 0xDF:
		c.need = 1
	case x == 0xE0:
		c.need, c.lo = 2, 0xA0
	case x == 0xED:
		c.need, c.hi = 2, 0x9F
	case x >= 0xE1 && x <= 0xEF:
		c.need = 2
	case x == 0xF0:
		c.need, c.lo = 3, 0x90
	case x >= 0xF1 && x <= 0xF3:
		c.need = 3
	case x == 0xF4:
		c.need, c.hi = 3, 0x8F
	default:
		c.fail(at, x)
	}
}

// utf16Check watches raw UTF-16 bytes for unpaired surrogates, which the
// decoder would silently turn into U+FFFD.
type utf16Check struct {
	src     io.Reader
	be      bool
	off     int64
	odd     int  // 1 when half a code unit is pending
	half    byte // that half
	wantLow bool // a high surrogate waits for its low one
	bad     bool
	badAt   int64
}

func (u *utf16Check) Read(p []byte) (int, error) {
	n, err := u.src.Read(p)
	for i := 0; i < n && !u.bad; i++ {
		if u.odd == 0 {
			u.half, u.odd = p[i], 1
			continue
		}
		u.odd = 0
		v := uint16(u.half) | uint16(p[i])<<8
		if u.be {
			v = uint16(u.half)<<8 | uint16(p[i])
		}
		at := u.off + int64(i) - 1
		switch {
		case v >= 0xD800 && v <= 0xDBFF:
			if u.wantLow {
				u.bad, u.badAt = true, at-2
			}
			u.wantLow = true
		case v >= 0xDC00 && v <= 0xDFFF:
			if !u.wantLow {
				u.bad, u.badAt = true, at
			}
			u.wantLow = false
		default:
			if u.wantLow {
				u.bad, u.badAt = true, at-2
			}
		}
	}
	u.off += int64(n)
	if err == io.EOF && !u.bad && (u.odd == 1 || u.wantLow) {
		u.bad, u.badAt = true, u.off-int64(u.odd)-2*boolInt(u.wantLow)
	}
	return n, err
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
