package files_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestGetMany(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 1<<20)
		ctx := context.Background()
		var mine []string
		for i := range 40 {
			mine = append(mine, e.upload(t, e.alice, fmt.Sprintf("f%d.csv", i), "a\n1\n", "t").ID)
		}
		gone := mine[3]
		if err := e.svc.Delete(ctx, e.alice, gone); err != nil {
			t.Fatal(err)
		}
		theirs := e.upload(t, e.bob, "theirs.csv", "a\n1\n").ID

		cases := []struct {
			name string
			ids  []string
			want []string
		}{
			{"none", nil, nil},
			{"one", mine[:1], mine[:1]},
			{"many", mine, mine},
			{"a tombstone among them", mine[2:5], mine[2:5]},
			{"duplicates", []string{mine[0], mine[0], mine[1]}, mine[:2]},
			{"another user's file", []string{mine[0], theirs}, mine[:1]},
			{"upper case", []string{strings.ToUpper(mine[0]), mine[1]}, mine[:2]},
			{"not ids", []string{"x", "'; DROP TABLE files; --", `"]`, "", "{" + mine[0] + "}"}, nil},
			{"unknown id", []string{"00000000-0000-4000-8000-000000000000"}, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m, err := e.svc.GetMany(ctx, e.alice, tc.ids)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for id, f := range m {
					if f.ID != id || f.Name == "" || len(f.UserTags) != 1 || len(f.Columns()) != 1 {
						t.Fatalf("file %s read incompletely: %+v", id, f)
					}
					got = append(got, id)
				}
				want := slices.Clone(tc.want)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("GetMany = %v, want %v", got, want)
				}
				if f := m[gone]; f != nil && !f.Deleted() {
					t.Fatal("a deleted file came back live")
				}
			})
		}
	})
}
