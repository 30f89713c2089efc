package csvio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Finding where a record starts in the middle of a file, without reading
// it from the start, is what lets several goroutines read one file. The
// difficulty is quotes: a line break inside a quoted field is data, and a
// stretch of bytes does not say whether it lies inside quotes. The scan
// below therefore follows every state the reader could be in at the offset
// it starts from (at the start of a field, inside an unquoted field, inside
// a quoted field, just after a quote inside one, or in a record read with
// its quotes taken literally because it ran past 16 MiB), all at once, byte
// by byte, with the reader's own rules (the stray-quote repair included).
// Where every one of them has just ended a record, a record certainly
// starts, whatever came before. Such a point usually follows within a few
// records: a quote followed by a delimiter or a line break is a closing
// quote in every reading, and the repair of a quote followed by text ends
// a misread quoted field at the next delimiter.
//
// Without any quote, nothing decides whether the bytes lie inside a quoted
// field that opened earlier; then only a guess is possible: the first
// record start unless the offset lay inside quotes (Boundary.Certain is
// false). A caller that reads the part before the guess with a fragment
// Reader learns whether it was right (see Fragment).

// The states the scan follows, one bit each in a set.
const (
	stRecord  = iota // at the start of a record (a line break was just read)
	stField          // at the start of a field after a delimiter
	stBare           // inside an unquoted field, or the text after a stray closing quote
	stQuoted         // inside a quoted field
	stQuote          // just after a quote inside a quoted field
	stLiteral        // inside a record read with its quotes taken literally
	nStates
)

// Byte classes of the scan.
const (
	clOther = iota
	clDelim
	clQuote
	clBreak // LF or CR
	nClasses
)

// MaxBoundaryScan bounds how far FindBoundary looks past the offset it
// starts from, and how much a BoundaryScanner's caller should feed it.
// Within it, a certain answer is certain
// even next to records of more than 16 MiB (read with their quotes taken
// literally): every record that starts inside the scan and ends before the
// answer is shorter than 16 MiB even once decoded (a byte becomes at most
// three), so the reader reads it normally.
const MaxBoundaryScan = 4 << 20

// ErrSplitEncoding is FindBoundary's answer for UTF-16: its delimiters
// and line breaks are two bytes, which a byte scan cannot find safely.
var ErrSplitEncoding = errors.New("csvio: UTF-16 bytes cannot be split at records")

// Boundary is where a scan found a record to start.
type Boundary struct {
	// Offset is the first offset at or after the scan's start where a
	// record starts (Certain) or would start unless the scan's start lay
	// inside a quoted field; -1 when the scan found neither. A CRLF is
	// never split: Offset follows its LF.
	Offset int64
	// Certain reports that a record starts at Offset whatever the
	// reader's state at the scan's start.
	Certain bool
}

// transitions[set][class] is the set of states after reading a byte of
// class from each state of set; one table for each quoting rule.
type transitions [1 << nStates][nClasses]uint8

var strictTable, lazyTable = buildTransitions(false), buildTransitions(true)

// buildTransitions spells the reader's parse (Reader.parse) as a state
// machine over byte classes. lazy is Dialect.Unverified's rule: a quote
// inside quotes that is followed by neither a delimiter, a line break nor
// another quote is data.
func buildTransitions(lazy bool) *transitions {
	var one [nStates][nClasses]uint8
	for _, st := range []int{stRecord, stField} {
		one[st] = [nClasses]uint8{clOther: stBare, clDelim: stField, clQuote: stQuoted, clBreak: stRecord}
	}
	one[stBare] = [nClasses]uint8{clOther: stBare, clDelim: stField, clQuote: stBare, clBreak: stRecord}
	one[stQuoted] = [nClasses]uint8{clOther: stQuoted, clDelim: stQuoted, clQuote: stQuote, clBreak: stQuoted}
	// After a quote inside quotes: another quote is a doubled one, a
	// delimiter or a line break closes the field, and anything else is
	// the stray-quote repair (the field goes on unquoted) or, lazily, data.
	one[stQuote] = [nClasses]uint8{clOther: stBare, clDelim: stField, clQuote: stQuoted, clBreak: stRecord}
	if lazy {
		one[stQuote][clOther] = stQuoted
	}
	one[stLiteral] = [nClasses]uint8{clOther: stLiteral, clDelim: stLiteral, clQuote: stLiteral, clBreak: stRecord}
	t := new(transitions)
	for set := range t {
		for c := 0; c < nClasses; c++ {
			var next uint8
			for st := 0; st < nStates; st++ {
				if set&(1<<st) != 0 {
					next |= 1 << one[st][c]
				}
			}
			t[set][c] = next
		}
	}
	return t
}

const (
	// everyState is what the reader may be in at an arbitrary offset.
	everyState = 1<<stField | 1<<stBare | 1<<stQuoted | 1<<stQuote | 1<<stLiteral
	// outsideQuotes is everyState less the states inside a quoted field:
	// the guess Boundary.Certain=false stands for.
	outsideQuotes = 1<<stField | 1<<stBare | 1<<stLiteral
	atRecord      = 1 << stRecord
)

// BoundaryScanner finds a record boundary in bytes fed to it in pieces, for
// callers that already hold the bytes (a stream being read); FindBoundary
// is the same over an io.ReaderAt.
type BoundaryScanner struct {
	table     *transitions
	class     [256]uint8
	all       uint8 // every state still possible
	guess     uint8 // the states possible unless the start was inside quotes
	n         int64 // bytes fed before the current piece
	guessAt   int64 // offset of the first guess, -1 before
	certainAt int64 // -1 before
	pendingCR uint8 // 1: the byte before n was a CR that ended the records of all (2) or of guess (1)
}

