package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// directFixture is a lineage DAG written straight into the tables: files
// of ada with names that need escaping, tombstones (one sharing its name
// with a live file), and a file of bob's linked into ada's graph both ways,
// which no answer may show.
type directFixture struct {
	ids  []string // ada's files, by number
	bobs string
}

func directID(n int) string { return fmt.Sprintf("d1ec7000-0000-4000-8000-%012d", n) }

// The names of the first files; the others are "f<n>.csv".
var directNames = []string{
	`source.csv`, `a "quoted" name.csv`, `back\slash.csv`, "line\nbreak.csv", "tab\there.csv",
	"bell\x07.csv", "ünïcode ✓.csv", "emoji 😀.csv", `<b>&amp;</b>.csv`, `f9.csv`,
}

const directFiles = 60

func seedDirect(t *testing.T, db *database.DB, ada, bob int64) directFixture {
	t.Helper()
	ctx := context.Background()
	base := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	insertFile := func(id string, owner int64, name string, at time.Time, deleted bool) {
		var del any
		if deleted {
			del = at.Add(time.Hour)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type,
			encoding, delimiter, row_count, columns, origin, system_tags, user_tags, created_at, deleted_at)
			VALUES (?, ?, ?, 'files/x', 1, 'ab', 'text/csv', 'utf-8', ',', 1, '[]', 'GENERATED', '["generated"]', '[]', ?, ?)`,
			id, owner, name, at, del); err != nil {
			t.Fatal(err)
		}
	}
	insertEdge := func(parent, child string, at time.Time) {
		if _, err := db.ExecContext(ctx, `INSERT INTO edges (parent_id, child_id, kind, created_at) VALUES (?, ?, 'CUT_TO', ?)`,
			parent, child, at); err != nil {
			t.Fatal(err)
		}
	}
	var f directFixture
	for i := range directFiles {
		name := fmt.Sprintf("f%d.csv", i)
		if i < len(directNames) {
			name = directNames[i]
		}
		deleted := i%11 == 5 || i == 40
		if i == 40 {
			name = "f9.csv" // a tombstone named as a live file
		}
		f.ids = append(f.ids, directID(i))
		insertFile(f.ids[i], ada, name, base.Add(time.Duration(i)*time.Second), deleted)
	}
	f.bobs = directID(900)
	insertFile(f.bobs, bob, "bob.csv", base, false)
	rng := rand.New(rand.NewPCG(7, 7))
	at := base
	for i := 1; i < directFiles; i++ {
		seen := map[int]bool{}
		for range 1 + rng.IntN(3) {
			p := rng.IntN(i)
			if seen[p] {
				continue
			}
			seen[p] = true
			// Times with microseconds, as the database keeps them.
			at = at.Add(time.Second + 1234*time.Microsecond)
			insertEdge(f.ids[p], f.ids[i], at)
		}
	}
	// Edges across owners cannot be made through the API; a walk must not
	// show bob's file even so.
	insertEdge(f.bobs, f.ids[30], at)
	insertEdge(f.ids[30], f.bobs, at)
	return f
}

const bigFiles = 1500

func bigID(n int) string { return fmt.Sprintf("d1ec7000-0000-4000-8001-%012d", n) }

// seedBigDirect adds to ada's files a DAG of bigFiles files, big-i with
// parents big-(i-1) and big-(i/3), in a few statements.
func seedBigDirect(t *testing.T, db *database.DB, ada int64) {
	t.Helper()
	ctx := context.Background()
	id := func(expr string) string {
		if db.Postgres() {
			return fmt.Sprintf("('d1ec7000-0000-4000-8001-' || lpad((%s)::text, 12, '0'))::uuid", expr)
		}
		return fmt.Sprintf("'d1ec7000-0000-4000-8001-' || printf('%%012d', %s)", expr)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, q := range []string{
		fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding, delimiter, row_count, columns,
	origin, system_tags, user_tags, created_at)
SELECT %s, ?, 'big-' || i, 'files/x', 1, 'ab', 'text/csv', 'utf-8', ',', 1, '[]', 'GENERATED', '[]', '[]', ? FROM s`, bigFiles-1, id("i")),
		fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO edges (parent_id, child_id, kind, created_at) SELECT %s, %s, 'CUT_TO', ? FROM s`, bigFiles-1, id("i - 1"), id("i")),
		fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 6 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
INSERT INTO edges (parent_id, child_id, kind, created_at) SELECT %s, %s, 'CUT_TO', ? FROM s`, bigFiles-1, id("i / 3"), id("i")),
	} {
		args := []any{at}
		if strings.Contains(q, "INSERT INTO files") {
			args = []any{ada, at}
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%.80s: %v", q, err)
		}
	}
}

