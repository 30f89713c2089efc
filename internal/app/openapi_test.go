package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func init() {
	openapi3filter.RegisterBodyDecoder("text/vnd.graphviz", openapi3filter.PlainBodyDecoder)
}

// openAPIClient sends requests to the server after checking them against
// the server's own /api/v1/openapi.json, and checks every answer against it
// too: status, headers, media type and body.
type openAPIClient struct {
	t      *testing.T
	s      *server
	router routers.Router
	seen   map[string]bool // "operationId status"
}

func newOpenAPIClient(t *testing.T, s *server) *openAPIClient {
	t.Helper()
	resp, err := http.Get(s.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: s.URL}}
	router, err := legacyrouter.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &openAPIClient{t: t, s: s, router: router, seen: map[string]bool{}}
}

// do validates req, sends it, validates the answer and returns it with
// its body.
func (c *openAPIClient) do(req *http.Request, wantStatus int) (*http.Response, []byte) {
	c.t.Helper()
	ctx := context.Background()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s is not in openapi.json: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	// A request meant to fail may break the document's rules: that is
	// what its answer is about.
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && wantStatus < 400 {
		c.t.Fatalf("%s %s: the request does not match openapi.json: %v", req.Method, req.URL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != wantStatus {
		c.t.Fatalf("%s %s: %d %s, want %d", req.Method, req.URL, resp.StatusCode, body, wantStatus)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.t.Errorf("%s %s: the %d answer does not match openapi.json: %v\n%.300s", req.Method, req.URL, resp.StatusCode, err, body)
	}
	c.seen[route.Operation.OperationID+" "+resp.Status[:3]] = true
	return resp, body
}

func (c *openAPIClient) request(method, path, token, contentType string, body []byte) *http.Request {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.s.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// TestRESTAnswersMatchOpenAPI drives every /api/v1 route through its
// successes and its usual failures and validates each request and answer
// against the OpenAPI document the server serves.
func TestRESTAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		c := newOpenAPIClient(t, s)
		tok := s.register(t, "oas").AccessToken
		const people = "name,age,city,joined\nAda,36,NYC,2024-01-02\nBob,25,LA,2023-05-06\nAnn,41,Paris,\n"

		// Uploads: raw, multipart, and what goes wrong.
		_, body := c.do(c.request("POST", "/api/v1/files?name=people.csv&tags=q3,raw", tok, "text/csv", []byte(people)), 201)
		var f struct {
			ID      string
			Columns []map[string]any
		}
		if err := json.Unmarshal(body, &f); err != nil || f.ID == "" || len(f.Columns) != 4 {
			t.Fatalf("upload: %s", body)
		}
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		mw.WriteField("tags", "form")
		mw.WriteField("encoding", "latin1")
		fw, _ := mw.CreateFormFile("file", "form.csv")
		io.WriteString(fw, people)
		mw.Close()
		c.do(c.request("POST", "/api/v1/files", tok, mw.FormDataContentType(), mp.Bytes()), 201)
		c.do(c.request("POST", "/api/v1/files", "", "text/csv", []byte(people)), 401)
		c.do(c.request("POST", "/api/v1/files", tok, "text/csv", []byte{}), 400)
		c.do(c.request("POST", "/api/v1/files?encoding=macintosh", tok, "text/csv", []byte("a\r\xD5\r")), 201)
		c.do(c.request("POST", "/api/v1/files?encoding=klingon", tok, "text/csv", []byte(people)), 400)
		c.do(c.request("POST", "/api/v1/files?encoding=utf-8", tok, "text/csv", []byte("a\n\xE9\n")), 400)
		c.do(c.request("POST", "/api/v1/files", tok, "text/csv", bytes.Repeat([]byte("a,b\n"), 300_000)), 413)

		// Downloads: whole, ranged, conditional, by signed URL, missing.
		content := "/api/v1/files/" + f.ID + "/content"
		resp, _ := c.do(c.request("GET", content, tok, "", nil), 200)
		c.do(c.request("HEAD", content, tok, "", nil), 200)
		r := c.request("GET", content, tok, "", nil)
		r.Header.Set("Range", "bytes=0-9")
		c.do(r, 206)
		r = c.request("GET", content, tok, "", nil)
		r.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		c.do(r, 304)
		r = c.request("GET", content, tok, "", nil)
		r.Header.Set("Range", "bytes=100000-")
		c.do(r, 416)
		var d struct{ File struct{ DownloadURL string } }
		s.ok(t, tok, `query($id: ID!) { file(id: $id) { downloadUrl } }`, map[string]any{"id": f.ID}, &d)
		c.do(c.request("GET", d.File.DownloadURL, "", "", nil), 200)
		c.do(c.request("GET", "/api/v1/files/00000000-0000-0000-0000-000000000000/content", tok, "", nil), 404)
		c.do(c.request("GET", content, "", "", nil), 401)

		// Cuts.
		cut := "/api/v1/files/" + f.ID + "/cut"
		_, body = c.do(c.request("POST", cut, tok, "application/json", []byte(`{"columns":["name","age"],"whereSql":"age >= 30"}`)), 200)
		if string(body) != "name,age\nAda,36\nAnn,41\n" {
			t.Errorf("cut: %q", body)
		}
		c.do(c.request("POST", cut, tok, "application/json", []byte(`{"where":{"column":"city","eq":"LA"}}`)), 200)
		c.do(c.request("POST", cut, tok, "application/json", []byte(`{"whereSql":"nope = 1"}`)), 400)
		c.do(c.request("POST", cut, tok, "application/json", []byte(`{"columns":["zip"]}`)), 400)
		c.do(c.request("POST", "/api/v1/files/00000000-0000-0000-0000-000000000000/cut", tok, "application/json", []byte(`{}`)), 404)

		// Lineage, around a derived file.
		var der struct{ DeriveFile struct{ ID string } }
		s.ok(t, tok, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "adults.csv", whereSql: "age >= 30"}) { id } }`,
			map[string]any{"id": f.ID}, &der)
		lin := "/api/v1/files/" + der.DeriveFile.ID + "/lineage"
		_, body = c.do(c.request("GET", lin, tok, "", nil), 200)
		if !strings.Contains(string(body), `"kind":"CUT_TO"`) {
			t.Errorf("lineage: %s", body)
		}
		c.do(c.request("GET", lin+"?direction=UPSTREAM&depth=3&limit=10&format=dot", tok, "", nil), 200)
		c.do(c.request("GET", lin+"?format=mermaid", tok, "", nil), 200)
		c.do(c.request("GET", lin+"?direction=sideways", tok, "", nil), 400)
		c.do(c.request("GET", "/api/v1/files/00000000-0000-0000-0000-000000000000/lineage", tok, "", nil), 404)
		col := "/api/v1/files/" + der.DeriveFile.ID + "/columns/age/lineage"
		_, body = c.do(c.request("GET", col+"?direction=upstream", tok, "", nil), 200)
		if !strings.Contains(string(body), `"kind":"IDENTITY"`) || !strings.Contains(string(body), `"kind":"FILTER"`) {
			t.Errorf("column lineage: %s", body)
		}
		c.do(c.request("GET", col+"?format=mermaid", tok, "", nil), 200)
		c.do(c.request("GET", col+"?format=dot", tok, "", nil), 200)
		c.do(c.request("GET", "/api/v1/files/"+der.DeriveFile.ID+"/columns/nope/lineage", tok, "", nil), 400)
		_, body = c.do(c.request("GET", "/api/v1/files/"+f.ID+"/openlineage?direction=downstream&depth=2&limit=5", tok, "", nil), 200)
		if !strings.Contains(string(body), `"eventType":"COMPLETE"`) {
			t.Errorf("openlineage: %s", body)
		}
		c.do(c.request("GET", "/api/v1/files/"+f.ID+"/openlineage?depth=-1", tok, "", nil), 400)
		c.do(c.request("GET", "/api/v1/files/00000000-0000-0000-0000-000000000000/openlineage", tok, "", nil), 404)

		// The document itself.
		resp, _ = c.do(c.request("GET", "/api/v1/openapi.json", "", "", nil), 200)
		r = c.request("GET", "/api/v1/openapi.json", "", "", nil)
		r.Header.Set("If-None-Match", resp.Header.Get("ETag"))
		c.do(r, 304)

		for _, op := range []string{"uploadFile 201", "downloadFile 200", "downloadFileHead 200", "cutFile 200", "fileLineage 200", "columnLineage 200", "openLineage 200", "openAPI 200"} {
			if !c.seen[op] {
				t.Errorf("no %s was checked", op)
			}
		}
	})
}
