package csvio

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// Analyze on several cores: the records after the header are cut into
// chunks at record boundaries as the bytes arrive, each chunk is parsed and
// profiled on its own by one of a few workers, and the profiles are merged
// in file order (Profiler.merge), which gives exactly the profile one
// reader would have made.
//
// Where a record ends is known without parsing: a quote opens a quoted
// field only at the start of a field (after a delimiter, a line break, or
// at the start of a record), and inside one only a quote can end it, so
// following the quotes alone (quoteScan) tells which line breaks are
// outside quoted fields, and those end records. The reader's only other
// rule that decides where a record ends, reading quotes as ordinary
// characters once a quoted field would outgrow the 16 MiB buffer, cannot
// apply within a chunk: a record longer than a chunk stops the cutting,
// and one reader analyses the rest, from the start of that record, as
// Analyze always did, with the bytes held so far as its first buffer. So
// does the end of the input: the bytes after the last full chunk, an
// error of the source, or a file smaller than a chunk go through one
// reader too.

// chunking says how Analyze cuts a file for several workers.
type chunking struct {
	workers int // at most this many chunks analysed at once; below 2, no cutting
	size    int // bytes a chunk is filled to before it is cut at its last record end
}

// quoteScan follows the reader's quoting over the raw bytes of a run of
// records that starts at the start of a record, looking only at quotes
// (see above). It is incremental: scan takes the bytes that arrived since
// the last call.
type quoteScan struct {
	delim byte
	in    bool // inside a quoted field
	pos   int  // bytes scanned
	// outs are the stretches scanned outside quoted fields, in order: the
	// line breaks in them end records.
	outs [][2]int
}

// scan goes on over buf, which extends what the previous calls saw. A
// quote inside a quoted field is decided by the byte after it: at the end
// of buf it waits for the next call.
func (s *quoteScan) scan(buf []byte) {
	p := s.pos
	for p < len(buf) {
		i := bytes.IndexByte(buf[p:], '"')
		if !s.in {
			q := len(buf)
			if i >= 0 {
				q = p + i
			}
			if n := len(s.outs); n > 0 && s.outs[n-1][1] == p {
				s.outs[n-1][1] = q
			} else if q > p {
				s.outs = append(s.outs, [2]int{p, q})
			}
			if i < 0 {
				p = q
				break
			}
			// A quote later in a field is data.
			s.in = q == 0 || buf[q-1] == s.delim || buf[q-1] == '\n' || buf[q-1] == '\r'
			p = q + 1
			continue
		}
		if i < 0 {
			p = len(buf)
			break
		}
		q := p + i
		if q+1 == len(buf) {
			p = q
			break
		}
		if buf[q+1] == '"' {
			p = q + 2 // a doubled quote
			continue
		}
		// The field's quoted part ends (what follows up to the next
		// delimiter or line break, if anything, is unquoted).
		s.in = false
		p = q + 1
	}
	s.pos = p
}

// lastEnd returns the end of the last record within buf[:limit] of what
// was scanned: the offset just after its line break, or 0 when no record
// ended there.
func (s *quoteScan) lastEnd(buf []byte, limit int) int {
	for k := len(s.outs) - 1; k >= 0; k-- {
		o := s.outs[k]
		if o[0] >= limit {
			continue
		}
		if i := bytes.LastIndexByte(buf[o[0]:min(o[1], limit)], '\n'); i >= 0 {
			return o[0] + i + 1
		}
	}
	return 0
}

// shift drops the first n scanned bytes, which end with a record: what
// follows is scanned as if it had started there.
func (s *quoteScan) shift(n int) {
	k := 0
	for _, o := range s.outs {
		if o[1] > n {
			s.outs[k] = [2]int{max(o[0]-n, 0), o[1] - n}
			k++
		}
	}
	s.outs = s.outs[:k]
	s.pos -= n
}

