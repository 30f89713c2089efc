package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func (s *server) call(t *testing.T, method, path, token, contentType string, body io.Reader) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestRESTCutLineageAndMultipartUpload(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		bob := s.register(t, "bob").AccessToken

		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("tags", "x,y")
		fw, _ := mw.CreateFormFile("file", `C:\Users\ada\people "2024".csv`)
		io.WriteString(fw, "name;age\r\nAda;36\r\nBob;17\r\n")
		mw.Close()
		code, _, body := s.call(t, "POST", "/api/v1/files", ada, mw.FormDataContentType(), &buf)
		if code != http.StatusCreated {
			t.Fatalf("multipart upload = %d %s", code, body)
		}
		var f struct {
			ID, Name, Delimiter string
			UserTags            []string
		}
		json.Unmarshal([]byte(body), &f)
		if f.Name != `people "2024".csv` || f.Delimiter != ";" || strings.Join(f.UserTags, ",") != "x,y" {
			t.Fatalf("uploaded = %+v", f)
		}

		code, hdr, body := s.call(t, "POST", "/api/v1/files/"+f.ID+"/cut", ada, "application/json",
			strings.NewReader(`{"columns":["name"],"whereSql":"age > 20"}`))
		if code != 200 || body != "name\nAda\n" || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
			t.Fatalf("cut = %d %q", code, body)
		}
		code, _, body = s.call(t, "POST", "/api/v1/files/"+f.ID+"/cut", ada, "application/json",
			strings.NewReader(`{"where":{"column":"age","between":["10","20"]}}`))
		if code != 200 || body != "name,age\nBob,17\n" {
			t.Fatalf("typed cut = %d %q", code, body)
		}
		code, _, body = s.call(t, "POST", "/api/v1/files/"+f.ID+"/cut", ada, "application/json", strings.NewReader(`{"whereSql":"age >"}`))
		if code != 400 || !strings.Contains(body, "BAD_USER_INPUT") {
			t.Fatalf("bad cut = %d %s", code, body)
		}
		if code, _, _ = s.call(t, "POST", "/api/v1/files/"+f.ID+"/cut", bob, "application/json", strings.NewReader(`{}`)); code != 404 {
			t.Fatalf("bob cut ada's file: %d", code)
		}
		if code, _, _ = s.call(t, "POST", "/api/v1/files/"+f.ID+"/cut", "", "application/json", strings.NewReader(`{}`)); code != 401 {
			t.Fatalf("anonymous cut: %d", code)
		}

		var d struct{ DeriveFile struct{ ID string } }
		s.ok(t, ada, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "a\"b[c].csv"}) { id } }`, map[string]any{"id": f.ID}, &d)
		for format, want := range map[string]string{"dot": "digraph", "mermaid": "flowchart", "json": `"edges":[{"parent"`} {
			code, _, body := s.call(t, "GET", "/api/v1/files/"+f.ID+"/lineage?format="+format+"&direction=downstream", ada, "", nil)
			if code != 200 || !strings.Contains(body, want) || !strings.Contains(body, d.DeriveFile.ID[:8]) && format == "json" {
				t.Errorf("lineage %s = %d %s", format, code, body)
			}
		}
		if code, _, _ := s.call(t, "GET", "/api/v1/files/"+f.ID+"/lineage?format=svg", ada, "", nil); code != 400 {
			t.Errorf("unknown format = %d", code)
		}
		if code, _, _ := s.call(t, "GET", "/api/v1/files/"+f.ID+"/lineage", bob, "", nil); code != 404 {
			t.Errorf("bob's lineage of ada's file = %d", code)
		}
	})
}
