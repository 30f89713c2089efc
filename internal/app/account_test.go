package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/testwait"
)

const (
	changePasswordMutation = `mutation($c: String!, $n: String!) {
  changePassword(currentPassword: $c, newPassword: $n) { accessToken refreshToken } }`
	deleteAccountMutation = `mutation($p: String!) { deleteAccount(password: $p) }`
	loginMutation         = `mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken refreshToken } }`
	refreshMutation       = `mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }`
)

// login logs user in on s and returns the session's tokens, or the error
// code.
func (s *server) login(t *testing.T, user, password string) (authPayload, string) {
	t.Helper()
	r := s.gql(t, "", loginMutation, map[string]any{"u": user, "p": password})
	var d struct{ Login authPayload }
	if len(r.Errors) == 0 {
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatal(err)
		}
	}
	return d.Login, r.code()
}

// wantInvalid fails unless r is BAD_USER_INPUT on field.
func wantInvalid(t *testing.T, r *gqlResponse, field string) {
	t.Helper()
	if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != field {
		t.Fatalf("want BAD_USER_INPUT on %s, got %+v", field, r.Errors)
	}
}

// changePassword ends every other session of the caller on every replica
// and answers a fresh one; the old password stops working, the new one
// works. A wrong current password or a new one that breaks the rules
// changes nothing.
func TestChangePassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, b := replicas(t, db, func(c *config.Config) { c.SessionCheckInterval = 300 * time.Millisecond })
		const old, next = "correct horse battery", "a brand new secret"
		first := a.register(t, "ada")
		second, code := b.login(t, "ada", old)
		if code != "" {
			t.Fatal(code)
		}

		wantInvalid(t, a.gql(t, first.AccessToken, changePasswordMutation, map[string]any{"c": "not the password", "n": next}), "currentPassword")
		wantInvalid(t, a.gql(t, first.AccessToken, changePasswordMutation, map[string]any{"c": old, "n": "short"}), "newPassword")
		wantInvalid(t, a.gql(t, first.AccessToken, changePasswordMutation, map[string]any{"c": old, "n": "ADA"}), "newPassword")
		if !a.meOK(t, first.AccessToken) || !b.meOK(t, second.AccessToken) {
			t.Fatal("a refused password change ended a session")
		}
		if _, code := b.login(t, "ada", next); code != "UNAUTHENTICATED" {
			t.Fatalf("a refused new password logs in: %q", code)
		}

		var d struct{ ChangePassword authPayload }
		a.ok(t, first.AccessToken, changePasswordMutation, map[string]any{"c": old, "n": next}, &d)
		fresh := d.ChangePassword
		if !a.meOK(t, fresh.AccessToken) || !b.meOK(t, fresh.AccessToken) {
			t.Fatal("the session changePassword answered is refused")
		}
		if a.meOK(t, first.AccessToken) || a.meOK(t, second.AccessToken) {
			t.Fatal("the replica that changed the password still accepts the other sessions")
		}
		testwait.Until(t, "the other replica to refuse the sessions begun before the change", func() bool {
			return !b.meOK(t, second.AccessToken)
		})
		for _, rt := range []string{first.RefreshToken, second.RefreshToken} {
			if r := b.gql(t, "", refreshMutation, map[string]any{"r": rt}); r.code() != "UNAUTHENTICATED" {
				t.Fatalf("a refresh token from before the change: %+v", r.Errors)
			}
		}
		if r := a.gql(t, "", refreshMutation, map[string]any{"r": fresh.RefreshToken}); len(r.Errors) > 0 {
			t.Fatalf("the fresh session's refresh token: %+v", r.Errors)
		}
		if _, code := a.login(t, "ada", old); code != "UNAUTHENTICATED" {
			t.Fatalf("the old password after the change: %q", code)
		}
		if _, code := b.login(t, "ada", next); code != "" {
			t.Fatalf("the new password: %q", code)
		}
	})
}