// chunkJob is a chunk of records and, once done holds a token, its
// analysis.
type chunkJob struct {
	data      []byte // the records, from the start of one to the end of another
	buf       []byte // data's buffer, to give back
	maybeHigh bool   // a byte above 0x7F may be in data
	altOrders int
	done      chan struct{} // a token when the analysis is done

	prof                    *Profiler // the job's own, reset for each chunk
	short, long, repaired   int64
	crEnds, lfEnds, records int64 // records: rd.recNo's count (blank lines included)
	err                     error
}

// profileChunks reads every record after rd's header into p, cut into
// chunks (see above) that up to c.workers goroutines analyse at once, and
// adds the chunks' counts to rd's, as if rd had read them all. The memory
// it holds is bounded: c.workers+2 chunks, and profilers for the chunks
// between the one being merged and the one being cut.
func profileChunks(rd *Reader, p *Profiler, cen *census, c chunking) (chunks int, err error) {
	nbuf := c.workers + 2
	// Chunk buffers are made as they are needed, at most nbuf: a file
	// whose first record is longer than a chunk takes one, which becomes
	// the reader's buffer.
	free := make(chan []byte, nbuf)
	made := 0
	getBuf := func() []byte {
		select {
		case b := <-free:
			return b
		default:
		}
		if made < nbuf {
			made++
			return make([]byte, 0, c.size)
		}
		return <-free
	}
	jobs := make(chan *chunkJob, nbuf)
	order := make(chan *chunkJob, nbuf)
	proto := rd.resume(nil)

	// Jobs and their profilers go round: a worker takes a profiler, the
	// merger gives it back with the job, so that the chunks of a large
	// file allocate nothing (which would raise the process's peak memory
	// by the garbage collector's slack).
	spare := make(chan *chunkJob, 2*nbuf+c.workers)
	getJob := func() *chunkJob {
		select {
		case j := <-spare:
			return j
		default:
			return &chunkJob{done: make(chan struct{}, 1), prof: NewProfiler(rd.raw)}
		}
	}
	grow, eightBit := p.grow, p.eightBit
	var workers sync.WaitGroup
	for range c.workers {
		workers.Go(func() {
			b := batches.Get().(*batch)
			defer batches.Put(b)
			var cr Reader
			for job := range jobs {
				analyseChunk(job, proto, &cr, grow, eightBit, b)
				giveBack(free, job.buf, c.size)
				job.done <- struct{}{}
			}
		})
	}
	// The merger takes the chunks in file order, as they are done.
	var failed atomic.Bool
	var mergeErr error
	merged := make(chan struct{})
	go func() {
		defer close(merged)
		for job := range order {
			<-job.done
			switch {
			case mergeErr != nil:
			case job.err != nil:
				var wide *TooManyColumnsError
				if errors.As(job.err, &wide) {
					wide.Line += rd.recNo
				}
				mergeErr = job.err
				failed.Store(true)
			default:
				p.merge(job.prof)
				rd.short += job.short
				rd.long += job.long
				rd.repaired += job.repaired
				rd.crEnds += job.crEnds
				rd.lfEnds += job.lfEnds
				rd.recNo += job.records
			}
			job.data, job.buf, job.err = nil, nil, nil
			select {
			case spare <- job:
			default:
			}
		}
	}()

	// Cut: pending holds the bytes from the start of a record on. A
	// buffer that is not a chunk's size is dropped once replaced; a
	// chunk's goes back to free.
	replace := func(old []byte, size int) []byte {
		giveBack(free, old, c.size)
		return make([]byte, 0, size)
	}
	pending := getBuf()
	if left := rd.end - rd.pos; left > cap(pending) {
		pending = replace(pending, left)
	}
	pending = append(pending, rd.buf[rd.pos:rd.end]...)
	rd.pos = rd.end
	scan := quoteScan{delim: rd.delim}
	scan.scan(pending)
	alts := p.altOrders
	if rd.lfEnds > 0 {
		alts = 1 // see profileAll
	}
	// What one reader analyses after the chunks: pending, then rest
	// unless the end came (done).
	var rest io.Reader
	done := false
	empty := 0
	for !done && rest == nil && !failed.Load() {
		if len(pending) >= c.size {
			// A chunk of about c.size bytes, or of one longer record.
			end := scan.lastEnd(pending, c.size)
			if end == 0 {
				end = scan.lastEnd(pending, len(pending))
			}
			if end > 0 {
				// Every chunk ends a record with LF: Mac Roman, which
				// needs CR-only lines, is out (see profileAll).
				if alts > 1 {
					alts = 1
					cen.noMac.Store(true)
				}
				job := getJob()
				job.data, job.buf, job.maybeHigh, job.altOrders = pending[:end], pending, cen.high, alts
				next := getBuf()
				if left := len(pending) - end; left > cap(next) {
					next = replace(next, 2*left)
				}
				pending = append(next, pending[end:]...)
				scan.shift(end)
				order <- job
				jobs <- job
				chunks++
				continue
			}
			// A record longer than a chunk: one reader goes on.
			rest = rd.src
			break
		}
		n, err := rd.src.Read(pending[len(pending):cap(pending)])
		pending = pending[:len(pending)+n]
		scan.scan(pending)
		if n == 0 && err == nil {
			if empty++; empty >= 100 {
				err = io.ErrNoProgress // as Reader.fill
			}
		}
		switch {
		case err == io.EOF:
			done = true
		case err != nil:
			rest = errorReader{err}
		}
	}
	close(jobs)
	workers.Wait()
	close(order)
	<-merged
	if mergeErr != nil {
		return chunks, mergeErr
	}
	if !done && rest == nil {
		return chunks, nil // stopped early: cannot happen without mergeErr
	}
	// The rest, from the start of a record, by one reader as before,
	// which starts with pending as its buffer.
	tr := rd.resume(rest)
	defer tr.release()
	tr.buf, tr.end, tr.eof = pending[:cap(pending)], len(pending), done
	tr.recNo = rd.recNo
	// p is the profile of every record before tr's: tr's records go on
	// into it.
	p.altOrders = alts
	if err := profileAll(tr, p, cen); err != nil {
		return chunks, err
	}
	rd.short += tr.short
	rd.long += tr.long
	rd.repaired += tr.repaired
	rd.crEnds += tr.crEnds
	rd.lfEnds += tr.lfEnds
	rd.recNo = tr.recNo
	return chunks, nil
}

