package formdata

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
)

func form(t *testing.T, parts ...[2]string) *multipart.Reader {
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
	return multipart.NewReader(&b, w.Boundary())
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
	if _, _, err := FilePart(multipart.NewReader(strings.NewReader("not multipart"), "b"), "file", 10); !errors.As(err, new(*MalformedError)) {
		t.Fatalf("garbage: %v, want a MalformedError", err)
	}
}
