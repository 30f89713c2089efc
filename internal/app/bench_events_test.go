package app_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// BenchmarkUploadPostgres measures a small upload through the whole handler
// on PostgreSQL, with the event relay that PostgreSQL turns on: the cost of
// announcing a file's event is one more statement in its transaction, and
// the announcements of one process commit one after the other. "serial"
// uploads one file at a time, "parallel" from 8 goroutines at once (4 per
// core on two cores) for one user, whose new files choose their names one
// at a time anyway, "users" from 8 goroutines for 8 users, which nothing
// else serialises. scripts/abcompare/events.sh runs it in two revisions.
func BenchmarkUploadPostgres(b *testing.B) {
	s := newServerB(b, dbtest.PostgresOrSkip(b))
	tok := s.registerB(b, "ada")
	body := []byte("name,age,city\nAda,36,London\nGrace,45,Arlington\nAlan,41,Wilmslow\n")
	var n atomic.Int64
	upload := func(tok string) error {
		req := httptest.NewRequest("POST", fmt.Sprintf("/api/v1/files?tags=q3&name=u%d.csv", n.Add(1)), bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		s.app.Handler.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			return fmt.Errorf("%d %s", w.Code, w.Body.String())
		}
		return nil
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := upload(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := upload(tok); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
	})
	var users []string
	for i := range 8 {
		users = append(users, s.registerB(b, fmt.Sprint("user", i)))
	}
	var next atomic.Int64
	b.Run("users", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			tok := users[int(next.Add(1))%len(users)]
			for pb.Next() {
				if err := upload(tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
