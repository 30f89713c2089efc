package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/cutline/cutline/graph"
	"github.com/cutline/cutline/internal/formdata"
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
//   - the parts must come in the spec's order, operations, map, then the
//     files; anything else is a BAD_USER_INPUT error naming the order;
//   - the last file part, when map names it once, is not read here: the
//     resolver gets it as a stream, reading it from the connection as it
//     arrives (no copy anywhere, constant memory however the body is
//     framed). Parts after it are not read;
//   - a file part before the last (or named more than once) is kept: in
//     memory up to maxMemory, beyond that in a temporary file in spoolDir,
//     removed from the folder as soon as it is open, so that not even a
//     crash leaves it behind;
//   - every size refusal is PAYLOAD_TOO_LARGE with HTTP 413.
//
// Operations run under REQUEST_TIMEOUT (timeout) from the moment the parts
// are in (graph.Deadline), or, when the last file streams, from the moment
// it has been read; the body itself is held to a minimum rate (slowBodies).
type multipartForm struct {
	maxParams, maxFile, maxMemory int64
	timeout                       time.Duration
	spoolDir                      string
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
	mr, err := formdata.NewReader(r)
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

	var stream *partStream
	for len(uploads) > 0 {
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
			fail(http.StatusUnprocessableEntity, graph.CodeBadUserInput, "part %q is not named in map (the parts are operations, map, then the files map names)", key)
			return
		}
		delete(uploads, key)
		if len(uploads) == 0 && len(paths) == 1 {
			stream = &partStream{part: p, key: key, max: t.maxFile}
			up := graphql.Upload{File: stream, Size: -1, Filename: p.FileName(), ContentType: p.Header.Get("Content-Type")}
			if err := params.AddUpload(up, key, paths[0]); err != nil {
				w.WriteHeader(http.StatusUnprocessableEntity)
				writeResponse(w, exec.DispatchError(ctx, gqlerror.List{err}))
				return
			}
			break
		}
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
	if stream == nil {
		serveRequest(ctx, w, exec, mediaJSON, params, true)
		return
	}
	// The deadline starts once the file has been read: before, the body's
	// minimum rate bounds the request.
	ctx, cancel := context.WithCancelCause(graph.WithOwnDeadline(ctx))
	defer cancel(nil)
	stream.done = func() {
		if t.timeout > 0 {
			timer := time.AfterFunc(t.timeout, func() { cancel(context.DeadlineExceeded) })
			context.AfterFunc(ctx, func() { timer.Stop() })
		}
	}
	serveRequestThen(ctx, w, exec, mediaJSON, params, true, stream.answer(w))
	if stream.unfinished() {
		// Closing the body would first wait for up to 256 KiB more of it,
		// from a client that may be waiting for this answer; the
		// connection, which answer ends with this request, is given up
		// instead.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	}
}

// unfinished reports whether the resolver stopped reading before the end
// of the part (a refused file, or one it never read).
func (s *partStream) unfinished() bool { return !errors.Is(s.err, io.EOF) }

// partStream hands the resolver the last file part as it arrives. It
// stops at max bytes (MAX_FILE_SIZE) and remembers why reading stopped,
// so that the answer gets the status a kept file's refusal would get.
type partStream struct {
	part     io.Reader
	key      string
	max, n   int64
	err      error
	done     func()
	doneOnce sync.Once
}

// Read reads the part; past max bytes it fails with errFileTooLarge
// wrapped as the http.MaxBytesError the files pipeline maps to
// PAYLOAD_TOO_LARGE.
func (s *partStream) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if rest := s.max + 1 - s.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := s.part.Read(p)
	s.n += int64(n)
	if s.n > s.max {
		n, err = n-int(s.n-s.max), &http.MaxBytesError{Limit: s.max}
		s.n = s.max
	}
	if err != nil {
		s.err = err
		if s.done != nil {
			s.doneOnce.Do(s.done)
		}
	}
	return n, err
}

// Seek fails: the part is read once, from the connection.
func (s *partStream) Seek(int64, int) (int64, error) {
	return 0, errors.New("a streamed file part cannot seek")
}

// answer sets the status of a response whose file could not be read to
// its end: 413 for one over the limits (worded as a kept file's refusal),
// 408 for one that stopped arriving in time. The rest of an unfinished
// body is never read, so the connection ends with the answer.
func (s *partStream) answer(w http.ResponseWriter) func(*graphql.Response) {
	return func(resp *graphql.Response) {
		if s.unfinished() {
			w.Header().Set("Connection", "close")
		}
		var mbe *http.MaxBytesError
		switch {
		case errors.As(s.err, &mbe):
			for _, e := range resp.Errors {
				if e.Extensions["code"] == graph.CodePayloadTooLarge {
					e.Message = fmt.Sprintf("file %s is larger than %d bytes (MAX_FILE_SIZE)", s.key, min(mbe.Limit, s.max))
				}
			}
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		case isTimeout(s.err):
			w.WriteHeader(http.StatusRequestTimeout)
		}
	}
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
	f, err := os.CreateTemp(t.spoolDir, spoolPattern)
	if err != nil {
		return nil, 0, nil, err
	}
	// Out of the folder at once: the open file lives until it is closed,
	// and nothing is left if the process dies. (Where an open file cannot
	// be removed, cleanup removes it.)
	removed := os.Remove(f.Name()) == nil
	cleanup = func() {
		f.Close()
		if !removed {
			os.Remove(f.Name())
		}
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
	// Each variable the file is mapped to reads it from the start.
	body = func() io.ReadSeeker { return io.NewSectionReader(f, 0, size) }
	return body, size, cleanup, nil
}

// defaultSpoolDir is the folder of the kept file parts of GraphQL multipart
// requests (cutline-spool in the system's temporary folder), made when it
// is missing; the system's temporary folder itself when it cannot be.
func defaultSpoolDir() string {
	dir := filepath.Join(os.TempDir(), "cutline-spool")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return os.TempDir()
	}
	return dir
}

// spoolPattern names the temporary files of kept file parts.
const spoolPattern = "cutline-upload-*"

// sweepSpool removes kept file parts older than grace from dir: there are
// none unless a process died between creating one and removing its name.
func sweepSpool(dir string, grace time.Duration) (removed int) {
	names, _ := filepath.Glob(filepath.Join(dir, spoolPattern))
	for _, name := range names {
		if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > grace {
			if os.Remove(name) == nil {
				removed++
			}
		}
	}
	return removed
}
