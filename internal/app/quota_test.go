package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// Anonymous scratch uploads of one client address hold at most
// SCRATCH_QUOTA bytes until they expire, counted in the database.
func TestScratchQuota(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		file := append([]byte("a,b\n"), bytes.Repeat([]byte("1,2\n"), 2500)...) // 10004 bytes
		s := newServer(t, db, func(c *config.Config) { c.ScratchQuota = 3*int64(len(file)) + 100 })
		for i := 0; i < 3; i++ {
			if status, body := cutterUpload(t, s, file); status != http.StatusOK {
				t.Fatalf("upload %d: %d %s\n%s", i, status, body, s.logs)
			}
		}
		for _, what := range []string{"a full quota", "a small file over the rest"} {
			content := file
			if what != "a full quota" {
				content = []byte("a\n" + strings.Repeat("1\n", 60)) // 122 bytes: 100 are left
			}
			status, body := cutterUpload(t, s, content)
			if status != http.StatusTooManyRequests || !strings.Contains(body, "SCRATCH_QUOTA") {
				t.Errorf("%s: %d %s", what, status, body)
			}
		}
		if status, body := cutterUpload(t, s, []byte("a\n1\n")); status != http.StatusOK {
			t.Errorf("a file that fits what is left: %d %s", status, body)
		}
		var n int
		if err := db.NewSelect().Table("files").ColumnExpr("count(*)").Where("owner_id IS NULL").Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		if n != 4 {
			t.Errorf("%d scratch files kept, want 4", n)
		}
		// A user's own uploads do not count against the address's scratch.
		tok := s.register(t, "ada").AccessToken
		s.uploadOK(t, tok, "mine.csv", string(file))
	})
}

// Registrations are limited per client address, each alias of a batched
// request counting as one, on GraphQL and the legacy shim alike.
func TestRegistrationLimit(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.RegisterPerHour = 3 })
	var q strings.Builder
	q.WriteString("mutation {")
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&q, ` r%d: register(input: {username: "user%d", password: "correct horse battery"}) { accessToken }`, i, i)
	}
	q.WriteString(" }")
	r := s.gql(t, "", q.String(), nil)
	limited := 0
	for _, e := range r.Errors {
		if e.Extensions["code"] == "RATE_LIMITED" && strings.Contains(e.Message, "REGISTER_RATE_LIMIT") {
			limited++
		}
	}
	if limited != 2 || len(r.Errors) != 2 {
		t.Fatalf("5 batched registrations with a limit of 3: %d limited, errors %+v", limited, r.Errors)
	}
	resp, err := http.Post(s.URL+"/api/accounts/register/", "application/json",
		strings.NewReader(`{"username":"legacy","password":"correct horse battery","password2":"correct horse battery"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("legacy register over the limit: %d", resp.StatusCode)
	}
}
