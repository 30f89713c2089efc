package app_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// olValidator checks events against the OpenLineage schemas in
// testdata/openlineage: the RunEvent, then every facet against the schema
// its _schemaURL names (the RunEvent schema alone checks only that a facet
// has _producer and _schemaURL). A facet whose schema is not there fails.
// Its receiver's handler checks events from several deliveries at once,
// and a jsonschema.Compiler is not safe for concurrent use: mu orders the
// checks.
type olValidator struct {
	mu    sync.Mutex
	c     *jsonschema.Compiler
	event *jsonschema.Schema
}

func newOLValidator(t *testing.T) *olValidator {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	paths, _ := filepath.Glob(filepath.Join("testdata", "openlineage", "*.json"))
	if len(paths) < 2 {
		t.Fatalf("schemas: %v", paths)
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if err := c.AddResource(id, doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	ev, err := c.Compile("https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent")
	if err != nil {
		t.Fatal(err)
	}
	return &olValidator{c: c, event: ev}
}

func (v *olValidator) check(t *testing.T, raw json.RawMessage) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.event.Validate(inst); err != nil {
		t.Errorf("not a RunEvent: %v\n%s", err, raw)
		return
	}
	ev := inst.(map[string]any)
	var facetSets []any
	facetSets = append(facetSets, ev["job"].(map[string]any)["facets"])
	for _, side := range []string{"inputs", "outputs"} {
		for _, d := range ev[side].([]any) {
			ds := d.(map[string]any)
			facetSets = append(facetSets, ds["facets"], ds["outputFacets"])
		}
	}
	for _, set := range facetSets {
		m, _ := set.(map[string]any)
		for name, f := range m {
			url, _ := f.(map[string]any)["_schemaURL"].(string)
			sch, err := v.c.Compile(url)
			if err != nil {
				t.Errorf("facet %s: schema %q: %v", name, url, err)
				continue
			}
			if err := sch.Validate(f); err != nil {
				t.Errorf("facet %s: %v", name, err)
			}
		}
	}
}

type olField struct {
	Namespace, Name, Field string
	Transformations        []struct{ Type, Subtype, Description string }
}

type olDataset struct {
	Namespace, Name string
	Facets          struct {
		Schema        *struct{ Fields []struct{ Name, Type string } }
		Documentation *struct{ Description string }
		ColumnLineage *struct {
			Fields  map[string]struct{ InputFields []olField }
			Dataset []olField
		}
	}
	OutputFacets struct {
		OutputStatistics *struct{ RowCount, Size int64 }
	}
}

type olEvent struct {
	EventType, EventTime, Producer, SchemaURL string
	Run                                       struct{ RunID string }
	Job                                       struct {
		Namespace, Name string
		Facets          struct {
			SQL     *struct{ Query string }
			JobType *struct{ ProcessingType, Integration, JobType string }
		}
	}
	Inputs, Outputs []olDataset
}

// getOpenLineage reads the openlineage answer of path, checks every
// event against the schemas and decodes it.
func getOpenLineage(t *testing.T, s *server, v *olValidator, token, path string) (events []olEvent, truncated bool) {
	t.Helper()
	resp := restGet(t, s, token, path)
	var raw struct {
		Events    []json.RawMessage
		Truncated bool
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	decodeJSON(t, resp, &raw)
	for _, e := range raw.Events {
		v.check(t, e)
		var ev olEvent
		if err := json.Unmarshal(e, &ev); err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	return events, raw.Truncated
}

// fieldsOf lists a columnLineage facet as "column <- dataset.field TYPE/SUBTYPE".
func fieldsOf(t *testing.T, d olDataset, names map[string]string) []string {
	t.Helper()
	cl := d.Facets.ColumnLineage
	if cl == nil {
		return nil
	}
	show := func(f olField) string {
		if len(f.Transformations) != 1 {
			t.Errorf("input field %+v: %d transformations", f, len(f.Transformations))
			return ""
		}
		tr := f.Transformations[0]
		s := names[f.Name] + "." + f.Field + " " + tr.Type + "/" + tr.Subtype
		if strings.HasPrefix(tr.Description, "inferred") {
			s += " inferred"
		}
		return s
	}
	var out []string
	for col, src := range cl.Fields {
		for _, f := range src.InputFields {
			out = append(out, col+" <- "+show(f))
		}
	}
	for _, f := range cl.Dataset {
		out = append(out, "* <- "+show(f))
	}
	slices.Sort(out)
	return out
}

// The chain's derivations as OpenLineage events, through REST on every
// database: valid against the OpenLineage schemas, one per derivation,
// the datasets, facets and column mapping each one's cut recorded, stable
// run ids, the walk's bounds, and owner scope.
func TestOpenLineageEvents(t *testing.T) {
	t.Parallel()
	v := newOLValidator(t)
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		ada := s.register(t, "ada").AccessToken
		c := buildColumnChain(t, s, ada)
		names := map[string]string{"files/" + c.people: "people", "files/" + c.adults: "adults", "files/" + c.anames: "anames", "files/" + c.nyc: "nyc"}

		events, truncated := getOpenLineage(t, s, v, ada, "/api/v1/files/"+c.nyc+"/openlineage?direction=upstream")
		if truncated || len(events) != 3 {
			t.Fatalf("upstream of nyc.csv: %d events, truncated %v", len(events), truncated)
		}
		want := []struct {
			job, jobType, output string
			inputs               []string
			doc                  string
			fields               []string
			sql                  []string // parts of the sql facet's query, none: no facet
			rows                 int64
		}{
			{
				job: "deriveFile." + c.adults, jobType: "CUT", output: "adults", inputs: []string{"people"}, doc: "adults.csv (deleted)",
				fields: []string{"* <- people.age INDIRECT/FILTER", "city <- people.city DIRECT/IDENTITY", "id <- people.id DIRECT/IDENTITY", "name <- people.name DIRECT/IDENTITY"},
				sql:    []string{`SELECT "id", "name", "city" FROM "files/` + c.people + `" WHERE `, "18"}, rows: 3,
			},
			{
				job: "deriveFile." + c.anames, jobType: "CUT", output: "anames", inputs: []string{"adults"}, doc: "a-names.csv",
				fields: []string{"* <- adults.name INDIRECT/FILTER", "city <- adults.city DIRECT/IDENTITY", "id <- adults.id DIRECT/IDENTITY"},
				sql:    []string{`SELECT "id", "city" FROM "files/` + c.adults + `" WHERE `, "name"}, rows: 2,
			},
			{
				job: "saveGeneratedFile." + c.nyc, jobType: "CLIENT_CUT", output: "nyc", inputs: []string{"anames"}, doc: "nyc.csv",
				fields: []string{"* <- anames.city INDIRECT/FILTER", "city <- anames.city DIRECT/IDENTITY inferred", "id <- anames.id DIRECT/IDENTITY inferred"},
				sql:    []string{`SELECT "id", "city", "extra" FROM "files/` + c.anames + `" WHERE `, "NYC"}, rows: 2,
			},
		}
		runIDs := map[string]bool{}
		for i, w := range want {
			e := events[i]
			if e.EventType != "COMPLETE" || e.Job.Namespace != "cutline" || e.Job.Name != w.job || e.Producer == "" ||
				!strings.HasSuffix(e.SchemaURL, "/OpenLineage.json#/$defs/RunEvent") {
				t.Errorf("event %d: %s %s/%s producer %q schema %q", i, e.EventType, e.Job.Namespace, e.Job.Name, e.Producer, e.SchemaURL)
			}
			if jt := e.Job.Facets.JobType; jt == nil || jt.JobType != w.jobType || jt.ProcessingType != "BATCH" {
				t.Errorf("event %d: jobType %+v", i, jt)
			}
			if u, err := uuid.Parse(e.Run.RunID); err != nil || u.Version() != 5 || runIDs[e.Run.RunID] {
				t.Errorf("event %d: run id %q (%v)", i, e.Run.RunID, err)
			}
			runIDs[e.Run.RunID] = true
			var ins []string
			for _, in := range e.Inputs {
				ins = append(ins, names[in.Name])
				if in.Namespace != "cutline://cutline" || in.Facets.Schema == nil {
					t.Errorf("event %d input %+v", i, in)
				}
			}
			if !slices.Equal(ins, w.inputs) {
				t.Errorf("event %d: inputs %q, want %q", i, ins, w.inputs)
			}
			if len(e.Outputs) != 1 {
				t.Fatalf("event %d: %d outputs", i, len(e.Outputs))
			}
			out := e.Outputs[0]
			if names[out.Name] != w.output || out.Namespace != "cutline://cutline" {
				t.Errorf("event %d: output %s %s", i, out.Namespace, out.Name)
			}
			if d := out.Facets.Documentation; d == nil || d.Description != w.doc {
				t.Errorf("event %d: documentation %+v, want %q", i, d, w.doc)
			}
			if st := out.OutputFacets.OutputStatistics; st == nil || st.RowCount != w.rows || st.Size == 0 {
				t.Errorf("event %d: outputStatistics %+v, want %d rows", i, st, w.rows)
			}
			if got := fieldsOf(t, out, names); !slices.Equal(got, w.fields) {
				t.Errorf("event %d: column lineage\n got %q\nwant %q", i, got, w.fields)
			}
			q := ""
			if e.Job.Facets.SQL != nil {
				q = e.Job.Facets.SQL.Query
			}
			for _, part := range w.sql {
				if !strings.Contains(q, part) {
					t.Errorf("event %d: sql %q lacks %q", i, q, part)
				}
			}
			if i > 0 && e.EventTime < events[i-1].EventTime {
				t.Errorf("event %d is older than event %d", i, i-1)
			}
		}
		// The input's schema: columns and their types, in order.
		var schema []string
		for _, f := range events[0].Inputs[0].Facets.Schema.Fields {
			schema = append(schema, f.Name+":"+f.Type)
		}
		if !slices.Equal(schema, []string{"id:INTEGER", "name:TEXT", "age:INTEGER", "city:TEXT"}) {
			t.Errorf("people.csv schema %q", schema)
		}

		// The same derivations from the other end, with the same run ids;
		// the depth cuts and says so.
		down, _ := getOpenLineage(t, s, v, ada, "/api/v1/files/"+c.people+"/openlineage?direction=downstream")
		if len(down) != 3 {
			t.Fatalf("downstream of people.csv: %d events", len(down))
		}
		for i := range down {
			if down[i].Run.RunID != events[i].Run.RunID || down[i].Job.Name != events[i].Job.Name {
				t.Errorf("downstream event %d: %s %s, upstream had %s %s", i, down[i].Run.RunID, down[i].Job.Name, events[i].Run.RunID, events[i].Job.Name)
			}
		}
		near, truncated := getOpenLineage(t, s, v, ada, "/api/v1/files/"+c.people+"/openlineage?direction=DOWNSTREAM&depth=1")
		if len(near) != 1 || near[0].Job.Name != "deriveFile."+c.adults || !truncated {
			t.Errorf("depth 1: %d events, truncated %v", len(near), truncated)
		}
		lone := s.uploadOK(t, ada, "lone.csv", "a\n1\n")
		if none, _ := getOpenLineage(t, s, v, ada, "/api/v1/files/"+lone+"/openlineage"); len(none) != 0 {
			t.Errorf("an uploaded file with no lineage has %d events", len(none))
		}

		// The namespace setting names jobs and datasets. A derivation of a
		// file at the depth is whole: its inputs beyond the depth too.
		team := newServer(t, db, func(c *config.Config) { c.OpenLineageNamespace = "team-a" })
		other, _ := getOpenLineage(t, team, v, ada, "/api/v1/files/"+c.nyc+"/openlineage?direction=upstream&depth=1")
		if len(other) != 2 || other[1].Job.Namespace != "team-a" || other[1].Outputs[0].Namespace != "cutline://team-a" ||
			other[1].Run.RunID == events[2].Run.RunID || names[other[0].Inputs[0].Name] != "adults" {
			t.Errorf("namespace team-a: %+v", other)
		}

		// Bad parameters, another user's file, a missing one.
		bob := s.register(t, "bob").AccessToken
		for _, tc := range []struct {
			token, path string
			status      int
		}{
			{ada, "/api/v1/files/" + c.nyc + "/openlineage?direction=around", 400},
			{ada, "/api/v1/files/" + c.nyc + "/openlineage?depth=0", 400},
			{ada, "/api/v1/files/" + c.nyc + "/openlineage?format=dot", 400},
			{bob, "/api/v1/files/" + c.nyc + "/openlineage", 404},
			{ada, "/api/v1/files/00000000-0000-0000-0000-000000000000/openlineage", 404},
			{"", "/api/v1/files/" + c.nyc + "/openlineage", 401},
		} {
			resp := restGet(t, s, tc.token, tc.path)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.status)
			}
		}
	})
}
