package files

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"sort"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/blobstore"
)

// Row provenance: a server-side cut keeps some rows of its source, in
// order, so derived row i is the source row that is the i-th (from 0) of
// the kept ones. The kept source rows are recorded at derive time as a
// roaring bitmap (the portable format of the Roaring specification), in an
// object beside the file's bytes (rowsKey). Reading it never loads it
// whole: its header (a key and a count per 65,536 source rows: about 1.2
// KiB for a 10-million-row source) and then only the containers a page
// touches are read with range reads. So a page of rows with their sources
// reads a few kilobytes more than the page alone, whatever the size of
// the source.

// rowsSuffix names the provenance object of a file: its object key plus
// the suffix, so the sweep knows whose it is.
const rowsSuffix = ".rows"

// rowsKey is the key of the provenance object of the file whose bytes are
// under objectKey.
func rowsKey(objectKey string) string { return objectKey + rowsSuffix }

// rowsRecorder collects the source rows a cut keeps.
type rowsRecorder struct {
	bm       *roaring.Bitmap
	overflow bool // a source row past what 32 bits count: nothing is recorded
}

func newRowsRecorder() *rowsRecorder { return &rowsRecorder{bm: roaring.New()} }

func (r *rowsRecorder) add(index int64) {
	if index > math.MaxUint32 {
		r.overflow = true
		return
	}
	r.bm.Add(uint32(index))
}

// write stores the recorded rows under key; false when there is nothing
// to store (a source too long to record). With durable, a folder bucket's
// object and its folder are synced to disk before it returns.
func (r *rowsRecorder) write(ctx context.Context, b *blob.Bucket, key string, durable bool) (bool, error) {
	if r.overflow {
		return false, nil
	}
	r.bm.RunOptimize()
	var buf bytes.Buffer
	if _, err := r.bm.WriteTo(&buf); err != nil {
		return false, fmt.Errorf("encode row provenance: %w", err)
	}
	// Synced like the file's own object (durableClose): the row that names
	// it commits next.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var file *os.File
	w, err := b.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "application/octet-stream",
		BeforeWrite: func(as func(any) bool) error {
			if durable {
				as(&file)
			}
			return nil
		}})
	if err != nil {
		return false, bucketFailure("write row provenance", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		cancel() // a cancelled context makes Close abort the object
		_ = w.Close()
		return false, bucketFailure("write row provenance", err)
	}
	if err := durableClose(w, file); err != nil {
		return false, bucketFailure("write row provenance", err)
	}
	return true, nil
}

// rowMap reads a provenance object lazily.
type rowMap struct {
	ctx     context.Context
	timeout time.Duration // of each bucket call
	bucket  *blob.Bucket
	key     string
	size    int64
	keys    []uint16
	cum     []int64 // cum[j]: kept rows before container j; cum[len] the total
	runs    []bool
	offs    []int64        // container j is at offs[j]..offs[j+1] (the last ends at size)
	whole   []byte         // the object, when it is too small to carry offsets
	cache   map[int][]byte // containers read
}

const (
	cookieRuns   = 12347
	cookieNoRuns = 12346
	// headerRead is how much of the object the first read takes: the whole
	// header of a bitmap over 30 million source rows (a longer one takes a
	// second read).
	headerRead = 4 << 10
)

var errBadRows = errors.New("row provenance object is damaged")

// openRowMap reads the header of the provenance object at key.
func openRowMap(ctx context.Context, b *blob.Bucket, key string, timeout time.Duration) (*rowMap, error) {
	actx, cancel := blobstore.Call(ctx, timeout)
	attrs, err := b.Attributes(actx, key)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("%w: row provenance: %v", apperr.ErrUnavailable, err)
	}
	m := &rowMap{ctx: ctx, timeout: timeout, bucket: b, key: key, size: attrs.Size, cache: map[int][]byte{}}
	head, err := m.read(0, min(m.size, headerRead))
	if err != nil {
		return nil, err
	}
	if len(head) < 8 {
		return nil, errBadRows
	}
	cookie := binary.LittleEndian.Uint32(head)
	var n, pos int
	hasRuns := false
	switch {
	case cookie&0xFFFF == cookieRuns:
		hasRuns, n, pos = true, int(cookie>>16)+1, 4
	case cookie == cookieNoRuns:
		n, pos = int(binary.LittleEndian.Uint32(head[4:])), 8
	default:
		return nil, errBadRows
	}
	withOffsets := !hasRuns || n >= 4
	need := pos + 4*n
	if hasRuns {
		need += (n + 7) / 8
	}
	if withOffsets {
		need += 4 * n
	}
	if int64(need) > m.size {
		return nil, errBadRows
	}
	if need > len(head) {
		if head, err = m.read(0, int64(need)); err != nil {
			return nil, err
		}
	}
	m.runs = make([]bool, n)
	if hasRuns {
		for j := range n {
			m.runs[j] = head[pos+j/8]&(1<<(j%8)) != 0
		}
		pos += (n + 7) / 8
	}
	m.keys, m.cum = make([]uint16, n), make([]int64, n+1)
	for j := range n {
		m.keys[j] = binary.LittleEndian.Uint16(head[pos+4*j:])
		m.cum[j+1] = m.cum[j] + int64(binary.LittleEndian.Uint16(head[pos+4*j+2:])) + 1
	}
	pos += 4 * n
	if !withOffsets {
		// At most three containers: read it whole.
		if m.whole, err = m.read(0, m.size); err != nil {
			return nil, err
		}
		m.offs = make([]int64, n+1)
		at := int64(pos)
		for j := range n {
			m.offs[j] = at
			at += m.containerSize(j, m.whole[min(at, int64(len(m.whole))):])
		}
		m.offs[n] = at
		return m, nil
	}
	m.offs = make([]int64, n+1)
	for j := range n {
		m.offs[j] = int64(binary.LittleEndian.Uint32(head[pos+4*j:]))
	}
	m.offs[n] = m.size
	return m, nil
}

