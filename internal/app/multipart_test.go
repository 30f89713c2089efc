package app_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// multipartBody builds a GraphQL multipart request with one file.
func multipartBody(ops, mapping string, file []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("operations", ops)
	mw.WriteField("map", mapping)
	if file != nil {
		fw, _ := mw.CreateFormFile("0", "big.csv")
		fw.Write(file)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// The operations and map parts of a multipart request are held to
// MAX_REQUEST_BODY like any GraphQL request, file parts to MAX_FILE_SIZE;
// both refusals are PAYLOAD_TOO_LARGE with 413, however the body is sent.
func TestMultipartLimits(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
		c.MaxRequestBody = 64 << 10
		c.MaxFileSize = 256 << 10
	})
	tok := s.register(t, "ada").AccessToken
	var q strings.Builder
	q.WriteString("{")
	for i := 0; q.Len() < 100<<10; i++ {
		fmt.Fprintf(&q, " a%d: me { id }", i)
	}
	q.WriteString(" }")
	bigOps := fmt.Sprintf(`{"query":%q,"variables":{}}`, q.String())
	upload := `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { id } }","variables":{"f":null}}`
	csv := func(n int) []byte {
		return append([]byte("a,b\n"), bytes.Repeat([]byte("1,2\n"), n/4)...)
	}
	for _, tc := range []struct {
		name, ops, mapping string
		file               []byte
		status             int
		code, words        string
	}{
		{"operations over MAX_REQUEST_BODY", bigOps, `{}`, nil, 413, "PAYLOAD_TOO_LARGE", "MAX_REQUEST_BODY"},
		{"map over MAX_REQUEST_BODY", upload, `{"0":["variables.f"],"x":["` + strings.Repeat("a", 70<<10) + `"]}`, csv(10), 413, "PAYLOAD_TOO_LARGE", "MAX_REQUEST_BODY"},
		{"file over MAX_FILE_SIZE", upload, `{"0":["variables.f"]}`, csv(300 << 10), 413, "PAYLOAD_TOO_LARGE", "MAX_FILE_SIZE"},
		{"file within MAX_FILE_SIZE", upload, `{"0":["variables.f"]}`, csv(200 << 10), 200, "", ""},
	} {
		for _, chunked := range []bool{false, true} {
			body, ct := multipartBody(tc.ops, tc.mapping, tc.file)
			var r io.Reader = body
			if chunked {
				r = io.MultiReader(body)
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/graphql", r)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var out gqlResponse
			decodeJSON(t, resp, &out)
			if resp.StatusCode != tc.status || out.code() != tc.code || (tc.words != "" && !strings.Contains(out.Errors[0].Message, tc.words)) {
				t.Errorf("%s (chunked %v): status %d code %q %+v", tc.name, chunked, resp.StatusCode, out.code(), out.Errors)
			}
		}
	}
}
