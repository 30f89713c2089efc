package files

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/csvio"
)

// The cut on several cores. A planner splits the object into parts of
// about cutChunk bytes at record boundaries (csvio.FindBoundary, over range
// reads of the bucket), workers cut parts at once, each through its own
// range reader, fragment Reader, predicate and Writer, into pieces of
// output, and the caller's goroutine writes the pieces part after part, so
// the output is the one-core cut's, byte for byte: the Writer's output is
// the concatenation of each record's bytes.
//
// Correctness does not rest on the boundaries: a part's fragment Reader
// checks that its end is a record boundary (csvio.ErrFragmentUnsure
// otherwise), and the first part starts at the file's start, so every part
// whose predecessors ended cleanly starts where a record does. A part that
// does not end cleanly (a guessed boundary inside a quoted field, a record
// of 8 MiB or more, a read error) stops after the records it can vouch for;
// its pieces so far are written, the other parts are dropped, and the rest
// of the file is cut on one core from that part's start, skipping the rows
// already written, so even then the bytes, the row indexes (row
// provenance) and the errors are the one-core cut's.
//
// Memory is bounded: at most workers+2 parts are planned and not yet
// written, and each holds at most cutChunk bytes of output (a worker whose
// part is not the one being written waits when its pieces fill that), plus
// each worker's read buffers.

const (
	// cutChunk is the bytes of the object in one part: enough to make the
	// boundary scans and hand-overs negligible, few enough that both cores
	// finish together.
	cutChunk = 4 << 20
	// cutScan is how far past a part's nominal end one boundary scan
	// looks; a record usually ends within a few hundred bytes, and where
	// the scan only guesses, the part before checks the guess.
	cutScan = 64 << 10
	// pieceSize is the size of a piece of output (the Writer's buffer).
	pieceSize = 64 << 10
)

// cutPart is one part of a parallel cut: the object's bytes [start, end),
// end -1 meaning to its end.
type cutPart struct {
	start, end  int64
	first, last bool
	out         chan cutPiece
	// Set by the worker before out is closed.
	rows  int64 // data records read and vouched for, each index below rows
	kept  int64 // of them, rows the selection kept
	lines int64 // physical records read, blank lines included
	err   error // csvio.ErrFragmentUnsure, a read error, or a cancellation
}

// cutPiece is a stretch of a part's output, with the part's row indexes
// of the rows whose bytes it holds when provenance is recorded.
type cutPiece struct {
	b    *[]byte
	kept []int64
}

var piecePool = sync.Pool{New: func() any { b := make([]byte, 0, pieceSize+pieceSize/4); return &b }}

// cutWorkersFor returns how many workers cut f: one unless several are
// configured, the object is large enough to split and its encoding can be
// split at byte level.
func (s *Service) cutWorkersFor(f *File) int {
	if s.cutWorkers <= 1 || f.ObjectKey == nil || f.Size < 2*s.cutChunk {
		return 1
	}
	if _, err := csvio.NewBoundaryScanner(f.Dialect()); err != nil {
		return 1
	}
	return s.cutWorkers
}

