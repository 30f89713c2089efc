// Package formdata reads multipart uploads as streams: the small fields
// before a file part are read, the file part itself is handed over unread,
// so that it can be streamed on. The REST adapter and the legacy shim both
// read their uploads with it.
package formdata

import (
	"errors"
	"fmt"
	"io"
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
// connection at a time: with mime/multipart's own 4 KiB, every 4 KiB of an
// upload was a read of the socket.
const readBufferSize = 64 << 10

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
func FilePart(mr *Reader, file string, maxField int) (*Part, url.Values, error) {
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
