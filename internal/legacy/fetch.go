package legacy

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/requestid"
)

// fetchHead is #10 without its content, in the order it is written.
type fetchHead struct {
	Name     string   `json:"name"`
	FileID   string   `json:"file_id"`
	FileName string   `json:"file_name"`
	FilePath string   `json:"file_path"`
	Size     int64    `json:"size"`
	Type     string   `json:"type"`
	RowCount int64    `json:"rowCount"`
	Columns  []string `json:"columns"`
}

// fetchSavedFile is endpoint #10, the one place where the contract puts a
// whole file in a response ("content"). The file is streamed into the JSON
// string as it is read, decoded to UTF-8, so memory stays constant
// whatever the file's size.
func (h *Handler) fetchSavedFile(w http.ResponseWriter, r *http.Request) error {
	caller, err := requireCaller(r)
	if err != nil {
		return err
	}
	f, err := h.Files.Get(r.Context(), caller.UserID, r.PathValue("file_id"))
	if err != nil {
		return err
	}
	head, err := json.Marshal(fetchHead{
		Name: f.Name, FileID: f.ID, FileName: f.Name, FilePath: h.handleFor(f.ID),
		Size: f.Size, Type: "text/csv", RowCount: f.RowCount, Columns: columnNames(f),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	// Open before the status line goes out, so a failing bucket is still
	// a proper error answer.
	rd, err := h.Files.Open(r.Context(), f)
	if err != nil {
		return err
	}
	defer rd.Close()
	text, err := csvio.NewTextReader(rd, f.Dialect())
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head[:len(head)-1]) // without the closing brace
	bw.WriteString(`,"content":"`)
	err = writeJSONString(bw, text)
	if err == nil {
		bw.WriteString("\"}\n")
		err = bw.Flush()
	}
	if err != nil {
		// The status is sent: the client gets invalid JSON and the log says why.
		h.Log.WarnContext(r.Context(), "legacy: fetch_saved_file failed mid-stream", "file_id", f.ID,
			"err", err, "request_id", requestid.From(r.Context()))
	}
	return nil
}

// writeJSONString writes r's text as the inside of a JSON string, escaping
// as encoding/json does (invalid UTF-8 becomes U+FFFD).
func writeJSONString(w *bufio.Writer, r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	const hex = "0123456789abcdef"
	for {
		c, size, err := br.ReadRune()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case c == utf8.RuneError && size == 1:
			w.WriteString(`\ufffd`)
		case c == '"':
			w.WriteString(`\"`)
		case c == '\\':
			w.WriteString(`\\`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '\r':
			w.WriteString(`\r`)
		case c == '\t':
			w.WriteString(`\t`)
		case c < 0x20:
			w.WriteString(`\u00`)
			w.WriteByte(hex[c>>4])
			w.WriteByte(hex[c&0xF])
		case c == '\u2028' || c == '\u2029':
			// Valid JSON, but not valid inside JavaScript string literals.
			w.WriteString(`\u` + strconv.FormatInt(int64(c), 16))
		default:
			w.WriteRune(c)
		}
	}
}
