package csvio

import (
	"encoding/binary"
	"io"
	"strings"
	"unsafe"
)

const writerBufSize = 64 << 10

// Writer writes RFC 4180 CSV with commas and "\n" line endings, like
// encoding/csv's default. It appends into its own buffer, which avoids the
// per-call overhead of bufio.Writer and allocates nothing per row; call
// Flush at the end.
type Writer struct {
	w   io.Writer
	buf []byte
	err error
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, writerBufSize)}
}

// needsQuote marks bytes that force a field into quotes anywhere in it.
var needsQuote = [256]bool{',': true, '"': true, '\r': true, '\n': true}

// Write writes one record. A record made of a single empty field is written
// as "" because an empty line would be skipped as blank when read back.
func (w *Writer) Write(record []string) error {
	if w.err != nil {
		return w.err
	}
	if len(record) == 1 && record[0] == "" {
		w.buf = append(w.buf, '"', '"', '\n')
	} else {
		for i, f := range record {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.field(f)
		}
		w.buf = append(w.buf, '\n')
	}
	return w.maybeFlush()
}

// WriteSelected writes record[idx[0]], record[idx[1]], ... as one record, so
// that cutting columns needs no intermediate slice. An index outside record
// writes an empty field.
func (w *Writer) WriteSelected(record []string, idx []int) error {
	if w.err != nil {
		return w.err
	}
	if len(idx) == 1 && cell(record, idx[0]) == "" {
		w.buf = append(w.buf, '"', '"', '\n')
	} else {
		for i, j := range idx {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.field(cell(record, j))
		}
		w.buf = append(w.buf, '\n')
	}
	return w.maybeFlush()
}

func cell(record []string, i int) string {
	if uint(i) < uint(len(record)) {
		return record[i]
	}
	return ""
}

// field appends f, quoted if a reader could otherwise misread it: leading
// spaces are quoted because some readers trim them, and `\.` because
// PostgreSQL's COPY takes it for end of data.
func (w *Writer) field(f string) {
	if !fieldNeedsQuotes(f) {
		w.buf = append(w.buf, f...)
		return
	}
	w.buf = append(w.buf, '"')
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			break
		}
		w.buf = append(w.buf, f[:i+1]...)
		w.buf = append(w.buf, '"')
		f = f[i+1:]
	}
	w.buf = append(w.buf, f...)
	w.buf = append(w.buf, '"')
}

func fieldNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f[0] == ' ' || f[0] == '\t' {
		return true
	}
	if n := len(f); n >= 8 {
		// Eight bytes at a time, the last word overlapping the one before.
		p := unsafe.StringData(f)
		for i := 0; ; i += 8 {
			if i > n-8 {
				i = n - 8
			}
			v := binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), i)), 8))
			if zeroBytes(v^commaMask)|zeroBytes(v^quoteMask)|zeroBytes(v^lfMask)|zeroBytes(v^crMask) != 0 {
				return true
			}
			if i == n-8 {
				return false
			}
		}
	}
	for i := 0; i < len(f); i++ {
		if needsQuote[f[i]] {
			return true
		}
	}
	return f == `\.`
}

const (
	commaMask = ',' * lsb
	quoteMask = '"' * lsb
)

func (w *Writer) maybeFlush() error {
	if len(w.buf) < writerBufSize {
		return nil
	}
	return w.Flush()
}

// Flush writes buffered data to the underlying writer. Errors are sticky:
// after one, every call returns it.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) > 0 {
		_, w.err = w.w.Write(w.buf)
		if cap(w.buf) > 4*writerBufSize {
			// A huge record grew the buffer; do not keep that memory.
			w.buf = make([]byte, 0, writerBufSize)
		} else {
			w.buf = w.buf[:0]
		}
	}
	return w.err
}
