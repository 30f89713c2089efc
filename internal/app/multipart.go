package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"os"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/cutline/cutline/graph"
)

// multipartForm serves the GraphQL multipart request spec
// (https://github.com/jaydenseric/graphql-multipart-request-spec) in place
// of gqlgen's transport, which reads the operations and map parts without
// a bound of their own and keeps a chunked body's files in memory. Here:
//
//   - the operations and map parts are held to maxParams (MAX_REQUEST_BODY),
//     as any other GraphQL request: only file parts may be larger;
//   - each file part is held to maxFile (MAX_FILE_SIZE), the whole body to
//     the sum of those;
//   - a file part larger than maxMemory goes to a temporary file, however
//     the body is framed;
//   - every size refusal is PAYLOAD_TOO_LARGE with HTTP 413.
//
// Operations run under REQUEST_TIMEOUT from the moment the parts are in
// (graph.Deadline); the body itself is held to a minimum rate (slowBodies).
type multipartForm struct {
	maxParams, maxFile, maxMemory int64
}

var _ graphql.Transport = multipartForm{}

// maxFiles bounds the file parts of one request.
const maxFiles = 32

func (t multipartForm) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == "multipart/form-data"
}

// maxBody bounds the whole body: the two small parts, one file of the
// largest size, and the part headers and boundaries.
func (t multipartForm) maxBody() int64 { return 2*t.maxParams + t.maxFile + 1<<20 }

func (t multipartForm) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("Content-Type", mediaJSON)
	start := graphql.Now()
	ctx := r.Context()
	fail := func(status int, code, format string, args ...any) {
		e := gqlerror.Errorf(format, args...)
		errcode.Set(e, code)
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{e}))
	}
	readFailed := func(what string, err error) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(http.StatusRequestEntityTooLarge, graph.CodePayloadTooLarge,
				"the request body is larger than %d bytes (MAX_FILE_SIZE plus twice MAX_REQUEST_BODY)", mbe.Limit)
			return
		}
		status, gerr := bodyError(err)
		gerr.Message = what + ": " + gerr.Message
		w.WriteHeader(status)
		writeResponse(w, exec.DispatchError(ctx, gqlerror.List{gerr}))
	}
	if r.ContentLength > t.maxBody() {
		fail(http.StatusRequestEntityTooLarge, graph.CodePayloadTooLarge,
			"the request body is larger than %d bytes (MAX_FILE_SIZE plus twice MAX_REQUEST_BODY)", t.maxBody())
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, t.maxBody())
	defer r.Body.Close()
	mr, err := r.MultipartReader()
	if err != nil {
		fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "not a multipart form: %v", err)
		return
	}

	// small reads one of the two JSON parts, refusing it past maxParams.
	small := func(name string) ([]byte, bool) {
		p, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, io.EOF) {
				fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "part %s missing: operations, then map, then the files", name)
			} else {
				readFailed("part "+name, err)
			}
			return nil, false
		}
		if p.FormName() != name {
			fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "part %q where %s was expected: operations, then map, then the files", p.FormName(), name)
			return nil, false
		}
		b, err := io.ReadAll(io.LimitReader(p, t.maxParams+1))
		if err != nil {
			readFailed("part "+name, err)
			return nil, false
		}
		if int64(len(b)) > t.maxParams {
			fail(http.StatusRequestEntityTooLarge, graph.CodePayloadTooLarge,
				"part %s is larger than %d bytes (MAX_REQUEST_BODY); only file parts may be larger", name, t.maxParams)
			return nil, false
		}
		return b, true
	}
	ops, ok := small("operations")
	if !ok {
		return
	}
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(ops))
	dec.UseNumber()
	if err := dec.Decode(params); err != nil {
		fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "part operations is not a GraphQL request: %v", err)
		return
	}
	rawMap, ok := small("map")
	if !ok {
		return
	}
	uploads := map[string][]string{}
	if err := json.Unmarshal(rawMap, &uploads); err != nil {
		fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "part map is not an object of paths: %v", err)
		return
	}
	if len(uploads) > maxFiles {
		fail(http.StatusRequestEntityTooLarge, graph.CodePayloadTooLarge, "at most %d files per request", maxFiles)
		return
	}

	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readFailed("the files", err)
			return
		}
		key := p.FormName()
		paths := uploads[key]
		if len(paths) == 0 {
			fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "part %q is not named in map", key)
			return
		}
		delete(uploads, key)
		body, size, cleanup, err := t.spool(p)
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.Is(err, errFileTooLarge) {
				fail(http.StatusRequestEntityTooLarge, graph.CodePayloadTooLarge, "file %s is larger than %d bytes (MAX_FILE_SIZE)", key, t.maxFile)
			} else if errors.As(err, &mbe) || isTimeout(err) {
				readFailed("file "+key, err)
			} else {
				fail(http.StatusInternalServerError, graph.CodeInternal, "could not keep file %s", key)
			}
			return
		}
		for _, path := range paths {
			up := graphql.Upload{File: body(), Size: size, Filename: p.FileName(), ContentType: p.Header.Get("Content-Type")}
			if err := params.AddUpload(up, key, path); err != nil {
				w.WriteHeader(http.StatusUnprocessableEntity)
				writeResponse(w, exec.DispatchError(ctx, gqlerror.List{err}))
				return
			}
		}
	}
	for key := range uploads {
		fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "file %s named in map is missing", key)
		return
	}

	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serveRequest(ctx, w, exec, mediaJSON, params, true)
}

var errFileTooLarge = errors.New("file part too large")

// spool keeps one file part: in memory up to maxMemory, in a temporary
// file beyond, never more than maxFile bytes. body returns a fresh reader
// of the bytes for each use (a file may be mapped to several variables).
func (t multipartForm) spool(p io.Reader) (body func() io.ReadSeeker, size int64, cleanup func(), err error) {
	head, err := io.ReadAll(io.LimitReader(p, t.maxMemory+1))
	if err != nil {
		return nil, 0, nil, err
	}
	if int64(len(head)) > t.maxFile {
		return nil, 0, nil, errFileTooLarge
	}
	if int64(len(head)) <= t.maxMemory {
		return func() io.ReadSeeker { return bytes.NewReader(head) }, int64(len(head)), nil, nil
	}
	f, err := os.CreateTemp("", "cutline-upload-")
	if err != nil {
		return nil, 0, nil, err
	}
	var opened []*os.File
	cleanup = func() {
		for _, o := range opened {
			o.Close()
		}
		f.Close()
		os.Remove(f.Name())
	}
	n, err := f.Write(head)
	if err == nil {
		var m int64
		m, err = io.Copy(f, io.LimitReader(p, t.maxFile-int64(n)+1))
		size = int64(n) + m
	}
	if err == nil && size > t.maxFile {
		err = errFileTooLarge
	}
	if err != nil {
		return nil, 0, cleanup, err
	}
	body = func() io.ReadSeeker {
		o, err := os.Open(f.Name())
		if err != nil {
			// The file was just written; a reader that fails says so.
			return errReader{err}
		}
		opened = append(opened, o)
		return o
	}
	return body, size, cleanup, nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error)       { return 0, e.err }
func (e errReader) Seek(int64, int) (int64, error) { return 0, e.err }