// analyseChunk parses and profiles the records of a chunk, in place, with
// cr, reused, as its reader.
func analyseChunk(job *chunkJob, proto, cr *Reader, grow, eightBit bool, b *batch) {
	proto.resumeInto(cr, nil)
	cr.buf, cr.end, cr.eof = job.data, len(job.data), true
	q := job.prof
	q.reset(proto.raw)
	q.grow, q.eightBit, q.maybeHigh, q.altOrders = grow, eightBit, job.maybeHigh, job.altOrders
	b.reset()
	for {
		rec, err := cr.Read()
		if err != nil {
			if err != io.EOF {
				job.err = err
			}
			break
		}
		b.add(rec, job.data)
		if len(b.refs) >= chunkBatchCells {
			b.seal()
			q.addBatch(b)
			b.reset()
		}
	}
	if len(b.lens) > 0 {
		b.seal()
		q.addBatch(b)
	}
	b.reset()
	cr.buf = nil // the chunk's, not the reader's
	job.short, job.long, job.repaired = cr.short, cr.long, cr.repaired
	job.crEnds, job.lfEnds, job.records = cr.crEnds, cr.lfEnds, cr.recNo
}

// chunkBatchCells is how many cells a chunk's worker parses before it
// profiles them: few enough that they are still in the cache.
const chunkBatchCells = 4 << 10

// giveBack returns a chunk's buffer to free, unless it is not of a
// chunk's size or free is full (a replaced buffer that happens to be).
func giveBack(free chan []byte, b []byte, size int) {
	if cap(b) != size {
		return
	}
	select {
	case free <- b[:0]:
	default:
	}
}

// errorReader fails every read with err.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }
