package csvio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unsafe"
)

const (
	// initialBufSize keeps read calls and record re-scans (one per refill)
	// rare without costing much per concurrent reader.
	initialBufSize = 128 << 10
	// maxRecordSize bounds the buffer, and so the memory of one Reader.
	maxRecordSize = 16 << 20
)

// ErrRecordTooLarge is returned when a single line (outside quotes) is longer
// than 16 MiB: the reader would otherwise have to hold it all in memory.
var ErrRecordTooLarge = errors.New("csvio: record longer than 16 MiB")

// bufPool holds read buffers of initialBufSize that a Reader gave back
// (release). Most uploads are a few kilobytes: making and zeroing a fresh
// 128 KiB buffer for each cost more than parsing them.
var bufPool = sync.Pool{New: func() any { b := make([]byte, initialBufSize); return &b }}

// newBuffer returns a read buffer of size bytes, pooled when it can be.
func newBuffer(size int) []byte {
	if size == initialBufSize {
		return *bufPool.Get().(*[]byte)
	}
	return make([]byte, size)
}

// putBuffer gives a buffer nobody reads any more back to the pool.
func putBuffer(b []byte) {
	if len(b) == initialBufSize {
		bufPool.Put(&b)
	}
}

var (
	errHeaderNotRead = errors.New("csvio: Read called before Header")
	errBufferLimit   = errors.New("csvio: buffer limit")
	errReleased      = errors.New("csvio: Reader used after release")
)

// Reader reads records from CSV bytes in a given Dialect. It parses its own
// large buffer in place, so a record's strings alias that buffer and live only
// until the next call.
type Reader struct {
	src     io.Reader
	buf     []byte
	pos     int // start of unparsed data in buf
	end     int // end of valid data in buf
	eof     bool
	err     error // sticky error of src (or of the Dialect)
	delim   byte
	stop    [256]bool // bytes that end an unquoted field
	maxBuf  int
	bomDone bool
	// literal makes quotes ordinary characters for one record: the recovery
	// from a quoted field that would outgrow maxBuf.
	literal bool
	// lazy keeps a quote after a closing quote as data, the rule files
	// profiled before stray quotes were repaired were read with.
	lazy bool
	// grow widens records to the longest seen so far instead of dropping
	// the cells beyond the header (Analyze).
	grow bool

	scratch []byte   // unescaped quoted fields
	record  []string // returned record, reused; at least width long
	header  []string
	raw     []string // the header's cells as read, before naming
	hwidth  int      // cells in the header
	width   int      // cells in every returned record
	started bool     // Header has been read
	// maxColumns, when positive, bounds the header and, while Analyze
	// reads, every record: parsing stops at the first field beyond, before
	// the record grows any further.
	maxColumns int
	tooWide    bool

	recNo    int64 // physical records seen, blank lines included
	line     int64
	short    int64
	long     int64
	repaired int64
	fixed    bool // the record being parsed needed a repair
	// lending keeps every buffer that records were read from intact, for
	// Analyze, which profiles them on another goroutine: a refill moves on
	// to a new buffer and appends the old one to lent, for the caller to
	// give back (putBuffer) once nothing reads its records any more.
	lending   bool
	lent      [][]byte
	scratched bool // a cell of the record returned last is in scratch
	crEnds    int64
	lfEnds    int64 // LF and CRLF
	// partial marks a fragment that ends before the file does (Fragment):
	// a record it cannot vouch for is ErrFragmentUnsure.
	partial bool
	broke   bool // the record parsed last ended with a line break
}

// NewReader returns a Reader of r, which holds the raw bytes of a file in the
// Dialect d (normally from Analyze). An empty Encoding means UTF-8 and a zero
// Delimiter a comma. An unknown encoding or an impossible delimiter makes
// Header and Read fail. Every record it returns is valid UTF-8.
func NewReader(r io.Reader, d Dialect) *Reader {
	rd := newReader(r, d)
	src, err := decoder(r, d)
	rd.src = src
	if err != nil {
		rd.err = err
	}
	return rd
}

// newReader reads r's bytes as they are, whatever d.Encoding says: Analyze
// parses 8-bit text before it knows which encoding it is in, which is
// possible because all of them spell delimiters, quotes and line breaks
// in ASCII.
func newReader(r io.Reader, d Dialect) *Reader {
	rd := &Reader{src: r, delim: d.Delimiter, maxBuf: maxRecordSize, lazy: d.Unverified}
	if rd.delim == 0 {
		rd.delim = ','
	}
	switch rd.delim {
	case '"', '\n', '\r':
		rd.err = fmt.Errorf("csvio: invalid delimiter %q", rd.delim)
	}
	rd.stop[rd.delim] = true
	rd.stop['\n'] = true
	rd.stop['\r'] = true
	return rd
}