// cutParallel writes the rows of f that sel keeps to out (the header is
// already written) with the given number of workers; see the comment at
// the top of this file.
func (s *Service) cutParallel(ctx context.Context, f *File, sel *Selection, out io.Writer, rec *rowsRecorder, workers int) (kept int64, err error) {
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop := func() {
		cancel()
		wg.Wait()
	}
	defer stop()
	order := make(chan *cutPart, workers)
	parts := make(chan *cutPart)
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.planCut(wctx, f, order, parts)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One read buffer, Writer and sink for all of a worker's
			// parts: allocating them per part kept the collector busy,
			// and its write barriers slowed the parse.
			sink := &pieceSink{ctx: wctx}
			w := &cutWorker{br: bufio.NewReaderSize(nil, 256<<10), sink: sink, cw: csvio.NewWriter(sink)}
			for p := range parts {
				s.cutPart(wctx, f, sel, p, w, rec != nil)
			}
		}()
	}
	var base, line int64 // rows and physical records before the part
	for p := range order {
		for pc := range p.out {
			if _, err := out.Write(*pc.b); err != nil {
				// The deferred stop ends the workers.
				return kept, err
			}
			for _, i := range pc.kept {
				rec.add(base + i)
			}
			if cap(*pc.b) <= 2*pieceSize {
				piecePool.Put(pc.b) // a piece that grew for a long record is left to the collector
			}
		}
		kept += p.kept
		if p.err != nil {
			if ctx.Err() != nil {
				return kept, ctx.Err()
			}
			// What this part could not vouch for, and everything after
			// it, is cut on one core (see the top of this file).
			stop()
			s.log.DebugContext(ctx, "parallel cut goes on on one core", "file", f.ID, "offset", p.start, "rows", base+p.rows, "reason", p.err)
			n, err := s.cutRest(ctx, f, sel, out, rec, p, base, line)
			return kept + n, err
		}
		base += p.rows
		line += p.lines
	}
	return kept, ctx.Err()
}

// planCut cuts f's object into parts at record boundaries and hands each
// to the writer (order) and then to a worker (parts), in file order.
func (s *Service) planCut(ctx context.Context, f *File, order, parts chan<- *cutPart) {
	defer close(order)
	defer close(parts)
	ra := &bucketAt{ctx: ctx, s: s, key: *f.ObjectKey}
	d := f.Dialect()
	var start int64
	for first := true; ; first = false {
		// A part holds at most cutChunk bytes of output in pieces.
		p := &cutPart{start: start, end: -1, first: first, last: true, out: make(chan cutPiece, max(4, s.cutChunk/pieceSize))}
		for next := start + s.cutChunk; next+s.cutChunk/2 < f.Size; next += s.cutScan {
			b, err := csvio.FindBoundary(ra, f.Size, d, next, next+s.cutScan)
			if err != nil {
				// The part reads to the end; should the bucket fail it,
				// the one-core cut after it reports why.
				break
			}
			if b.Offset >= 0 {
				if b.Offset < f.Size {
					p.end, p.last = b.Offset, false
				}
				break
			}
		}
		select {
		case order <- p:
		case <-ctx.Done():
			return
		}
		select {
		case parts <- p:
		case <-ctx.Done():
			// No worker took the part the writer waits for.
			p.err = ctx.Err()
			close(p.out)
			return
		}
		if p.last {
			return
		}
		start = p.end
	}
}

// cutWorker is what a worker reuses from part to part.
type cutWorker struct {
	br   *bufio.Reader
	sink *pieceSink
	cw   *csvio.Writer
}

// cutPart cuts one part into pieces of output.
func (s *Service) cutPart(ctx context.Context, f *File, sel *Selection, p *cutPart, w *cutWorker, withKept bool) {
	defer close(p.out)
	sink, cw := w.sink, w.cw
	sink.out, sink.kept = p.out, nil
	rows, lines, err := s.scanPart(ctx, f, p.start, p.end, csvio.Fragment{Start: p.first, Last: p.last}, 0, w.br,
		func(i int64, row []string) (bool, error) {
			if sel.Match != nil && !sel.Match(row) {
				return true, nil
			}
			if withKept {
				sink.kept = append(sink.kept, i)
			}
			p.kept++
			return true, cw.WriteSelected(row, sel.Index)
		})
	if ferr := cw.Flush(); err == nil {
		err = ferr
	}
	if err == nil && len(sink.kept) > 0 {
		err = sink.send(nil)
	}
	p.rows, p.lines, p.err = rows, lines, err
}

