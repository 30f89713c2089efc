// Package lineage keeps the derivation graph of files (which file was cut or
// generated from which) in the relational database and walks it.
//
// An edge (parent_id, child_id) says: child was derived from parent. A file
// may have several parents, so the graph is a DAG; the walkers never rely on
// that and terminate on cyclic data too. Every call is scoped to one owner:
// a file of another owner behaves exactly like a missing one. Deleted files
// stay as tombstones (files.deleted_at set); walks go through them and
// report them with Deleted set, so a deletion never cuts the history of the
// files derived from it.
package lineage

import (
	"context"
	"fmt"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
	"github.com/uptrace/bun"
)

// Direction selects which side of the root a walk follows.
type Direction string

// The directions of LineageDirection in the GraphQL schema.
const (
	// Upstream follows edges from child to parent: the files the root was derived from.
	Upstream Direction = "UPSTREAM"
	// Downstream follows edges from parent to child: the files derived from the root.
	Downstream Direction = "DOWNSTREAM"
	// Both is Upstream and Downstream together (not descendants of ancestors).
	Both Direction = "BOTH"
)

// KindCut is the kind of the edges that cuts, derived files and saved
// generated files record: the child was cut from the parent.
const KindCut = "CUT_TO"

// The defaults of a lineage read that names no direction, depth or limit,
// in every adapter.
const (
	DefaultDirection = Both
	DefaultDepth     = 10
	DefaultLimit     = 1000
)

// Valid reports whether d is one of the three directions.
func (d Direction) Valid() bool { return d == Upstream || d == Downstream || d == Both }

// Defaults used by NewService for non-positive maxima.
const (
	DefaultMaxDepth = 100
	DefaultMaxLimit = 10000
)

// Node is one file of a lineage graph.
type Node struct {
	ID      string
	Name    string
	Deleted bool // a tombstone: the file was deleted, its lineage kept
	// Distance is the signed length of the shortest path from the root, in
	// edges: 0 for the root, -1 for a parent, -2 for a grandparent, +1 for a
	// child. With Both, a node that is both ancestor and descendant (only on
	// cyclic data) gets the side with the shorter path, the descendant side
	// on a tie.
	Distance int
}

// Edge is one derivation: ChildID was derived from ParentID.
type Edge struct {
	ParentID  string
	ChildID   string
	Kind      string
	CreatedAt time.Time
}

// Graph is the result of a walk.
type Graph struct {
	RootID string
	// Nodes holds the root and the files found, each once, ordered by
	// (Distance, Name, ID).
	Nodes []Node
	// Edges holds every edge whose two ends are in Nodes, each once, in the
	// order of (position of parent in Nodes, position of child in Nodes).
	Edges []Edge
	// Truncated is true exactly when the depth or the limit left out at
	// least one file that the walk would otherwise have returned.
	Truncated bool
}

// Service answers lineage reads with server-side maxima for depth and limit.
type Service struct {
	store    *Store
	maxDepth int
	maxLimit int
	// Test knobs: force a walk shape; change the caps that make a sorted
	// walk hand over to the ids walk.
	shape      shape
	rowsFactor int
	levelCap   int
}

// NewService returns a Service over db. Requests asking for more than
// maxDepth or maxLimit are clamped to them (and say Truncated when the clamp
// cut something). Non-positive maxima select DefaultMaxDepth and
// DefaultMaxLimit.
func NewService(db *database.DB, maxDepth, maxLimit int) *Service {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if maxLimit <= 0 {
		maxLimit = DefaultMaxLimit
	}
	return &Service{store: NewStore(db), maxDepth: maxDepth, maxLimit: maxLimit}
}

// MaxDepth is the largest depth a walk goes to.
func (s *Service) MaxDepth() int { return s.maxDepth }

// MaxLimit is the largest number of nodes besides the root a walk returns.
func (s *Service) MaxLimit() int { return s.maxLimit }

// Graph walks from rootID in direction dir up to depth edges away and returns
// at most limit files besides the root: the first by (distance, id), so the
// answer does not depend on the query plan. When the limit cuts a level of
// the walk, the files kept from it are thus an arbitrary but stable part
// (choosing by name would need the names of every file of that level). With
// Both, distance means its absolute value: the closest files on either side
// come first.
//
// depth or limit <= 0 is apperr.Invalid; a root that is missing or belongs
// to someone else is apperr.ErrNotFound. A tombstone root is allowed.
func (s *Service) Graph(ctx context.Context, ownerID int64, rootID string, dir Direction, depth, limit int) (*Graph, error) {
	return s.Walk(ctx, ownerID, rootID, dir, depth, limit, EdgeDetails)
}

// Read says how much of each edge a walk reads.
type Read int

const (
	// EdgeDetails reads each edge's Kind and CreatedAt.
	EdgeDetails Read = iota
	// EdgeEnds reads only the files at each end, leaving Kind and
	// CreatedAt empty: the database converts no timestamps and sends no
	// kinds (for a 1,000-edge answer, a fifth of the walk's time).
	EdgeEnds
)

// Walk is Graph reading of each edge what read says.
func (s *Service) Walk(ctx context.Context, ownerID int64, rootID string, dir Direction, depth, limit int, read Read) (*Graph, error) {
	depth, limit, err := s.bounds(dir, depth, limit)
	if err != nil {
		return nil, err
	}
	root, ok := database.CanonicalID(rootID)
	if !ok {
		return nil, errNotFound("lineage root", rootID)
	}
	return s.store.walk(ctx, ownerID, root, dir, depth, limit, read == EdgeDetails, tuning{s.shape, s.rowsFactor, s.levelCap})
}

// bounds checks a walk's direction, depth and limit and clamps the last
// two to the service maxima.
func (s *Service) bounds(dir Direction, depth, limit int) (int, int, error) {
	if !dir.Valid() {
		return 0, 0, apperr.Invalid("direction", "must be UPSTREAM, DOWNSTREAM or BOTH")
	}
	if depth <= 0 {
		return 0, 0, apperr.Invalid("depth", "must be positive")
	}
	if limit <= 0 {
		return 0, 0, apperr.Invalid("limit", "must be positive")
	}
	return min(depth, s.maxDepth), min(limit, s.maxLimit), nil
}

// AddEdges records, in a transaction of its own, that childID was derived
// from each of parentIDs, under the same lock and cycle check as every
// other lineage write (Store.AddEdges).
func (s *Service) AddEdges(ctx context.Context, ownerID int64, childID string, parentIDs []string, kind string, at time.Time, opts AddOptions) error {
	return s.store.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return s.store.AddEdges(ctx, tx, ownerID, childID, parentIDs, kind, at, opts)
	})
}

// Connected returns every file linked to rootID through edges in either
// direction, transitively: its ancestors, its descendants and itself (not the
// other descendants of its ancestors), bounded by the service maxima. It
// serves the legacy API, which had no depth or limit parameters.
func (s *Service) Connected(ctx context.Context, ownerID int64, rootID string) (*Graph, error) {
	return s.Graph(ctx, ownerID, rootID, Both, s.maxDepth, s.maxLimit)
}

// errNotFound wraps apperr.ErrNotFound with the id that was looked up.
func errNotFound(what, id string) error {
	return fmt.Errorf("%s %s: %w", what, id, apperr.ErrNotFound)
}
