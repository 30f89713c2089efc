package formdata

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/textproto"
	"path/filepath"
	"strings"
)

// Bounds of a part's header, which is held whole.
const (
	maxHeaderBytes = 16 << 10
	maxHeaderLines = 64
)

// Reader reads a multipart body part by part, as mime/multipart.Reader
// does, but hands a part's content out straight from the body's buffer in
// reads as large as the caller's: mime/multipart copies a part through a
// second buffer of its own and returns at most 4 KiB a read, which cost
// an upload about half a CPU-second per GiB more than the same bytes as a
// plain body. The body is read readBufferSize at a time.
type Reader struct {
	br     *bufio.Reader
	dash   []byte // "--" boundary
	nlDash []byte // line end, "--", boundary: the delimiter after a part
	cur    *Part
	begun  bool // the first delimiter was read
	done   bool // the last delimiter was read
	err    error
}

// NewReader reads the multipart body of r, as r.MultipartReader would: a
// multipart/form-data or multipart/mixed body with a boundary.
func NewReader(r *http.Request) (*Reader, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, http.ErrNotMultipart
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil || (media != "multipart/form-data" && media != "multipart/mixed") {
		return nil, http.ErrNotMultipart
	}
	boundary, ok := params["boundary"]
	if !ok {
		return nil, http.ErrMissingBoundary
	}
	if len(boundary) == 0 || len(boundary) > 70 {
		return nil, fmt.Errorf("multipart: a boundary of %d bytes (RFC 2046: 1 to 70)", len(boundary))
	}
	return newReader(r.Body, boundary), nil
}

func newReader(body io.Reader, boundary string) *Reader {
	return &Reader{
		br:     bufio.NewReaderSize(body, readBufferSize),
		dash:   []byte("--" + boundary),
		nlDash: []byte("\r\n--" + boundary),
	}
}

// errNoDelimiter is a body that ends before its last delimiter: cut
// short, whatever mime/multipart would make of it.
var errNoDelimiter = errors.New("multipart: the body ended before its closing boundary")

// NextPart returns the next part, after reading what is left of the one
// before; io.EOF after the last.
func (r *Reader) NextPart() (*Part, error) {
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, r.cur); err != nil {
			return nil, err
		}
		r.cur = nil
	}
	if r.err != nil {
		return nil, r.err
	}
	if !r.begun {
		if err := r.preamble(); err != nil {
			r.err = err
			return nil, err
		}
	}
	if r.done {
		return nil, io.EOF
	}
	h, err := r.header()
	if err != nil {
		r.err = err
		return nil, err
	}
	p := &Part{Header: h, r: r}
	p.content = partBytes{p}
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		// As mime/multipart does: the header goes, the content is decoded.
		h.Del("Content-Transfer-Encoding")
		p.content = quotedprintable.NewReader(partBytes{p})
	}
	r.cur = p
	return p, nil
}

// preamble skips the lines before the first delimiter and reads its line,
// whose end (CRLF, or LF alone, which some clients send) is the body's.
func (r *Reader) preamble() error {
	r.begun = true
	for {
		line, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue // a long preamble line: not a delimiter
		}
		if err != nil && (err != io.EOF || len(line) == 0) {
			if err == io.EOF {
				return errNoDelimiter
			}
			return err
		}
		rest, ok := bytes.CutPrefix(line, r.dash)
		if ok && bytes.HasPrefix(rest, []byte("--")) {
			r.done = true // a body of no parts
			return nil
		}
		if !ok || !blank(rest) {
			if err != nil {
				return errNoDelimiter
			}
			continue // not a delimiter, or the boundary is a prefix of this line
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) {
			r.nlDash = r.nlDash[1:] // LF alone
		}
		return nil
	}
}

// blank reports whether a delimiter line's rest is transport padding
// (spaces and tabs) and the line's end.
func blank(rest []byte) bool {
	return len(bytes.TrimLeft(rest, " \t\r\n")) == 0 && bytes.HasSuffix(rest, []byte("\n"))
}

