package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/database"
)

// store is the only code of the package that speaks SQL: the users and
// refresh_tokens tables. The Service above it holds the rules (hashing,
// token classes, reuse detection, limits). Methods that take a bun.IDB run
// inside the caller's transaction (inTx), or on the pool when given the
// store's database.
type store struct {
	db *database.DB
}

// inTx runs fn in one transaction.
func (st *store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return st.db.RunInTx(ctx, nil, fn)
}

// user reads the account whose column equals value; apperr.ErrNotFound
// when there is none.
func (st *store) user(ctx context.Context, q bun.IDB, column string, value any) (*User, error) {
	u := new(User)
	err := database.Normalize(q.NewSelect().Model(u).Where("? = ?", bun.Ident(column), value).Scan(ctx))
	if errors.Is(err, database.ErrNotFound) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.utc()
	return u, nil
}

// taken reports whether an account has value in column.
func (st *store) taken(ctx context.Context, q bun.IDB, column string, value any) (bool, error) {
	return q.NewSelect().Model((*User)(nil)).Where("? = ?", bun.Ident(column), value).Exists(ctx)
}

// insertUser stores u, with the id the database chooses when u.ID is zero,
// and sets u.ID. An explicit id moves the generated ids past it first, so
// a concurrent insert cannot be handed it. A unique violation comes back
// as a *database.DuplicateError.
func (st *store) insertUser(ctx context.Context, q bun.IDB, u *User) error {
	if u.ID != 0 {
		if err := st.db.AdvanceSequence(ctx, q, "users", "id", u.ID); err != nil {
			return err
		}
	}
	_, err := q.NewInsert().Model(u).Returning("id").Exec(ctx)
	return database.Normalize(err)
}

// recordLogin sets the account's last login time.
func (st *store) recordLogin(ctx context.Context, id int64, at time.Time) error {
	_, err := st.db.NewUpdate().Model((*User)(nil)).Set("last_login_at = ?", at).Where("id = ?", id).Exec(ctx)
	return err
}

// replaceHash swaps the account's password hash if it is still old, and
// reports whether it did.
func (st *store) replaceHash(ctx context.Context, q bun.IDB, id int64, old, hash string) (bool, error) {
	res, err := q.NewUpdate().Model((*User)(nil)).Set("password_hash = ?", hash).
		Where("id = ? AND password_hash = ?", id, old).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// insertRefresh stores a refresh token.
func (st *store) insertRefresh(ctx context.Context, q bun.IDB, rt *refreshRow) error {
	if _, err := q.NewInsert().Model(rt).Exec(ctx); err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	return nil
}

// refresh finds a token by hash; nil without error when there is none.
func (st *store) refresh(ctx context.Context, q bun.IDB, hash string) (*refreshRow, error) {
	rt := new(refreshRow)
	err := database.Normalize(q.NewSelect().Model(rt).Where("token_hash = ?", hash).Scan(ctx))
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load refresh token: %w", err)
	}
	return rt, nil
}

// markUsed marks an unused, unrevoked token used, and reports whether this
// call did: of two concurrent uses only one can, whatever the isolation.
func (st *store) markUsed(ctx context.Context, q bun.IDB, hash string, at time.Time) (bool, error) {
	res, err := q.NewUpdate().Model((*refreshRow)(nil)).Set("used_at = ?", at).
		Where("token_hash = ? AND used_at IS NULL AND revoked_at IS NULL", hash).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("mark refresh token used: %w", err)
	}
	n, err := res.RowsAffected()
	return err == nil && n == 1, nil
}

// revokeFamily revokes every live token of a family.
func (st *store) revokeFamily(ctx context.Context, q bun.IDB, family string, at time.Time) error {
	if _, err := q.NewUpdate().Model((*refreshRow)(nil)).Set("revoked_at = ?", at).
		Where("family_id = ? AND revoked_at IS NULL", family).Exec(ctx); err != nil {
		return fmt.Errorf("revoke token family: %w", err)
	}
	return nil
}

// familyLockClass keeps the family locks apart from other users of locks.
const familyLockClass = 1635087464 // "auth"

// lockFamily serialises work on one token family until tx ends: without
// it, a logout running beside a refresh could revoke the family's rows
// while the refresh inserts a new token its UPDATE never sees, and that
// token would outlive the logout.
func (st *store) lockFamily(ctx context.Context, tx bun.Tx, family string) error {
	if err := st.db.LockName(ctx, tx, familyLockClass, family); err != nil {
		return fmt.Errorf("lock token family: %w", err)
	}
	return nil
}

// deleteUser deletes the account's row; its refresh tokens go with it (ON
// DELETE CASCADE).
func (st *store) deleteUser(ctx context.Context, id int64) error {
	if _, err := st.db.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	return nil
}

