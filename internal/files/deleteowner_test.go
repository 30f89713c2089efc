package files_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

// DeleteOwner removes every file of the owner, tombstones and the scratch
// uploads made with the owner's token included, with their tags, lineage,
// derivations, outbox rows and objects (row provenance too); another
// owner's files and other scratch uploads stay.
func TestDeleteOwner(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		b, err := blobstore.Open(ctx, "mem://")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		svc := files.NewService(db, b, files.Options{MaxFileSize: 1 << 20, OpenLineage: true})
		alice, bob := addUser(t, db, "alice"), addUser(t, db, "bob")
		create := func(nf files.NewFile, body string) *files.File {
			t.Helper()
			f, err := svc.Create(ctx, nf, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		expires := time.Now().Add(time.Hour)
		kept := []string{
			create(files.NewFile{OwnerID: &bob, Name: "bob.csv", Tags: []string{"b"}}, "a\n1\n").ID,
			create(files.NewFile{Name: "anon.csv", ExpiresAt: &expires, ClientKey: "192.0.2.9"}, "a\n1\n").ID,
		}
		counts := func() map[string]int {
			out := map[string]int{}
			for _, table := range []string{"files", "file_tags", "edges", "column_edges", "derivations", "openlineage_outbox"} {
				n, err := db.NewSelect().Table(table).Count(ctx)
				if err != nil {
					t.Fatal(err)
				}
				out[table] = int(n)
			}
			return out
		}
		baseline := counts()
		src := create(files.NewFile{OwnerID: &alice, Name: "people.csv", Tags: []string{"q3"}}, "name,age\nAda,36\nAnn,17\n")
		where, err := filter.ParseSQL("age >= 18")
		if err != nil {
			t.Fatal(err)
		}
		cut, err := svc.Derive(ctx, alice, files.DeriveInput{SourceID: src.ID, Name: "adults.csv", Where: where})
		if err != nil {
			t.Fatal(err)
		}
		again, err := svc.Derive(ctx, alice, files.DeriveInput{SourceID: cut.ID, Name: "copy.csv"})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Delete(ctx, alice, again.ID); err != nil {
			t.Fatal(err)
		}
		create(files.NewFile{Name: "cutter.csv", ExpiresAt: &expires, ClientKey: "192.0.2.9", UploadedBy: &alice}, "x\n1\n")
		if c := counts(); c["openlineage_outbox"] == 0 || c["column_edges"] == 0 || c["derivations"] != 2 {
			t.Fatalf("the owner's files recorded less than expected: %v", c)
		}

		if err := svc.DeleteOwner(ctx, alice); err != nil {
			t.Fatal(err)
		}
		for table, n := range counts() {
			if n != baseline[table] {
				t.Errorf("%s: %d rows left, %d before the owner's files", table, n, baseline[table])
			}
		}
		if n := objectCount(t, b); n != len(kept) {
			t.Errorf("%d objects left, want %d", n, len(kept))
		}
		for _, id := range kept {
			if _, err := svc.Find(ctx, id); err != nil {
				t.Errorf("a file of someone else: %v", err)
			}
		}
	})
}
