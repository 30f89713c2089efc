package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
