package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/cutline/cutline/graph"
)

// postJSON is gqlgen's POST transport (same negotiation and answers to
// operations that run) with two differences. An answer that is only data
// is written as is: transport.POST hands every answer to encoding/json,
// which scans the already encoded data again byte by byte to validate and
// compact it, 6% of the CPU of a page of files. And a request that cannot
// run is answered as GraphQL over HTTP asks (serveRequest).
type postJSON struct {
	transport.POST
	// prepared, when set, answers the plain queries it has prepared.
	prepared *prepared
}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// Supports takes what transport.POST takes; the plain media type every
// client sends is recognised without parsing it.
func (t postJSON) Supports(r *http.Request) bool {
	if r.Method == http.MethodPost && r.Header.Get("Content-Type") == mediaJSON && r.Header.Get("Upgrade") == "" {
		return true
	}
	return t.POST.Supports(r)
}

// Do serves one operation.
func (t postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseMediaType(r.Header.Get("Accept"))
	setContentType(w.Header(), contentType)
	start := graphql.Now()

	body, err := io.ReadAll(r.Body)
	if err != nil {
		status, gerr := bodyError(err)
		w.WriteHeader(status)
		writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{gerr}))
		return
	}
	params := &graphql.RawParams{}
	q, plain := plainQuery(body)
	if plain {
		params.Query = q
	} else {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(params); err != nil {
			badRequest(ctx, w, exec, "", "the request body is not a GraphQL request in JSON: "+err.Error())
			return
		}
	}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		badRequest(ctx, w, exec, "query", "the request has no query"+unknownParameters(body))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	if plain && t.prepared.serve(ctx, w, exec, params) {
		return
	}
	serveRequest(ctx, w, exec, contentType, params, true)
}

// plainQuery reads the body most clients send, {"query":"..."} alone with a
// query that needs no unescaping, without encoding/json, which makes a
// decoder and a copy of the body and reads every byte twice; it decodes to
// the same RawParams. Anything else (other members, escapes, spaces) is not
// plain, and goes to the decoder.
func plainQuery(body []byte) (string, bool) {
	const open, end = `{"query":"`, `"}`
	if len(body) < len(open)+len(end) || string(body[:len(open)]) != open || string(body[len(body)-len(end):]) != end {
		return "", false
	}
	q := body[len(open) : len(body)-len(end)]
	for _, c := range q {
		// Control characters are refused by the decoder; bytes that are
		// not ASCII would be checked (and replaced) as UTF-8 by it.
		if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return "", false
		}
	}
	return string(q), true
}

// getQuery is gqlgen's GET transport answering as postJSON does: a query
// in the URL (query, operationName, and variables and extensions as JSON).
// A mutation over GET is refused with 405, as GraphQL over HTTP requires.
type getQuery struct{}

// Supports takes GET requests that are not websocket upgrades.
func (getQuery) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

// Do serves one query.
func (getQuery) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	contentType := responseMediaType(r.Header.Get("Accept"))
	setContentType(w.Header(), contentType)
	start := graphql.Now()

	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		badRequest(ctx, w, exec, "", "the URL's query string cannot be read: "+err.Error())
		return
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	for name, into := range map[string]*map[string]any{"variables": &params.Variables, "extensions": &params.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(into); err != nil {
				badRequest(ctx, w, exec, name, name+" is not a JSON object: "+err.Error())
				return
			}
		}
	}
	if params.Query == "" && params.Extensions["persistedQuery"] == nil {
		badRequest(ctx, w, exec, "query", "the request has no query parameter")
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	serveRequest(ctx, w, exec, contentType, params, false)
}

// serveRequest runs one GraphQL request. One that cannot run (a document
// that does not parse or validate, variables of the wrong type, an
// operation over the limits) has no data entry, and is answered with 200
// under application/json, whose clients read the errors from the body,
// and with 400 under application/graphql-response+json.
func serveRequest(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, contentType string, params *graphql.RawParams, mutations bool) {
	serveRequestThen(ctx, w, exec, contentType, params, mutations, nil)
}

// serveRequestThen is serveRequest; after, when set, sees the response of
// an operation that ran before it is written (and may set the status).
func serveRequestThen(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, contentType string,
	params *graphql.RawParams, mutations bool, after func(*graphql.Response)) {
	rc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr != nil {
		if contentType == mediaGraphQLResponse {
			w.WriteHeader(http.StatusBadRequest)
		}
		writeRequestErrors(w, exec.DispatchError(graphql.WithOperationContext(ctx, rc), opErr))
		return
	}
	if op := rc.Operation; !mutations && op != nil && op.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		e := gqlerror.Errorf("a GET request can only run a query; send a %s with POST", op.Operation)
		errcode.Set(e, graph.CodeBadUserInput)
		writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{e}))
		return
	}
	var stream *graph.Stream
	if after == nil {
		// An answer written as it is made (a large lineage) is never held
		// whole in memory.
		ctx, stream = graph.WithStream(ctx, w)
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if after != nil {
		after(resp)
	}
	if stream != nil && stream.Written() {
		return
	}
	writeResponse(w, resp)
}

