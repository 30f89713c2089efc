package graph

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/cutline/cutline/internal/files"
)

// The cost model of an operation, which Limits holds to
// GRAPHQL_MAX_COMPLEXITY before anything runs (README, "What a query
// costs"). A field costs 1 plus what its selection costs, except:
//
//   - a list that the client sizes costs its size, for producing the
//     elements, plus its size times what one element costs: the edges of
//     files, User.files, parentsConnection and childrenConnection their
//     first or last (20 when omitted), the edges of rows its first, the
//     nodes and edges (and the dot and mermaid renderings) of a lineage or
//     a column lineage its limit, at most LINEAGE_MAX_LIMIT; the rest of
//     such a field's selection (pageInfo, totalCount, root...) counts once;
//   - rows also costs ScanCost when it has a filter, an after cursor or a
//     sourceIndex,
//     since it then reads the file from its start until the page is full,
//     possibly to its end;
//   - lists the client cannot size cost an assumed length times (1 + their
//     selection): parents, children, a derivation's sources and a
//     column's sources and consumers FanOut,
//     columns Width (a file has at most MAX_COLUMNS).
const (
	DefaultFiles   = 20
	DefaultRows    = 50
	DefaultLineage = 1000
	ScanCost       = 10000
	FanOut         = 10
	Width          = 20
	// maxCost keeps sums and products far from overflowing; anything near
	// it is refused anyway.
	maxCost = 1 << 40
)

// costModel prices the fields of an operation.
type costModel struct {
	vars       map[string]any
	lineageMax int
}

// Cost is what op costs with vars; lineageMax is the server's cap on a
// lineage's limit.
func Cost(op *ast.OperationDefinition, vars map[string]any, lineageMax int) int {
	m := costModel{vars: vars, lineageMax: lineageMax}
	return m.set(op.SelectionSet, 0)
}

// set is the cost of a selection: the sum of its fields, fragments
// included (each occurrence counts, as the executor resolves each).
func (m costModel) set(sel ast.SelectionSet, depth int) int {
	total := 0
	eachField(sel, depth, func(f *ast.Field) { total = add(total, m.field(f, depth)) })
	return total
}

// field is the cost of one field with its selection.
func (m costModel) field(f *ast.Field, depth int) int {
	parent := ""
	if f.ObjectDefinition != nil {
		parent = f.ObjectDefinition.Name
	}
	args := f.ArgumentMap(m.vars)
	switch parent + "." + f.Name {
	case "Query.files", "User.files", "File.parentsConnection", "File.childrenConnection":
		n := intArg(args, "first", 0)
		if n == 0 {
			n = intArg(args, "last", DefaultFiles)
		}
		return add(1, m.sized(f, depth, clamp(n, files.MaxPageSize), "edges"))
	case "File.rows":
		cost := add(1, m.sized(f, depth, clamp(intArg(args, "first", DefaultRows), files.MaxRowPage), "edges"))
		if args["where"] != nil || nonEmpty(args["whereSql"]) || nonEmpty(args["after"]) || args["sourceIndex"] != nil {
			cost = add(cost, ScanCost)
		}
		return cost
	case "Query.lineage", "File.lineage", "Query.columnLineage", "File.columnLineage":
		n := clamp(intArg(args, "limit", DefaultLineage), m.lineageMax)
		return add(1, m.sized(f, depth, n, "nodes", "edges", "dot", "mermaid"))
	case "File.parents", "File.children", "Derivation.sources", "Column.sources", "Column.consumers":
		return mul(FanOut, add(1, m.set(f.SelectionSet, depth+1)))
	case "File.columns":
		return mul(Width, add(1, m.set(f.SelectionSet, depth+1)))
	}
	return add(1, m.set(f.SelectionSet, depth+1))
}

// sized is the cost of the selection of a field returning n elements:
// producing them costs n (rows read, nodes walked) whatever is selected,
// the subfields named in perElement cost n times each, the others once.
func (m costModel) sized(f *ast.Field, depth, n int, perElement ...string) int {
	total := n
	eachField(f.SelectionSet, depth+1, func(sub *ast.Field) {
		c := m.field(sub, depth+1)
		for _, name := range perElement {
			if sub.Name == name {
				c = mul(n, c)
				break
			}
		}
		total = add(total, c)
	})
	return total
}

// eachField calls fn for every field of sel, through fragments. Validation
// has refused fragment cycles; the depth bound is a second guard.
func eachField(sel ast.SelectionSet, depth int, fn func(*ast.Field)) {
	if depth > 64 {
		return
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			fn(s)
		case *ast.InlineFragment:
			eachField(s.SelectionSet, depth+1, fn)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				eachField(s.Definition.SelectionSet, depth+1, fn)
			}
		}
	}
}

// intArg reads an Int argument (a literal or a variable); def when absent.
func intArg(args map[string]any, name string, def int) int {
	switch v := args[name].(type) {
	case int:
		return v
	case int64:
		return int(min(max(v, -maxCost), maxCost))
	case float64:
		return int(min(max(v, -maxCost), maxCost))
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(min(max(n, -maxCost), maxCost))
		}
	}
	return def
}

func nonEmpty(v any) bool {
	s, ok := v.(string)
	return ok && s != ""
}

// clamp keeps a client's size within 1..max: a larger one is refused by
// the resolver, and an absurd one must not overflow the sum.
func clamp(n, max int) int {
	if n < 1 {
		return 1
	}
	if max > 0 && n > max {
		return max
	}
	return n
}

func add(a, b int) int { return min(a+b, maxCost) }

func mul(n, c int) int {
	if n > 0 && c >= maxCost/n {
		return maxCost
	}
	return n * c
}
