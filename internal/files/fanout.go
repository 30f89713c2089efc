package files

import (
	"hash"
	"io"
	"sync/atomic"
)

// fanoutChunks is how many chunks of an upload may be in flight at once:
// the one being read from the client and those the hash and the analysis
// have yet to take. A few let the readers run ahead of each other instead
// of waiting for the slower one chunk by chunk; an upload holds at most
// this many copy buffers.
const fanoutChunks = 4

// fanout hands every chunk of an upload to the SHA-256 hash and to the CSV
// analysis, each on a goroutine of its own, without copying it: a chunk is
// read into again once both have released it. The hash so runs beside the
// parser and the profiler instead of in line with them.
type fanout struct {
	free  chan *upChunk // released chunks
	made  int
	hashq chan *upChunk
	anaq  chan *upChunk
	stop  chan struct{} // closed once the analysis reads no more
	err   error         // why the body ended, for the analysis; set before anaq closes
	hdone chan struct{}
}

type upChunk struct {
	buf  *[]byte
	n    int
	refs atomic.Int32
}

func newFanout(h hash.Hash) *fanout {
	f := &fanout{
		free:  make(chan *upChunk, fanoutChunks),
		hashq: make(chan *upChunk, fanoutChunks),
		anaq:  make(chan *upChunk, fanoutChunks),
		stop:  make(chan struct{}),
		hdone: make(chan struct{}),
	}
	go func() {
		defer close(f.hdone)
		for c := range f.hashq {
			h.Write((*c.buf)[:c.n])
			f.release(c)
		}
	}()
	return f
}

func (f *fanout) release(c *upChunk) {
	if c.refs.Add(-1) == 0 {
		f.free <- c // never blocks: it has room for every chunk
	}
}

// next returns a chunk to read into: a new one while fewer than
// fanoutChunks exist, else the next released one; errAnalysisDone if the
// analysis stopped first.
func (f *fanout) next() (*upChunk, error) {
	select {
	case <-f.stop:
		return nil, errAnalysisDone
	default:
	}
	select {
	case c := <-f.free:
		return c, nil
	default:
	}
	if f.made < fanoutChunks {
		f.made++
		return &upChunk{buf: copyBuffers.Get().(*[]byte)}, nil
	}
	select {
	case c := <-f.free:
		return c, nil
	case <-f.stop:
		return nil, errAnalysisDone
	}
}

// copy reads body to its end into w, the hash and the analysis, and
// returns the bytes read and the first error of body or w (io.Copy's
// result), or errAnalysisDone when the analysis stopped reading first.
func (f *fanout) copy(w io.Writer, body io.Reader) (n int64, err error) {
	defer func() {
		close(f.hashq)
		f.err = err
		close(f.anaq)
	}()
	for {
		c, err := f.next()
		if err != nil {
			return n, err
		}
		m, rerr := body.Read(*c.buf)
		if m > 0 {
			if nw, werr := w.Write((*c.buf)[:m]); werr != nil || nw != m {
				f.free <- c
				if werr == nil {
					werr = io.ErrShortWrite
				}
				return n + int64(nw), werr
			}
			n += int64(m)
			c.n = m
			c.refs.Store(2)
			f.hashq <- c // room for every chunk: never blocks
			f.anaq <- c
		} else {
			f.free <- c
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

// reader is the analysis's view of the body. Its owner must call done once
// it reads no more.
func (f *fanout) reader() *fanReader { return &fanReader{f: f} }

type fanReader struct {
	f   *fanout
	cur *upChunk
	off int
}

func (r *fanReader) Read(p []byte) (int, error) {
	for r.cur == nil || r.off == r.cur.n {
		if r.cur != nil {
			r.f.release(r.cur)
			r.cur = nil
		}
		c, ok := <-r.f.anaq
		if !ok {
			if r.f.err != nil {
				return 0, r.f.err
			}
			return 0, io.EOF
		}
		r.cur, r.off = c, 0
	}
	n := copy(p, (*r.cur.buf)[r.off:r.cur.n])
	r.off += n
	return n, nil
}

// done tells the copy the analysis reads no more, and releases what it
// would have read.
func (r *fanReader) done() {
	close(r.f.stop)
	if r.cur != nil {
		r.f.release(r.cur)
	}
	for c := range r.f.anaq {
		r.f.release(c)
	}
}

// finish waits for the hash, then gives the copy buffers back; call it
// after copy returned and the analysis called done.
func (f *fanout) finish() {
	<-f.hdone
	for range f.made {
		copyBuffers.Put((<-f.free).buf)
	}
}