// badRequest answers a request that is no GraphQL request at all (no
// document nor a persisted query's hash, parameters that cannot be read)
// with 400; field, when not empty, names the parameter at fault.
func badRequest(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, field, msg string) {
	e := gqlerror.Errorf("%s", msg)
	errcode.Set(e, graph.CodeBadUserInput)
	if field != "" {
		e.Extensions["field"] = field
	}
	w.WriteHeader(http.StatusBadRequest)
	writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{e}))
}

// requestParameters are the members of a GraphQL request in JSON.
var requestParameters = map[string]bool{"query": true, "operationName": true, "variables": true, "extensions": true}

// unknownParameters names the members of body that no GraphQL request
// has, for the error about a missing query ({"qeury": ...}).
func unknownParameters(body []byte) string {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	var unknown []string
	for k := range m {
		if !requestParameters[k] {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	slices.Sort(unknown)
	return " (unknown parameter " + strings.Join(unknown, ", ") + "; a request has query, operationName, variables and extensions)"
}

// writeRequestErrors writes the answer to a request that did not run: its
// errors and extensions, and no data entry.
func writeRequestErrors(w io.Writer, resp *graphql.Response) {
	b, err := json.Marshal(struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
	if err != nil {
		panic(fmt.Errorf("encode a GraphQL response: %w", err))
	}
	_, _ = w.Write(b)
}

// bodyError is the answer to a request body that could not be read: too
// large (whatever the transfer encoding: a chunked body has no
// Content-Length to refuse it by), too slow, or cut off.
func bodyError(err error) (int, *gqlerror.Error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		e := gqlerror.Errorf("the request body is larger than %d bytes (MAX_REQUEST_BODY)", mbe.Limit)
		errcode.Set(e, graph.CodePayloadTooLarge)
		return http.StatusRequestEntityTooLarge, e
	case isTimeout(err):
		e := gqlerror.Errorf("the request body did not arrive in time (REQUEST_TIMEOUT)")
		errcode.Set(e, graph.CodeBadUserInput)
		return http.StatusRequestTimeout, e
	}
	e := gqlerror.Errorf("could not read the request body: %v", err)
	errcode.Set(e, graph.CodeBadUserInput)
	return http.StatusBadRequest, e
}

// isTimeout tells a read that hit its deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// The answers' Content-Type values, shared by every response as the
// security headers' are (securityHeaders).
var (
	jsonContentType            = []string{mediaJSON}
	graphQLResponseContentType = []string{mediaGraphQLResponse}
)

// setContentType sets Content-Type to mediaType, one of the two that
// responseMediaType picks, without allocating its value.
func setContentType(h http.Header, mediaType string) {
	switch mediaType {
	case mediaJSON:
		h["Content-Type"] = jsonContentType
	case mediaGraphQLResponse:
		h["Content-Type"] = graphQLResponseContentType
	default:
		h.Set("Content-Type", mediaType)
	}
}

// responseMediaType picks the answer's media type from Accept as gqlgen
// does: application/json unless the client asks for the GraphQL response
// type first, or names neither.
func responseMediaType(accept string) string {
	if accept == "" {
		return mediaJSON
	}
	for part := range strings.SplitSeq(accept, ",") {
		mediaType, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mediaType {
		case "*/*", "application/*", mediaJSON:
			return mediaJSON
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		}
	}
	return mediaGraphQLResponse
}

// writeResponse writes resp as encoding/json would, but without reading
// the data a second time when it is all there is.
func writeResponse(w io.Writer, resp *graphql.Response) {
	if resp == nil {
		resp = &graphql.Response{}
	}
	if len(resp.Errors) > 0 || resp.Label != "" || resp.Path != nil || resp.HasNext != nil || len(resp.Extensions) > 0 {
		b, err := json.Marshal(resp)
		if err != nil {
			panic(fmt.Errorf("encode a GraphQL response: %w", err))
		}
		_, _ = w.Write(b)
		return
	}
	data := resp.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	if len(data) > 64<<10 {
		// Large data is not copied once more to be written in one piece.
		_, _ = w.Write([]byte(`{"data":`))
		_, _ = w.Write(data)
		_, _ = w.Write([]byte{'}'})
		return
	}
	buf := make([]byte, 0, len(data)+len(`{"data":}`))
	buf = append(buf, `{"data":`...)
	buf = append(buf, data...)
	buf = append(buf, '}')
	_, _ = w.Write(buf)
}
