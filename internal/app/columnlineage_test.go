package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// columnChain is upload -> derive -> derive -> saveGenerated, the middle
// derivation's source deleted afterwards:
//
//	people.csv (id,name,age,city)
//	  adults.csv   = id,name,city where age >= 18          (deriveFile, SQL)
//	  a-names.csv  = id,city where name starts with "A"    (deriveFile, typed)
//	  nyc.csv      = id,city,extra saved by a client, column_filters {city: "= NYC"}
type columnChain struct {
	people, adults, anames, nyc string
}

func buildColumnChain(t *testing.T, s *server, token string) columnChain {
	t.Helper()
	var c columnChain
	c.people = s.uploadOK(t, token, "people.csv", "id,name,age,city\n1,Ann,34,NYC\n2,Bob,12,LA\n3,Al,40,NYC\n4,Cy,70,SF\n")
	var d struct{ DeriveFile struct{ ID string } }
	s.ok(t, token, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "adults.csv", columns: ["id", "name", "city"], whereSql: "AGE >= 18"}) { id } }`,
		map[string]any{"s": c.people}, &d)
	c.adults = d.DeriveFile.ID
	s.ok(t, token, `mutation($s: ID!) { deriveFile(input: {sourceId: $s, name: "a-names.csv", columns: ["id", "city"], where: {column: "name", startsWith: "A"}}) { id } }`,
		map[string]any{"s": c.adults}, &d)
	c.anames = d.DeriveFile.ID
	meta := map[string]any{"generated_file_details": map[string]any{"column_filters": map[string]any{"city": "= NYC", "id": ""}}, "original_file_id": c.anames}
	r := s.upload(t, token, `mutation($f: Upload!, $p: [ID!]!, $m: JSON) { saveGeneratedFile(file: $f, name: "nyc.csv", parentIds: $p, metadata: $m) { id } }`,
		map[string]any{"p": []string{c.anames}, "m": meta}, "f", "nyc.csv", "id,city,extra\n1,NYC,x\n3,NYC,y\n")
	if len(r.Errors) > 0 {
		t.Fatalf("save: %+v", r.Errors)
	}
	var g struct{ SaveGeneratedFile struct{ ID string } }
	json.Unmarshal(r.Data, &g)
	c.nyc = g.SaveGeneratedFile.ID
	s.ok(t, token, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": c.adults}, nil)
	return c
}

type colGraph struct {
	Root  struct{ Column string }
	Nodes []struct {
		File struct {
			ID, Name string
			Deleted  bool
		}
		Column     string
		AllColumns bool
		Distance   int
	}
	Edges []struct {
		From, To struct {
			File   struct{ Name string }
			Column string
		}
		Kind string
	}
	Truncated bool
	Dot       string
	Mermaid   string
}

// nodes lists "name.column@distance", with "†" after a tombstone's name.
func (g colGraph) nodes() []string {
	var out []string
	for _, n := range g.Nodes {
		name := n.File.Name
		if n.File.Deleted {
			name += "†"
		}
		out = append(out, name+"."+n.Column+"@"+itoa(n.Distance))
	}
	sort.Strings(out)
	return out
}

func (g colGraph) edges() []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, e.From.File.Name+"."+e.From.Column+" -"+e.Kind+"-> "+e.To.File.Name+"."+e.To.Column)
	}
	sort.Strings(out)
	return out
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

const columnLineageQuery = `query($f: ID!, $c: String!, $d: LineageDirection, $depth: Int, $limit: Int) {
	columnLineage(fileId: $f, column: $c, direction: $d, depth: $depth, limit: $limit) {
		root { column }
		nodes { file { id name deleted } column allColumns distance }
		edges { from { file { name } column } to { file { name } column } kind }
		truncated dot mermaid } }`

// The column graph of the chain, both ways, through GraphQL and REST, on
// every database: identities of a cut, filters reaching the whole child,
// inferred identities and the legacy filter of a client-made file, and the
// deleted middle file as a tombstone.
func TestColumnLineageChain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		c := buildColumnChain(t, s, ada)

		var up struct{ ColumnLineage colGraph }
		s.ok(t, ada, columnLineageQuery, map[string]any{"f": c.nyc, "c": "id", "d": "UPSTREAM"}, &up)
		wantNodes := []string{
			"a-names.csv.city@-1", "a-names.csv.id@-1",
			"adults.csv†.city@-2", "adults.csv†.id@-2", "adults.csv†.name@-2",
			"nyc.csv.id@0",
			"people.csv.age@-3", "people.csv.city@-3", "people.csv.id@-3", "people.csv.name@-3",
		}
		if got := up.ColumnLineage.nodes(); !slices.Equal(got, wantNodes) {
			t.Errorf("upstream nodes\n got %q\nwant %q", got, wantNodes)
		}
		wantEdges := []string{
			"a-names.csv.city -FILTER-> nyc.csv.id",
			"a-names.csv.id -INFERRED-> nyc.csv.id",
			"adults.csv.city -IDENTITY-> a-names.csv.city",
			"adults.csv.id -IDENTITY-> a-names.csv.id",
			"adults.csv.name -FILTER-> a-names.csv.city",
			"adults.csv.name -FILTER-> a-names.csv.id",
			"people.csv.age -FILTER-> adults.csv.city",
			"people.csv.age -FILTER-> adults.csv.id",
			"people.csv.age -FILTER-> adults.csv.name",
			"people.csv.city -IDENTITY-> adults.csv.city",
			"people.csv.id -IDENTITY-> adults.csv.id",
			"people.csv.name -IDENTITY-> adults.csv.name",
		}
		if got := up.ColumnLineage.edges(); !slices.Equal(got, wantEdges) {
			t.Errorf("upstream edges\n got %q\nwant %q", got, wantEdges)
		}
		if up.ColumnLineage.Truncated || up.ColumnLineage.Root.Column != "id" {
			t.Errorf("upstream: truncated %v, root %q", up.ColumnLineage.Truncated, up.ColumnLineage.Root.Column)
		}

		// What breaks if people.csv drops age: every column of everything
		// below, since age chose adults.csv's rows.
		var down struct{ ColumnLineage colGraph }
		s.ok(t, ada, columnLineageQuery, map[string]any{"f": c.people, "c": "age", "d": "DOWNSTREAM"}, &down)
		wantNodes = []string{
			"a-names.csv.*@2", "a-names.csv.city@2", "a-names.csv.id@2",
			"adults.csv†.*@1",
			"nyc.csv.*@3", "nyc.csv.city@3", "nyc.csv.id@3",
			"people.csv.age@0",
		}
		if got := down.ColumnLineage.nodes(); !slices.Equal(got, wantNodes) {
			t.Errorf("downstream nodes\n got %q\nwant %q", got, wantNodes)
		}
		wantEdges = []string{
			"a-names.csv.city -FILTER-> nyc.csv.*",
			"a-names.csv.city -INFERRED-> nyc.csv.city",
			"a-names.csv.id -INFERRED-> nyc.csv.id",
			"adults.csv.* -FILTER-> a-names.csv.*",
			"adults.csv.* -IDENTITY-> a-names.csv.city",
			"adults.csv.* -IDENTITY-> a-names.csv.id",
			"people.csv.age -FILTER-> adults.csv.*",
		}
		if got := down.ColumnLineage.edges(); !slices.Equal(got, wantEdges) {
			t.Errorf("downstream edges\n got %q\nwant %q", got, wantEdges)
		}
		for _, n := range down.ColumnLineage.Nodes {
			if n.AllColumns != (n.Column == "*") {
				t.Errorf("node %s.%s: allColumns %v", n.File.Name, n.Column, n.AllColumns)
			}
		}
		if m := down.ColumnLineage.Mermaid; !strings.HasPrefix(m, "flowchart LR\n") || !strings.Contains(m, `subgraph f1["people.csv"]`) ||
			!strings.Contains(m, `-.->|"FILTER"|`) || !strings.Contains(m, "class ") {
			t.Errorf("mermaid:\n%s", m)
		}
		if d := down.ColumnLineage.Dot; !strings.HasPrefix(d, "digraph column_lineage {") || !strings.Contains(d, `label="adults.csv"`) {
			t.Errorf("dot:\n%s", d)
		}

		// A middle column both ways: the deleted file's own column.
		var both struct{ ColumnLineage colGraph }
		s.ok(t, ada, columnLineageQuery, map[string]any{"f": c.adults, "c": "name"}, &both)
		wantNodes = []string{"a-names.csv.*@1", "adults.csv†.name@0", "nyc.csv.*@2", "nyc.csv.city@2", "nyc.csv.id@2", "people.csv.age@-1", "people.csv.name@-1"}
		if got := both.ColumnLineage.nodes(); !slices.Equal(got, wantNodes) {
			t.Errorf("both nodes\n got %q\nwant %q", got, wantNodes)
		}

		// Bounds: depth and limit cut, and say so.
		var cut struct{ ColumnLineage colGraph }
		s.ok(t, ada, columnLineageQuery, map[string]any{"f": c.nyc, "c": "id", "d": "UPSTREAM", "depth": 1}, &cut)
		if got := cut.ColumnLineage.nodes(); !cut.ColumnLineage.Truncated || !slices.Equal(got, []string{"a-names.csv.city@-1", "a-names.csv.id@-1", "nyc.csv.id@0"}) {
			t.Errorf("depth 1: truncated %v, nodes %q", cut.ColumnLineage.Truncated, got)
		}
		s.ok(t, ada, columnLineageQuery, map[string]any{"f": c.nyc, "c": "id", "d": "UPSTREAM", "limit": 3}, &cut)
		if got := cut.ColumnLineage.nodes(); !cut.ColumnLineage.Truncated || len(got) != 4 {
			t.Errorf("limit 3: truncated %v, nodes %q", cut.ColumnLineage.Truncated, got)
		}

		// Another user's file is not found; a column the file lacks is bad input.
		bob := s.register(t, "bob").AccessToken
		if r := s.gql(t, bob, columnLineageQuery, map[string]any{"f": c.nyc, "c": "id"}); r.code() != "NOT_FOUND" {
			t.Errorf("another user's file: %+v", r.Errors)
		}
		if r := s.gql(t, ada, columnLineageQuery, map[string]any{"f": c.nyc, "c": "nope"}); r.code() != "BAD_USER_INPUT" {
			t.Errorf("unknown column: %+v", r.Errors)
		}

		// REST: the same graph, the same parameters, three formats.
		var rest struct {
			Root  struct{ Column string }
			Nodes []struct {
				File, FileName, Column string
				Deleted, AllColumns    bool
				Distance               int
			}
			Edges []struct {
				From, To struct{ File, Column string }
				Kind     string
			}
			Truncated bool
		}
		for path, gq := range map[string]colGraph{
			"/api/v1/files/" + c.people + "/columns/age/lineage?direction=downstream": down.ColumnLineage,
			"/api/v1/files/" + c.nyc + "/columns/id/lineage?direction=upstream":       up.ColumnLineage,
		} {
			rest.Nodes, rest.Edges = nil, nil
			resp := restGet(t, s, ada, path)
			decodeJSON(t, resp, &rest)
			if resp.StatusCode != 200 || len(rest.Nodes) != len(gq.Nodes) || len(rest.Edges) != len(gq.Edges) || rest.Root.Column != gq.Root.Column {
				t.Errorf("REST json %s: %d %+v", path, resp.StatusCode, rest)
				continue
			}
			for i, n := range rest.Nodes {
				g := gq.Nodes[i]
				if n.File != g.File.ID || n.Column != g.Column || n.Distance != g.Distance || n.Deleted != g.File.Deleted || n.FileName != g.File.Name {
					t.Errorf("REST %s node %d = %+v, GraphQL %+v", path, i, n, g)
				}
			}
			for i, e := range rest.Edges {
				g := gq.Edges[i]
				if e.Kind != g.Kind || e.From.Column != g.From.Column || e.To.Column != g.To.Column {
					t.Errorf("REST %s edge %d = %+v, GraphQL %+v", path, i, e, g)
				}
			}
		}
		for format, want := range map[string]string{"mermaid": down.ColumnLineage.Mermaid, "dot": down.ColumnLineage.Dot} {
			resp := restGet(t, s, ada, "/api/v1/files/"+c.people+"/columns/age/lineage?direction=DOWNSTREAM&format="+format)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != want {
				t.Errorf("REST %s: %d\n%s", format, resp.StatusCode, body)
			}
		}
		for path, status := range map[string]int{
			"/api/v1/files/" + c.people + "/columns/nope/lineage":                 400,
			"/api/v1/files/" + c.people + "/columns/age/lineage?depth=0":          400,
			"/api/v1/files/" + c.people + "/columns/age/lineage?format=png":       400,
			"/api/v1/files/" + c.people + "/columns/age/lineage?direction=around": 400,
		} {
			resp := restGet(t, s, ada, path)
			resp.Body.Close()
			if resp.StatusCode != status {
				t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, status)
			}
		}
		resp := restGet(t, s, bob, "/api/v1/files/"+c.people+"/columns/age/lineage")
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("REST, another user's file: %d", resp.StatusCode)
		}
	})
}

// Column.sources and Column.consumers: one hop each way, filters listed on
// every column of the child, an uploaded file with no sources.
func TestColumnSourcesAndConsumers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		c := buildColumnChain(t, s, ada)
		type ref struct {
			File       struct{ Name string }
			Column     string
			AllColumns bool
			Kind       string
		}
		var d struct {
			File struct {
				Columns []struct {
					Name               string
					Sources, Consumers []ref
				}
			}
		}
		refs := func(rs []ref) []string {
			var out []string
			for _, r := range rs {
				out = append(out, r.File.Name+"."+r.Column+":"+r.Kind)
			}
			sort.Strings(out)
			return out
		}
		const q = `query($id: ID!) { file(id: $id) { columns { name sources { file { name } column allColumns kind } consumers { file { name } column allColumns kind } } } }`
		s.ok(t, ada, q, map[string]any{"id": c.nyc}, &d)
		want := map[string][]string{
			"id":    {"a-names.csv.city:FILTER", "a-names.csv.id:INFERRED"},
			"city":  {"a-names.csv.city:FILTER", "a-names.csv.city:INFERRED"},
			"extra": {"a-names.csv.city:FILTER"},
		}
		for _, col := range d.File.Columns {
			if got := refs(col.Sources); !slices.Equal(got, want[col.Name]) {
				t.Errorf("nyc.csv %s sources %q, want %q", col.Name, got, want[col.Name])
			}
			if len(col.Consumers) != 0 {
				t.Errorf("nyc.csv %s consumers %q", col.Name, refs(col.Consumers))
			}
		}
		s.ok(t, ada, q, map[string]any{"id": c.people}, &d)
		wantConsumers := map[string][]string{
			"id": {"adults.csv.id:IDENTITY"}, "name": {"adults.csv.name:IDENTITY"},
			"age": {"adults.csv.*:FILTER"}, "city": {"adults.csv.city:IDENTITY"},
		}
		for _, col := range d.File.Columns {
			if len(col.Sources) != 0 {
				t.Errorf("uploaded %s has sources %q", col.Name, refs(col.Sources))
			}
			if got := refs(col.Consumers); !slices.Equal(got, wantConsumers[col.Name]) {
				t.Errorf("people.csv %s consumers %q, want %q", col.Name, got, wantConsumers[col.Name])
			}
			for _, r := range col.Consumers {
				if r.AllColumns != (r.Kind == "FILTER") {
					t.Errorf("people.csv %s consumer %+v", col.Name, r)
				}
			}
		}
	})
}

func restGet(t *testing.T, s *server, token, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
