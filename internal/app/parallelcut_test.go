package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// awkwardCSV is about size bytes of records that make splitting hard:
// quoted cells with line breaks and doubled quotes, stray quotes, CRLF
// line ends, blank lines, short and long rows.
func awkwardCSV(size int) []byte {
	rng := rand.New(rand.NewPCG(8, 13))
	var b bytes.Buffer
	b.WriteString("id,name,age,note,city\r\n")
	notes := []string{"plain", `"says ""hi"", twice"`, "\"two\r\nlines\"", "\"x\"y", "a\"b", `""`, "\"" + strings.Repeat("many\nlines ", 30) + "\""}
	cities := []string{"NYC", "LA", "SF", "Oslo"}
	for i := 0; b.Len() < size; i++ {
		switch rng.IntN(50) {
		case 0:
			b.WriteString("\r\n") // a blank line
		case 1:
			fmt.Fprintf(&b, "%d,short\r\n", i)
			continue
		case 2:
			fmt.Fprintf(&b, "%d,long,1,2,3,4,extra\r\n", i)
			continue
		}
		fmt.Fprintf(&b, "%d,name %d,%d,%s,%s\r\n", i, rng.IntN(1000), 18+rng.IntN(60), notes[rng.IntN(len(notes))], cities[rng.IntN(len(cities))])
	}
	return b.Bytes()
}

// TestParallelCutThroughTheAPI cuts a file of 9 MiB through the REST cut
// and deriveFile with a server cutting on one core and one cutting on
// three, on both databases: the same bytes, the same new file and the same
// row provenance.
func TestParallelCutThroughTheAPI(t *testing.T) {
	t.Parallel()
	data := awkwardCSV(9 << 20)
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		bucket, err := blobstore.Open(context.Background(), "mem://")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bucket.Close() })
		servers := map[int]*server{}
		for _, workers := range []int{1, 3} {
			servers[workers] = newServerOn(t, db, bucket, func(c *config.Config) {
				c.MaxFileSize = 64 << 20
				c.CutWorkers = workers
			})
		}
		one, three := servers[1], servers[3]
		token := one.register(t, "ada").AccessToken
		code, _, body := one.call(t, "POST", "/api/v1/files?name=awkward.csv", token, "text/csv", bytes.NewReader(data))
		if code != http.StatusCreated {
			t.Fatalf("upload = %d %s", code, body)
		}
		id := mustID(t, body)
		cuts := []map[string]any{
			{},
			{"columns": []string{"note", "id"}, "whereSql": "age >= 30 AND city IN ('NYC', 'SF')"},
			{"columns": []string{"column_7", "name"}, "where": map[string]any{"column": "note", "like": "%lines%"}},
		}
		for _, c := range cuts {
			req, _ := json.Marshal(c)
			var out [2]string
			for k, s := range []*server{one, three} {
				code, _, out[k] = s.call(t, "POST", "/api/v1/files/"+id+"/cut", token, "application/json", bytes.NewReader(req))
				if code != http.StatusOK {
					t.Fatalf("cut %s = %d %.200s", req, code, out[k])
				}
			}
			if out[0] != out[1] || len(out[0]) < 100 {
				t.Fatalf("REST cut %s: %d bytes with one worker, %d with three", req, len(out[0]), len(out[1]))
			}

			vars := map[string]any{"id": id, "cols": c["columns"], "where": c["where"], "sql": c["whereSql"]}
			var files [2]struct {
				ID, Sha256 string
				RowCount   int
			}
			for k, s := range []*server{one, three} {
				var d struct {
					DeriveFile struct {
						ID, Sha256 string
						RowCount   int
					}
				}
				s.ok(t, token, `mutation($id: ID!, $cols: [String!], $where: RowFilter, $sql: String) {
					deriveFile(input: {sourceId: $id, name: "cut.csv", columns: $cols, where: $where, whereSql: $sql}) { id sha256 rowCount } }`, vars, &d)
				files[k] = d.DeriveFile
			}
			if files[0].Sha256 != files[1].Sha256 || files[0].RowCount != files[1].RowCount {
				t.Fatalf("deriveFile %s: %+v with one worker, %+v with three", req, files[0], files[1])
			}
			// Row provenance: the source rows of pages of derived rows
			// across the whole file, and the derived rows of source rows.
			q := `query($id: ID!, $after: String, $src: Int64!) { file(id: $id) {
				rows(first: 200, after: $after) { edges { node { index source { index } } } }
				fromSource: rows(first: 1, sourceIndex: $src) { edges { node { index } } } } }`
			for i := 0; i < 12; i++ {
				after := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("row:%d", i*files[0].RowCount/12)))
				src := i*9000 + 17
				var answers [2]string
				for k, f := range files {
					r := one.gql(t, token, q, map[string]any{"id": f.ID, "after": after, "src": src})
					if len(r.Errors) > 0 {
						t.Fatalf("provenance of %s: %+v", f.ID, r.Errors)
					}
					answers[k] = string(r.Data)
				}
				if !strings.Contains(answers[0], `"source":{"index":`) {
					t.Fatalf("no provenance in %.300s", answers[0])
				}
				if answers[0] != answers[1] {
					t.Fatalf("provenance %s after row %d, source row %d: %.300s... with one worker, %.300s... with three", req, i*files[0].RowCount/12, src, answers[0], answers[1])
				}
			}
		}
	})
}
