package formdata

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func form(t *testing.T, parts ...[2]string) *Reader {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var fw io.Writer
		if p[0] == "file" {
			fw, _ = w.CreateFormFile("file", "x.csv")
		} else {
			fw, _ = w.CreateFormField(p[0])
		}
		io.WriteString(fw, p[1])
	}
	w.Close()
	return newReader(&b, w.Boundary())
}

func TestFilePart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		parts    [][2]string
		maxField int
		fields   string
		err      error
	}{
		{"fields first", [][2]string{{"name", "a"}, {"tags", "x"}, {"file", "1,2\n"}, {"late", "never read"}}, 100, "name=a&tags=x", nil},
		{"skipped fields", [][2]string{{"name", strings.Repeat("n", 500)}, {"file", "1,2\n"}}, 0, "", nil},
		{"field too large", [][2]string{{"name", strings.Repeat("n", 500)}, {"file", "1,2\n"}}, 100, "", ErrFieldTooLarge},
		{"no file", [][2]string{{"name", "a"}}, 100, "", ErrNoFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, fields, err := FilePart(form(t, tc.parts...), "file", tc.maxField)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got := fields.Encode(); got != tc.fields {
				t.Errorf("fields %q, want %q", got, tc.fields)
			}
			if body, _ := io.ReadAll(p); string(body) != "1,2\n" {
				t.Errorf("file part %q", body)
			}
		})
	}
	if _, _, err := FilePart(newReader(strings.NewReader("not multipart"), "b"), "file", 10); !errors.As(err, new(*MalformedError)) {
		t.Fatalf("garbage: %v, want a MalformedError", err)
	}
}

// NewReader reads a request as r.MultipartReader does, and reads the body
// itself in reads of its window rather than of mime/multipart's 4 KiB.
func TestNewReader(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, _ := w.CreateFormFile("file", "x.csv")
	want := bytes.Repeat([]byte("a,b\n1,2\n"), 64<<10) // 512 KiB
	fw.Write(want)
	w.Close()

	for _, tc := range []struct {
		name, contentType string
		err               error
	}{
		{"form-data", w.FormDataContentType(), nil},
		{"mixed", "multipart/mixed; boundary=" + w.Boundary(), nil},
		{"no content type", "", http.ErrNotMultipart},
		{"not multipart", "text/csv", http.ErrNotMultipart},
		{"unreadable", "multipart/form-data; boundary", http.ErrNotMultipart},
		{"no boundary", "multipart/form-data", http.ErrMissingBoundary},
	} {
		body := &readSizes{r: bytes.NewReader(b.Bytes())}
		req := httptest.NewRequest("POST", "/", body)
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		mr, err := NewReader(req)
		if !errors.Is(err, tc.err) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.err)
		}
		if err != nil {
			continue
		}
		p, _, err := FilePart(mr, "file", 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := io.ReadAll(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: the part read back as %d bytes, want %d: %v", tc.name, len(got), len(want), err)
		}
		if body.largest < readBufferSize {
			t.Errorf("%s: the body was read at most %d bytes at a time, want %d", tc.name, body.largest, readBufferSize)
		}
	}
}

// readSizes notes the largest read asked of r.
type readSizes struct {
	r       io.Reader
	largest int
}

func (s *readSizes) Read(p []byte) (int, error) {
	s.largest = max(s.largest, len(p))
	return s.r.Read(p)
}