// containerSize is the serialized size of container j, whose bytes start b.
func (m *rowMap) containerSize(j int, b []byte) int64 {
	card := m.cum[j+1] - m.cum[j]
	switch {
	case m.runs[j]:
		if len(b) < 2 {
			return 0
		}
		return 2 + 4*int64(binary.LittleEndian.Uint16(b))
	case card > 4096:
		return 8192
	}
	return 2 * card
}

func (m *rowMap) read(off, n int64) ([]byte, error) {
	if m.whole != nil {
		if off+n > int64(len(m.whole)) {
			return nil, errBadRows
		}
		return m.whole[off : off+n], nil
	}
	ctx, cancel := blobstore.Call(m.ctx, m.timeout)
	defer cancel()
	r, err := m.bucket.NewRangeReader(ctx, m.key, off, n, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: row provenance: %v", apperr.ErrUnavailable, err)
	}
	defer r.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("%w: row provenance: %v", apperr.ErrUnavailable, err)
	}
	return buf, nil
}

// Total is how many rows the cut kept.
func (m *rowMap) Total() int64 { return m.cum[len(m.keys)] }

// container reads container j's bytes (once per rowMap) and checks its size.
func (m *rowMap) container(j int) ([]byte, error) {
	if b, ok := m.cache[j]; ok {
		return b, nil
	}
	b, err := m.read(m.offs[j], m.offs[j+1]-m.offs[j])
	if err != nil {
		return nil, err
	}
	card := int(m.cum[j+1] - m.cum[j])
	switch {
	case m.runs[j]:
		if len(b) < 2 || len(b) < 2+4*int(binary.LittleEndian.Uint16(b)) {
			return nil, errBadRows
		}
	case card > 4096:
		if len(b) < 8192 {
			return nil, errBadRows
		}
	default:
		if len(b) < 2*card {
			return nil, errBadRows
		}
	}
	m.cache[j] = b
	return b, nil
}

// selectIn is the r-th (from 0) value of container j, whose bytes are b.
func (m *rowMap) selectIn(j int, b []byte, r int) (uint16, error) {
	card := int(m.cum[j+1] - m.cum[j])
	switch {
	case m.runs[j]:
		for i := range int(binary.LittleEndian.Uint16(b)) {
			start := int(binary.LittleEndian.Uint16(b[2+4*i:]))
			length := int(binary.LittleEndian.Uint16(b[4+4*i:])) + 1
			if r < length {
				return uint16(start + r), nil
			}
			r -= length
		}
		return 0, errBadRows
	case card > 4096:
		for w := range 1024 {
			word := binary.LittleEndian.Uint64(b[8*w:])
			if c := bits.OnesCount64(word); r >= c {
				r -= c
				continue
			}
			for range r {
				word &= word - 1
			}
			return uint16(w*64 + bits.TrailingZeros64(word)), nil
		}
		return 0, errBadRows
	}
	return binary.LittleEndian.Uint16(b[2*r:]), nil
}

