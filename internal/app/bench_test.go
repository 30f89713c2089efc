package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// BenchmarkFilesPage measures the server's own cost of the listing query
// clients send most, through the whole handler, without a network.
func BenchmarkFilesPage(b *testing.B) {
	db := dbtest.SQLite(b)
	s := newServerB(b, db)
	tok := s.registerB(b, "ada")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter, row_count,
			columns, origin, system_tags, user_tags, created_at)
		SELECT printf('%08x-0000-4000-8000-%012x', i, i), 1, 'f' || i || '.csv', 'files/x', 10, 'ab', 'text/csv', 'utf-8', ',', 5,
			'[{"name":"a","index":0,"type":"INTEGER","nullCount":0,"min":"1","max":"9"},{"name":"b","index":1,"type":"TEXT","nullCount":0}]',
			'UPLOADED', '["uploaded"]', '["red","blue"]', datetime('now', '-' || i || ' seconds') FROM n`); err != nil {
		b.Fatal(err)
	}
	s.benchQuery(b, tok, `{ files(first: 20) { edges { node { id name size rowCount userTags systemTags createdAt } } } }`)
}

// BenchmarkMe measures the cheapest authenticated query through the whole
// handler: what every request pays before any feature work.
func BenchmarkMe(b *testing.B) {
	s := newServerB(b, dbtest.SQLite(b))
	tok := s.registerB(b, "ada")
	s.benchQuery(b, tok, `{ me { id username } }`)
}

// benchQuery sends query b.N times straight into the handler, no network,
// and fails on any error answer.
func (s *server) benchQuery(b *testing.B, token, query string) {
	body, _ := json.Marshal(map[string]string{"query": query})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}

// BenchmarkUpload measures a small upload through the whole handler: the
// streaming REST endpoint, the CSV analysis, the bucket and the insert of
// the row and its tags.
func BenchmarkUpload(b *testing.B) {
	s := newServerB(b, dbtest.SQLite(b))
	tok := s.registerB(b, "ada")
	body := []byte("name,age,city\nAda,36,London\nGrace,45,Arlington\nAlan,41,Wilmslow\n")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("POST", "/api/v1/files?tags=q3&name=u"+strconv.Itoa(i)+".csv", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}

// BenchmarkLineage measures a lineage query through the whole handler: a
// chain of 40 files, walked both ways from its middle, names and edges.
func BenchmarkLineage(b *testing.B) {
	db := dbtest.SQLite(b)
	s := newServerB(b, db)
	tok := s.registerB(b, "ada")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
		INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter, row_count,
			columns, origin, system_tags, user_tags, created_at)
		SELECT printf('%08x-0000-4000-8000-%012x', i, i), 1, 'f' || i || '.csv', 'files/x', 10, 'ab', 'text/csv', 'utf-8', ',', 5,
			'[]', 'GENERATED', '["generated"]', '[]', datetime('now', '-' || i || ' seconds') FROM n`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
		INSERT INTO edges (parent_id, child_id, kind, created_at)
		SELECT printf('%08x-0000-4000-8000-%012x', i, i), printf('%08x-0000-4000-8000-%012x', i + 1, i + 1), 'CUT_TO', datetime('now') FROM n`); err != nil {
		b.Fatal(err)
	}
	s.benchQuery(b, tok, `{ lineage(fileId: "00000014-0000-4000-8000-000000000014", direction: BOTH, depth: 10) {
		nodes { distance file { id name } } edges { parent { id } child { id } kind } truncated } }`)
}

// BenchmarkFilesPageByTag is BenchmarkFilesPage's listing filtered by a tag.
func BenchmarkFilesPageByTag(b *testing.B) {
	s := newServerB(b, dbtest.SQLite(b))
	tok := s.registerB(b, "ada")
	for i := 0; i < 200; i++ {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		tags := `["blue"]`
		if i%2 == 0 {
			tags = `["red","blue"]`
		}
		mw.WriteField("operations", `{"query":"mutation($f: Upload!, $t: [String!]) { uploadFile(file: $f, tags: $t) { id } }","variables":{"f":null,"t":`+tags+`}}`)
		mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", fmt.Sprintf("f%d.csv", i))
		fw.Write([]byte("a,b\n1,2\n"))
		mw.Close()
		req := httptest.NewRequest("POST", "/graphql", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, req)
		if strings.Contains(w.Body.String(), `"errors"`) {
			b.Fatal(w.Body.String())
		}
	}
	s.benchQuery(b, tok, `{ files(first: 20, filter: {tags: ["red"]}) { edges { node { id name size rowCount userTags createdAt } } } }`)
}

// BenchmarkUploadMultipart measures a small GraphQL multipart upload
// through the whole handler: the parts read, the file stored in a mem
// bucket and profiled, its row committed.
func BenchmarkUploadMultipart(b *testing.B) {
	s := newServerB(b, dbtest.SQLite(b))
	tok := s.registerB(b, "ada")
	csv := "id,name,score\n" + strings.Repeat("1,alice,3.5\n2,bob,4\n", 200)
	ops := `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { id rowCount } }","variables":{"f":null}}`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("operations", ops)
		mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", fmt.Sprintf("f%d.csv", i))
		fw.Write([]byte(csv))
		mw.Close()
		req := httptest.NewRequest("POST", "/graphql", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, req)
		if w.Code != 200 || strings.Contains(w.Body.String(), `"errors"`) {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}