// NewBoundaryScanner returns a scanner for bytes in Dialect d, starting at
// an arbitrary offset of a file other than its first three (a file's start
// is always a record start, and a byte order mark there is skipped). UTF-16 is ErrSplitEncoding, an impossible
// delimiter an error.
func NewBoundaryScanner(d Dialect) (*BoundaryScanner, error) {
	switch d.Encoding {
	case EncodingUTF16LE, EncodingUTF16BE:
		return nil, ErrSplitEncoding
	}
	delim := d.Delimiter
	if delim == 0 {
		delim = ','
	}
	switch delim {
	case '"', '\n', '\r':
		return nil, fmt.Errorf("csvio: invalid delimiter %q", delim)
	}
	s := &BoundaryScanner{table: strictTable, all: everyState, guess: outsideQuotes, guessAt: -1, certainAt: -1}
	if d.Unverified {
		s.table = lazyTable
	}
	s.class[delim] = clDelim
	s.class['"'] = clQuote
	s.class['\n'] = clBreak
	s.class['\r'] = clBreak
	return s, nil
}

// Feed scans the next bytes and reports whether the answer is final: a
// certain boundary was found (a guess may still turn certain later). Once
// it is, further bytes are ignored.
func (s *BoundaryScanner) Feed(b []byte) (done bool) {
	if s.certainAt >= 0 {
		return true
	}
	t := s.table
	all, guess := s.all, s.guess
	for i, c := range b {
		cl := s.class[c]
		if s.pendingCR != 0 {
			// A record ended with a CR just before: an LF here belongs to
			// it (CRLF), so the boundary is after the LF.
			at := s.n + int64(i)
			if c == '\n' {
				at++
			}
			if s.pendingCR == 2 {
				s.certainAt = at
				if s.guessAt < 0 {
					s.guessAt = at
				}
				s.all, s.guess = all, guess
				return true
			}
			if s.guessAt < 0 {
				s.guessAt = at
			}
			s.pendingCR = 0
		}
		all, guess = t[all][cl], t[guess][cl]
		if cl != clBreak {
			continue
		}
		switch {
		case all == atRecord && c == '\r':
			s.pendingCR = 2
		case all == atRecord:
			s.certainAt = s.n + int64(i) + 1
			if s.guessAt < 0 {
				s.guessAt = s.certainAt
			}
			s.all, s.guess = all, guess
			return true
		case guess == atRecord && s.guessAt < 0 && c == '\r':
			s.pendingCR = 1
		case guess == atRecord && s.guessAt < 0:
			s.guessAt = s.n + int64(i) + 1
		}
	}
	s.n += int64(len(b))
	s.all, s.guess = all, guess
	return false
}

// Result returns the boundary found so far, relative to the first byte
// fed. atEOF says the bytes fed run to the end of the file: a CR at their
// very end then ends a record without waiting for a possible LF, and the
// end itself is a boundary (an empty rest) when nothing came before.
func (s *BoundaryScanner) Result(atEOF bool) Boundary {
	if s.certainAt >= 0 {
		return Boundary{Offset: s.certainAt, Certain: true}
	}
	if atEOF {
		if s.pendingCR == 2 {
			return Boundary{Offset: s.n, Certain: true}
		}
		if s.pendingCR == 1 && s.guessAt < 0 {
			return Boundary{Offset: s.n}
		}
		// The end of the file is where the next record would start in
		// every reading: there is none.
		return Boundary{Offset: s.n, Certain: true}
	}
	return Boundary{Offset: s.guessAt}
}

// FindBoundary scans r from offset off (at most to end, and at most
// MaxBoundaryScan bytes) for the first offset where a record certainly
// starts (see the comment at the top of this file). An offset of 0 or less
// is the file's start and always one. When the scan reaches end and end is
// size (the object's length), the end is one too. Otherwise, when no
// certain boundary lies within the scan, the answer is the guess
// (Certain false), or an Offset of -1. Offsets are absolute.
func FindBoundary(r io.ReaderAt, size int64, d Dialect, off, end int64) (Boundary, error) {
	if off <= 0 {
		return Boundary{Offset: 0, Certain: true}, nil
	}
	s, err := NewBoundaryScanner(d)
	if err != nil {
		return Boundary{}, err
	}
	end = min(end, size, off+MaxBoundaryScan)
	if off >= end {
		if off >= size {
			return Boundary{Offset: size, Certain: true}, nil
		}
		return Boundary{Offset: -1}, nil
	}
	buf := make([]byte, min(end-off, 32<<10))
	if off < int64(len(bomUTF8)) && (d.Encoding == "" || d.Encoding == EncodingUTF8 || d.Encoding == EncodingUTF8BOM) {
		// Inside a leading byte order mark, which the reader skips (in
		// UTF-8; the 8-bit encodings read its bytes as text): the first
		// record starts after it, in a known state.
		n, _ := r.ReadAt(buf[:min(len(buf), len(bomUTF8))], 0)
		if bytes.Equal(buf[:n], bomUTF8) {
			off = int64(len(bomUTF8))
			s.all, s.guess = atRecord, atRecord
		}
	}
	pos := off
	for pos < end {
		n := int(min(int64(len(buf)), end-pos))
		n, err := r.ReadAt(buf[:n], pos)
		if n > 0 && s.Feed(buf[:n]) {
			break
		}
		pos += int64(n)
		if err == io.EOF {
			size = pos
			break
		}
		if err != nil {
			return Boundary{}, fmt.Errorf("csvio: read at %d: %w", pos, err)
		}
	}
	b := s.Result(pos >= size)
	if b.Offset >= 0 {
		b.Offset += off
	}
	return b, nil
}