// The selections compared, written around the lineage field's arguments
// (ARGS). direct says whether the direct answer takes them.
var directSelections = []struct {
	name, query string
	direct      bool
}{
	{"usual", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		lineage(ARGS) { nodes { distance file { id name } } edges { parent { id } child { id } } truncated } }`, true},
	{"everything", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		__typename lineage(ARGS) { __typename root { __typename id name deleted } truncated
			nodes { __typename distance file { ... on Node { id } name deleted } }
			edges { __typename kind createdAt parent { id name deleted } child { name } } dot mermaid } }`, true},
	{"aliases and fragments", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		g: lineage(ARGS) { n: nodes { d: distance f: file { ...F } } e: edges { p: parent { i: id } c: child { ...F } } t: truncated r: root { ...F } } }
		fragment F on File { id name }`, true},
	{"merged fields", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		lineage(ARGS) { nodes { file { id } } edges { child { id } } nodes { distance file { name } } } }`, true},
	{"skip and include", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int, $yes: Boolean = true) {
		lineage(ARGS) { nodes { distance @include(if: $yes) file { id name @skip(if: $yes) deleted @include(if: $yes) } } truncated @skip(if: $yes) } }`, true},
	{"two walks", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		a: lineage(ARGS) { nodes { distance file { id } } }
		b: lineage(fileId: $id, direction: UPSTREAM, depth: 2) { edges { parent { name } child { name } } } }`, true},
	{"a field the walk does not read", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		lineage(ARGS) { nodes { distance file { id size origin } } } }`, false},
	{"beside me", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		me { username } lineage(ARGS) { nodes { file { id } } } }`, true},
	{"beside another root field", `query($id: ID!, $dir: LineageDirection, $depth: Int, $limit: Int) {
		me { email } lineage(ARGS) { nodes { file { id } } } }`, false},
}

