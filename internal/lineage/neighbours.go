package lineage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/cutline/cutline/internal/database"
)

// Parents returns the direct parents of each of ids, read in one query so a
// dataloader can batch a whole GraphQL list: the map holds, for every id that
// is a file of ownerID, its parents' ids ordered by (edge created_at, parent
// id), possibly none. Ids that are malformed, missing or someone else's get no
// entry. Tombstone parents are included, as in Graph.
func (s *Service) Parents(ctx context.Context, ownerID int64, ids []string) (map[string][]string, error) {
	return s.store.neighbours(ctx, ownerID, ids, up)
}

// Children is Parents the other way: the direct children of each of ids.
func (s *Service) Children(ctx context.Context, ownerID int64, ids []string) (map[string][]string, error) {
	return s.store.neighbours(ctx, ownerID, ids, down)
}

func (st *Store) neighbours(ctx context.Context, ownerID int64, ids []string, sd side) (map[string][]string, error) {
	// Callers key their results by the id they asked with; the query speaks
	// the normalized spelling.
	asked := make(map[string][]string, len(ids))
	norm := make([]string, 0, len(ids))
	for _, id := range ids {
		n, ok := database.CanonicalID(id)
		if !ok {
			continue
		}
		if _, dup := asked[n]; !dup {
			norm = append(norm, n)
		}
		if !slices.Contains(asked[n], id) { // a dataloader may repeat a key
			asked[n] = append(asked[n], id)
		}
	}
	out := make(map[string][]string, len(ids))
	if len(norm) == 0 {
		return out, nil
	}
	// The LEFT JOINs keep the owner's files that have no neighbour, so they
	// get an (empty) entry, and drive the query from the asked ids: nesting
	// the neighbour's owner check inside the join made SQLite build the join
	// of all edges and files first. A neighbour of another owner (only if an
	// edge crossed owners) comes back as NULL and is skipped.
	cond, arg := st.db.IDSet("f.id", norm)
	query := fmt.Sprintf(`SELECT f.id AS id, n.id AS nb
FROM files f
LEFT JOIN edges e ON e.%[1]s = f.id
LEFT JOIN files n ON n.id = e.%[2]s AND n.owner_id = f.owner_id
WHERE f.owner_id = ? AND %[3]s
ORDER BY f.id, e.created_at, e.%[2]s`, sd.from, sd.to, cond)
	rows, err := st.db.Prepared().Query(ctx, query, ownerID, arg)
	if err != nil {
		return nil, fmt.Errorf("lineage neighbours: %w", err)
	}
	defer rows.Close()
	var id string
	var nb sql.NullString
	for rows.Next() {
		if err := rows.Scan(&id, &nb); err != nil {
			return nil, fmt.Errorf("lineage neighbours: %w", err)
		}
		for _, key := range asked[id] {
			list, ok := out[key]
			if !ok {
				list = []string{}
			}
			if nb.Valid {
				list = append(list, nb.String)
			}
			out[key] = list
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lineage neighbours: %w", err)
	}
	return out, nil
}
