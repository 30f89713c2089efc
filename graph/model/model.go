// Package model holds the GraphQL types that have no counterpart in a
// feature package, and the generated ones.
package model

import (
	"time"

	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// LineageGraph is a lineage.Graph with its files loaded.
type LineageGraph struct {
	Root      *File
	Nodes     []*LineageNode
	Edges     []*LineageEdge
	Truncated bool
	Graph     *lineage.Graph
}

// LineageNode is a file in a lineage graph.
type LineageNode struct {
	File     *File
	Distance int
}

// LineageEdge says child was derived from parent.
type LineageEdge struct {
	Parent    *File
	Child     *File
	Kind      string
	CreatedAt time.Time
}

// FileConnection is a page of files; the total is counted only when asked.
type FileConnection struct {
	Edges    []*FileEdge
	PageInfo *PageInfo
	// OwnerID and Filter let totalCount count lazily.
	OwnerID int64
	Filter  files.Filter
	// Total is the count when it is known already (a file's parents or
	// children); nil leaves totalCount to count.
	Total *int
}

// Node is what node(id:) and nodes(ids:) answer: a *File or an
// *auth.User, the schema's implementations of the Node interface.
type Node any

// FileEvent is one change to a file of the subscriber's.
type FileEvent struct {
	Type FileEventType
	File *File
}

// Dot renders the graph in Graphviz DOT.
func (g *LineageGraph) Dot() string { return lineage.DOT(g.Graph) }

// Mermaid renders the graph as a Mermaid flowchart.
func (g *LineageGraph) Mermaid() string { return lineage.Mermaid(g.Graph) }

// ColumnRef is the other end of a one-hop column dependency.
type ColumnRef struct {
	File       *File
	Column     string
	AllColumns bool
	Kind       lineage.ColumnKind
}

// ColumnLineageGraph is a lineage.ColumnGraph with its files loaded.
type ColumnLineageGraph struct {
	Root      *ColumnLineageNode
	Nodes     []*ColumnLineageNode
	Edges     []*ColumnLineageEdge
	Truncated bool
	Graph     *lineage.ColumnGraph
}

// ColumnLineageNode is a column in a column lineage graph.
type ColumnLineageNode struct {
	File       *File
	Column     string
	AllColumns bool
	Distance   int
}

// ColumnLineageEdge says to was made from from.
type ColumnLineageEdge struct {
	From *ColumnLineageNode
	To   *ColumnLineageNode
	Kind lineage.ColumnKind
}

// Dot renders the graph in Graphviz DOT.
func (g *ColumnLineageGraph) Dot() string { return lineage.ColumnDOT(g.Graph) }

// Mermaid renders the graph as a Mermaid flowchart.
func (g *ColumnLineageGraph) Mermaid() string { return lineage.ColumnMermaid(g.Graph) }

// Row is a row of a page, with where it came from when that is known and
// was asked for.
type Row struct {
	files.Row
	Source *RowSource
}

// RowSource is the row of a source file a derived row was copied from.
type RowSource struct {
	File  *File
	Index int64
}