// ErrFragmentUnsure is what a fragment Reader that ends before the file
// (Fragment.Last false) returns instead of a record it cannot vouch for: one
// that runs into the fragment's end, which is therefore no record start, or
// one long enough (the read buffer grew to 16 MiB for it) that a reader of
// the whole file might have read it with its quotes taken literally. The
// records returned before it are those a reader of the whole file returns.
var ErrFragmentUnsure = errors.New("csvio: record not certain to end inside the fragment")

// Fragment describes the part of a file that a fragment Reader reads: the
// bytes between two record boundaries (FindBoundary), so that goroutines can
// read parts of one file at once and get the records of a reader of the
// whole file.
type Fragment struct {
	// Start says the fragment begins at the file's first byte: its header
	// is read with Header, and a byte order mark is dropped. Otherwise it
	// begins at a record boundary further on, has no header (Read alone)
	// and keeps every byte (a BOM there is data, as it is to a reader of
	// the whole file).
	Start bool
	// Last says the fragment runs to the file's end. Otherwise its end is
	// meant to be a record boundary, which the Reader checks (see
	// ErrFragmentUnsure).
	Last bool
	// Width is the number of cells of every data record (SetWidth); a
	// fragment that does not start the file has no header to take it from.
	Width int
	// Line counts the physical records before the fragment (blank lines
	// included), so that Line and errors number records as a reader of the
	// whole file does.
	Line int64
}

// NewFragmentReader returns a Reader of the fragment fr of a file in
// Dialect d, whose bytes r holds (see Fragment).
func NewFragmentReader(r io.Reader, d Dialect, fr Fragment) *Reader {
	rd := NewReader(r, d)
	rd.partial = !fr.Last
	rd.recNo = fr.Line
	if !fr.Start {
		rd.bomDone = true
		rd.started = true
		rd.hwidth = fr.Width
		rd.width = fr.Width
		rd.record = make([]string, fr.Width)
	} else {
		rd.width = fr.Width
	}
	return rd
}

// TooManyColumnsError is returned by Header for a header wider than the
// limit set with SetMaxColumns, and while Analyze reads, by Read for a row
// that would add columns beyond it.
type TooManyColumnsError struct {
	Max  int
	Line int64 // the record's 1-based line (1: the header)
}

func (e *TooManyColumnsError) Error() string {
	if e.Line <= 1 {
		return "the header has more than " + strconv.Itoa(e.Max) + " columns"
	}
	return "row " + strconv.FormatInt(e.Line, 10) + " has more than " + strconv.Itoa(e.Max) +
		" cells (each cell beyond the header adds a column)"
}

// SetMaxColumns makes Header refuse a header of more than n columns
// (n <= 0: no limit), without holding more than n+1 of its fields; while
// Analyze reads, a longer row is refused the same way by Read.
func (r *Reader) SetMaxColumns(n int) { r.maxColumns = n }

// Header reads the first record and returns it as unique, trimmed column
// names (see the package doc). It returns io.EOF if the input holds no
// record at all. The returned slice belongs to the caller.
func (r *Reader) Header() ([]string, error) {
	if r.started {
		return append([]string(nil), r.header...), nil
	}
	nf, err := r.next(true)
	if err != nil {
		return nil, err
	}
	if r.tooWide {
		r.err = &TooManyColumnsError{Max: r.maxColumns, Line: r.line}
		return nil, r.err
	}
	r.raw = make([]string, nf)
	for i, c := range r.record[:nf] {
		r.raw[i] = strings.Clone(c)
	}
	r.header = uniqueNames(r.raw)
	r.hwidth = nf
	r.width = max(r.width, nf)
	r.record = make([]string, r.width)
	r.started = true
	return append([]string(nil), r.header...), nil
}

// SetWidth makes every data record at least n cells wide: a stored file's
// column count, which includes the columns its long rows added (see the
// package doc). Records shorter than that get empty cells.
func (r *Reader) SetWidth(n int) {
	if n <= r.width {
		return
	}
	r.width = n
	if r.started && len(r.record) < n {
		r.record = append(r.record, make([]string, n-len(r.record))...)
	}
}

