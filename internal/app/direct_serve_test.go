package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// seedListing writes n files of owner straight into the table: names and
// tags that need escaping, sizes past 32 bits, times with microseconds and
// some shared (so that the id breaks ties), every third one generated and
// every seventh deleted. It returns the live files' ids.
func seedListing(t *testing.T, db *database.DB, owner int64, prefix string, n int) []string {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 5, 6, 7, 8, 9, 123456000, time.UTC)
	tags := []string{`[]`, `["red"]`, `["a \"q\" tag","back\\slash","ünï ✓"]`, `["tab\there","bell\u0007"]`}
	var live []string
	for i := range n {
		id := fmt.Sprintf("5e7e0000-0000-4000-8000-%s%010d", prefix, i)
		name := directNames[i%len(directNames)]
		if i >= len(directNames) {
			name = fmt.Sprintf("%d %s", i, name)
		}
		origin, system := "UPLOADED", `["uploaded"]`
		if i%3 == 0 {
			origin, system = "GENERATED", `["generated"]`
		}
		at := base.Add(time.Duration(i/2) * 1500 * time.Millisecond)
		var del any
		if i%7 == 6 {
			del = at.Add(time.Minute)
		} else {
			live = append(live, id)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type,
			encoding, delimiter, row_count, columns, origin, system_tags, user_tags, created_at, deleted_at)
			VALUES (?, ?, ?, 'files/x', ?, ?, 'text/csv', 'utf-8', ?, ?, '[]', ?, ?, ?, ?, ?)`,
			id, owner, name, int64(1)<<33+int64(i), fmt.Sprintf("%064x", i), map[bool]string{true: ";", false: ","}[i%2 == 0],
			int64(i)*1000003, origin, system, tags[i%len(tags)], at, del); err != nil {
			t.Fatal(err)
		}
	}
	return live
}

// The listing and me selections compared; direct says whether the direct
// answer takes them.
var serveSelections = []struct {
	name, query string
	direct      bool
}{
	{"the usual page", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		files(ARGS) { edges { node { id name size rowCount userTags systemTags createdAt } } } }`, true},
	{"every summary field, cursors and pageInfo", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		__typename files(ARGS) { __typename edges { __typename cursor node { __typename id name size sha256 contentType createdAt
			systemTags userTags deleted rowCount delimiter encoding } }
			pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } } }`, true},
	{"aliases, fragments and merged fields", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		l: files(ARGS) { e: edges { n: node { ...F i: id } } p: pageInfo { end: endCursor } } ...Q }
		fragment F on File { name t: userTags ... on Node { id } }
		fragment Q on Query { l: files(ARGS) { e: edges { c: cursor n: node { size } } } }`, true},
	{"skip and include", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder, $yes: Boolean = true) {
		files(ARGS) { edges { cursor @skip(if: $yes) node { id name @include(if: $yes) size @skip(if: $yes) } } pageInfo @include(if: $yes) { hasNextPage } } }`, true},
	{"two listings and me", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		me { username id } a: files(ARGS) { edges { node { id } } } b: files(first: 2) { pageInfo { startCursor } } }`, true},
	{"a field the summary does not answer", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		files(ARGS) { edges { node { id origin } } } }`, false},
	{"totalCount", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		files(ARGS) { totalCount edges { node { id } } } }`, false},
	{"beside a field of another kind", `query($first: Int, $after: String, $last: Int, $before: String, $filter: FileFilter, $order: FileOrder) {
		files(ARGS) { edges { node { id } } } me { email } }`, false},
}

