package lineage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// Store is the only code that speaks SQL for lineage: the edges table, the
// walks over it and the neighbour reads. The Service above it holds the
// rules (directions, depth and limit maxima); the files store calls
// AddEdges inside the transaction that creates a derived file, and the
// importer through the Service, so every edge passes one lock and one
// cycle check.
type Store struct {
	db *database.DB
}

// NewStore returns the lineage store over db.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// FieldParents is the field of the errors that refuse a parent: missing,
// someone else's, deleted, or closing a cycle.
const FieldParents = "parentIds"

// lockClass keeps the locks AddEdges takes apart from other users of
// locks (database.DB.Lock).
const lockClass = 0x6c696e65 // "line"

// AddOptions loosen AddEdges for callers that record history rather than
// make it.
type AddOptions struct {
	// DeletedParents accepts tombstone parents: an import records a
	// derivation that happened before the parent's bytes were lost. Users
	// never derive a file from a deleted one.
	DeletedParents bool
}

// AddEdges records, inside the caller's transaction (q is a bun.Tx, or the
// store's database for a single statement), that childID was derived from
// each of parentIDs with the given kind (for example KindCut).
//
// Every parent must be a live (not deleted, unless opts.DeletedParents)
// file of ownerID, else the error is
// *apperr.InvalidError{Field: "parentIds", Reason: "file <id> not found"}.
// A link that would close a cycle (the child is a parent, or already an
// ancestor of one) is refused with an *apperr.InvalidError on "parentIds"
// too. A child that is not a file of ownerID is apperr.ErrNotFound. Duplicate
// parents are collapsed; an edge that already exists is kept as it is (its
// kind and time are not rewritten), so retrying is harmless.
func (st *Store) AddEdges(ctx context.Context, q bun.IDB, ownerID int64, childID string, parentIDs []string, kind string, now time.Time, opts AddOptions) error {
	if strings.TrimSpace(kind) == "" {
		return apperr.Invalid("kind", "must not be empty")
	}
	child, ok := database.CanonicalID(childID)
	if !ok {
		return errNotFound("lineage child", childID)
	}
	parents := make([]string, 0, len(parentIDs))
	given := make(map[string]string, len(parentIDs)) // normalized -> as given, for messages
	for _, id := range parentIDs {
		n, ok := database.CanonicalID(id)
		if !ok {
			return apperr.Invalid(FieldParents, "file %s not found", id)
		}
		if n == child {
			return apperr.Invalid(FieldParents, "file %s is the file itself: linking it would create a cycle", id)
		}
		if _, dup := given[n]; !dup {
			given[n] = id
			parents = append(parents, n)
		}
	}
	if len(parents) == 0 {
		return nil
	}

	// Two concurrent calls could each pass the cycle check below and
	// together close a cycle (A under B, B under A). Serializing lineage
	// writes per owner closes that gap; the lock goes with the transaction.
	if err := st.db.Lock(ctx, q, lockClass, int32(ownerID)); err != nil {
		return fmt.Errorf("lineage lock: %w", err)
	}

	var files []struct {
		ID      string `bun:"id"`
		Deleted bool   `bun:"deleted"`
	}
	cond, arg := st.db.IDSet("id", append([]string{child}, parents...))
	if err := q.NewRaw(`SELECT id, deleted_at IS NOT NULL AS deleted FROM files WHERE owner_id = ? AND `+cond,
		ownerID, arg).Scan(ctx, &files); err != nil {
		return fmt.Errorf("lineage check files: %w", err)
	}
	usable := make(map[string]bool, len(files))
	for _, f := range files {
		usable[f.ID] = !f.Deleted || opts.DeletedParents
	}
	if _, ok := usable[child]; !ok {
		return errNotFound("lineage child", childID)
	}
	for _, p := range parents {
		if !usable[p] {
			return apperr.Invalid(FieldParents, "file %s not found", given[p])
		}
	}

	// A new edge parent -> child closes a cycle exactly when parent is
	// already reachable downstream from child. Walking down from the child is
	// the cheap side: a freshly derived file has no descendants yet.
	var hits []string
	cond, arg = st.db.IDSet("id", parents)
	if err := q.NewRaw(`WITH RECURSIVE down(id) AS (
	SELECT f.id FROM files f WHERE f.id = ?
	UNION
	SELECT e.child_id FROM down d JOIN edges e ON e.parent_id = d.id
)
SELECT id FROM down WHERE `+cond, child, arg).Scan(ctx, &hits); err != nil {
		return fmt.Errorf("lineage cycle check: %w", err)
	}
	if len(hits) > 0 {
		found := make(map[string]bool, len(hits))
		for _, h := range hits {
			found[h] = true
		}
		for _, p := range parents {
			if found[p] {
				return apperr.Invalid(FieldParents, "file %s is derived from this file: linking it would create a cycle", given[p])
			}
		}
	}

	var b strings.Builder
	args := make([]any, 0, 4*len(parents))
	b.WriteString("INSERT INTO edges (parent_id, child_id, kind, created_at) VALUES ")
	for i, p := range parents {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?)")
		args = append(args, p, child, kind, now.UTC())
	}
	b.WriteString(" ON CONFLICT (parent_id, child_id) DO NOTHING")
	if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("lineage insert edges: %w", err)
	}
	return nil
}
