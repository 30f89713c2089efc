package app_test

import (
	"encoding/json"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// saveGeneratedFile stores a client-side cut with edges to its parents,
// and refuses parents that are not the caller's, leaving nothing behind.
func TestSaveGeneratedFile(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		bob := s.register(t, "bob").AccessToken
		p1 := s.uploadOK(t, ada, "a.csv", "x\n1\n")
		p2 := s.uploadOK(t, ada, "b.csv", "x\n2\n")
		bobs := s.uploadOK(t, bob, "c.csv", "x\n3\n")
		const save = `mutation($f: Upload!, $parents: [ID!]!, $meta: JSON) {
			saveGeneratedFile(file: $f, name: "joined.csv", parentIds: $parents, metadata: $meta) {
				id name origin systemTags metadata parents { id } } }`
		r := s.upload(t, ada, save, map[string]any{"parents": []string{p1, p2}, "meta": map[string]any{"note": "both"}}, "f", "x.csv", "x\n1\n2\n")
		if len(r.Errors) > 0 {
			t.Fatalf("save: %+v", r.Errors)
		}
		var d struct {
			SaveGeneratedFile struct {
				Name, Origin string
				SystemTags   []string
				Metadata     map[string]any
				Parents      []struct{ ID string }
			}
		}
		json.Unmarshal(r.Data, &d)
		g := d.SaveGeneratedFile
		if g.Name != "joined.csv" || g.Origin != "GENERATED" || g.SystemTags[0] != "generated" ||
			g.Metadata["note"] != "both" || len(g.Parents) != 2 {
			t.Fatalf("saved = %+v", g)
		}
		for name, parents := range map[string][]string{
			"foreign parent": {p1, bobs},
			"unknown parent": {"00000000-0000-4000-8000-000000000000"},
			"no parent":      {},
		} {
			r := s.upload(t, ada, save, map[string]any{"parents": parents}, "f", "x.csv", "x\n1\n")
			if r.code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %+v", name, r.Errors)
			}
		}
		var list struct{ Files struct{ TotalCount int } }
		s.ok(t, ada, `{ files { totalCount } }`, nil, &list)
		if list.Files.TotalCount != 3 {
			t.Fatalf("%d files, want 3: a refused save left a file", list.Files.TotalCount)
		}
	})
}
