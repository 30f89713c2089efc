package legacy

import (
	"errors"
	"io"
	"net/http"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/formdata"
)

// multipartSlack is what a multipart body may carry beyond the file itself:
// boundaries, part headers and the small form fields of #8.
const multipartSlack = 2 << 20

// maxFieldBytes bounds one form field (metadata is the largest: the
// frontend's column filters and a few details).
const maxFieldBytes = 1 << 20

// boundedBody is the request body behind http.MaxBytesReader, remembering
// whether the bound was hit: the files pipeline reports a failing body as
// text, so the type of the error is lost by the time it comes back.
type boundedBody struct {
	io.ReadCloser
	hit bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) {
		b.hit = true
	}
	return n, err
}

// bound replaces r's body with a bounded one. Files.Create enforces the
// exact file size; this bound stops a client from streaming gigabytes of
// other parts, and makes the server close such a connection.
func (h *Handler) bound(w http.ResponseWriter, r *http.Request) *boundedBody {
	b := &boundedBody{ReadCloser: http.MaxBytesReader(w, r.Body, h.Files.MaxFileSize()+multipartSlack)}
	r.Body = b
	return b
}

// tooLarge is the error for a body over the bound.
func (h *Handler) tooLarge() error {
	return &apperr.TooLargeError{Limit: h.Files.MaxFileSize()}
}

// receiveFile streams the multipart part "file" into Files.Create as nf,
// named after the client's file name. Parts before it are skipped, parts
// after it are never read: only the file matters to #2 and #4.
func (h *Handler) receiveFile(w http.ResponseWriter, r *http.Request, nf files.NewFile) (*files.File, error) {
	noFile := errorReply(http.StatusBadRequest, "No file uploaded")
	body := h.bound(w, r)
	mr, err := formdata.NewReader(r)
	if err != nil {
		return nil, noFile
	}
	p, _, err := formdata.FilePart(mr, "file", 0)
	if err != nil {
		if body.hit {
			return nil, h.tooLarge()
		}
		return nil, noFile
	}
	nf.Name = partName(p, nf.Name)
	f, err := h.Files.Create(r.Context(), nf, p)
	if err != nil && body.hit {
		return nil, h.tooLarge()
	}
	return f, err
}

// partName is the display name of an uploaded part; fallback when the
// client sent no usable one. It is only ever a display name: Files.Create
// cleans it and never uses it as a path.
func partName(p *formdata.Part, fallback string) string {
	name := p.FileName()
	if name == "" {
		return fallback
	}
	if fallback != "" {
		if _, err := files.CleanName(name); err != nil {
			return fallback
		}
	}
	return name
}

// csvCutter is endpoint #2: an anonymous upload kept as a scratch file that
// expires. Always scratch, even with a token: the cutter page does not save
// anything, and its uploads should not fill the user's list. With a token
// the upload remembers its account, so deleting the account deletes it.
func (h *Handler) csvCutter(w http.ResponseWriter, r *http.Request) error {
	expires := h.clock().Add(h.ScratchTTL)
	nf := files.NewFile{Name: "upload.csv", Origin: files.OriginUploaded, ExpiresAt: &expires, ClientKey: auth.ClientKey(r)}
	if c, ok := auth.CallerFrom(r.Context()); ok {
		// Still scratch, but the account's: it goes if the account does.
		nf.UploadedBy = &c.UserID
	}
	f, err := h.receiveFile(w, r, nf)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Columns  []string `json:"columns"`
		FilePath string   `json:"file_path"`
	}{columnNames(f), h.handleFor(f.ID)})
	return nil
}

// upload is endpoint #4: a file of the caller's, tagged "uploaded".
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	f, err := h.receiveFile(w, r, files.NewFile{OwnerID: &caller.UserID, Origin: files.OriginUploaded})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Message  string `json:"message"`
		FileID   string `json:"file_id"`
		FileName string `json:"file_name"`
		FilePath string `json:"file_path"`
	}{"File uploaded successfully", f.ID, f.Name, h.handleFor(f.ID)})
	return nil
}

// columnNames are f's header names, in order.
func columnNames(f *files.File) []string {
	out := make([]string, len(f.Columns()))
	for i, c := range f.Columns() {
		out[i] = c.Name
	}
	return out
}
