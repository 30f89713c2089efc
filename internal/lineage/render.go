package lineage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Renderers name nodes n1, n2, ... in the order of g.Nodes instead of using
// file ids or names: identifiers stay valid whatever a name contains, and the
// output is the same for the same graph. Names only ever appear inside quoted
// labels, escaped for the target language.

// DOT renders g in Graphviz DOT: left to right, the root bold, tombstones
// dashed and grey, each edge labelled with its kind.
func DOT(g *Graph) string {
	ids := nodeIdents(g)
	var b strings.Builder
	dotHeader(&b, "lineage")
	for i, n := range g.Nodes {
		attrs := dotNode([]string{"label=" + dotQuote(n.Name), "tooltip=" + dotQuote(n.ID)}, n.ID == g.RootID, false, n.Deleted)
		fmt.Fprintf(&b, "  n%d [%s];\n", i+1, attrs)
	}
	for _, e := range g.Edges {
		p, okP := ids[e.ParentID]
		c, okC := ids[e.ChildID]
		if !okP || !okC {
			continue
		}
		fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", p, c, dotQuote(e.Kind))
	}
	b.WriteString("}\n")
	return b.String()
}

// Mermaid renders g as a Mermaid flowchart: left to right, parent --> child
// labelled with the kind, the root bold, tombstones dashed and grey.
func Mermaid(g *Graph) string {
	ids := nodeIdents(g)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	var roots, deleted []string
	for i, n := range g.Nodes {
		id := fmt.Sprintf("n%d", i+1)
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id, mermaidText(n.Name))
		if n.ID == g.RootID {
			roots = append(roots, id)
		}
		if n.Deleted {
			deleted = append(deleted, id)
		}
	}
	for _, e := range g.Edges {
		p, okP := ids[e.ParentID]
		c, okC := ids[e.ChildID]
		if !okP || !okC {
			continue
		}
		fmt.Fprintf(&b, "  %s -->|\"%s\"| %s\n", p, mermaidText(e.Kind), c)
	}
	b.WriteString("  classDef root font-weight:bold,stroke-width:3px\n")
	b.WriteString("  classDef deleted stroke-dasharray:5 5,color:#888,stroke:#888,fill:#f4f4f4\n")
	if len(roots) > 0 {
		fmt.Fprintf(&b, "  class %s root\n", strings.Join(roots, ","))
	}
	if len(deleted) > 0 {
		fmt.Fprintf(&b, "  class %s deleted\n", strings.Join(deleted, ","))
	}
	return b.String()
}

func dotHeader(b *strings.Builder, name string) {
	b.WriteString("digraph " + name + " {\n")
	b.WriteString("  rankdir=LR;\n")
	b.WriteString("  node [shape=box, fontname=\"Helvetica\"];\n")
	b.WriteString("  edge [fontname=\"Helvetica\", fontsize=10];\n")
}

// dotNode is a node's attribute list: the root bold, a whole file rounded,
// a tombstone dashed and grey.
func dotNode(attrs []string, root, whole, deleted bool) string {
	var style []string
	if root {
		style = append(style, "bold")
	}
	if whole {
		style = append(style, "rounded")
	}
	if deleted {
		style = append(style, "dashed")
		attrs = append(attrs, `color="grey"`, `fontcolor="grey"`)
	}
	if len(style) > 0 {
		attrs = append(attrs, "style="+dotQuote(strings.Join(style, ",")))
	}
	return strings.Join(attrs, ", ")
}

func nodeIdents(g *Graph) map[string]string {
	ids := make(map[string]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[n.ID] = fmt.Sprintf("n%d", i+1)
	}
	return ids
}