// header reads a part's header, refusing one over maxHeaderBytes or
// maxHeaderLines.
func (r *Reader) header() (textproto.MIMEHeader, error) {
	h := textproto.MIMEHeader{}
	size, lines := 0, 0
	var last string
	for {
		line, err := r.br.ReadSlice('\n')
		size += len(line)
		lines++
		if err == bufio.ErrBufferFull || size > maxHeaderBytes || lines > maxHeaderLines {
			return nil, fmt.Errorf("multipart: a part's header is over %d bytes or %d lines", maxHeaderBytes, maxHeaderLines)
		}
		if err != nil {
			if err == io.EOF {
				return nil, errNoDelimiter
			}
			return nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return h, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			// An obsolete folded line continues the field before it.
			if last == "" {
				return nil, errors.New("multipart: a part's header begins with a folded line")
			}
			vs := h[last]
			vs[len(vs)-1] += " " + string(bytes.TrimSpace(line))
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(k) == 0 {
			return nil, fmt.Errorf("multipart: malformed header line %.40q", line)
		}
		last = textproto.CanonicalMIMEHeaderKey(string(bytes.TrimRight(k, " \t")))
		h.Add(last, string(bytes.TrimSpace(v)))
	}
}

// Part is one part of a multipart body; its reads are its content.
type Part struct {
	// Header is the part's header, with canonical keys.
	Header textproto.MIMEHeader

	r       *Reader
	content io.Reader // the part's bytes, or their quoted-printable decoder
	eof     bool
	disp    map[string]string
	parsed  bool
}

// Read reads the part's content.
func (p *Part) Read(b []byte) (int, error) { return p.content.Read(b) }

// partBytes reads a part's bytes as they are in the body.
type partBytes struct{ p *Part }

func (pb partBytes) Read(b []byte) (int, error) { return pb.p.read(b) }

// read copies the content before the next delimiter into b, straight
// from the body's buffer.
func (p *Part) read(b []byte) (int, error) {
	if p.eof {
		return 0, io.EOF
	}
	r := p.r
	if r.err != nil {
		return 0, r.err
	}
	if len(b) == 0 {
		return 0, nil
	}
	// Enough is kept back to tell a delimiter: its bytes and two after;
	// and one byte more is asked for, so that each read hands out
	// something or ends.
	keep := len(r.nlDash) + 2
	buf, err := r.br.Peek(max(r.br.Buffered(), keep+1))
	if i := r.delimiter(buf, err != nil); i >= 0 {
		n := copy(b, buf[:i])
		r.br.Discard(n)
		if n < i {
			return n, nil
		}
		if err := r.endPart(); err != nil {
			r.err = err
			return n, err
		}
		p.eof = true
		return n, io.EOF
	}
	if err != nil {
		if err == io.EOF {
			err = errNoDelimiter
		}
		r.err = err
		return 0, err
	}
	n := copy(b, buf[:len(buf)-keep])
	r.br.Discard(n)
	return n, nil
}

// delimiter returns where in buf the next delimiter begins, or -1. A
// match is a delimiter when "--", or padding or a line end, follows it; at
// the body's end (final), fewer bytes than that may follow.
func (r *Reader) delimiter(buf []byte, final bool) int {
	from := 0
	for {
		i := bytes.Index(buf[from:], r.nlDash)
		if i < 0 {
			return -1
		}
		i += from
		after := buf[i+len(r.nlDash):]
		if len(after) < 2 && !final {
			return -1 // not known yet: kept back
		}
		if bytes.HasPrefix(after, []byte("--")) || (len(after) > 0 && (after[0] == ' ' || after[0] == '\t' || after[0] == '\r' || after[0] == '\n')) {
			return i
		}
		from = i + 1
	}
}

// endPart reads the delimiter that ends a part: "--" after it ends the
// body (what follows, the epilogue, is left unread); otherwise the rest of
// its line must be padding and the line's end.
func (r *Reader) endPart() error {
	if _, err := r.br.Discard(len(r.nlDash)); err != nil {
		return err
	}
	if next, err := r.br.Peek(2); err == nil && string(next) == "--" {
		r.done = true
		return nil
	}
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF || err == bufio.ErrBufferFull {
			return errNoDelimiter
		}
		return err
	}
	if len(bytes.TrimLeft(line, " \t\r\n")) != 0 {
		return errors.New("multipart: bytes after a boundary on its line")
	}
	return nil
}

// disposition is the part's Content-Disposition, parsed once.
func (p *Part) disposition() (string, map[string]string) {
	if !p.parsed {
		p.parsed = true
		if d, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			params[""] = d
			p.disp = params
		}
	}
	return p.disp[""], p.disp
}

// FormName is the name of a form-data part, as mime/multipart gives it.
func (p *Part) FormName() string {
	d, params := p.disposition()
	if d != "form-data" {
		return ""
	}
	return params["name"]
}

// FileName is the part's file name, as mime/multipart gives it: the last
// element of the filename parameter.
func (p *Part) FileName() string {
	_, params := p.disposition()
	if name := params["filename"]; name != "" {
		return filepath.Base(name)
	}
	return ""
}