// Read returns the next data record or io.EOF after the last one. A record
// is as wide as the header (or SetWidth): missing cells are "" and cells
// beyond it are dropped, except while Analyze reads, where a long record
// widens this and every later record. The slice and its strings are only
// valid until the next call: keeping a value requires strings.Clone.
func (r *Reader) Read() ([]string, error) {
	if !r.started {
		return nil, errHeaderNotRead
	}
	nf, err := r.next(false)
	if err != nil {
		return nil, err
	}
	if r.tooWide {
		r.err = &TooManyColumnsError{Max: r.maxColumns, Line: r.line}
		return nil, r.err
	}
	switch {
	case nf < r.hwidth:
		r.short++
	case nf > r.hwidth:
		r.long++
	}
	if nf > r.width && r.grow {
		r.width = nf
	}
	for i := nf; i < r.width; i++ {
		r.record[i] = ""
	}
	return r.record[:r.width], nil
}

// Release gives the read buffer back for another Reader, so that a
// caller reading many fragments one after another does not allocate a
// buffer for each; r must not be used afterwards, nor any record it
// returned.
func (r *Reader) Release() { r.release() }

// resume returns a Reader of src that goes on after r's header as r does
// at the start of a record: the same dialect, header, limits and rules
// (Analyze's included), with counts of its own from zero.
func (r *Reader) resume(src io.Reader) *Reader {
	n := &Reader{}
	r.resumeInto(n, src)
	return n
}

// resumeInto makes n what resume returns, keeping n's record and scratch
// space for another run of records.
func (r *Reader) resumeInto(n *Reader, src io.Reader) {
	record, scratch := n.record, n.scratch[:0]
	*n = Reader{src: src, delim: r.delim, stop: r.stop, maxBuf: r.maxBuf, bomDone: true, lazy: r.lazy,
		grow: r.grow, header: r.header, raw: r.raw, hwidth: r.hwidth, width: r.hwidth, started: true,
		maxColumns: r.maxColumns, scratch: scratch}
	if cap(record) < n.width {
		record = make([]string, n.width)
	}
	n.record = record[:n.width]
}

// release gives the read buffer back for another Reader; r must not be
// used afterwards, nor any record it returned. A buffer that grew for a
// long record is left to the garbage collector.
func (r *Reader) release() {
	if len(r.buf) == initialBufSize {
		b := r.buf
		bufPool.Put(&b)
	}
	r.buf, r.record, r.err = nil, nil, errReleased
}

// Line returns the 1-based physical record number of the record returned
// last (the header is 1). Blank lines count, quoted line breaks do not, so it
// matches the row number a spreadsheet shows for the same file.
func (r *Reader) Line() int64 { return r.line }

// Consumed returns how many physical records (blank lines included) lie
// before the next one: once a fragment is read to its end, the Line of
// the fragment after it (Fragment.Line).
func (r *Reader) Consumed() int64 { return r.recNo }

// Short returns how many data records so far had fewer cells than the
// header.
func (r *Reader) Short() int64 { return r.short }

// Long returns how many data records so far had more cells than the header.
func (r *Reader) Long() int64 { return r.long }

// Repaired returns how many records so far (the header included) had
// broken quoting that the reader had to repair: a closing quote followed
// by more text, a quote still open at the end of input, or a quoted field
// running past 16 MiB (see the package doc).
func (r *Reader) Repaired() int64 { return r.repaired }

// takeLent returns the buffers lent since the last call (see lending).
func (r *Reader) takeLent() [][]byte {
	l := r.lent
	r.lent = nil
	return l
}

// lineEnds returns how many records ended with a lone CR and how many with
// LF or CRLF, blank lines included.
func (r *Reader) lineEnds() (cr, lf int64) { return r.crEnds, r.lfEnds }

