package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// The last file part of a GraphQL multipart request reaches the resolver
// as it arrives: a file whose header is refused (wider than MAX_COLUMNS) is
// answered while the client is still sending it, and never reaches
// MAX_FILE_SIZE. A transport that kept the part before running the
// resolver would read on to MAX_FILE_SIZE and refuse it as too large.
func TestMultipartFileStreamsToTheResolver(t *testing.T) {
	const maxFile = 8 << 20
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxColumns, c.MaxFileSize = 100, maxFile })
	tok := s.register(t, "ada").AccessToken
	u, _ := url.Parse(s.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against a hang, not a measure.
	conn.SetDeadline(time.Now().Add(2 * time.Minute))

	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b0undary\r\nTransfer-Encoding: chunked\r\n\r\n",
		u.Host, tok)
	chunk := func(p string) error { _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(p), p); return err }
	var head strings.Builder
	head.WriteString("--b0undary\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n")
	head.WriteString(`{"query":"mutation($f: Upload!) { uploadFile(file: $f) { id } }","variables":{"f":null}}`)
	head.WriteString("\r\n--b0undary\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"variables.f\"]}")
	head.WriteString("\r\n--b0undary\r\nContent-Disposition: form-data; name=\"0\"; filename=\"wide.csv\"\r\n\r\n")
	// Wider than the 64 KiB the reader looks at before it parses.
	cols := make([]string, 200)
	for i := range cols {
		cols[i] = fmt.Sprintf("c%d_%s", i, strings.Repeat("x", 400))
	}
	head.WriteString(strings.Join(cols, ",") + "\n")
	if err := chunk(head.String()); err != nil {
		t.Fatal(err)
	}
	// Rows keep coming, up to twice MAX_FILE_SIZE, and the body never ends.
	sent := make(chan int64, 1)
	go func() {
		rows := strings.Repeat("1,2,3\n", 10_000)
		var n int64
		for n < 2*maxFile && chunk(rows) == nil {
			n += int64(len(rows))
		}
		sent <- n
	}()

	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer while the file was still arriving: %v", err)
	}
	var out gqlResponse
	decodeJSON(t, resp, &out)
	if out.code() != "BAD_USER_INPUT" || !strings.Contains(out.Errors[0].Message, "MAX_COLUMNS") {
		t.Fatalf("a header of 200 columns: %d %+v", resp.StatusCode, out.Errors)
	}
	conn.Close()
	if n := <-sent; n >= 2*maxFile {
		t.Fatalf("the client sent all of its %d bytes before the answer", n)
	}
}

// The parts come in the spec's order; any other is refused with an error
// that names the order. Several files work: the earlier ones are kept
// (spooled), the last streams.
func TestMultipartPartOrder(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxFileSize = 4 << 20 })
	tok := s.register(t, "ada").AccessToken
	const two = `{"query":"mutation($a: Upload!, $b: Upload!) { a: uploadFile(file: $a) { name rowCount } b: uploadFile(file: $b) { name rowCount } }","variables":{"a":null,"b":null}}`
	big := "n\n" + strings.Repeat("1\n", 600_000) // over the 1 MiB kept in memory: spooled to a file
	type part struct{ name, body string }
	send := func(parts ...part) (int, *gqlResponse) {
		var buf strings.Builder
		mw := multipart.NewWriter(&buf)
		for _, p := range parts {
			if p.name == "operations" || p.name == "map" {
				mw.WriteField(p.name, p.body)
			} else {
				fw, _ := mw.CreateFormFile(p.name, p.name+".csv")
				io.WriteString(fw, p.body)
			}
		}
		mw.Close()
		req, _ := http.NewRequest("POST", s.URL+"/graphql", strings.NewReader(buf.String()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out gqlResponse
		decodeJSON(t, resp, &out)
		return resp.StatusCode, &out
	}
	const mapping = `{"a":["variables.a"],"b":["variables.b"]}`
	for _, tc := range []struct {
		name  string
		parts []part
	}{
		{"map first", []part{{"map", mapping}, {"operations", two}, {"a", "x\n1\n"}, {"b", "y\n2\n"}}},
		{"a file before map", []part{{"operations", two}, {"a", "x\n1\n"}, {"map", mapping}, {"b", "y\n2\n"}}},
		{"a file map does not name", []part{{"operations", two}, {"map", mapping}, {"c", "x\n1\n"}, {"b", "y\n2\n"}}},
	} {
		status, out := send(tc.parts...)
		if status != http.StatusUnprocessableEntity || out.code() != "BAD_USER_INPUT" ||
			!strings.Contains(out.Errors[0].Message, "operations, map, then the files") && !strings.Contains(out.Errors[0].Message, "operations, then map, then the files") {
			t.Errorf("%s: %d %+v", tc.name, status, out.Errors)
		}
	}

	status, out := send(part{"operations", two}, part{"map", mapping}, part{"a", big}, part{"b", "y\n2\n3\n"})
	var d struct{ A, B struct{ RowCount int } }
	json.Unmarshal(out.Data, &d)
	if status != http.StatusOK || len(out.Errors) > 0 || d.A.RowCount != 600_000 || d.B.RowCount != 2 {
		t.Fatalf("two files: %d %s %+v", status, out.Data, out.Errors)
	}
}

// A 200 MB GraphQL upload sent chunked (no Content-Length) streams from the
// connection to the bucket: the server's heap stays within a few buffers.
func TestChunkedMultipartUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 200 MB")
	}
	const size = 200 << 20
	s := newServerOn(t, dbtest.SQLite(t), folderBucket(t), func(c *config.Config) { c.MaxFileSize = 256 << 20 })
	tok := s.register(t, "ada").AccessToken

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { size rowCount } }","variables":{"f":null}}`)
		mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", "big.csv")
		row := []byte("1234567,abcdefghij,2024-06-01,3.25,true,some words here\n")
		fw.Write([]byte("id,code,day,price,ok,note\n"))
		for written := 0; written < size; written += len(row) {
			if _, err := fw.Write(row); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", s.URL+"/graphql", pr) // a reader of unknown length: sent chunked
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	var out gqlResponse
	var status int
	grew := peakHeap(func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		status = resp.StatusCode
		decodeJSON(t, resp, &out)
	})
	t.Logf("a 200 MB chunked GraphQL upload: the heap rose by %.1f MiB", float64(grew)/(1<<20))
	var d struct {
		UploadFile struct{ Size, RowCount int64 }
	}
	json.Unmarshal(out.Data, &d)
	if status != http.StatusOK || len(out.Errors) > 0 || d.UploadFile.Size < size {
		t.Fatalf("upload: %d %s %+v", status, out.Data, out.Errors)
	}
	const bound = 64 << 20
	if grew > bound {
		t.Fatalf("the heap rose by %.0f MiB during a 200 MB upload, more than %d MiB", float64(grew)/(1<<20), bound>>20)
	}
}

