package lineage

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// The outbox's queue, on every database: a claim takes what is due, oldest
// first, and leases it; a leased, delivered or failed row is not claimed
// again; a lease that ends, a retry that comes due and a release hand the
// row back; the counts follow.
func TestOutboxClaims(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		f.files("a", "b", "c")
		st := NewStore(db)
		t0 := base.Add(time.Hour)
		for i, name := range []string{"b", "a", "c"} {
			if err := st.Enqueue(ctx, db, f.id(name), t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Enqueue(ctx, db, f.id("a"), t0); err != nil { // a second time: kept once
			t.Fatal(err)
		}
		claim := func(at time.Time, n int) []string {
			t.Helper()
			items, err := st.Claim(ctx, at, time.Minute, n)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, it := range items {
				out = append(out, f.names[it.FileID]+":"+strconv.Itoa(it.Attempts))
			}
			return out
		}
		counts := func() (int64, int64) {
			p, fl, err := st.OutboxCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return p, fl
		}
		if got := claim(t0.Add(-time.Second), 10); len(got) != 0 {
			t.Errorf("before anything is due: %q", got)
		}
		if got := claim(t0.Add(time.Second), 10); !slices.Equal(got, []string{"b:1", "a:1"}) {
			t.Errorf("first claim %q", got)
		}
		if got := claim(t0.Add(10*time.Second), 10); !slices.Equal(got, []string{"c:1"}) {
			t.Errorf("while b and a are leased: %q", got)
		}
		items, _ := st.Claim(ctx, t0.Add(2*time.Minute), time.Minute, 1) // b's lease ended
		if len(items) != 1 || f.names[items[0].FileID] != "b" || items[0].Attempts != 2 {
			t.Fatalf("after the lease: %+v", items)
		}
		b := items[0]
		if err := st.Delivered(ctx, b.ID, t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		items, _ = st.Claim(ctx, t0.Add(2*time.Minute), time.Minute, 1)
		if len(items) != 1 || f.names[items[0].FileID] != "a" {
			t.Fatalf("next after b: %+v", items)
		}
		a := items[0]
		if err := st.Retry(ctx, a.ID, t0.Add(10*time.Minute), "503"); err != nil {
			t.Fatal(err)
		}
		items, _ = st.Claim(ctx, t0.Add(3*time.Minute), time.Minute, 1)
		if len(items) != 1 || f.names[items[0].FileID] != "c" {
			t.Fatalf("a waits for its retry: %+v", items)
		}
		if err := st.Failed(ctx, items[0].ID, t0.Add(3*time.Minute), "gave up"); err != nil {
			t.Fatal(err)
		}
		if p, fl := counts(); p != 1 || fl != 1 {
			t.Errorf("counts: pending %d, failed %d", p, fl)
		}
		if got := claim(t0.Add(9*time.Minute), 10); len(got) != 0 {
			t.Errorf("before a's retry: %q", got)
		}
		items, _ = st.Claim(ctx, t0.Add(10*time.Minute), time.Minute, 10)
		if len(items) != 1 || items[0].Attempts != 3 {
			t.Fatalf("a's retry: %+v", items)
		}
		if err := st.Release(ctx, items[0].ID, t0.Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := claim(t0.Add(10*time.Minute), 10); !slices.Equal(got, []string{"a:3"}) {
			t.Errorf("after a release, the attempt is not counted: %q", got)
		}
	})
}

// Claims made at once (replicas) take different rows: on PostgreSQL a
// claim passes over the rows another one holds.
func TestOutboxConcurrentClaims(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		st := NewStore(db)
		const n = 40
		for i := range n {
			if err := st.Enqueue(ctx, db, f.fileOf(f.owner, "f"+strconv.Itoa(i)), base); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					items, err := st.Claim(ctx, base.Add(time.Second), time.Hour, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(items) == 0 {
						return
					}
					mu.Lock()
					for _, it := range items {
						seen[it.FileID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d of %d", len(seen), n)
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("%s claimed %d times", f.names[id], k)
			}
		}
	})
}
