package files

import (
	"context"
	"fmt"
)

// storedObject is what a row says of an object: whose it is, its key, and
// for a file's bytes their size and hash (a row provenance has neither).
type storedObject struct {
	FileID string
	Key    string
	Size   int64
	SHA256 string
	Rows   bool // a row provenance rather than a file's bytes
}

// objectsAfter lists up to limit objects that rows name, in key order after
// the key after: every file's bytes, and the row provenance of the files
// that still have bytes (the sweep's referenced says the same).
func (st *store) objectsAfter(ctx context.Context, after string, limit int) ([]storedObject, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT id, k, size, sha, r FROM (
  SELECT f.id AS id, f.object_key AS k, f.size AS size, f.sha256 AS sha, 0 AS r FROM files f WHERE f.object_key IS NOT NULL
  UNION ALL
  SELECT d.file_id, d.rows_key, 0, '', 1 FROM derivations d JOIN files f ON f.id = d.file_id
  WHERE d.rows_key IS NOT NULL AND f.object_key IS NOT NULL
) o WHERE k > ? ORDER BY k LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list stored objects: %w", err)
	}
	defer rows.Close()
	var out []storedObject
	for rows.Next() {
		var o storedObject
		var r int
		if err := rows.Scan(&o.FileID, &o.Key, &o.Size, &o.SHA256, &r); err != nil {
			return nil, fmt.Errorf("list stored objects: %w", err)
		}
		o.Rows = r == 1
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list stored objects: %w", err)
	}
	return out, nil
}