// next parses the next non-blank record into r.record and returns its number
// of fields. With grow the record keeps every field (the header defines the
// width); without, fields beyond len(r.record) are only counted.
func (r *Reader) next(grow bool) (int, error) {
	if r.err == ErrFragmentUnsure {
		return 0, r.err
	}
	for {
		if r.pos >= r.end {
			if r.eof {
				if r.partial && !r.started {
					// No header before the fragment's end: the file's
					// header lies further on.
					r.err = ErrFragmentUnsure
					return 0, r.err
				}
				return 0, io.EOF
			}
			if err := r.fill(); err != nil {
				return 0, err
			}
			continue
		}
		switch r.buf[r.pos] {
		case '\n':
			r.pos++
			r.recNo++
			r.lfEnds++
			continue
		case '\r':
			if r.pos+1 >= r.end && !r.eof {
				if err := r.fill(); err != nil {
					return 0, err
				}
				continue
			}
			r.pos++
			if r.pos < r.end && r.buf[r.pos] == '\n' {
				r.pos++
				r.lfEnds++
			} else {
				r.crEnds++
			}
			r.recNo++
			continue
		}
		if nf, ok := r.parse(grow); ok {
			if r.partial && (!r.broke || len(r.buf) >= r.maxBuf) {
				r.err = ErrFragmentUnsure
				return 0, r.err
			}
			if r.fixed || r.literal {
				r.repaired++
			}
			r.literal = false
			r.recNo++
			r.line = r.recNo
			return nf, nil
		}
		if err := r.fill(); err != nil {
			if err == errBufferLimit {
				if r.partial {
					r.err = ErrFragmentUnsure
					return 0, r.err
				}
				if !r.literal {
					r.literal = true
					continue
				}
				r.err = fmt.Errorf("record %d: %w", r.recNo+1, ErrRecordTooLarge)
				return 0, r.err
			}
			return 0, err
		}
	}
}

// fill moves the unparsed tail to the front of the buffer and reads until the
// buffer is full. Filling completely (rather than taking one short read) is
// what keeps re-scanning a record after each refill linear overall. A full
// buffer that still holds no complete record is doubled up to maxBuf.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	if r.buf == nil {
		if r.maxBuf >= initialBufSize {
			r.buf = *bufPool.Get().(*[]byte)
		} else {
			r.buf = make([]byte, r.maxBuf)
		}
	}
	if r.pos > 0 {
		if r.lending {
			// The records read so far keep their bytes: move the tail to
			// a new buffer and hand this one over.
			size := len(r.buf)
			if r.end-r.pos < initialBufSize/2 {
				size = initialBufSize // back to normal after a long record
			}
			nb := newBuffer(size)
			r.end = copy(nb, r.buf[r.pos:r.end])
			r.lent = append(r.lent, r.buf)
			r.buf = nb
		} else {
			r.end = copy(r.buf, r.buf[r.pos:r.end])
		}
		r.pos = 0
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= r.maxBuf {
			return errBufferLimit
		}
		nb := make([]byte, min(2*len(r.buf), r.maxBuf))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	start, empty := r.end, 0
	for r.end < len(r.buf) {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err != nil {
			if err == io.EOF {
				r.eof = true
			} else {
				r.err = err
			}
			break
		}
		if n == 0 {
			if empty++; empty >= 100 {
				r.err = io.ErrNoProgress
				break
			}
		}
	}
	if !r.bomDone && (r.end >= 3 || r.eof) {
		r.bomDone = true
		if bytes.HasPrefix(r.buf[:r.end], bomUTF8) {
			r.pos = 3
		}
	}
	if r.end == start && r.err != nil {
		return r.err
	}
	return nil
}

