package files_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// With Options.OpenLineage every new derivation, and only a derivation,
// is queued for delivery in the transaction that records it: a cut, a
// saved generated file, an imported link (once per file, whatever its
// number of parents). Without it nothing is queued.
func TestDerivationsAreQueued(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "mem://", 1<<20)
		queued := func() []string {
			var ids []string
			if err := db.NewRaw("SELECT file_id FROM openlineage_outbox ORDER BY file_id").Scan(ctx, &ids); err != nil {
				t.Fatal(err)
			}
			return ids
		}
		plain := e.upload(t, e.alice, "plain.csv", "a,b\n1,2\n")
		if _, err := e.svc.Derive(ctx, e.alice, files.DeriveInput{SourceID: plain.ID, Name: "off.csv"}); err != nil {
			t.Fatal(err)
		}
		if q := queued(); len(q) != 0 {
			t.Fatalf("queued without the option: %q", q)
		}

		svc := files.NewService(db, e.bucket, files.Options{MaxFileSize: 1 << 20, OpenLineage: true})
		src, err := svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "src.csv"}, strings.NewReader("a,b\n1,2\n"))
		if err != nil {
			t.Fatal(err)
		}
		cut, err := svc.Derive(ctx, e.alice, files.DeriveInput{SourceID: src.ID, Name: "cut.csv", Columns: []string{"a"}})
		if err != nil {
			t.Fatal(err)
		}
		saved, err := svc.SaveGenerated(ctx, e.alice, "saved.csv", []string{src.ID, cut.ID}, nil, nil, strings.NewReader("a\n1\n"))
		if err != nil {
			t.Fatal(err)
		}
		old, err := svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "imported.csv"}, strings.NewReader("a\n1\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, parent := range []string{src.ID, plain.ID} {
			if err := svc.LinkImported(ctx, e.alice, strings.ToUpper(old.ID), parent, time.Now(), lineage.AddOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{cut.ID, saved.ID, old.ID}
		slices.Sort(want)
		if q := queued(); !slices.Equal(q, want) {
			t.Errorf("queued %q, want %q", q, want)
		}
	})
}
