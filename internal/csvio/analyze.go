package csvio

import (
	"bufio"
	"io"
	"sync"
)

// sniffReaders holds the buffered readers Analyze sniffs through, for the
// same reason as bufPool.
var sniffReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, SniffSize) }}

// Summary is the result of Analyze.
type Summary struct {
	Dialect Dialect
	Header  []string // unique column names, as Reader.Header returns them
	Rows    int64    // data records, header and blank lines excluded
	Columns []Column
	Ragged  int64 // data records with more or fewer cells than the header
}

// Analyze reads a whole stream of raw file bytes once: it sniffs the first
// SniffSize bytes, then profiles the header and every record. A file whose
// only content is the header row is valid and has 0 rows. Rejected input
// gives a *NotCSVError.
//
// Analyze stops reading at the first error. When it consumes an io.Pipe
// whose bytes also go elsewhere, the caller must close the pipe's reader
// with that error (PipeReader.CloseWithError) so that the writer does not
// block forever.
func Analyze(r io.Reader) (Summary, error) { return AnalyzeLimited(r, Limits{}) }

// Limits bound what Analyze accepts; zero values do not limit.
type Limits struct {
	// MaxColumns refuses a wider header with a *TooManyColumnsError,
	// before it takes more memory than that many columns.
	MaxColumns int
}

// AnalyzeLimited is Analyze within limits.
func AnalyzeLimited(r io.Reader, limits Limits) (Summary, error) {
	br := sniffReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil)
		sniffReaders.Put(br)
	}()
	prefix, err := br.Peek(SniffSize)
	if err != nil && err != io.EOF {
		return Summary{}, err
	}
	d, err := Sniff(prefix)
	if err != nil {
		return Summary{}, err
	}
	rd := NewReader(br, d)
	defer rd.release()
	rd.SetMaxColumns(limits.MaxColumns)
	header, err := rd.Header()
	if err == io.EOF {
		return Summary{}, &NotCSVError{reasonNoHeader}
	}
	if err != nil {
		return Summary{}, err
	}
	p := NewProfiler(header)
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, err
		}
		p.Add(rec)
	}
	return Summary{
		Dialect: d,
		Header:  header,
		Rows:    p.Rows(),
		Columns: p.Columns(),
		Ragged:  rd.Ragged(),
	}, nil
}