// parse parses one record starting at r.pos, which is not a line break. It
// returns ok=false, leaving r.pos alone, when the buffer ends before the
// record does and more input may follow; the caller refills and parses the
// record again from its start. Fields are strings over r.buf (or r.scratch
// for quoted fields with doubled quotes), which stay put until the next fill.
func (r *Reader) parse(grow bool) (nf int, ok bool) {
	buf := r.buf[:r.end]
	p := r.pos
	grow = grow || r.grow
	rec := r.record
	if grow && !r.started {
		rec = rec[:0]
	}
	r.scratch = r.scratch[:0]
	delim := r.delim
	dm := uint64(delim) * lsb
	stop := &r.stop
	eof := r.eof
	quotes := !r.literal
	fixed, scratched, broke := false, false, false
	for {
		// p is at the start of a field.
		var field string
		if p < len(buf) && buf[p] == '"' && quotes {
			start := p + 1
			q := start
			mark := -1 // start of this field in r.scratch once it is built there
			tail := -1 // end of the unquoted text after a stray closing quote
			for {
				i := bytes.IndexByte(buf[q:], '"')
				if i < 0 {
					if !eof {
						return nf, false
					}
					// Open quote at end of input: the field runs to the end.
					fixed = true
					q = len(buf)
					p = q
					break
				}
				q += i
				if q+1 >= len(buf) {
					if !eof {
						return nf, false
					}
					p = q + 1
					break
				}
				c := buf[q+1]
				if c == '"' {
					if mark < 0 {
						mark = len(r.scratch)
					}
					r.scratch = append(r.scratch, buf[start:q+1]...)
					q += 2
					start = q
					continue
				}
				if c == delim || c == '\n' || c == '\r' {
					p = q + 1
					break
				}
				if r.lazy {
					q++ // a bare quote inside quotes is data
					continue
				}
				// A closing quote followed by more text, as in "x"y: the
				// quoted part ends and the field goes on, unquoted, to the
				// next delimiter or line break (Python's csv and DuckDB
				// read it so), instead of swallowing the rest of the file.
				e := q + 1
				for e < len(buf) && !stop[buf[e]] {
					e++
				}
				if e == len(buf) && !eof {
					return nf, false
				}
				fixed = true
				tail = e
				p = e
				break
			}
			scratched = scratched || tail >= 0 || mark >= 0
			switch {
			case tail >= 0:
				if mark < 0 {
					mark = len(r.scratch)
				}
				r.scratch = append(r.scratch, buf[start:q]...)
				r.scratch = append(r.scratch, buf[q+1:tail]...)
				field = bstr(r.scratch[mark:])
			case mark < 0:
				field = bstr(buf[start:q])
			default:
				r.scratch = append(r.scratch, buf[start:q]...)
				field = bstr(r.scratch[mark:])
			}
		} else {
			s := p
			// Eight bytes at a time while they last: most fields are
			// short, but long text fields dominate the byte count.
			for p+8 <= len(buf) {
				v := binary.LittleEndian.Uint64(buf[p:])
				m := zeroBytes(v^dm) | zeroBytes(v^lfMask) | zeroBytes(v^crMask)
				if m != 0 {
					p += bits.TrailingZeros64(m) >> 3
					goto found
				}
				p += 8
			}
			for p < len(buf) && !stop[buf[p]] {
				p++
			}
		found:
			if p == len(buf) && !eof {
				return nf, false
			}
			field = bstr(buf[s:p])
		}
		if nf < len(rec) {
			rec[nf] = field
		} else if grow {
			if r.maxColumns > 0 && nf >= r.maxColumns {
				// One field too many: the header (or, while Analyze
				// reads, the row) is refused, so the rest of it need not
				// be parsed, nor kept.
				r.tooWide = true
				r.record = rec
				r.pos = p
				return nf, true
			}
			rec = append(rec, field)
		}
		nf++

		// p is at a delimiter, a line break or the end of input.
		if p >= len(buf) {
			break
		}
		c := buf[p]
		p++
		if c == delim {
			continue
		}
		if c == '\r' {
			if p >= len(buf) && !eof {
				return nf, false
			}
			if p < len(buf) && buf[p] == '\n' {
				p++
				r.lfEnds++
			} else {
				r.crEnds++
			}
		} else {
			r.lfEnds++
		}
		broke = true
		break
	}
	if grow {
		r.record = rec
	}
	r.fixed, r.scratched, r.broke = fixed, scratched, broke
	r.pos = p
	return nf, true
}

const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	lfMask = '\n' * lsb
	crMask = '\r' * lsb
)

// zeroBytes sets the high bit of the lowest zero byte of v (and possibly of
// higher bytes, which callers ignore by taking the lowest set bit only).
func zeroBytes(v uint64) uint64 { return (v - lsb) &^ v & msb }

// bstr views b as a string without copying; callers must not modify b while
// the string is in use.
func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// uniqueNames turns a raw header into usable column names. Names the file
// spells out win over generated ones: the first occurrence of every
// non-blank name keeps it, then blanks get "column_N" and repeats get the
// first free "_K" suffix, so a, a, a_2 becomes a, a_3, a_2.
func uniqueNames(raw []string) []string {
	names := make([]string, len(raw))
	used := make(map[string]bool, len(raw))
	keep := make([]bool, len(raw))
	for i, s := range raw {
		s = strings.TrimFunc(s, func(c rune) bool { return unicode.IsSpace(c) || c == '\uFEFF' })
		names[i] = strings.Clone(s)
		if s != "" && !used[s] {
			used[s] = true
			keep[i] = true
		}
	}
	for i, n := range names {
		if keep[i] {
			continue
		}
		if n == "" {
			n = "column_" + strconv.Itoa(i+1)
		}
		c := n
		for k := 2; used[c]; k++ {
			c = n + "_" + strconv.Itoa(k)
		}
		names[i] = c
		used[c] = true
	}
	return names
}
