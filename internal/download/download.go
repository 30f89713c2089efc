// Package download serves a stored file's bytes over HTTP with what a
// download needs: Range, ETag, If-None-Match, Last-Modified and an
// attachment name. The REST adapter and the legacy shim both serve files
// through it; each maps the error of a file that cannot be opened in its
// own way.
package download

import (
	"mime"
	"net/http"

	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/files"
)

// Serve streams f. An error means nothing was written yet (the object
// could not be opened) and the caller answers it.
func Serve(w http.ResponseWriter, r *http.Request, svc *files.Service, f *files.File) error {
	rd, err := svc.Open(r.Context(), f)
	if err != nil {
		return err
	}
	defer rd.Close()
	w.Header().Set("Content-Type", ContentType(&f.Summary))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", f.CreatedAt, rd)
	return nil
}

// ContentType labels a download, which is the bytes as they were
// received, with the charset they were found to be in. A file stored before
// uploads were checked to the last byte may say utf-8 after looking at its
// beginning only: it goes without a charset rather than with a wrong one.
func ContentType(f *files.Summary) string {
	switch f.Encoding {
	case csvio.EncodingWindows1252, csvio.EncodingMacintosh:
		// Every byte is a character in both, so the label is true.
		return "text/csv; charset=" + f.Encoding
	case csvio.EncodingUTF16LE, csvio.EncodingUTF16BE:
		return "text/csv; charset=utf-16"
	}
	if f.ReadIssues == nil {
		return "text/csv"
	}
	return "text/csv; charset=utf-8"
}
