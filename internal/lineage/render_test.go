package lineage

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var entity = regexp.MustCompile(`#[0-9]+;`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// nastyGraph has names that break naive renderers: quotes, backslashes and
// Graphviz escapes, line breaks, Mermaid shape and entity characters, HTML.
func nastyGraph() *Graph {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Graph{
		RootID: uuidOf(2),
		Nodes: []Node{
			{ID: uuidOf(1), Name: `raw "data" \N.csv`, Distance: -1},
			{ID: uuidOf(3), Name: "gone [old] (v1) {x}.csv", Deleted: true, Distance: -1},
			{ID: uuidOf(2), Name: "root; #1 <b>bold</b> & 'q'", Distance: 0},
			{ID: uuidOf(4), Name: "two\nlines\r\nthree\ttab|pipe`tick` 100%", Distance: 1},
			{ID: uuidOf(5), Name: "ünïcødé → ok", Distance: 2},
		},
		Edges: []Edge{
			{ParentID: uuidOf(1), ChildID: uuidOf(2), Kind: "CUT_TO", CreatedAt: at},
			{ParentID: uuidOf(3), ChildID: uuidOf(2), Kind: `GEN"ERATED`, CreatedAt: at},
			{ParentID: uuidOf(2), ChildID: uuidOf(4), Kind: "CUT_TO", CreatedAt: at},
			{ParentID: uuidOf(4), ChildID: uuidOf(5), Kind: "CUT_TO", CreatedAt: at},
		},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run Render -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestRenderDOT(t *testing.T) {
	out := DOT(nastyGraph())
	golden(t, "nasty.dot", out)
	if DOT(nastyGraph()) != out {
		t.Error("DOT is not deterministic")
	}
	// Every label must be one well-formed DOT string on its own line: no raw
	// line break and no unescaped quote inside.
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.Count(strings.ReplaceAll(line, `\\`, ""), `"`)-strings.Count(strings.ReplaceAll(line, `\\`, ""), `\"`) == 1 {
			t.Errorf("unbalanced quotes in %q", line)
		}
	}
	if strings.Contains(out, uuidOf(1)+" ->") || strings.Contains(out, "raw \"data") {
		t.Error("ids or raw names used as node identifiers")
	}
}

func TestRenderMermaid(t *testing.T) {
	out := Mermaid(nastyGraph())
	golden(t, "nasty.mmd", out)
	if Mermaid(nastyGraph()) != out {
		t.Error("Mermaid is not deterministic")
	}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if i == 0 || strings.HasPrefix(line, "  classDef") {
			continue
		}
		// Once the label delimiters, the arrow, entity codes and line breaks
		// are taken out, nothing Mermaid would parse may be left.
		for _, c := range []string{"[\"", "\"]", "-->|\"", "\"|"} {
			line = strings.Replace(line, c, " ", 1)
		}
		line = entity.ReplaceAllString(strings.ReplaceAll(line, "<br>", " "), "")
		if strings.ContainsAny(line, "\"#;<>[](){}|\\`") {
			t.Errorf("unescaped character left in %q", line)
		}
	}
}

func TestRenderEmptyishGraph(t *testing.T) {
	g := &Graph{RootID: uuidOf(1), Nodes: []Node{{ID: uuidOf(1), Name: "only"}}}
	if got, want := DOT(g), "digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n  n1 [label=\"only\", tooltip=\""+uuidOf(1)+"\", style=\"bold\"];\n}\n"; got != want {
		t.Errorf("DOT:\n%s\nwant\n%s", got, want)
	}
	if got, want := Mermaid(g), "flowchart LR\n  n1[\"only\"]\n  classDef root font-weight:bold,stroke-width:3px\n  classDef deleted stroke-dasharray:5 5,color:#888,stroke:#888,fill:#f4f4f4\n  class n1 root\n"; got != want {
		t.Errorf("Mermaid:\n%s\nwant\n%s", got, want)
	}
}