// deleteAccount removes every row of the user from every table of the
// schema and every object of theirs from the bucket: the database and the
// bucket are exactly as they were before the account was made, another
// user's data untouched. The username can be registered again, and the
// old tokens are refused on every replica, even by an account that is
// given the same id.
func TestDeleteAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, b := replicas(t, db, func(c *config.Config) { c.SessionCheckInterval = 300 * time.Millisecond })
		bob := a.register(t, "bob")
		bobFile := a.uploadOK(t, bob.AccessToken, "bob.csv", "a,b\n1,2\n")
		a.tag(t, bob.AccessToken, bobFile, "bobs")
		tablesBefore, objectsBefore := snapshot(t, db), objects(t, a)

		ada := a.register(t, "ada")
		src := a.uploadOK(t, ada.AccessToken, "people.csv", "name,age\nAda,36\nAnn,17\nBob,41\n")
		a.tag(t, ada.AccessToken, src, "q3")
		var cut struct{ DeriveFile struct{ ID string } }
		a.ok(t, ada.AccessToken, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "adults.csv", columns: ["name"],
			where: {column: "age", gte: "18"}}, idempotencyKey: "adults-1") { id } }`, map[string]any{"s": src}, &cut)
		child := a.derive(t, ada.AccessToken, cut.DeriveFile.ID, "copy.csv")
		a.ok(t, ada.AccessToken, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": child}, nil)
		if status, body := cutterUploadAs(t, a, ada.AccessToken, []byte("x,y\n1,2\n")); status != 200 {
			t.Fatalf("cutter upload: %d %s", status, body)
		}
		if _, code := b.login(t, "ada", "wrong password"); code != "UNAUTHENTICATED" {
			t.Fatal(code)
		}
		other, _ := b.login(t, "ada", "correct horse battery")
		if !b.meOK(t, other.AccessToken) {
			t.Fatal("a live session is refused")
		}
		if len(objects(t, a)) < len(objectsBefore)+4 {
			t.Fatalf("the account's files left fewer objects than expected: %v", objects(t, a))
		}

		tablesMid := snapshot(t, db)
		wantInvalid(t, a.gql(t, ada.AccessToken, deleteAccountMutation, map[string]any{"p": "wrong password"}), "password")
		tablesAfterWrong := snapshot(t, db)
		// A wrong password counts as a failed login, and nothing else.
		delete(tablesMid, "login_failures")
		delete(tablesAfterWrong, "login_failures")
		if diff := diffTables(tablesMid, tablesAfterWrong); diff != "" {
			t.Fatalf("a refused deleteAccount changed the database:\n%s", diff)
		}
		if !a.meOK(t, ada.AccessToken) {
			t.Fatal("a refused deleteAccount ended the session")
		}

		var d struct{ DeleteAccount bool }
		a.ok(t, ada.AccessToken, deleteAccountMutation, map[string]any{"p": "correct horse battery"}, &d)
		if !d.DeleteAccount {
			t.Fatal("deleteAccount answered false")
		}
		// The failed logins counted against the client address are the
		// address's, not the account's, and stay.
		tablesAfter := snapshot(t, db)
		tablesAfter["login_failures"] = slices.DeleteFunc(tablesAfter["login_failures"], func(row string) bool {
			return strings.Contains(row, "counter=ip:")
		})
		if diff := diffTables(tablesBefore, tablesAfter); diff != "" {
			t.Fatalf("rows of the deleted account are left (- before it existed, + now):\n%s", diff)
		}
		if got := objects(t, a); !slices.Equal(got, objectsBefore) {
			t.Fatalf("bucket objects: %v, before the account: %v", got, objectsBefore)
		}
		if a.meOK(t, ada.AccessToken) {
			t.Fatal("the deleted account's token still works on the replica that deleted it")
		}
		testwait.Until(t, "the other replica to refuse the deleted account's tokens", func() bool {
			return !b.meOK(t, other.AccessToken)
		})
		if r := b.gql(t, "", refreshMutation, map[string]any{"r": other.RefreshToken}); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("the deleted account's refresh token: %+v", r.Errors)
		}

		again := b.register(t, "ada")
		for _, s := range []*server{a, b} {
			if s.meOK(t, ada.AccessToken) || s.meOK(t, other.AccessToken) {
				t.Fatalf("a token of the deleted account works for the new one (ids %s, %s)", ada.User.ID, again.User.ID)
			}
			if !s.meOK(t, again.AccessToken) {
				t.Fatal("the new account with the old name is refused")
			}
		}
		var files struct{ Files struct{ TotalCount int } }
		b.ok(t, again.AccessToken, `{ files { totalCount } }`, nil, &files)
		if files.Files.TotalCount != 0 {
			t.Fatalf("the new account sees %d files", files.Files.TotalCount)
		}
		var bobs struct{ File *struct{ UserTags []string } }
		a.ok(t, bob.AccessToken, `query($id: ID!) { file(id: $id) { userTags } }`, map[string]any{"id": bobFile}, &bobs)
		if bobs.File == nil || !slices.Equal(bobs.File.UserTags, []string{"bobs"}) {
			t.Fatalf("another user's file after the deletion: %+v", bobs.File)
		}
	})
}

// snapshot is every row of every table of the database's schema, each row
// as text, sorted, by table.
func snapshot(t *testing.T, db *database.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	list := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	if db.Postgres() {
		list = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	var tables []string
	if err := db.NewRaw(list).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 8 {
		t.Fatalf("found only the tables %v", tables)
	}
	out := make(map[string][]string, len(tables))
	for _, table := range tables {
		if table == "event_sources" {
			continue // the replicas' own event counts, no user's data
		}
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+table)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		out[table] = []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row := ""
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				row += fmt.Sprintf("%s=%v ", cols[i], v)
			}
			out[table] = append(out[table], row)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slices.Sort(out[table])
	}
	return out
}

// diffTables lists the rows only one of two snapshots has.
func diffTables(before, after map[string][]string) string {
	var diff string
	for table := range merged(before, after) {
		for _, row := range before[table] {
			if !slices.Contains(after[table], row) {
				diff += "- " + table + ": " + row + "\n"
			}
		}
		for _, row := range after[table] {
			if !slices.Contains(before[table], row) {
				diff += "+ " + table + ": " + row + "\n"
			}
		}
	}
	return diff
}

func merged(a, b map[string][]string) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// objects lists the keys of every object in s's bucket, sorted.
func objects(t *testing.T, s *server) []string {
	t.Helper()
	var keys []string
	it := s.app.Bucket.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
	slices.Sort(keys)
	return keys
}