// REQUEST_TIMEOUT starts once a streamed file has arrived: an upload that
// takes longer than that to send, at a rate the server accepts, succeeds.
func TestStreamedUploadOutlastsTheRequestTimeout(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
		c.RequestTimeout, c.UploadMinRate = 300*time.Millisecond, 0
	})
	tok := s.register(t, "ada").AccessToken
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { rowCount } }","variables":{"f":null}}`)
		mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", "slow.csv")
		io.WriteString(fw, "n\n")
		for i := range 8 {
			time.Sleep(100 * time.Millisecond) // the whole body takes longer than REQUEST_TIMEOUT
			fmt.Fprintf(fw, "%d\n", i)
		}
		pw.CloseWithError(mw.Close())
	}()
	req, _ := http.NewRequest("POST", s.URL+"/graphql", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	r := s.do(t, req)
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"rowCount":8`) {
		t.Fatalf("a slow upload: %s %+v", r.Data, r.Errors)
	}
}

// folderBucket is a folder bucket in a temporary folder: file bytes on disk,
// not in the heap.
func folderBucket(t testing.TB) *blob.Bucket {
	t.Helper()
	b, err := blobstore.Open(context.Background(), "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// A GraphQL upload whose body ends before its closing boundary was cut
// short, wherever the cut falls: it is refused and no file is kept, even
// when the cut leaves the file part's own delimiter whole.
func TestMultipartCutShortIsRefused(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	tok := s.register(t, "ada").AccessToken
	var buf strings.Builder
	mw := multipart.NewWriter(&buf)
	mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { name rowCount } }","variables":{"f":null}}`)
	mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", "cut.csv")
	io.WriteString(fw, "n\n1\n2\n")
	mw.Close()
	whole := buf.String()
	for _, tc := range []struct {
		name string
		body string
	}{
		{"in the file", whole[:strings.Index(whole, "1\n2\n")+2]},
		{"after the file's delimiter", strings.TrimSuffix(whole, "--\r\n")},
		{"in the closing boundary's dashes", strings.TrimSuffix(whole, "-\r\n")},
	} {
		req, _ := http.NewRequest("POST", s.URL+"/graphql", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out gqlResponse
		decodeJSON(t, resp, &out)
		if len(out.Errors) == 0 {
			t.Errorf("%s: %d %s, want an error", tc.name, resp.StatusCode, out.Data)
		}
	}
	var list struct{ Files struct{ TotalCount int } }
	out := s.gql(t, tok, `{ files(first: 1) { totalCount } }`, nil)
	if err := json.Unmarshal(out.Data, &list); err != nil || len(out.Errors) > 0 {
		t.Fatalf("files: %s %+v", out.Data, out.Errors)
	}
	if list.Files.TotalCount != 0 {
		t.Errorf("%d files kept from bodies cut short", list.Files.TotalCount)
	}
}
