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

// advisoryLockClass tags the PostgreSQL advisory locks taken by AddEdges
// (the first key of pg_advisory_xact_lock(int, int)), so they cannot collide
// with other users of advisory locks.
const advisoryLockClass = 0x6c696e65 // "line"

// AddEdges records, inside the caller's transaction (db is a bun.Tx, or a
// *bun.DB for a single statement), that childID was derived from each of
// parentIDs with the given kind (for example "CUT_TO").
//
// Every parent must be a live (not deleted) file of ownerID, else the error
// is *apperr.InvalidError{Field: "parentIds", Reason: "file <id> not found"}.
// A link that would close a cycle (the child is a parent, or already an
// ancestor of one) is refused with an *apperr.InvalidError on "parentIds"
// too. A child that is not a file of ownerID is apperr.ErrNotFound. Duplicate
// parents are collapsed; an edge that already exists is kept as it is (its
// kind and time are not rewritten), so retrying is harmless.
func AddEdges(ctx context.Context, db bun.IDB, ownerID int64, childID string, parentIDs []string, kind string, now time.Time) error {
	if strings.TrimSpace(kind) == "" {
		return apperr.Invalid("kind", "must not be empty")
	}
	child, ok := normalizeID(childID)
	if !ok {
		return errNotFound("lineage child", childID)
	}
	parents := make([]string, 0, len(parentIDs))
	given := make(map[string]string, len(parentIDs)) // normalized -> as given, for messages
	for _, id := range parentIDs {
		n, ok := normalizeID(id)
		if !ok {
			return apperr.Invalid("parentIds", "file %s not found", id)
		}
		if n == child {
			return apperr.Invalid("parentIds", "file %s is the file itself: linking it would create a cycle", id)
		}
		if _, dup := given[n]; !dup {
			given[n] = id
			parents = append(parents, n)
		}
	}
	if len(parents) == 0 {
		return nil
	}

	if database.IsPostgres(db) {
		// Two concurrent calls could each pass the cycle check below and
		// together close a cycle (A under B, B under A). Serializing lineage
		// writes per owner closes that gap; the lock goes with the transaction.
		// SQLite needs nothing: its write transactions already run one at a time.
		if _, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", advisoryLockClass, int32(ownerID)); err != nil {
			return fmt.Errorf("lineage lock: %w", err)
		}
	}

	var files []struct {
		ID      string `bun:"id"`
		Deleted bool   `bun:"deleted"`
	}
	ids := append([]string{child}, parents...)
	if err := db.NewRaw(`SELECT id, deleted_at IS NOT NULL AS deleted FROM files WHERE owner_id = ? AND id IN (?)`,
		ownerID, bun.In(ids)).Scan(ctx, &files); err != nil {
		return fmt.Errorf("lineage check files: %w", err)
	}
	live := make(map[string]bool, len(files))
	for _, f := range files {
		live[f.ID] = !f.Deleted
	}
	if _, ok := live[child]; !ok {
		return errNotFound("lineage child", childID)
	}
	for _, p := range parents {
		if !live[p] {
			return apperr.Invalid("parentIds", "file %s not found", given[p])
		}
	}

	// A new edge parent -> child closes a cycle exactly when parent is
	// already reachable downstream from child. Walking down from the child is
	// the cheap side: a freshly derived file has no descendants yet.
	var hits []string
	if err := db.NewRaw(`WITH RECURSIVE down(id) AS (
	SELECT f.id FROM files f WHERE f.id = ?
	UNION
	SELECT e.child_id FROM down d JOIN edges e ON e.parent_id = d.id
)
SELECT id FROM down WHERE id IN (?)`, child, bun.In(parents)).Scan(ctx, &hits); err != nil {
		return fmt.Errorf("lineage cycle check: %w", err)
	}
	if len(hits) > 0 {
		found := make(map[string]bool, len(hits))
		for _, h := range hits {
			found[h] = true
		}
		for _, p := range parents {
			if found[p] {
				return apperr.Invalid("parentIds", "file %s is derived from this file: linking it would create a cycle", given[p])
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
	if _, err := db.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("lineage insert edges: %w", err)
	}
	return nil
}
