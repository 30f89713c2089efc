package formdata

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// seen is what a reader made of a body: its parts, then whether it failed.
type seen struct {
	parts []string
	err   bool
}

func (s seen) String() string { return fmt.Sprintf("%q err=%v", s.parts, s.err) }

func describe(name, file, ctype string, content []byte) string {
	return fmt.Sprintf("name=%s file=%s type=%s content=%q", name, file, ctype, content)
}

// withStd reads body with mime/multipart, the reference.
func withStd(body []byte, boundary string) seen {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var s seen
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return s
		}
		if err != nil {
			s.err = true
			return s
		}
		content, err := io.ReadAll(p)
		if err != nil {
			s.err = true
			return s
		}
		s.parts = append(s.parts, describe(p.FormName(), p.FileName(), p.Header.Get("Content-Type"), content))
	}
}

// withOurs reads body with Reader, the body coming in the reads of src
// and each part read into a buffer of size bytes.
func withOurs(body []byte, boundary string, src func(io.Reader) io.Reader, size int) seen {
	mr := newReader(src(bytes.NewReader(body)), boundary)
	var s seen
	buf := make([]byte, size)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return s
		}
		if err != nil {
			s.err = true
			return s
		}
		var content []byte
		for {
			n, err := p.Read(buf)
			content = append(content, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				s.err = true
				return s
			}
		}
		s.parts = append(s.parts, describe(p.FormName(), p.FileName(), p.Header.Get("Content-Type"), content))
	}
}

var sources = map[string]func(io.Reader) io.Reader{
	"whole":    func(r io.Reader) io.Reader { return r },
	"one byte": iotest.OneByteReader,
	"halves":   iotest.HalfReader,
}

// agree checks that Reader reads body as mime/multipart does. A body cut
// short (cut) may instead be refused after the parts that were whole:
// mime/multipart takes a body that ends in a part's header, or in the
// delimiter after a part, for one that ended there, and an upload cut
// short must not be kept as if it were whole.
func agree(t *testing.T, name string, body []byte, boundary string, cut bool) {
	t.Helper()
	want := withStd(body, boundary)
	for src, f := range sources {
		for _, size := range []int{1, 7, 4096, 300 << 10} {
			got := withOurs(body, boundary, f, size)
			if cut && got.err && len(got.parts) <= len(want.parts) && slices.Equal(got.parts, want.parts[:len(got.parts)]) {
				continue
			}
			if got.String() != want.String() {
				t.Errorf("%s (%s, reads of %d): got\n%s\nwant (mime/multipart)\n%s", name, src, size, got, want)
			}
		}
	}
}

// The reader gives every part, name, file name, type and byte that
// mime/multipart gives, and fails where it fails, on bodies at the edges
// of the format.
func TestReaderAgreesWithMimeMultipart(t *testing.T) {
	crlf := func(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"two parts", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\n1\n--XyZ\nContent-Disposition: form-data; name=\"f\"; filename=\"dir/x.csv\"\nContent-Type: text/csv\n\na,b\n1,2\n\n--XyZ--\n")},
		{"a preamble and an epilogue", crlf("ignored\nalso --XyZ ignored\n--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--\nepilogue\n--XyZ\n")},
		{"padding after the boundaries", crlf("--XyZ \t\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ\t \nContent-Disposition: form-data; name=\"b\"\n\nw\n--XyZ--  \n")},
		{"LF alone", []byte("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nline\n\n--XyZ\nContent-Disposition: form-data; name=\"b\"\n\nw\n--XyZ--\n")},
		{"content that looks like a boundary", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nx\n--XyZa\n--XyZ-\n-XyZ\n\r--XyZ\n--XyZ--\n")},
		{"empty parts", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\n\n--XyZ\n\n\n--XyZ--\n")},
		{"content ending in CR", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nx\r\n--XyZ--\n")},
		{"no parts", crlf("--XyZ--\n")},
		{"no parts, no line end", []byte("--XyZ--")},
		{"a final boundary without its line end", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--")},
		{"cut short in a part", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv and more")},
		{"cut short in a header", crlf("--XyZ\nContent-Disposition: form-da")},
		{"cut short after a boundary", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ")},
		{"no boundary at all", []byte("just some text\r\n")},
		{"empty", nil},
		{"quoted-printable", crlf("--XyZ\nContent-Disposition: form-data; name=\"a\"\nContent-Transfer-Encoding: quoted-printable\n\ncaf=C3=A9 =\nsoft\n--XyZ--\n")},
		{"a folded header", crlf("--XyZ\nContent-Disposition: form-data;\n name=\"a\"\n\nv\n--XyZ--\n")},
		{"a file name in RFC 2231", crlf("--XyZ\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%C3%A9t%C3%A9.csv\n\nv\n--XyZ--\n")},
		{"not form-data", crlf("--XyZ\nContent-Disposition: attachment; name=\"a\"\n\nv\n--XyZ--\n")},
	} {
		agree(t, tc.name, tc.body, "XyZ", strings.HasPrefix(tc.name, "cut short"))
	}
}

// On random forms written by mime/multipart, with contents full of line
// ends, dashes and pieces of the boundary, some longer than the reader's
// buffer, and on those forms cut short, the two readers agree.
func TestReaderAgreesOnRandomForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 22))
	for i := 0; i < 120; i++ {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		pieces := []string{"\r\n", "\n", "\r", "-", "--", w.Boundary()[:5], "--" + w.Boundary()[:10], "\r\n--" + w.Boundary()[:20], "x", "é", " "}
		for n := rng.IntN(4); n >= 0; n-- {
			var content strings.Builder
			for k := rng.IntN(40); k > 0; k-- {
				content.WriteString(pieces[rng.IntN(len(pieces))])
			}
			if rng.IntN(5) == 0 {
				content.WriteString(strings.Repeat("y", rng.IntN(100<<10)))
			}
			var fw io.Writer
			if rng.IntN(2) == 0 {
				fw, _ = w.CreateFormFile(fmt.Sprintf("f%d", n), fmt.Sprintf("dir/file%d.csv", n))
			} else {
				fw, _ = w.CreateFormField(fmt.Sprintf("v%d", n))
			}
			io.WriteString(fw, content.String())
		}
		w.Close()
		body := b.Bytes()
		agree(t, fmt.Sprintf("form %d", i), body, w.Boundary(), false)
		agree(t, fmt.Sprintf("form %d cut short", i), body[:rng.IntN(len(body))], w.Boundary(), true)
	}
}

// A part's header is bounded: one of too many lines, or too long, is
// refused before it is held.
func TestReaderBoundsHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, header string
	}{
		{"too many lines", strings.Repeat("X-A: b\r\n", maxHeaderLines+1)},
		{"too many bytes", "X-A: " + strings.Repeat("b", maxHeaderBytes) + "\r\n"},
		{"a line longer than the buffer", "X-A: " + strings.Repeat("b", readBufferSize+1) + "\r\n"},
	} {
		body := "--XyZ\r\n" + tc.header + "\r\nv\r\n--XyZ--\r\n"
		_, err := newReader(strings.NewReader(body), "XyZ").NextPart()
		if err == nil || !strings.Contains(err.Error(), "header is over") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	ok := "--XyZ\r\n" + strings.Repeat("X-A: b\r\n", maxHeaderLines-2) + "\r\nv\r\n--XyZ--\r\n"
	if _, err := newReader(strings.NewReader(ok), "XyZ").NextPart(); err != nil {
		t.Errorf("a header within the bounds: %v", err)
	}
}
