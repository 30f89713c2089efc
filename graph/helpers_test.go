package graph

import "testing"

func TestSelectsHeavyFile(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"names only", `{ lineage(fileId: "x") { root { id name } nodes { distance file { id name userTags } } edges { parent { id } child { id } kind } truncated dot } }`, false},
		{"graph fields only", `{ lineage(fileId: "x") { truncated mermaid } }`, false},
		{"columns of the root", `{ lineage(fileId: "x") { root { columns { name } } } }`, true},
		{"metadata of a node", `{ lineage(fileId: "x") { nodes { file { metadata } } } }`, true},
		{"rows of an edge's child", `{ lineage(fileId: "x") { edges { child { rows(first: 1) { edges { cursor } } } } } }`, true},
		{"through a named fragment", `query { lineage(fileId: "x") { nodes { file { ...F } } } } fragment F on File { name columns { name } }`, true},
		{"through an inline fragment", `{ lineage(fileId: "x") { edges { parent { ... on File { metadata } } } } }`, true},
		{"light fragment", `query { lineage(fileId: "x") { nodes { file { ...F } } } } fragment F on File { id name }`, false},
		{"skipped still counts", `query($s: Boolean!) { lineage(fileId: "x") { root { columns @skip(if: $s) { name } } } }`, true},
		{"under a nested lineage", `{ lineage(fileId: "x") { nodes { file { lineage { root { columns { name } } } } } } }`, true},
		{"a nested light lineage", `{ lineage(fileId: "x") { nodes { file { lineage { root { name } } } } } }`, false},
		{"deeper than the bound", `{ lineage(fileId: "x") { root { parents { parents { parents { parents { parents { parents { parents { parents { name } } } } } } } } } } }`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selectsDetails(selectionUnder(t, tt.query, "lineage"), 0); got != tt.want {
				t.Fatalf("selectsDetails = %v, want %v", got, tt.want)
			}
		})
	}
}
