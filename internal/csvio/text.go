package csvio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// decoder turns a file's raw bytes in d's encoding into UTF-8 as they are
// read. It keeps a UTF-8 byte order mark (Reader drops it when it parses).
func decoder(r io.Reader, d Dialect) (io.Reader, error) {
	switch d.Encoding {
	case "", EncodingUTF8, EncodingUTF8BOM:
		// Passed through as is: the common case pays for no transform.
		// Uploads verify every byte, so only files stored before that may
		// hold bytes that are not UTF-8.
		if d.Unverified {
			return newRepairUTF8(r), nil
		}
		return r, nil
	case EncodingUTF16LE:
		return transform.NewReader(r, xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM).NewDecoder()), nil
	case EncodingUTF16BE:
		return transform.NewReader(r, xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM).NewDecoder()), nil
	case EncodingWindows1252:
		return newByteDecoder(r, &windows1252), nil
	case EncodingMacintosh:
		return newByteDecoder(r, &macintosh), nil
	}
	return r, fmt.Errorf("csvio: unsupported encoding %q", d.Encoding)
}

// NewTextReader returns a file's text: its raw bytes in Dialect d decoded
// to UTF-8 exactly as Reader decodes its cells, without a leading byte
// order mark. What it yields is always valid UTF-8. An unknown encoding is
// an error.
func NewTextReader(r io.Reader, d Dialect) (io.Reader, error) {
	src, err := decoder(r, d)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(src, 64<<10)
	if p, _ := br.Peek(len(bomUTF8)); bytes.Equal(p, bomUTF8) {
		_, _ = br.Discard(len(bomUTF8))
	}
	return br, nil
}