// sweepRefresh deletes the tokens that expired before t.
func (st *store) sweepRefresh(ctx context.Context, t time.Time) (int64, error) {
	res, err := st.db.NewDelete().Model((*refreshRow)(nil)).Where("expires_at < ?", t).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// sessionEpoch reads a user's session epoch; apperr.ErrNotFound when the
// user does not exist. It runs on most cache misses of CheckSession, so it
// is prepared.
func (st *store) sessionEpoch(ctx context.Context, id int64) (int64, error) {
	rows, err := st.db.Prepared().Query(ctx, "SELECT session_epoch FROM users WHERE id = ?", id)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, err
		}
		return 0, apperr.ErrNotFound
	}
	var epoch int64
	if err := rows.Scan(&epoch); err != nil {
		return 0, err
	}
	return epoch, rows.Err()
}

// advanceEpoch moves the user's session epoch past its current value and to
// at least least, and returns it. One statement, so two at once both move
// it.
func (st *store) advanceEpoch(ctx context.Context, q bun.IDB, id, least int64) (int64, error) {
	var epoch int64
	err := database.Normalize(q.NewRaw(`UPDATE users SET session_epoch =
  CASE WHEN session_epoch >= ? THEN session_epoch + 1 ELSE ? END
WHERE id = ? RETURNING session_epoch`, least, least, id).Scan(ctx, &epoch))
	if errors.Is(err, database.ErrNotFound) {
		return 0, fmt.Errorf("user %d: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("advance session epoch: %w", err)
	}
	return epoch, nil
}

// revokeUser revokes every live refresh token of a user.
func (st *store) revokeUser(ctx context.Context, q bun.IDB, user int64, at time.Time) error {
	if _, err := q.NewUpdate().Model((*refreshRow)(nil)).Set("revoked_at = ?", at).
		Where("user_id = ? AND revoked_at IS NULL", user).Exec(ctx); err != nil {
		return fmt.Errorf("revoke refresh tokens: %w", err)
	}
	return nil
}

// signingKeyRow is a secret of signing_keys.
type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys"`

	Name      string    `bun:"name,pk"`
	Secret    string    `bun:"secret,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// insertSigningKey stores a secret under name unless one is there, and
// reports whether it did.
func (st *store) insertSigningKey(ctx context.Context, name, secret string, at time.Time) (bool, error) {
	res, err := st.db.NewInsert().Model(&signingKeyRow{Name: name, Secret: secret, CreatedAt: at}).
		On("CONFLICT (name) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// signingKey reads the secret stored under name.
func (st *store) signingKey(ctx context.Context, name string) (string, error) {
	var row signingKeyRow
	if err := st.db.NewSelect().Model(&row).Where("name = ?", name).Scan(ctx); err != nil {
		return "", database.Normalize(err)
	}
	return row.Secret, nil
}

// failureRow is one failed login counted against a counter.
type failureRow struct {
	bun.BaseModel `bun:"table:login_failures"`

	ID       int64     `bun:"id,pk,autoincrement"`
	Counter  string    `bun:"counter,notnull"`
	FailedAt time.Time `bun:"failed_at,notnull"`
}

// addFailures counts one failure at t against each counter and returns the
// rows' ids in the counters' order.
func (st *store) addFailures(ctx context.Context, counters []string, t time.Time) ([]int64, error) {
	rows := make([]failureRow, len(counters))
	for i, c := range counters {
		rows[i] = failureRow{Counter: c, FailedAt: t.UTC()}
	}
	if _, err := st.db.NewInsert().Model(&rows).Returning("id").Exec(ctx); err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids, nil
}

// nthFailure is when the n-th newest failure of counter after since
// happened, leaving out the row except; over is false when there are
// fewer than n.
func (st *store) nthFailure(ctx context.Context, counter string, since time.Time, except int64, n int) (at time.Time, over bool, err error) {
	row := new(failureRow)
	err = database.Normalize(st.db.NewSelect().Model(row).Column("failed_at").
		Where("counter = ? AND failed_at > ? AND id <> ?", counter, since.UTC(), except).
		OrderExpr("failed_at DESC").Limit(1).Offset(int64(n - 1)).Scan(ctx))
	if errors.Is(err, database.ErrNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	return row.FailedAt, true, nil
}

// deleteFailures removes the rows of ids.
func (st *store) deleteFailures(ctx context.Context, ids []int64) error {
	_, err := st.db.NewDelete().Model((*failureRow)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx)
	return err
}

// clearFailures removes every failure of counter.
func (st *store) clearFailures(ctx context.Context, counter string) error {
	_, err := st.db.NewDelete().Model((*failureRow)(nil)).Where("counter = ?", counter).Exec(ctx)
	return err
}

// pruneFailures removes the failures at or before t and says how many.
func (st *store) pruneFailures(ctx context.Context, t time.Time) (int64, error) {
	res, err := st.db.NewDelete().Model((*failureRow)(nil)).Where("failed_at <= ?", t.UTC()).Exec(ctx)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