// The direct listing and me answers are the executor's, byte for byte, for
// every selection, page, filter and order, and for errors, on both
// databases; and the direct answer is taken where it should be, or the
// comparison would prove nothing.
func TestDirectListingIsTheExecutors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada, bob := s.register(t, "ada"), s.register(t, "bob")
		var adaID, bobID int64
		fmt.Sscan(ada.User.ID, &adaID)
		fmt.Sscan(bob.User.ID, &bobID)
		live := seedListing(t, db, adaID, "00", 45)
		seedListing(t, db, bobID, "01", 5)

		// Cursors of real pages, in both orders, to page from.
		cursors := map[string]string{}
		for _, order := range []string{"CREATED_AT", "NAME", "SIZE"} {
			var d struct {
				Files struct{ Edges []struct{ Cursor string } }
			}
			s.ok(t, ada.AccessToken, `query($o: FileOrder) { files(first: 500, orderBy: $o) { edges { cursor } } }`,
				map[string]any{"o": map[string]any{"field": order, "direction": "DESC"}}, &d)
			if len(d.Files.Edges) != len(live) {
				t.Fatalf("%s: %d files listed, want %d", order, len(d.Files.Edges), len(live))
			}
			cursors[order] = d.Files.Edges[len(live)/3].Cursor
		}
		type page struct {
			name string
			vars map[string]any
		}
		var pages []page
		for _, order := range []string{"CREATED_AT", "NAME", "SIZE"} {
			for _, dir := range []string{"ASC", "DESC"} {
				o := map[string]any{"field": order, "direction": dir}
				pages = append(pages,
					page{order + " " + dir + " first 7", map[string]any{"first": 7, "order": o}},
					page{order + " " + dir + " last 4", map[string]any{"last": 4, "order": o}},
				)
			}
			o := map[string]any{"field": order, "direction": "DESC"}
			pages = append(pages,
				page{order + " after", map[string]any{"first": 5, "after": cursors[order], "order": o}},
				page{order + " before", map[string]any{"last": 3, "before": cursors[order], "order": o}},
			)
		}
		pages = append(pages,
			page{"defaults", map[string]any{}},
			page{"everything", map[string]any{"first": 500}},
			page{"a tag", map[string]any{"first": 10, "filter": map[string]any{"tags": []string{"red"}}}},
			page{"a tag that needs escaping", map[string]any{"filter": map[string]any{"tags": []string{`a "q" tag`, "ünï ✓"}}}},
			page{"a name", map[string]any{"filter": map[string]any{"nameContains": "quoted"}}},
			page{"an origin", map[string]any{"first": 9, "filter": map[string]any{"origin": "GENERATED"}}},
			page{"nothing found", map[string]any{"filter": map[string]any{"nameContains": "no such file"}}},
		)
		answered := 0
		for _, sel := range serveSelections {
			query := strings.ReplaceAll(sel.query, "ARGS", "first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order")
			for _, p := range pages {
				body := compareServe(t, s, ada.AccessToken, query, p.vars, sel.direct, sel.name+", "+p.name)
				if bytes.Contains(body, []byte(`5e7e0000-0000-4000-8000-01`)) {
					t.Fatalf("%s, %s: another user's file in %s", sel.name, p.name, body)
				}
				if bytes.Contains(body, []byte(`"node":{`)) {
					answered++
				}
			}
		}
		if answered == 0 {
			t.Fatal("no answer listed a file: the comparison proves nothing")
		}

		// Me, literal arguments, and errors: each the executor's, the
		// second time too, when the plan of an operation without
		// variables is remembered.
		for _, c := range []struct {
			name, token, query string
			vars               map[string]any
			direct             bool
		}{
			{"me", ada.AccessToken, `{ me { id username } }`, nil, true},
			{"me with aliases and a fragment", ada.AccessToken, `{ __typename m: me { ...U n: username } } fragment U on User { __typename i: id }`, nil, true},
			{"me twice", bob.AccessToken, `{ a: me { id } b: me { username } }`, nil, true},
			{"me with a field the token lacks", ada.AccessToken, `{ me { id createdAt } }`, nil, false},
			{"me, anonymous", "", `{ me { id username } }`, nil, false},
			{"me, a bad token", "not.a.token", `{ me { id username } }`, nil, false},
			{"files with literal arguments", ada.AccessToken, `{ files(first: 3, orderBy: {field: NAME, direction: ASC}, filter: {tags: ["red"]}) {
				edges { cursor node { name userTags } } pageInfo { hasNextPage endCursor } } }`, nil, true},
			{"files, anonymous", "", `{ files(first: 2) { edges { node { id } } } }`, nil, false},
			{"files, too many", ada.AccessToken, `{ files(first: 501) { edges { node { id } } } }`, nil, false},
			{"files, a bad cursor", ada.AccessToken, `{ files(after: "nope") { edges { node { id } } } }`, nil, false},
			{"files, first and last", ada.AccessToken, `{ files(first: 2, last: 2) { edges { node { id } } } }`, nil, false},
			{"files, a variable of the wrong type", ada.AccessToken, `query($n: Int) { files(first: $n) { edges { node { id } } } }`, map[string]any{"n": "x"}, false},
		} {
			for range 2 {
				compareServe(t, s, c.token, c.query, c.vars, c.direct, c.name)
			}
		}
	})
}

// compareServe answers query with the direct answers on and off and fails
// unless both are the same bytes, and unless the direct answer was taken
// exactly when wantDirect says.
func compareServe(t *testing.T, s *server, token, query string, vars map[string]any, wantDirect bool, name string) []byte {
	t.Helper()
	s.app.SetDirectLineage(true)
	n0 := s.app.DirectAnswers()
	direct := postRaw(t, s, token, query, vars)
	took := s.app.DirectAnswers() > n0
	s.app.SetDirectLineage(false)
	executor := postRaw(t, s, token, query, vars)
	s.app.SetDirectLineage(true)
	if !bytes.Equal(direct, executor) {
		t.Fatalf("%s:\ndirect   %s\nexecutor %s", name, direct, executor)
	}
	if took != wantDirect {
		t.Fatalf("%s: the direct answer %s: %s", name,
			map[bool]string{true: "did not answer", false: "answered what it should leave"}[wantDirect], direct)
	}
	if !json.Valid(direct) {
		t.Fatalf("%s: not JSON: %s", name, direct)
	}
	return direct
}
