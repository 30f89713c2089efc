package csvio

import (
	"encoding/binary"
	"io"
	"sort"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// byteTable is a single-byte encoding: every one of the 256 bytes is one
// character, so decoding never fails, never loses a byte and can be
// undone. Bytes below 0x80 are ASCII in every table here.
type byteTable struct {
	name string
	utf8 [256][4]byte // each byte's character, UTF-8 encoded
	size [256]uint8   // length of utf8[b]
	rune [256]rune
	// rank orders bytes by the code point they stand for (ASCII keeps its
	// own value), so that comparing raw bytes through rank orders strings
	// exactly as their decoded UTF-8 text would be ordered.
	rank [256]byte
}

var windows1252, macintosh byteTable

func init() {
	windows1252.build(EncodingWindows1252, func(b byte) rune {
		switch b {
		case 0x81, 0x8D, 0x8F, 0x90, 0x9D:
			// Unassigned in windows-1252; x/text turns them into U+FFFD,
			// which would lose them. WHATWG's table, like Windows itself,
			// maps them to the C1 controls of the same number.
			return rune(b)
		}
		return charmap.Windows1252.DecodeByte(b)
	})
	macintosh.build(EncodingMacintosh, charmap.Macintosh.DecodeByte)
}

func (t *byteTable) build(name string, decode func(byte) rune) {
	t.name = name
	order := make([]int, 0, 128)
	for b := 0; b < 256; b++ {
		r := rune(b)
		if b >= 0x80 {
			r = decode(byte(b))
			order = append(order, b)
		}
		t.rune[b] = r
		t.size[b] = uint8(utf8.EncodeRune(t.utf8[b][:], r))
		t.rank[b] = byte(b)
	}
	sort.Slice(order, func(i, j int) bool { return t.rune[order[i]] < t.rune[order[j]] })
	for i, b := range order {
		t.rank[b] = byte(0x80 + i)
	}
}

// decodeString returns s decoded from t to UTF-8.
func (t *byteTable) decodeString(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			out := make([]byte, i, len(s)+len(s)/2)
			copy(out, s[:i])
			for ; i < len(s); i++ {
				out = append(out, t.utf8[s[i]][:t.size[s[i]]]...)
			}
			return string(out)
		}
	}
	return s
}

// less orders a and b as their decoded text would be ordered.
func (t *byteTable) less(a, b string) bool {
	n := min(len(a), len(b))
	i := 0
	for i+8 <= n && a[i:i+8] == b[i:i+8] {
		i += 8
	}
	for ; i < n; i++ {
		if a[i] != b[i] {
			return t.rank[a[i]] < t.rank[b[i]]
		}
	}
	return len(a) < len(b)
}

// byteDecoder decodes a single-byte encoding to UTF-8 as it reads.
type byteDecoder struct {
	src  io.Reader
	t    *byteTable
	in   []byte
	pend []byte // decoded bytes that did not fit the caller's buffer
	hold [4]byte
}

func newByteDecoder(r io.Reader, t *byteTable) *byteDecoder {
	return &byteDecoder{src: r, t: t, in: make([]byte, 32<<10)}
}

func (d *byteDecoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(d.pend) > 0 {
		n := copy(p, d.pend)
		d.pend = d.pend[n:]
		return n, nil
	}
	// A byte becomes at most three: read no more than fits.
	k := min(len(p)/3, len(d.in))
	if k == 0 {
		n, err := d.src.Read(d.in[:1])
		if n == 0 {
			return 0, err
		}
		c := d.in[0]
		d.pend = append(d.hold[:0], d.t.utf8[c][:d.t.size[c]]...)
		m := copy(p, d.pend)
		d.pend = d.pend[m:]
		return m, err
	}
	n, err := d.src.Read(d.in[:k])
	return d.t.decode(p, d.in[:n]), err
}

// decode writes src decoded into dst, which has room for 3*len(src) bytes,
// and returns how many bytes it wrote.
func (t *byteTable) decode(dst, src []byte) int {
	w, i := 0, 0
	for i < len(src) {
		if i+8 <= len(src) {
			if v := binary.LittleEndian.Uint64(src[i:]); v&msb == 0 {
				binary.LittleEndian.PutUint64(dst[w:], v)
				w += 8
				i += 8
				continue
			}
		}
		c := src[i]
		if c < 0x80 {
			dst[w] = c
			w++
		} else {
			w += copy(dst[w:], t.utf8[c][:t.size[c]])
		}
		i++
	}
	return w
}

// repairUTF8 passes valid UTF-8 through and turns every byte that is not
// part of a valid sequence into the windows-1252 character it would be: for
// files whose "utf-8" label was never checked to the end, so that a stray
// é (0xE9) reads as é, not as invalid UTF-8 or U+FFFD.
type repairUTF8 struct {
	src  io.Reader
	in   []byte
	keep int // undecided bytes (a sequence cut by the read) at in[:keep]
	out  []byte
	pend []byte
	err  error
}

func newRepairUTF8(r io.Reader) *repairUTF8 {
	return &repairUTF8{src: r, in: make([]byte, 32<<10)}
}

func (d *repairUTF8) Read(p []byte) (int, error) {
	for len(d.pend) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.src.Read(d.in[d.keep:])
		n += d.keep
		d.keep = 0
		if err != nil {
			d.err = err
		}
		b := d.in[:n]
		d.out = d.out[:0]
		for len(b) > 0 {
			c := b[0]
			if c < utf8.RuneSelf {
				d.out = append(d.out, c)
				b = b[1:]
				continue
			}
			if !utf8.FullRune(b) && d.err == nil {
				d.keep = copy(d.in, b) // complete it with the next read
				break
			}
			if r, size := utf8.DecodeRune(b); r != utf8.RuneError || size > 1 {
				d.out = append(d.out, b[:size]...)
				b = b[size:]
				continue
			}
			d.out = append(d.out, windows1252.utf8[c][:windows1252.size[c]]...)
			b = b[1:]
		}
		d.pend = d.out
		if n == 0 && d.err == nil {
			return 0, nil
		}
	}
	n := copy(p, d.pend)
	d.pend = d.pend[n:]
	return n, nil
}

// loadWord reads eight bytes of b (which has at least eight).
func loadWord(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