// cutRest cuts f on one core from part p's start, whose first p.rows rows
// were written already; base and line count the rows and physical records
// before p.
func (s *Service) cutRest(ctx context.Context, f *File, sel *Selection, out io.Writer, rec *rowsRecorder, p *cutPart, base, line int64) (kept int64, err error) {
	cw := csvio.NewWriter(out)
	skip := base + p.rows
	emit := func(i int64, row []string) (bool, error) {
		if i < skip || (sel.Match != nil && !sel.Match(row)) {
			return true, nil
		}
		if rec != nil {
			rec.add(i)
		}
		kept++
		return true, cw.WriteSelected(row, sel.Index)
	}
	if p.first {
		// The whole file, through the same reader as a one-core cut, so
		// that a bucket without range reads gets its cut too.
		err = s.scan(ctx, f, emit)
	} else {
		_, _, err = s.scanPart(ctx, f, p.start, -1, csvio.Fragment{Last: true, Line: line}, base, bufio.NewReaderSize(nil, 256<<10), emit)
	}
	if err != nil {
		return kept, err
	}
	return kept, cw.Flush()
}

// scanPart streams the data rows of f's object from start to end (-1: to
// its end) as the fragment fr, the first of them having index base, as
// scan does for a whole file. It returns the rows emit took and the
// physical records read.
func (s *Service) scanPart(ctx context.Context, f *File, start, end int64, fr csvio.Fragment, base int64, br *bufio.Reader, emit func(index int64, row []string) (bool, error)) (rows, lines int64, err error) {
	n := int64(-1)
	if end >= 0 {
		n = end - start
	}
	r, err := s.openRange(ctx, *f.ObjectKey, start, n)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: open object: %v", apperr.ErrUnavailable, err)
	}
	defer r.Close()
	br.Reset(r)
	// Rows as wide as the profile, as scan makes them. The first part's
	// may be wider, should the header be; cells at or beyond the
	// profile's columns are read by neither the predicate nor the writer.
	fr.Width = len(f.Columns())
	cr := csvio.NewFragmentReader(br, f.Dialect(), fr)
	defer cr.Release()
	if fr.Start {
		if _, err := cr.Header(); err != nil {
			return 0, cr.Consumed(), headerError(err)
		}
	}
	for i := base; ; i++ {
		if i&1023 == 0 && ctx.Err() != nil {
			return rows, cr.Consumed(), ctx.Err()
		}
		row, err := cr.Read()
		if err == io.EOF {
			return rows, cr.Consumed(), nil
		}
		if err != nil {
			if errors.Is(err, csvio.ErrFragmentUnsure) {
				return rows, cr.Consumed(), err
			}
			return rows, cr.Consumed(), fmt.Errorf("read row %d: %w", i+1, err)
		}
		more, err := emit(i, row)
		if err != nil {
			return rows, cr.Consumed(), err
		}
		rows++
		if !more {
			return rows, cr.Consumed(), nil
		}
	}
}

// headerError is scan's error for a header that cannot be read; a fragment
// that ends before its header does is unsure, not wrong.
func headerError(err error) error {
	if errors.Is(err, csvio.ErrFragmentUnsure) {
		return err
	}
	return fmt.Errorf("read header: %w", err)
}

// pieceSink is a part's Writer's destination: it copies each flush into a
// piece and hands it over, waiting while the part holds cutPieces of them.
type pieceSink struct {
	ctx  context.Context
	out  chan<- cutPiece
	kept []int64 // indexes of the kept rows not handed over yet
}

func (p *pieceSink) Write(b []byte) (int, error) {
	if err := p.send(b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *pieceSink) send(b []byte) error {
	buf := piecePool.Get().(*[]byte)
	*buf = append((*buf)[:0], b...)
	select {
	case p.out <- cutPiece{b: buf, kept: p.kept}:
		p.kept = nil
		return nil
	case <-p.ctx.Done():
		piecePool.Put(buf)
		return p.ctx.Err()
	}
}

// bucketAt reads an object at offsets (io.ReaderAt) through range reads,
// for the boundary scans.
type bucketAt struct {
	ctx context.Context
	s   *Service
	key string
}

func (b *bucketAt) ReadAt(p []byte, off int64) (int, error) {
	r, err := b.s.openRange(b.ctx, b.key, off, int64(len(p)))
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := io.ReadFull(r, p)
	if err == io.ErrUnexpectedEOF || (err == io.EOF && n == 0) {
		err = io.EOF
	}
	return n, err
}
