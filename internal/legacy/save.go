package legacy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/formdata"
)

// saveForm holds the small fields of #8.
type saveForm struct {
	fileName, filename, metadata, original string
	hasMetadata                            bool
}

// name is the display name: file_name, or filename as one old page sends.
func (s *saveForm) name() string {
	if strings.TrimSpace(s.fileName) != "" {
		return s.fileName
	}
	return s.filename
}

// complete says whether every field the request can carry has arrived, so
// a file part that comes next can be streamed straight into the store.
func (s *saveForm) complete() bool {
	return strings.TrimSpace(s.name()) != "" && s.original != "" && s.hasMetadata
}

// errFieldTooLarge is a field or a spooled file over its bound.
var errFieldTooLarge = formdata.ErrFieldTooLarge

// readField reads a small form field, refusing megabytes of it.
func readField(p io.Reader) (string, error) { return formdata.ReadField(p, maxFieldBytes) }

// saveGeneratedFile is endpoint #8: the cut the frontend made with #3,
// saved as the caller's GENERATED file with a lineage edge from the
// original. Everything is validated before anything is written. The form
// fields may come after the file part (the frontend appends the file
// first), so in that case the file is spooled to a temporary file while
// the rest of the form is read; when every field came first, the file is
// streamed straight into the store. Either way, memory stays small.
func (h *Handler) saveGeneratedFile(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	body := h.bound(w, r)
	mr, err := formdata.NewReader(r)
	if err != nil {
		return errorReply(http.StatusBadRequest, "No file or filename provided.")
	}
	malformed := func(err error) error {
		if body.hit {
			return h.tooLarge()
		}
		return errorReply(http.StatusBadRequest, "Malformed multipart request: "+err.Error())
	}

	var form saveForm
	var spool *os.File
	defer func() {
		if spool != nil {
			spool.Close()
			os.Remove(spool.Name())
		}
	}()
	haveFile := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return malformed(err)
		}
		switch field := p.FormName(); field {
		case "file":
			if haveFile {
				continue // a second file part is ignored, as Django did
			}
			haveFile = true
			if form.complete() {
				parent, meta, err := h.checkSave(r.Context(), caller, &form, true)
				if err != nil {
					return err
				}
				return h.finishSave(w, r, caller, &form, parent, meta, p, body)
			}
			if spool, err = h.spoolPart(p); err != nil {
				switch {
				case errors.Is(err, errFieldTooLarge) || body.hit:
					return h.tooLarge()
				case errors.Is(err, errSpool):
					return err // the server's disk: a 500
				}
				return malformed(err)
			}
		case "file_name", "filename", "metadata", "original_file_id":
			v, err := readField(p)
			if errors.Is(err, errFieldTooLarge) {
				return errorReply(http.StatusBadRequest, fmt.Sprintf("The field %q is too large.", field))
			}
			if err != nil {
				return malformed(err)
			}
			if !utf8.ValidString(v) {
				return errorReply(http.StatusBadRequest, fmt.Sprintf("The field %q is not valid UTF-8.", field))
			}
			switch field {
			case "file_name":
				form.fileName = v
			case "filename":
				form.filename = v
			case "metadata":
				form.metadata, form.hasMetadata = v, true
			default:
				form.original = strings.TrimSpace(v)
			}
		}
		// Other parts are skipped; NextPart discards what is left of them.
	}
	parent, meta, err := h.checkSave(r.Context(), caller, &form, haveFile)
	if err != nil {
		return err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind spooled upload: %w", err)
	}
	return h.finishSave(w, r, caller, &form, parent, meta, spool, body)
}

// errSpool marks a failure of the server's temporary storage, not the client's.
var errSpool = errors.New("spool upload")

// spoolPart copies a file part to a temporary file, at most the size limit
// (errFieldTooLarge beyond it).
func (h *Handler) spoolPart(p io.Reader) (*os.File, error) {
	tmp, err := os.CreateTemp("", "cutline-legacy-*.csv")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errSpool, err)
	}
	limit := h.Files.MaxFileSize()
	n, err := io.Copy(tmp, io.LimitReader(p, limit+1))
	if err == nil && n > limit {
		err = errFieldTooLarge
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
}

// checkSave validates #8's request in the old server's order and returns
// the original file and the metadata to store. Nothing is written yet.
func (h *Handler) checkSave(ctx context.Context, caller *auth.Caller, form *saveForm, haveFile bool) (*files.File, *string, error) {
	if !haveFile || strings.TrimSpace(form.name()) == "" {
		return nil, nil, errorReply(http.StatusBadRequest, "No file or filename provided.")
	}
	if form.original == "" {
		return nil, nil, errorReply(http.StatusBadRequest, "Original file ID must be included in the request.")
	}
	// Not found, someone else's, deleted or malformed: all apperr.ErrNotFound,
	// which fail words as "Original file not found." for this endpoint.
	parent, err := h.Files.Get(ctx, caller.UserID, form.original)
	if err != nil {
		return nil, nil, err
	}
	return parent, files.MetadataText(form.metadata), nil
}

// finishSave stores the file; the lineage edge is committed with it.
func (h *Handler) finishSave(w http.ResponseWriter, r *http.Request, caller *auth.Caller, form *saveForm,
	parent *files.File, meta *string, content io.Reader, body *boundedBody) error {
	f, err := h.Files.SaveGenerated(r.Context(), caller.UserID, form.name(), []string{parent.ID}, meta, nil, content)
	if err != nil {
		if body.hit {
			return h.tooLarge()
		}
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Message  string `json:"message"`
		FilePath string `json:"file_path"`
		FileID   string `json:"file_id"`
	}{"File saved successfully.", h.handleFor(f.ID), f.ID})
	return nil
}