// The direct lineage answer is the executor's, byte for byte, for every
// selection, root, direction, depth and limit, truncated or not, on both
// databases; and it reads less, or the comparison would prove nothing.
func TestDirectLineageIsTheExecutors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// Sessions are checked once, so that the statements counted are the answer's.
		s := newServer(t, db, func(cfg *config.Config) {
			cfg.LineageMaxDepth, cfg.LineageMaxLimit, cfg.SessionCheckInterval = 6, 40, time.Hour
		})
		ada, bob := s.register(t, "ada"), s.register(t, "bob")
		var adaID, bobID int64
		fmt.Sscan(ada.User.ID, &adaID)
		fmt.Sscan(bob.User.ID, &bobID)
		f := seedDirect(t, db, adaID, bobID)
		s.ok(t, ada.AccessToken, `{ me { id } }`, nil, nil) // the session read once, before statements are counted

		roots := []string{f.ids[0], f.ids[5], f.ids[30], f.ids[45], f.ids[directFiles-1]}
		type walk struct {
			dir          string
			depth, limit int
		}
		var walks []walk
		for _, dir := range []string{"UPSTREAM", "DOWNSTREAM", "BOTH"} {
			for _, depth := range []int{1, 3, 100} {
				for _, limit := range []int{1, 7, 1000} {
					walks = append(walks, walk{dir, depth, limit})
				}
			}
		}
		answers, truncated := 0, 0
		for _, sel := range directSelections {
			query := strings.Replace(sel.query, "ARGS", "fileId: $id, direction: $dir, depth: $depth, limit: $limit", 1)
			for _, root := range roots {
				for _, w := range walks {
					vars := map[string]any{"id": root, "dir": w.dir, "depth": w.depth, "limit": w.limit}
					name := fmt.Sprintf("%s from %s %s depth %d limit %d", sel.name, root[len(root)-2:], w.dir, w.depth, w.limit)
					direct := compareDirect(t, s, ada.AccessToken, query, vars, sel.direct, name)
					answers++
					if bytes.Contains(direct, []byte(`"truncated":true`)) {
						truncated++
					}
					if bytes.Contains(direct, []byte("bob.csv")) || bytes.Contains(direct, []byte(f.bobs)) {
						t.Fatalf("%s: another user's file in %s", name, direct)
					}
				}
			}
		}
		if truncated == 0 || truncated == answers {
			t.Fatalf("%d of %d answers truncated: the cases do not cover both", truncated, answers)
		}

		// Large answers, written out a piece at a time: the same bytes.
		seedBigDirect(t, db, adaID)
		big := newServer(t, db, func(cfg *config.Config) {
			cfg.LineageMaxLimit, cfg.MaxComplexity, cfg.SessionCheckInterval = 5000, 1_000_000, time.Hour
		})
		token := ada.AccessToken
		big.ok(t, token, `{ me { id } }`, nil, nil) // the session read once, before statements are counted
		for _, c := range []struct {
			sel   int
			root  string
			dir   string
			limit int
		}{
			{0, bigID(0), "DOWNSTREAM", 5000}, {0, bigID(0), "DOWNSTREAM", 700}, {1, bigID(0), "BOTH", 700}, {0, bigID(bigFiles - 1), "UPSTREAM", 5000},
		} {
			query := strings.Replace(directSelections[c.sel].query, "ARGS", "fileId: $id, direction: $dir, depth: $depth, limit: $limit", 1)
			vars := map[string]any{"id": c.root, "dir": c.dir, "depth": 100, "limit": c.limit}
			got := compareDirect(t, big, token, query, vars, true, fmt.Sprintf("large %s %s limit %d", directSelections[c.sel].name, c.dir, c.limit))
			if bytes.Contains(got, []byte(`"errors"`)) || len(got) < 3*32<<10 {
				t.Fatalf("a large answer of %d bytes", len(got))
			}
		}

		// Answers that are errors, and defaults: each the executor's.
		for _, c := range []struct {
			name, query string
			vars        map[string]any
		}{
			{"defaults", `query($id: ID!) { lineage(fileId: $id) { nodes { distance file { name } } truncated } }`, map[string]any{"id": f.ids[30]}},
			{"a missing root", `query($id: ID!) { lineage(fileId: $id) { nodes { distance } } }`, map[string]any{"id": directID(777)}},
			{"not a uuid", `query($id: ID!) { lineage(fileId: $id) { nodes { distance } } }`, map[string]any{"id": "nope"}},
			{"someone else's root", `query($id: ID!) { lineage(fileId: $id) { nodes { distance } } }`, map[string]any{"id": f.bobs}},
			{"depth 0", `query($id: ID!) { lineage(fileId: $id, depth: 0) { nodes { distance } } }`, map[string]any{"id": f.ids[1]}},
			{"a negative limit", `query($id: ID!) { lineage(fileId: $id, limit: -1) { truncated } }`, map[string]any{"id": f.ids[1]}},
			{"a tombstone root", `query($id: ID!) { lineage(fileId: $id) { root { name deleted } truncated } }`, map[string]any{"id": f.ids[5]}},
		} {
			compareDirect(t, s, ada.AccessToken, c.query, c.vars, c.name == "defaults" || c.name == "a tombstone root", c.name)
		}
		// Anonymous: the executor's refusal, whichever path.
		q := `query($id: ID!) { lineage(fileId: $id) { nodes { distance } } }`
		vars := map[string]any{"id": f.ids[1]}
		s.app.SetDirectLineage(true)
		on := postRaw(t, s, "", q, vars)
		s.app.SetDirectLineage(false)
		off := postRaw(t, s, "", q, vars)
		s.app.SetDirectLineage(true)
		if !bytes.Equal(on, off) || !bytes.Contains(on, []byte(`"errors"`)) {
			t.Fatalf("anonymous:\ndirect   %s\nexecutor %s", on, off)
		}
	})
}

// compareDirect answers query with the direct answers on and off and fails
// unless both are the same bytes, and unless the direct one read less
// (wantDirect) or as much.
func compareDirect(t *testing.T, s *server, token, query string, vars map[string]any, wantDirect bool, name string) []byte {
	t.Helper()
	s.app.SetDirectLineage(true)
	q0 := s.queries.Load()
	direct := postRaw(t, s, token, query, vars)
	q1 := s.queries.Load()
	s.app.SetDirectLineage(false)
	executor := postRaw(t, s, token, query, vars)
	q2 := s.queries.Load()
	s.app.SetDirectLineage(true)
	if !bytes.Equal(direct, executor) {
		t.Fatalf("%s:\ndirect   %s\nexecutor %s", name, direct, executor)
	}
	if took := q1-q0 < q2-q1; took != wantDirect {
		t.Fatalf("%s: %d statements directly, %d through the executor: the direct answer %s", name, q1-q0, q2-q1,
			map[bool]string{true: "did not answer", false: "answered what it should leave"}[wantDirect])
	}
	return direct
}

// postRaw sends a GraphQL request and returns the body as it came.
func postRaw(t *testing.T, s *server, token, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", s.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	return raw
}
