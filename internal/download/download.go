// Package download serves a stored file's bytes over HTTP with what a
// download needs: Range, ETag, If-None-Match, Last-Modified and an
// attachment name. The REST adapter and the legacy shim both serve files
// through it; each maps the error of a file that cannot be opened in its
// own way.
package download

import (
	"mime"
	"net/http"

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
	w.Header().Set("Content-Type", "text/csv; charset="+Charset(f.Encoding))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, no-cache")
	http.ServeContent(w, r, "", f.CreatedAt, rd)
	return nil
}

// Charset is the charset parameter for bytes in a file's encoding.
func Charset(enc string) string {
	switch enc {
	case "windows-1252":
		return "windows-1252"
	case "utf-16le", "utf-16be":
		return "utf-16"
	}
	return "utf-8"
}
