package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/importer"
	"github.com/cutline/cutline/internal/lineage"
)

// sourceCase opens one old backend holding the scenario.
type sourceCase struct {
	name string
	open func(t *testing.T) importer.Source
	exp  expected
}

func sourceCases() []sourceCase {
	return []sourceCase{
		{"django-postgres", func(t *testing.T) importer.Source { return openDjango(t, newDjangoFixture(t, true)) }, scenarioExpected(false)},
		{"django-sqlite", func(t *testing.T) importer.Source { return openDjango(t, newDjangoFixture(t, false)) }, scenarioExpected(false)},
		{"workers", func(t *testing.T) importer.Source { return openWorkers(t, newWorkersFixture(t)) }, scenarioExpected(true)},
	}
}

func openDjango(t *testing.T, fx djangoFixture) importer.Source {
	t.Helper()
	src, err := importer.OpenDjango(context.Background(), importer.DjangoOptions{DatabaseURL: fx.dsn, MediaRoot: fx.media, Neo4jEdges: fx.edges})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func openWorkers(t *testing.T, fx workersFixture) importer.Source {
	t.Helper()
	src, err := importer.OpenWorkers(context.Background(), importer.WorkersOptions{D1: fx.d1, BucketURL: fx.bucketURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func run(t *testing.T, ctx context.Context, tg *target, src importer.Source, dry bool) (*importer.Summary, error) {
	t.Helper()
	im := importer.New(tg.app.Auth, tg.app.Files, tg.app.Lineage, importer.Options{DryRun: dry})
	return im.Run(ctx, src)
}

func mustRun(t *testing.T, tg *target, src importer.Source, dry bool) *importer.Summary {
	t.Helper()
	sum, err := run(t, context.Background(), tg, src, dry)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestImport imports the scenario from each source into each database and
// checks everything a user would notice, then that a second run changes
// nothing.
func TestImport(t *testing.T) {
	for _, sc := range sourceCases() {
		t.Run(sc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				tg := newTarget(t, db)
				src := sc.open(t)
				sum := mustRun(t, tg, src, false)
				var out bytes.Buffer
				sum.Print(&out)
				t.Log("\n" + out.String())

				checkFirstRun(t, sum, sc.exp)
				checkUsers(t, tg, sc.exp)
				checkFiles(t, tg)
				checkEdges(t, tg, sc.exp)
				checkLogins(t, tg, sc.exp)

				before := snapshot(t, tg)
				again := mustRun(t, tg, src, false)
				checkSecondRun(t, again, sum)
				if after := snapshot(t, tg); after != before {
					t.Errorf("a second run changed the target: %+v, then %+v", before, after)
				}
			})
		})
	}
}

func checkFirstRun(t *testing.T, sum *importer.Summary, exp expected) {
	t.Helper()
	if sum.Users != (importer.Counts{Imported: exp.users}) {
		t.Errorf("users: %+v, want %d imported", sum.Users, exp.users)
	}
	if sum.Files != (importer.Counts{Imported: exp.files, Tombstoned: exp.tombstones}) {
		t.Errorf("files: %+v, want %d imported and %d tombstones", sum.Files, exp.files, exp.tombstones)
	}
	if sum.Edges != (importer.Counts{Imported: exp.edges, Skipped: exp.edgesSkipped}) {
		t.Errorf("edges: %+v, want %d imported, %d skipped", sum.Edges, exp.edges, exp.edgesSkipped)
	}
	want := int64(len(salesCSV) + len(northCSV) + len(lostCutCSV) + len(bobCSV) + len(carolCSV) + len(carol2CSV) + len(daveCSV))
	if sum.Bytes != want {
		t.Errorf("bytes: %d, want %d", sum.Bytes, want)
	}
	reasons := map[string]string{}
	for _, n := range sum.Notes {
		reasons[n.Kind+" "+n.Item[:min(len(n.Item), 36)]+" "+n.Outcome] = n.Reason
	}
	for key, want := range map[string]string{
		"file " + idLost + " tombstoned":  "source file missing",
		"file " + idPhoto + " tombstoned": "rejected by the CSV reader",
		"file " + idCarol2 + " imported":  "renamed",
	} {
		if reasons[key] != want {
			t.Errorf("note %q: reason %q, want %q (notes %+v)", key, reasons[key], want, sum.Notes)
		}
	}
	var missingEnd bool
	for _, n := range sum.Notes {
		if n.Kind == "edge" && n.Reason == "end missing" && strings.Contains(n.Item, idNowhere) {
			missingEnd = true
		}
	}
	if !missingEnd {
		t.Errorf("the edge to a file in no table is not reported: %+v", sum.Notes)
	}
}

func checkSecondRun(t *testing.T, again, first *importer.Summary) {
	t.Helper()
	if again.Users != (importer.Counts{Skipped: first.Users.Total()}) {
		t.Errorf("second run users: %+v, want all %d skipped", again.Users, first.Users.Total())
	}
	if again.Files != (importer.Counts{Skipped: first.Files.Total()}) {
		t.Errorf("second run files: %+v, want all %d skipped", again.Files, first.Files.Total())
	}
	if again.Edges != (importer.Counts{Skipped: first.Edges.Total()}) {
		t.Errorf("second run edges: %+v, want all %d skipped", again.Edges, first.Edges.Total())
	}
	if again.Bytes != 0 {
		t.Errorf("second run copied %d bytes", again.Bytes)
	}
	var out bytes.Buffer
	again.Print(&out)
	if !strings.Contains(out.String(), "already imported") {
		t.Errorf("second run summary does not say the items were already imported:\n%s", out.String())
	}
}

func userByName(t *testing.T, db bun.IDB, name string) *auth.User {
	t.Helper()
	u := new(auth.User)
	if err := db.NewSelect().Model(u).Where("username_key = ?", strings.ToLower(name)).Scan(context.Background()); err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func checkUsers(t *testing.T, tg *target, exp expected) {
	t.Helper()
	ctx := context.Background()
	n, err := tg.db.NewSelect().Model((*auth.User)(nil)).Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(exp.users+1) {
		t.Errorf("%d accounts, want %d imported and zed", n, exp.users)
	}
	for _, u := range scenarioUsers(false) {
		got := userByName(t, tg.db, u.username)
		wantID := u.id
		if u.id == tg.zed {
			// zed registered first and has id 1: alice gets a new id.
			if got.ID == u.id {
				t.Errorf("%s took id %d from zed", u.username, u.id)
			}
		} else if got.ID != wantID {
			t.Errorf("%s: id %d, want the old id %d", u.username, got.ID, wantID)
		}
		if !got.CreatedAt.Equal(u.joined) {
			t.Errorf("%s: joined %v, want %v", u.username, got.CreatedAt, u.joined)
		}
		if email := deref(got.Email); email != u.email {
			t.Errorf("%s: email %q, want %q", u.username, email, u.email)
		}
		if strings.HasPrefix(got.PasswordHash, "$argon2id$") {
			t.Errorf("%s: imported with a new hash; the old one must be kept until login", u.username)
		}
	}
	// New accounts continue after the highest id, whatever the dialect.
	nu, err := tg.app.Auth.Register(ctx, auth.RegisterInput{Username: "newcomer", Password: "a fresh password"})
	if err != nil {
		t.Fatalf("register after import: %v", err)
	}
	var maxID int64
	if err := tg.db.NewSelect().Model((*auth.User)(nil)).ColumnExpr("max(id)").Where("id <> ?", nu.ID).Scan(ctx, &maxID); err != nil {
		t.Fatal(err)
	}
	if nu.ID <= maxID {
		t.Errorf("a registration after the import got id %d, not above the imported max %d", nu.ID, maxID)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func checkFiles(t *testing.T, tg *target) {
	t.Helper()
	ctx := context.Background()
	owners := map[int64]int64{}
	for _, u := range scenarioUsers(false) {
		owners[u.id] = userByName(t, tg.db, u.username).ID
	}
	names := map[string]string{idCarol2: "sales_1.csv"}
	for _, fx := range scenarioFiles("") {
		f, err := tg.app.Files.Find(ctx, fx.id)
		if err != nil {
			t.Errorf("file %s (%s): %v", fx.id, fx.name, err)
			continue
		}
		if f.OwnerID == nil || *f.OwnerID != owners[fx.owner] {
			t.Errorf("%s: owner %v, want %d", fx.name, f.OwnerID, owners[fx.owner])
		}
		if !f.CreatedAt.Equal(fx.uploaded) {
			t.Errorf("%s: created %v, want the upload time %v", fx.name, f.CreatedAt, fx.uploaded)
		}
		wantName := fx.name
		if n, ok := names[fx.id]; ok {
			wantName = n
		}
		if f.Name != wantName {
			t.Errorf("%s: name %q, want %q", fx.id, f.Name, wantName)
		}
		if !slices.Equal(f.UserTags, fx.user) && !(len(f.UserTags) == 0 && len(fx.user) == 0) {
			t.Errorf("%s: user tags %q, want %q", fx.name, f.UserTags, fx.user)
		}
		wantOrigin := files.OriginUploaded
		if slices.Contains(fx.sys, "generated") {
			wantOrigin = files.OriginGenerated
		}
		if f.Origin != wantOrigin || !slices.Equal(f.SystemTags, []string{wantOrigin.SystemTag()}) {
			t.Errorf("%s: origin %s, system tags %q; want %s", fx.name, f.Origin, f.SystemTags, wantOrigin)
		}
		checkMetadata(t, fx, f)

		tombstone := fx.content == nil || fx.id == idPhoto
		if tombstone {
			if !f.Deleted() || f.ObjectKey != nil || f.Size != 0 {
				t.Errorf("%s: want a tombstone, got deleted=%v key=%v size=%d", fx.name, f.Deleted(), f.ObjectKey, f.Size)
			}
			continue
		}
		if f.Deleted() {
			t.Errorf("%s: imported as a tombstone", fx.name)
			continue
		}
		r, err := tg.app.Files.Open(ctx, f)
		if err != nil {
			t.Errorf("%s: open: %v", fx.name, err)
			continue
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || !bytes.Equal(got, fx.content) {
			t.Errorf("%s: bytes %q (%v), want %q", fx.name, got, err, fx.content)
		}
		if f.RowCount == 0 || len(f.Columns()) == 0 {
			t.Errorf("%s: not profiled: %d rows, columns %+v", fx.name, f.RowCount, f.Columns())
		}
	}
}

func checkMetadata(t *testing.T, fx fxFile, f *files.File) {
	t.Helper()
	if fx.meta == "" {
		if f.MetadataJSON != nil {
			t.Errorf("%s: metadata %q, want none", fx.name, *f.MetadataJSON)
		}
		return
	}
	if f.MetadataJSON == nil {
		t.Errorf("%s: metadata lost", fx.name)
		return
	}
	var got, want any
	if err := json.Unmarshal([]byte(*f.MetadataJSON), &got); err != nil {
		t.Errorf("%s: metadata %q is not JSON: %v", fx.name, *f.MetadataJSON, err)
	}
	json.Unmarshal([]byte(fx.meta), &want)
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s: metadata %s, want %s", fx.name, gb, wb)
	}
}

type edgeRow struct {
	Parent string `bun:"parent_id"`
	Child  string `bun:"child_id"`
	Kind   string `bun:"kind"`
}

func edgesOf(t *testing.T, db bun.IDB) []edgeRow {
	t.Helper()
	var rows []edgeRow
	if err := db.NewSelect().Table("edges").Column("parent_id", "child_id", "kind").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	return rows
}

func checkEdges(t *testing.T, tg *target, exp expected) {
	t.Helper()
	rows := edgesOf(t, tg.db)
	got := map[[2]string]bool{}
	for _, r := range rows {
		got[[2]string{r.Parent, r.Child}] = true
		if r.Kind != "CUT_TO" {
			t.Errorf("edge %s -> %s has kind %q", r.Parent, r.Child, r.Kind)
		}
	}
	if len(rows) != len(exp.edgeSet) {
		t.Errorf("%d edges, want %d: %+v", len(rows), len(exp.edgeSet), rows)
	}
	for e := range exp.edgeSet {
		if !got[e] {
			t.Errorf("edge %s -> %s missing", e[0], e[1])
		}
	}
	// The walk shows the tombstone parent, so the lost file's lineage is whole.
	alice := userByName(t, tg.db, "alice").ID
	g, err := tg.app.Lineage.Connected(context.Background(), alice, idLostCut)
	if err != nil {
		t.Fatal(err)
	}
	var sawTombstone bool
	for _, n := range g.Nodes {
		if n.ID == idLost && n.Deleted {
			sawTombstone = true
		}
	}
	if !sawTombstone {
		t.Errorf("lineage of %s does not show its deleted parent: %+v", idLostCut, g.Nodes)
	}
	// An imported derivation gets the column lineage of a file a client
	// made: same-named columns inferred, the legacy filter's column as the
	// filter. A parent without columns (a tombstone) gives none.
	sources, err := tg.app.Lineage.ColumnSources(context.Background(), alice, []string{idNorth, idLostCut})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]lineage.ColumnRef{
		"region": {{FileID: idSales, Column: "region", Kind: lineage.ColumnInferred}},
		"amount": {{FileID: idSales, Column: "amount", Kind: lineage.ColumnInferred}},
		"":       {{FileID: idSales, Column: "region", Kind: lineage.ColumnFilter}},
	}
	if !reflect.DeepEqual(sources[idNorth], want) {
		t.Errorf("column sources of %s = %+v, want %+v", idNorth, sources[idNorth], want)
	}
	if len(sources[idLostCut]) != 0 {
		t.Errorf("column sources of %s = %+v, want none", idLostCut, sources[idLostCut])
	}
}

// checkLogins logs in with the old passwords through the auth service, the
// GraphQL login mutation and the legacy REST login, and checks the hashes
// were upgraded.
func checkLogins(t *testing.T, tg *target, exp expected) {
	t.Helper()
	ctx := context.Background()
	srv := httptest.NewServer(tg.app.Handler)
	defer srv.Close()

	if _, err := tg.app.Auth.Login(ctx, "alice", "not her password", "", ""); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Errorf("alice with a wrong password: %v", err)
	}
	if _, err := tg.app.Auth.Login(ctx, "alice", alicePass, "", ""); err != nil {
		t.Errorf("alice through the auth service: %v", err)
	}

	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { accessToken user { username } } }`,
		"variables": map[string]string{"u": "bob", "p": bobPass},
	})
	var gql struct {
		Data struct {
			Login struct {
				AccessToken string
				User        struct{ Username string }
			}
		}
		Errors []any
	}
	postJSON(t, srv.URL+"/graphql", body, http.StatusOK, &gql)
	if len(gql.Errors) > 0 || gql.Data.Login.AccessToken == "" || gql.Data.Login.User.Username != "bob" {
		t.Errorf("bob through GraphQL: %+v", gql)
	}

	var rest struct{ Access, Refresh string }
	body, _ = json.Marshal(map[string]string{"username": "carol", "password": carolPass})
	postJSON(t, srv.URL+"/api/accounts/login/", body, http.StatusOK, &rest)
	if rest.Access == "" || rest.Refresh == "" {
		t.Errorf("carol through the legacy REST login: %+v", rest)
	}
	// Her files download byte for byte over HTTP with that token.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/files/"+idCarol+"/content", nil)
	req.Header.Set("Authorization", "Bearer "+rest.Access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != carolCSV {
		t.Errorf("carol's download: %d %q", resp.StatusCode, got)
	}

	for _, name := range []string{"alice", "bob", "carol"} {
		if h := userByName(t, tg.db, name).PasswordHash; !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("%s: hash not upgraded after login: %.20s...", name, h)
		}
	}
	_, err = tg.app.Auth.Login(ctx, "dave", davePass, "", "")
	if exp.daveCanLogIn && err != nil {
		t.Errorf("dave: %v", err)
	}
	if !exp.daveCanLogIn && !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Errorf("dave was deactivated in Django but logs in: %v", err)
	}
}

func postJSON(t *testing.T, url string, body []byte, status int, out any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Errorf("POST %s: %d %s", url, resp.StatusCode, raw)
		return
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Errorf("POST %s: %s: %v", url, raw, err)
	}
}

// state is a coarse picture of the target, to compare runs.
type state struct {
	users, files, tombstones, tags, edges, objects int
	hashes                                         string
}

func snapshot(t *testing.T, tg *target) state {
	t.Helper()
	ctx := context.Background()
	var s state
	count := func(table, where string) int {
		q := tg.db.NewSelect().Table(table)
		if where != "" {
			q = q.Where(where)
		}
		n, err := q.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	s.users = count("users", "")
	s.files = count("files", "")
	s.tombstones = count("files", "deleted_at IS NOT NULL")
	s.tags = count("file_tags", "")
	s.edges = count("edges", "")
	it := tg.app.Bucket.List(nil)
	for {
		_, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s.objects++
	}
	var hashes []string
	if err := tg.db.NewSelect().Table("users").Column("password_hash").Order("id").Scan(ctx, &hashes); err != nil {
		t.Fatal(err)
	}
	s.hashes = strings.Join(hashes, ",")
	return s
}

// cancelAfter stops the run (as Ctrl-C would) when the source is asked for
// more than n files' bytes.
type cancelAfter struct {
	importer.Source
	n, opened int
	cancel    context.CancelFunc
}

func (c *cancelAfter) Open(ctx context.Context, f importer.File) (io.ReadCloser, error) {
	c.opened++
	if c.opened > c.n {
		c.cancel()
		return nil, ctx.Err()
	}
	return c.Source.Open(ctx, f)
}

// TestImportInterrupted stops a run after three files and checks that the
// next run finishes the job, ending where an uninterrupted run ends.
func TestImportInterrupted(t *testing.T) {
	for _, sc := range sourceCases() {
		t.Run(sc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				tg := newTarget(t, db)
				src := sc.open(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				sum, err := run(t, ctx, tg, &cancelAfter{Source: src, n: 3, cancel: cancel}, false)
				if !errors.Is(err, context.Canceled) || !sum.Interrupted {
					t.Fatalf("interrupted run: err %v, interrupted %v", err, sum.Interrupted)
				}
				if done := sum.Files.Imported + sum.Files.Tombstoned; done != 3 || sum.Edges.Total() != 0 {
					t.Fatalf("interrupted run did %d files and %d edges, want 3 and 0", done, sum.Edges.Total())
				}
				mid := snapshot(t, tg)
				if mid.files != 3 || mid.edges != 0 {
					t.Fatalf("after the interruption: %+v", mid)
				}

				rest := mustRun(t, tg, src, false)
				if rest.Users != (importer.Counts{Skipped: sc.exp.users}) {
					t.Errorf("resumed run users: %+v", rest.Users)
				}
				total := sc.exp.files + sc.exp.tombstones
				if rest.Files.Skipped != 3 || rest.Files.Imported+rest.Files.Tombstoned != total-3 || rest.Files.Failed != 0 {
					t.Errorf("resumed run files: %+v, want 3 skipped and %d done", rest.Files, total-3)
				}
				if rest.Edges.Imported != sc.exp.edges {
					t.Errorf("resumed run edges: %+v", rest.Edges)
				}
				checkFiles(t, tg)
				checkEdges(t, tg, sc.exp)
				end := snapshot(t, tg)
				if end.files != total || end.objects != sc.exp.files {
					t.Errorf("after resuming: %+v, want %d files and %d objects (no leftovers)", end, total, sc.exp.files)
				}
			})
		})
	}
}

// TestImportDryRun plans the import, checks nothing was written and that
// the plan matches what the real run then does.
func TestImportDryRun(t *testing.T) {
	for _, sc := range sourceCases() {
		t.Run(sc.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				tg := newTarget(t, db)
				src := sc.open(t)
				empty := snapshot(t, tg)
				plan := mustRun(t, tg, src, true)
				if after := snapshot(t, tg); after != empty {
					t.Fatalf("the dry run wrote: %+v, then %+v", empty, after)
				}
				if !plan.DryRun {
					t.Error("the summary does not say it was a dry run")
				}
				real := mustRun(t, tg, src, false)
				if plan.Users != real.Users || plan.Files != real.Files || plan.Edges != real.Edges || plan.Bytes != real.Bytes {
					t.Errorf("plan %+v %+v %+v %d; real run %+v %+v %+v %d",
						plan.Users, plan.Files, plan.Edges, plan.Bytes, real.Users, real.Files, real.Edges, real.Bytes)
				}
				done := snapshot(t, tg)
				again := mustRun(t, tg, src, true)
				if again.Users.Imported+again.Files.Imported+again.Files.Tombstoned+again.Edges.Imported != 0 {
					t.Errorf("a dry run after the import plans work: %+v %+v %+v", again.Users, again.Files, again.Edges)
				}
				if snapshot(t, tg) != done {
					t.Error("the second dry run wrote")
				}
			})
		})
	}
}

// TestImportUsernameTaken: an account made here under an old username is
// somebody else's; the old account and its files are reported, not merged.
func TestImportUsernameTaken(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		tg := newTarget(t, db)
		ctx := context.Background()
		if _, err := tg.app.Auth.Register(ctx, auth.RegisterInput{Username: "Bob", Password: "a different person"}); err != nil {
			t.Fatal(err)
		}
		sum := mustRun(t, tg, openWorkers(t, newWorkersFixture(t)), false)
		if sum.Users.Failed != 1 || sum.Files.Failed != 2 {
			t.Errorf("users %+v, files %+v: want bob and his two files failed", sum.Users, sum.Files)
		}
		for _, id := range []string{idPhoto, idBob} {
			if _, err := tg.app.Files.Find(ctx, id); !errors.Is(err, apperr.ErrNotFound) {
				t.Errorf("bob's file %s was given to the other Bob: %v", id, err)
			}
		}
		if _, err := tg.app.Auth.Login(ctx, "bob", bobPass, "", ""); err == nil {
			t.Error("the old password logs into the other Bob's account")
		}
	})
}

// TestCommand runs the command as `cutline import workers` would, with the
// target from the environment: a dry run creates nothing, the real run
// imports, a second run skips everything.
func TestCommand(t *testing.T) {
	fx := newWorkersFixture(t)
	dir := t.TempDir()
	env := map[string]string{
		"DATABASE_URL":      "sqlite://" + filepath.Join(dir, "db", "cutline.db"),
		"BLOB_URL":          "file://" + filepath.ToSlash(filepath.Join(dir, "blobs")),
		"DATA_DIR":          filepath.Join(dir, "data"),
		"ARGON2_MEMORY_KIB": "1024",
		"LOG_LEVEL":         "error",
	}
	getenv := func(k string) string { return env[k] }
	args := []string{"workers", "--d1", fx.d1, "--bucket", fx.bucketURL}
	ctx := context.Background()

	var out, errOut bytes.Buffer
	if err := importer.Command(ctx, append(args, "--dry-run"), getenv, &out, &errOut); err != nil {
		t.Fatalf("dry run: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, p := range []string{filepath.Join(dir, "db"), filepath.Join(dir, "blobs"), filepath.Join(dir, "data")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the dry run created %s", p)
		}
	}
	if !strings.Contains(out.String(), "DRY RUN") || !strings.Contains(out.String(), "no schema yet") {
		t.Errorf("dry run summary:\n%s", out.String())
	}

	out.Reset()
	if err := importer.Command(ctx, args, getenv, &out, &errOut); err != nil {
		t.Fatalf("import: %v\n%s%s", err, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "source file missing") || !strings.Contains(errOut.String(), "files") {
		t.Errorf("summary:\n%s\nprogress:\n%s", out.String(), errOut.String())
	}
	out.Reset()
	if err := importer.Command(ctx, args, getenv, &out, &errOut); err != nil {
		t.Fatalf("second import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "already imported") {
		t.Errorf("second summary:\n%s", out.String())
	}
	// A dry run now plans against the real target, which has everything.
	out.Reset()
	if err := importer.Command(ctx, append(args, "--dry-run"), getenv, &out, &errOut); err != nil {
		t.Fatalf("dry run after the import: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "already imported") || strings.Contains(out.String(), "no schema yet") {
		t.Errorf("dry run after the import:\n%s", out.String())
	}

	if err := importer.Command(ctx, []string{"workers", "--d1", fx.d1}, getenv, &out, &errOut); err == nil {
		t.Error("a missing --bucket is accepted")
	}
	if err := importer.Command(ctx, []string{"nosuch"}, getenv, &out, &errOut); err == nil {
		t.Error("an unknown source is accepted")
	}
}

// A source database URL that cannot be opened is an error that says why
// and never shows the password it holds.
func TestOpenDjangoBadURL(t *testing.T) {
	t.Parallel()
	media := t.TempDir()
	for _, tc := range []struct{ dsn, want string }{
		{"mysql://u:secret@host/db", "postgres://"},
		{"postgres://u:se%cret@host/db", "invalid URL escape"},
		{filepath.Join(t.TempDir(), "missing.sqlite3"), "no such file"},
	} {
		_, err := importer.OpenDjango(context.Background(), importer.DjangoOptions{DatabaseURL: tc.dsn, MediaRoot: media})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "cret") {
			t.Errorf("%s: %v, want an error saying %q without the password", tc.dsn, err, tc.want)
		}
	}
}
