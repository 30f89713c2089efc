package app_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// BenchmarkGetTypename and BenchmarkPostTypename are the smallest operation
// over each transport, straight into the handler: what a transport costs
// beyond the executor.
func BenchmarkGetTypename(b *testing.B) {
	s := newServerB(b, dbtest.SQLite(b))
	s.benchGet(b, "", `{ __typename }`)
}

func BenchmarkPostTypename(b *testing.B) {
	s := newServerB(b, dbtest.SQLite(b))
	s.benchQuery(b, "", `{ __typename }`)
}

// benchGet is benchQuery over GET: the operation in the query string.
func (s *server) benchGet(b *testing.B, token, query string) {
	path := "/graphql?query=" + url.QueryEscape(query)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
	}
}