// rankIn is how many values of container j (bytes b) are below lo, and
// whether lo is one of them.
func (m *rowMap) rankIn(j int, b []byte, lo uint16) (int, bool) {
	card := int(m.cum[j+1] - m.cum[j])
	v := int(lo)
	switch {
	case m.runs[j]:
		below := 0
		for i := range int(binary.LittleEndian.Uint16(b)) {
			start := int(binary.LittleEndian.Uint16(b[2+4*i:]))
			length := int(binary.LittleEndian.Uint16(b[4+4*i:])) + 1
			switch {
			case v < start:
				return below, false
			case v < start+length:
				return below + v - start, true
			}
			below += length
		}
		return below, false
	case card > 4096:
		below := 0
		for w := range v / 64 {
			below += bits.OnesCount64(binary.LittleEndian.Uint64(b[8*w:]))
		}
		word := binary.LittleEndian.Uint64(b[8*(v/64):])
		below += bits.OnesCount64(word & (1<<(v%64) - 1))
		return below, word&(1<<(v%64)) != 0
	}
	k := sort.Search(card, func(k int) bool { return binary.LittleEndian.Uint16(b[2*k:]) >= lo })
	return k, k < card && binary.LittleEndian.Uint16(b[2*k:]) == lo
}

// Source is the source row of derived row i, false past the end.
func (m *rowMap) Source(i int64) (int64, bool, error) {
	if i < 0 || i >= m.Total() {
		return 0, false, nil
	}
	j := sort.Search(len(m.keys), func(j int) bool { return m.cum[j+1] > i })
	b, err := m.container(j)
	if err != nil {
		return 0, false, err
	}
	lo, err := m.selectIn(j, b, int(i-m.cum[j]))
	if err != nil {
		return 0, false, err
	}
	return int64(m.keys[j])<<16 | int64(lo), true, nil
}

// Derived is the derived row copied from source row src, false when the
// cut dropped it.
func (m *rowMap) Derived(src int64) (int64, bool, error) {
	if src < 0 || src > math.MaxUint32 {
		return 0, false, nil
	}
	hi, lo := uint16(src>>16), uint16(src)
	j := sort.Search(len(m.keys), func(j int) bool { return m.keys[j] >= hi })
	if j == len(m.keys) || m.keys[j] != hi {
		return 0, false, nil
	}
	b, err := m.container(j)
	if err != nil {
		return 0, false, err
	}
	k, ok := m.rankIn(j, b, lo)
	if !ok {
		return 0, false, nil
	}
	return m.cum[j] + int64(k), true, nil
}

// FieldSourceIndex is the field of the errors about a source row asked for.
const FieldSourceIndex = "sourceIndex"

// Provenance maps the rows of one derived file to the rows of its source.
type Provenance struct {
	// SourceID is the file the rows were cut from.
	SourceID string
	m        *rowMap
}

// Provenance opens the row provenance of owner's file f: nil, nil when f
// records none (an uploaded file, a client-made one, one cut before
// provenance was recorded). Only the object's header is read.
func (s *Service) Provenance(ctx context.Context, owner int64, f *File) (*Provenance, error) {
	if f.Origin != OriginGenerated || f.Deleted() {
		return nil, nil
	}
	d, err := s.st.derivation(ctx, owner, f.ID)
	if err != nil || d == nil || d.RowsKey == nil || len(d.SourceIDs) != 1 {
		return nil, err
	}
	m, err := openRowMap(ctx, s.bucket, *d.RowsKey, s.blobTimeout)
	if err != nil {
		return nil, err
	}
	return &Provenance{SourceID: d.SourceIDs[0], m: m}, nil
}

// Source is the index, in the source, of the row at index of the derived
// file; false when there is no such row.
func (p *Provenance) Source(index int64) (int64, bool, error) { return p.m.Source(index) }

// Derived is the index of the row copied from source row src; false when
// the cut's filter dropped that row (or the source has no such row).
func (p *Provenance) Derived(src int64) (int64, bool, error) { return p.m.Derived(src) }

// RowsFromSource is Rows restricted to the one row copied from source row
// src: a page of that row (none when first is 0), or of none when the cut
// dropped it. A file without row provenance is an error on sourceIndex.
func (s *Service) RowsFromSource(ctx context.Context, owner int64, f *File, sel *Selection, first int, src int64) (*RowPage, error) {
	if first < 0 || first > MaxRowPage {
		return nil, apperr.Invalid("first", "must be between 0 and %d", MaxRowPage)
	}
	if src < 0 {
		return nil, apperr.Invalid(FieldSourceIndex, "must not be negative")
	}
	p, err := s.Provenance(ctx, owner, f)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, apperr.Invalid(FieldSourceIndex, "file %s was not cut by the server: its rows have no recorded source", f.ID)
	}
	i, kept, err := p.Derived(src)
	if err != nil || !kept || first == 0 {
		return &RowPage{Columns: sel.Names}, err
	}
	after := ""
	if i > 0 {
		after = RowCursor(i - 1)
	}
	page, err := s.Rows(ctx, f, sel, 1, after)
	if err != nil {
		return nil, err
	}
	if len(page.Rows) == 1 && page.Rows[0].Index != i {
		page.Rows = nil // a where of this page's own skipped that row
	}
	page.HasNextPage, page.HasPrevPage = false, false
	return page, nil
}
