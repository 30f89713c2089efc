package lineage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// OutboxItem is a derivation waiting to be delivered to an OpenLineage
// receiver: a row of openlineage_outbox.
type OutboxItem struct {
	ID     int64
	FileID string
	// Attempts counts the deliveries tried, the one just claimed included.
	Attempts int
}

// Enqueue records, inside the caller's transaction (the one that records
// the derivation of fileID), that the derivation is to be delivered from
// at on. A second call for the same file keeps the first row.
func (st *Store) Enqueue(ctx context.Context, q bun.IDB, fileID string, at time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO openlineage_outbox (file_id, created_at, next_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		fileID, at, at); err != nil {
		return fmt.Errorf("enqueue openlineage delivery: %w", err)
	}
	return nil
}

// Claim takes up to n deliveries due at now and leases them until now +
// lease: another claim (on this replica or another) passes over them
// until then, so one that crashed mid-delivery is taken up again when its
// lease ends. Each claim counts as an attempt. On PostgreSQL the rows are
// read with SKIP LOCKED, so replicas claiming together take different
// rows instead of waiting for each other.
func (st *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, n int) ([]OutboxItem, error) {
	// Most polls find nothing due: one read of the due index answers them
	// without a write transaction (on SQLite, the database's write lock).
	if due, err := st.anyDue(ctx, now); err != nil || !due {
		return nil, err
	}
	var out []OutboxItem
	err := st.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `SELECT id, file_id, attempts FROM openlineage_outbox
WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ?
ORDER BY next_at, id LIMIT ?`+st.db.ForUpdateSkipLocked(), now, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var it OutboxItem
			if err := rows.Scan(&it.ID, &it.FileID, &it.Attempts); err != nil {
				return err
			}
			it.Attempts++
			out = append(out, it)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		for _, it := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE openlineage_outbox SET attempts = ?, next_at = ? WHERE id = ?`,
				it.Attempts, now.Add(lease), it.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim openlineage deliveries: %w", err)
	}
	return out, nil
}

// anyDue reports whether a delivery is due at now.
func (st *Store) anyDue(ctx context.Context, now time.Time) (bool, error) {
	rows, err := st.db.Prepared().Query(ctx, `SELECT 1 FROM openlineage_outbox
WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= ? LIMIT 1`, now)
	if err != nil {
		return false, fmt.Errorf("look for openlineage deliveries: %w", err)
	}
	defer rows.Close()
	due := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("look for openlineage deliveries: %w", err)
	}
	return due, nil
}

// Delivered marks a claimed delivery done.
func (st *Store) Delivered(ctx context.Context, id int64, at time.Time) error {
	return st.outboxUpdate(ctx, `UPDATE openlineage_outbox SET delivered_at = ?, last_error = NULL WHERE id = ?`, at, id)
}

// Retry puts a claimed delivery that failed back in the queue, due at next.
func (st *Store) Retry(ctx context.Context, id int64, next time.Time, reason string) error {
	return st.outboxUpdate(ctx, `UPDATE openlineage_outbox SET next_at = ?, last_error = ? WHERE id = ?`, next, reason, id)
}

// Release gives a claimed delivery back unattempted (the process is
// stopping), due at next.
func (st *Store) Release(ctx context.Context, id int64, next time.Time) error {
	return st.outboxUpdate(ctx, `UPDATE openlineage_outbox SET next_at = ?, attempts = attempts - 1 WHERE id = ?`, next, id)
}

// Failed gives up on a claimed delivery: it stays in the table with
// failed_at set and the last error, for an operator to look at.
func (st *Store) Failed(ctx context.Context, id int64, at time.Time, reason string) error {
	return st.outboxUpdate(ctx, `UPDATE openlineage_outbox SET failed_at = ?, last_error = ? WHERE id = ?`, at, reason, id)
}

func (st *Store) outboxUpdate(ctx context.Context, query string, args ...any) error {
	if _, err := st.db.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("update openlineage delivery: %w", err)
	}
	return nil
}

// OutboxCounts is how many deliveries wait (pending, due or not) and how
// many were given up (failed), across every replica.
func (st *Store) OutboxCounts(ctx context.Context) (pending, failed int64, err error) {
	rows, err := st.db.Prepared().Query(ctx, `SELECT
  (SELECT count(*) FROM openlineage_outbox WHERE delivered_at IS NULL AND failed_at IS NULL),
  (SELECT count(*) FROM openlineage_outbox WHERE failed_at IS NOT NULL)`)
	if err != nil {
		return 0, 0, fmt.Errorf("count openlineage deliveries: %w", err)
	}
	defer rows.Close()
	var p, f sql.NullInt64
	if rows.Next() {
		err = rows.Scan(&p, &f)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("count openlineage deliveries: %w", err)
	}
	return p.Int64, f.Int64, nil
}
