package lineage

import (
	"context"
	"strings"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// ColumnKind says how a column of a derived file depends on a column of
// its parent.
type ColumnKind string

// The kinds of ColumnLineageKind in the GraphQL schema.
const (
	// ColumnIdentity: the child column is the parent column, copied cell
	// by cell by a server-side cut (deriveFile).
	ColumnIdentity ColumnKind = "IDENTITY"
	// ColumnFilter: the parent column decided which rows the child kept; it
	// influences every column of the child (AllColumns).
	ColumnFilter ColumnKind = "FILTER"
	// ColumnInferred: a client made the child (saveGeneratedFile, an
	// import), and its column has the parent column's name: most likely a
	// copy, which the server did not see made.
	ColumnInferred ColumnKind = "INFERRED"
)

// Valid reports whether k is one of the three kinds.
func (k ColumnKind) Valid() bool {
	return k == ColumnIdentity || k == ColumnFilter || k == ColumnInferred
}

// AllColumns is the column of a reference to a file as a whole: the child
// side of a FILTER edge, since a filter chooses rows and so reaches every
// column. Flagged (ColumnNode.AllColumns, ColumnRef.AllColumns) wherever
// it appears, so that a real column named "*" is never mistaken for it.
const AllColumns = "*"

// ColumnEdge is one dependency: ChildColumn of ChildID was made from
// ParentColumn of ParentID. ChildColumn is "" on a FILTER edge (the child
// as a whole).
type ColumnEdge struct {
	ParentID     string
	ParentColumn string
	ChildID      string
	ChildColumn  string
	Kind         ColumnKind
}

// ColumnRef is the other end of a one-hop column dependency.
type ColumnRef struct {
	FileID string
	Column string // AllColumns when AllColumns is set
	// AllColumns: the reference is to the file as a whole (a FILTER
	// consumer), not to one of its columns.
	AllColumns bool
	Kind       ColumnKind
}

// ColumnNode is one column of a column lineage graph.
type ColumnNode struct {
	FileID   string
	FileName string
	Deleted  bool   // the file is a tombstone
	Column   string // AllColumns when AllColumns is set
	// AllColumns: the node is the file as a whole, reached through a
	// filter: every column of it depends on the columns upstream.
	AllColumns bool
	// Distance is signed as in Node: negative upstream, positive
	// downstream, 0 for the root.
	Distance int
}

// ColumnGraphEdge is an edge of a column lineage graph, between two of its
// nodes (by their index in ColumnGraph.Nodes).
type ColumnGraphEdge struct {
	From, To int
	Kind     ColumnKind
}

// ColumnGraph is the answer of a column lineage walk.
type ColumnGraph struct {
	// Nodes holds the root first, then the columns found, each once,
	// ordered by (|distance|, downstream first, file name, file id, column).
	Nodes []ColumnNode
	// Edges holds every dependency between two nodes, each once, ordered by
	// (From, To, Kind).
	Edges []ColumnGraphEdge
	// Truncated is true exactly when depth or limit left out a column the
	// walk would otherwise have returned.
	Truncated bool
}

// FieldColumn is the field of errors about the column a walk starts from.
const FieldColumn = "column"

// ColumnGraph walks the column dependencies from column of rootID in
// direction dir: UPSTREAM answers where the column came from, DOWNSTREAM
// what depends on it (what breaks if it is dropped). depth and limit are
// validated and clamped like Graph's. The column must be one the file has
// or had in its lineage; otherwise the error is an *apperr.InvalidError
// on "column". A root that is missing or someone else's is
// apperr.ErrNotFound; a tombstone root is allowed.
func (s *Service) ColumnGraph(ctx context.Context, ownerID int64, rootID, column string, dir Direction, depth, limit int) (*ColumnGraph, error) {
	depth, limit, err := s.bounds(dir, depth, limit)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(column) == "" {
		return nil, apperr.Invalid(FieldColumn, "must not be empty")
	}
	root, ok := database.CanonicalID(rootID)
	if !ok {
		return nil, errNotFound("lineage root", rootID)
	}
	return s.store.columnWalk(ctx, ownerID, root, column, dir, depth, limit)
}

// ColumnSources returns, for each of fileIDs that is a file of ownerID, its
// columns' direct sources: column name -> the parent columns it was made
// from. FILTER sources, which reach every column, are listed once under
// the key "" (SourcesOf adds them to a column's own). Read in one query
// for a whole page of files.
func (s *Service) ColumnSources(ctx context.Context, ownerID int64, fileIDs []string) (map[string]map[string][]ColumnRef, error) {
	return s.store.columnNeighbours(ctx, ownerID, fileIDs, up)
}

// ColumnConsumers is ColumnSources the other way: column name -> the
// columns of children made from it (AllColumns refs for children it
// filtered).
func (s *Service) ColumnConsumers(ctx context.Context, ownerID int64, fileIDs []string) (map[string]map[string][]ColumnRef, error) {
	return s.store.columnNeighbours(ctx, ownerID, fileIDs, down)
}

// ColumnEdgesOf returns the column dependencies recorded for the children
// childIDs of ownerID, for describing their derivations (OpenLineage).
func (s *Service) ColumnEdgesOf(ctx context.Context, ownerID int64, childIDs []string) ([]ColumnEdge, error) {
	return s.store.columnEdgesOf(ctx, ownerID, childIDs)
}

// SourcesOf picks, from the map ColumnSources answers for one file, the
// direct sources of one column: its own and the file's filters.
func SourcesOf(byColumn map[string][]ColumnRef, column string) []ColumnRef {
	own := byColumn[column]
	whole := byColumn[""]
	if column == "" || len(whole) == 0 {
		return own
	}
	out := make([]ColumnRef, 0, len(own)+len(whole))
	out = append(out, own...)
	return append(out, whole...)
}