// dotQuote returns s as a DOT double-quoted string. Backslashes are doubled
// so that sequences such as \N or \G in a name are not taken as Graphviz
// escapes; line breaks become \n (a centred line break in a label); other
// control characters, which Graphviz cannot show, become U+FFFD.
func dotQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue // \r\n is one line break
			}
			b.WriteString(`\n`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteByte(' ')
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// mermaidText escapes s for a double-quoted Mermaid label. Mermaid has no
// backslash escapes; it reads #code; entity codes, and renders labels as
// HTML. So every character that could end the label or the edge text (" | ]
// ) }), open a shape, start an entity (#), end a statement (;) or become
// markup (< > & `) is written as a numeric entity, and line breaks as <br>.
func mermaidText(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case strings.ContainsRune("\"#;<>&[](){}|`\\'%", r):
			fmt.Fprintf(&b, "#%d;", r)
		case r == '\r':
			if i < len(s) && s[i] == '\n' {
				continue
			}
			b.WriteString("<br>")
		case r == '\n':
			b.WriteString("<br>")
		case r == '\t':
			b.WriteByte(' ')
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			b.WriteString("#65533;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ColumnDOT renders a column lineage graph in Graphviz DOT: one cluster per
// file (labelled with its name, dashed and grey for a tombstone) holding
// its columns, the root column bold, each edge labelled with its kind
// (FILTER edges dashed). The file as a whole is the node "*".
func ColumnDOT(g *ColumnGraph) string {
	var b strings.Builder
	dotHeader(&b, "column_lineage")
	for ci, group := range columnClusters(g) {
		first := g.Nodes[group[0]]
		fmt.Fprintf(&b, "  subgraph cluster_%d {\n    label=%s;\n    tooltip=%s;\n", ci+1, dotQuote(first.FileName), dotQuote(first.FileID))
		if first.Deleted {
			b.WriteString("    style=\"dashed\";\n    color=\"grey\";\n    fontcolor=\"grey\";\n")
		}
		for _, i := range group {
			n := g.Nodes[i]
			attrs := dotNode([]string{"label=" + dotQuote(n.Column)}, n.Distance == 0, n.AllColumns, n.Deleted)
			fmt.Fprintf(&b, "    n%d [%s];\n", i+1, attrs)
		}
		b.WriteString("  }\n")
	}
	for _, e := range g.Edges {
		attrs := "label=" + dotQuote(string(e.Kind))
		if e.Kind == ColumnFilter {
			attrs += ", style=\"dashed\""
		}
		fmt.Fprintf(&b, "  n%d -> n%d [%s];\n", e.From+1, e.To+1, attrs)
	}
	b.WriteString("}\n")
	return b.String()
}

// ColumnMermaid renders a column lineage graph as a Mermaid flowchart: one
// subgraph per file holding its columns, parent --> child labelled with the
// kind (FILTER edges dotted), the root bold, tombstones dashed and grey.
func ColumnMermaid(g *ColumnGraph) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	var roots, deleted []string
	for ci, group := range columnClusters(g) {
		first := g.Nodes[group[0]]
		fmt.Fprintf(&b, "  subgraph f%d[\"%s\"]\n", ci+1, mermaidText(first.FileName))
		for _, i := range group {
			n := g.Nodes[i]
			id := fmt.Sprintf("n%d", i+1)
			if n.AllColumns {
				fmt.Fprintf(&b, "    %s([\"%s\"])\n", id, mermaidText(n.Column))
			} else {
				fmt.Fprintf(&b, "    %s[\"%s\"]\n", id, mermaidText(n.Column))
			}
			if n.Distance == 0 {
				roots = append(roots, id)
			}
			if n.Deleted {
				deleted = append(deleted, id)
			}
		}
		b.WriteString("  end\n")
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Kind == ColumnFilter {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  n%d %s|\"%s\"| n%d\n", e.From+1, arrow, mermaidText(string(e.Kind)), e.To+1)
	}
	b.WriteString("  classDef root font-weight:bold,stroke-width:3px\n")
	b.WriteString("  classDef deleted stroke-dasharray:5 5,color:#888,stroke:#888,fill:#f4f4f4\n")
	if len(roots) > 0 {
		fmt.Fprintf(&b, "  class %s root\n", strings.Join(roots, ","))
	}
	if len(deleted) > 0 {
		fmt.Fprintf(&b, "  class %s deleted\n", strings.Join(deleted, ","))
	}
	return b.String()
}

// columnClusters groups the node indexes of g by file, in the order each
// file first appears.
func columnClusters(g *ColumnGraph) [][]int {
	at := map[string]int{}
	var out [][]int
	for i, n := range g.Nodes {
		c, ok := at[n.FileID]
		if !ok {
			c = len(out)
			at[n.FileID] = c
			out = append(out, nil)
		}
		out[c] = append(out[c], i)
	}
	return out
}
