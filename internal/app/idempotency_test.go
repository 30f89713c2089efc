package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

const keyedUpload = `mutation($f: Upload!, $k: String, $n: String) { uploadFile(file: $f, name: $n, idempotencyKey: $k) { id name } }`

// keyedUploadOf uploads content under key and returns the file's id and
// name, or the error code.
func keyedUploadOf(t *testing.T, s *server, tok, key, name, content string) (id, gotName, code string) {
	t.Helper()
	r := s.upload(t, tok, keyedUpload, map[string]any{"k": key, "n": name}, "f", "up.csv", content)
	if len(r.Errors) > 0 {
		return "", "", fmt.Sprintf("%s %v", r.code(), r.Errors[0].Extensions["field"])
	}
	var d struct{ UploadFile struct{ ID, Name string } }
	json.Unmarshal(r.Data, &d)
	return d.UploadFile.ID, d.UploadFile.Name, ""
}

// A retried request with the same idempotency key answers the file the
// first one made, on every API that takes a key; the same key for a
// different request is BAD_USER_INPUT naming the key.
func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		bob := s.register(t, "bob").AccessToken

		first, name, code := keyedUploadOf(t, s, ada, "k-1", "sales.csv", "a,b\n1,2\n")
		if code != "" || name != "sales.csv" {
			t.Fatalf("first upload: %q %q", name, code)
		}
		again, name, code := keyedUploadOf(t, s, ada, "k-1", "sales.csv", "a,b\n1,2\n")
		if code != "" || again != first || name != "sales.csv" {
			t.Fatalf("retry: id %s name %q code %q, want the first file %s", again, name, code, first)
		}
		// Another user's key is another key.
		if other, _, code := keyedUploadOf(t, s, bob, "k-1", "sales.csv", "a,b\n1,2\n"); code != "" || other == first {
			t.Fatalf("bob's upload with ada's key: %s %q", other, code)
		}
		for _, tc := range []struct{ what, key, name, content, want string }{
			{"other bytes", "k-1", "sales.csv", "a,b\n1,3\n", "BAD_USER_INPUT idempotencyKey"},
			{"other name", "k-1", "other.csv", "a,b\n1,2\n", "BAD_USER_INPUT idempotencyKey"},
			{"empty key", "", "sales.csv", "a,b\n1,2\n", "BAD_USER_INPUT idempotencyKey"},
			{"long key", strings.Repeat("k", 256), "sales.csv", "a,b\n1,2\n", "BAD_USER_INPUT idempotencyKey"},
			{"longest key", strings.Repeat("k", 255), "sales.csv", "a,b\n1,2\n", ""},
		} {
			if _, _, code := keyedUploadOf(t, s, ada, tc.key, tc.name, tc.content); code != tc.want {
				t.Errorf("%s: %q, want %q", tc.what, code, tc.want)
			}
		}

		var cut [2]struct{ DeriveFile struct{ ID, Name string } }
		for i := range cut {
			s.ok(t, ada, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "cut.csv", columns: ["a"]}, idempotencyKey: "d-1") { id name } }`,
				map[string]any{"id": first}, &cut[i])
		}
		if cut[0] != cut[1] || cut[0].DeriveFile.Name != "cut.csv" {
			t.Fatalf("derive twice with one key: %+v", cut)
		}
		r := s.gql(t, ada, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "cut.csv", columns: ["b"]}, idempotencyKey: "d-1") { id } }`,
			map[string]any{"id": first})
		if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != "idempotencyKey" {
			t.Fatalf("derive of other columns with a used key: %+v", r.Errors)
		}

		const save = `mutation($f: Upload!, $p: [ID!]!) { saveGeneratedFile(file: $f, name: "mine.csv", parentIds: $p, idempotencyKey: "s-1") { id name } }`
		var saved [2]string
		for i := range saved {
			r := s.upload(t, ada, save, map[string]any{"p": []string{first}}, "f", "mine.csv", "a\n1\n")
			if len(r.Errors) > 0 {
				t.Fatalf("save %d: %+v", i, r.Errors)
			}
			saved[i] = string(r.Data)
		}
		if saved[0] != saved[1] {
			t.Fatalf("save twice with one key: %s, then %s", saved[0], saved[1])
		}

		// Each request above made at most one file: no sales_1.csv, cut_1.csv, mine_1.csv.
		var d struct {
			Files struct {
				Edges []struct{ Node struct{ Name string } }
			}
		}
		s.ok(t, ada, `{ files(first: 50, orderBy: {field: NAME, direction: ASC}) { edges { node { name } } } }`, nil, &d)
		var names []string
		for _, e := range d.Files.Edges {
			names = append(names, e.Node.Name)
		}
		if got := strings.Join(names, " "); got != "cut.csv mine.csv sales.csv sales_1.csv" {
			// sales_1.csv is the upload under the 255-byte key.
			t.Fatalf("files %s", got)
		}
	})
}

// An upload whose answer never reached the client (it read the status line
// and dropped the connection), retried with its key, answers the same file
// and makes no name_1.csv; so do retries sent at the same time.
func TestIdempotentRetryAfterLostAnswer(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		const body = "id,amount\n1,10\n2,20\n"

		u, _ := url.Parse(s.URL)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v1/files?name=orders.csv HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Idempotency-Key: order-7\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s", u.Host, ada, len(body), body)
		status, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close() // the rest of the answer is lost
		if err != nil || !strings.Contains(status, "201") {
			t.Fatalf("first upload: %q %v", status, err)
		}

		var wg sync.WaitGroup
		ids := make([]string, 8)
		errs := make([]error, len(ids))
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(context.Background(), "POST", s.URL+"/api/v1/files?name=orders.csv", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+ada)
				req.Header.Set("Idempotency-Key", "order-7")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs[i] = err
					return
				}
				defer resp.Body.Close()
				var f struct{ ID, Name string }
				if err := json.NewDecoder(resp.Body).Decode(&f); err != nil || resp.StatusCode != http.StatusCreated || f.Name != "orders.csv" {
					errs[i] = fmt.Errorf("retry: status %d, %+v, %v", resp.StatusCode, f, err)
				}
				ids[i] = f.ID
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
			if ids[i] != ids[0] {
				t.Fatalf("retries answered different files: %v", ids)
			}
		}
		var d struct{ Files struct{ TotalCount int } }
		s.ok(t, ada, `{ files(first: 1) { totalCount } }`, nil, &d)
		if d.Files.TotalCount != 1 {
			t.Fatalf("%d files after the retries, want 1", d.Files.TotalCount)
		}

		code, _, answer := s.call(t, "POST", "/api/v1/files?name=orders.csv", ada, "text/csv", strings.NewReader("id\n3\n"))
		if code != http.StatusCreated || strings.Contains(answer, ids[0]) {
			t.Fatalf("an upload without a key: %d %s", code, answer)
		}
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/files?name=orders.csv", strings.NewReader("id\n3\n"))
		req.Header.Set("Authorization", "Bearer "+ada)
		req.Header.Set("Idempotency-Key", "order-7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Code, Field string }
		decodeJSON(t, resp, &e)
		if resp.StatusCode != http.StatusBadRequest || e.Code != "BAD_USER_INPUT" || e.Field != "idempotencyKey" {
			t.Fatalf("other bytes under a used key: %d %+v", resp.StatusCode, e)
		}
	})
}
