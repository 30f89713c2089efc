package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

type rowPage struct {
	File struct {
		Rows struct {
			Edges []struct {
				Node struct {
					Index  int64
					Values []*string
					Source *struct {
						File  struct{ ID string }
						Index int64
					}
				}
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
}

const rowsWithSource = `query($id: ID!, $after: String, $first: Int, $src: Int64) {
	file(id: $id) { rows(first: $first, after: $after, sourceIndex: $src) {
		edges { node { index values source { file { id } index } } }
		pageInfo { hasNextPage endCursor } } } }`

// Every row of a derived file, page after page, names the source row it
// was copied from, through two derivations; sourceIndex finds the derived
// row of a source row or says the filter dropped it; uploaded and
// client-made files have no sources.
func TestRowProvenance(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		var b strings.Builder
		b.WriteString("n,parity\n")
		const rows = 100
		for i := range rows {
			fmt.Fprintf(&b, "%d,%s\n", i, map[bool]string{true: "even", false: "odd"}[i%2 == 0])
		}
		src := s.uploadOK(t, ada, "numbers.csv", b.String())
		var d struct{ DeriveFile struct{ ID string } }
		// Keeps n = 0 mod 3: 34 rows.
		r := s.gql(t, ada, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "thirds.csv", columns: ["n"], where: {column: "n", in: ["0","3","6","9","12","15","18","21","24","27","30","33","36","39","42","45","48","51","54","57","60","63","66","69","72","75","78","81","84","87","90","93","96","99"]}}) { id } }`,
			map[string]any{"s": src})
		if len(r.Errors) > 0 {
			t.Fatalf("derive: %+v", r.Errors)
		}
		json.Unmarshal(r.Data, &d)
		thirds := d.DeriveFile.ID
		var sixes []string
		for n := 0; n < rows; n += 6 {
			sixes = append(sixes, fmt.Sprint(n))
		}
		s.ok(t, ada, `mutation($s: ID!, $in: [String!]) { deriveFile(input: {sourceId: $s, name: "evens.csv", where: {column: "n", in: $in}}) { id } }`,
			map[string]any{"s": thirds, "in": sixes}, &d)
		evens := d.DeriveFile.ID // n = 0 mod 6: rows 0, 2, 4... of thirds

		walk := func(id string) (all []struct {
			index, srcIndex int64
			srcFile, value  string
		}) {
			var after any
			for pages := 0; ; pages++ {
				var p rowPage
				s.ok(t, ada, rowsWithSource, map[string]any{"id": id, "first": 7, "after": after}, &p)
				for _, e := range p.File.Rows.Edges {
					n := e.Node
					if n.Source == nil {
						t.Fatalf("%s row %d has no source", id, n.Index)
					}
					all = append(all, struct {
						index, srcIndex int64
						srcFile, value  string
					}{n.Index, n.Source.Index, n.Source.File.ID, *n.Values[0]})
				}
				if !p.File.Rows.PageInfo.HasNextPage {
					if pages < 2 {
						t.Fatalf("%s: %d pages, the test wants several", id, pages+1)
					}
					return all
				}
				after = *p.File.Rows.PageInfo.EndCursor
			}
		}
		got := walk(thirds)
		if len(got) != 34 {
			t.Fatalf("thirds.csv: %d rows", len(got))
		}
		for i, row := range got {
			// Row i of thirds is n = 3i, which is row 3i of numbers.csv.
			if row.index != int64(i) || row.srcFile != src || row.srcIndex != int64(3*i) || row.value != fmt.Sprint(3*i) {
				t.Errorf("thirds.csv row %d = %+v, want source row %d of %s", i, row, 3*i, src)
			}
		}
		got = walk(evens)
		if len(got) != 17 {
			t.Fatalf("evens.csv: %d rows", len(got))
		}
		for i, row := range got {
			if row.srcFile != thirds || row.srcIndex != int64(2*i) || row.value != fmt.Sprint(6*i) {
				t.Errorf("evens.csv row %d = %+v, want source row %d of %s", i, row, 2*i, thirds)
			}
		}

		// From a source row to the derived one, and a dropped row.
		for srcRow, want := range map[int64]int64{0: 0, 33: 11, 99: 33, 34: -1, 1000: -1} {
			var p rowPage
			s.ok(t, ada, rowsWithSource, map[string]any{"id": thirds, "src": srcRow}, &p)
			edges := p.File.Rows.Edges
			switch {
			case want < 0 && len(edges) != 0:
				t.Errorf("sourceIndex %d: %+v, want no row (dropped)", srcRow, edges)
			case want >= 0 && (len(edges) != 1 || edges[0].Node.Index != want || edges[0].Node.Source.Index != srcRow):
				t.Errorf("sourceIndex %d: %+v, want row %d", srcRow, edges, want)
			}
		}
		if r := s.gql(t, ada, rowsWithSource, map[string]any{"id": src, "src": 1}); r.code() != "BAD_USER_INPUT" {
			t.Errorf("sourceIndex on an uploaded file: %+v", r.Errors)
		}
		if r := s.gql(t, ada, rowsWithSource, map[string]any{"id": thirds, "src": -1}); r.code() != "BAD_USER_INPUT" {
			t.Errorf("negative sourceIndex: %+v", r.Errors)
		}

		// Uploaded and client-made files: null sources.
		up := s.upload(t, ada, `mutation($f: Upload!, $p: [ID!]!) { saveGeneratedFile(file: $f, name: "mine.csv", parentIds: $p) { id } }`,
			map[string]any{"p": []string{src}}, "f", "mine.csv", "n\n0\n3\n")
		var g struct{ SaveGeneratedFile struct{ ID string } }
		json.Unmarshal(up.Data, &g)
		for _, id := range []string{src, g.SaveGeneratedFile.ID} {
			var p rowPage
			s.ok(t, ada, rowsWithSource, map[string]any{"id": id}, &p)
			if len(p.File.Rows.Edges) == 0 || p.File.Rows.Edges[0].Node.Source != nil {
				t.Errorf("%s: %+v, want rows without a source", id, p.File.Rows.Edges)
			}
		}

		// The sweep keeps a live file's provenance; deleting the file removes it.
		ctx := context.Background()
		key := "files/" + thirds + ".rows"
		if ok, _ := s.app.Bucket.Exists(ctx, key); !ok {
			t.Fatalf("no provenance object %s", key)
		}
		if _, err := s.app.Files.Sweep(ctx, -time.Hour); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.app.Bucket.Exists(ctx, key); !ok {
			t.Fatalf("the sweep removed the provenance of a live file")
		}
		s.ok(t, ada, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": thirds}, nil)
		if ok, _ := s.app.Bucket.Exists(ctx, key); ok {
			t.Errorf("the provenance of a deleted file is still there")
		}
		// The tombstone still answers as the source of evens.csv's rows.
		var p rowPage
		s.ok(t, ada, rowsWithSource, map[string]any{"id": evens, "first": 2}, &p)
		if len(p.File.Rows.Edges) != 2 || p.File.Rows.Edges[1].Node.Source == nil || p.File.Rows.Edges[1].Node.Source.File.ID != thirds {
			t.Errorf("evens.csv after its source was deleted: %+v", p.File.Rows.Edges)
		}
	})
}
