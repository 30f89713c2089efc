// Package formdata reads multipart uploads as streams: the small fields
// before a file part are read, the file part itself is handed over unread,
// so that it can be streamed on. The REST adapter and the legacy shim both
// read their uploads with it.
package formdata

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
)

// The errors of a form that cannot be read as asked.
var (
	// ErrNoFile: the body ended before a part of the file's name.
	ErrNoFile = errors.New("no file part")
	// ErrFieldTooLarge: a field is longer than allowed.
	ErrFieldTooLarge = errors.New("form field too large")
)

// MalformedError is a body that is not multipart as it claims.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "malformed multipart body: " + e.Err.Error() }

func (e *MalformedError) Unwrap() error { return e.Err }

// readBufferSize is how much of a multipart body is read from the
// connection at a time. mime/multipart reads the body through a window of
// 4 KiB of its own, each refill a read of the connection (a system call
// for every 4 KiB of an upload, which made a GraphQL upload half as fast
// as a REST one); through this buffer, its refills are copies and the
// connection is read 64 KiB at a time.
const readBufferSize = 64 << 10

// NewReader is r.MultipartReader, reading the body readBufferSize at a
// time.
func NewReader(r *http.Request) (*multipart.Reader, error) {
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
	return multipart.NewReader(bufio.NewReaderSize(r.Body, readBufferSize), boundary), nil
}

// ReadField reads a small field, refusing one of more than max bytes.
func ReadField(p io.Reader, max int) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, int64(max)+1))
	if err != nil {
		return "", err
	}
	if len(b) > max {
		return "", ErrFieldTooLarge
	}
	return string(b), nil
}

// FilePart walks mr to the first part named file. The fields before it are
// collected, each at most maxField bytes; with maxField <= 0 they are
// skipped unread. The part is returned unread: the caller streams it.
func FilePart(mr *multipart.Reader, file string, maxField int) (*multipart.Part, url.Values, error) {
	fields := url.Values{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil, ErrNoFile
		}
		if err != nil {
			return nil, nil, &MalformedError{err}
		}
		if p.FormName() == file {
			return p, fields, nil
		}
		if maxField <= 0 {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, nil, &MalformedError{err}
			}
			continue
		}
		v, err := ReadField(p, maxField)
		if errors.Is(err, ErrFieldTooLarge) {
			return nil, nil, fmt.Errorf("field %q: %w", p.FormName(), err)
		}
		if err != nil {
			return nil, nil, &MalformedError{err}
		}
		fields.Add(p.FormName(), v)
	}
}
