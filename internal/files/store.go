package files

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/lineage"
)

// store is the only code of the package that speaks SQL: the files,
// file_tags and derivations tables, and, through the lineage store, the
// edges a new file brings. The Service above it holds the rules. Reads are
// prepared statements (database.Stmts); what differs between dialects comes
// from the handle.
//
// Ids reach the store as clients wrote them: a malformed one is a file that
// does not exist. Every read of a user's files is scoped to its owner, and
// another owner's file is apperr.ErrNotFound like a missing one.
type store struct {
	db    *database.DB
	edges *lineage.Store
	// announce, when set, records a change's events in its transaction
	// (Options.Announce).
	announce func(ctx context.Context, tx bun.IDB, evs ...Event) error
}

// announced ends a change's transaction by announcing ev.
func (st *store) announced(ctx context.Context, tx bun.IDB, ev Event) error {
	if st.announce == nil {
		return nil
	}
	return st.announce(ctx, tx, ev)
}

func newStore(db *database.DB) *store { return &store{db: db, edges: lineage.NewStore(db)} }

// one runs a prepared read of at most one file.
func one[R Record](ctx context.Context, st *store, sh shape[R], where string, args ...any) (R, error) {
	rows, err := st.db.Prepared().Query(ctx, "SELECT "+sh.columns+" FROM files f WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	list, err := scanAll(rows, sh.scan)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, apperr.ErrNotFound
	}
	return list[0], nil
}

// live is one of owner's live files.
func (st *store) live(ctx context.Context, owner int64, id string) (*File, error) {
	id, ok := database.CanonicalID(id)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	return one(ctx, st, fileShape, "f.id = ? AND f.owner_id = ? AND f.deleted_at IS NULL", id, owner)
}

// newestNamed is owner's newest live file called name.
func (st *store) newestNamed(ctx context.Context, owner int64, name string) (*File, error) {
	return one(ctx, st, fileShape,
		"f.name = ? AND f.owner_id = ? AND f.deleted_at IS NULL ORDER BY f.created_at DESC, f.id DESC LIMIT 1", name, owner)
}

// anyOwner is the file with id whoever owns it; with liveOnly, not a tombstone.
func (st *store) anyOwner(ctx context.Context, id string, liveOnly bool) (*File, error) {
	id, ok := database.CanonicalID(id)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	if liveOnly {
		return one(ctx, st, fileShape, "f.id = ? AND f.deleted_at IS NULL", id)
	}
	return one(ctx, st, fileShape, "f.id = ?", id)
}

// many reads owner's files among ids, tombstones included, keyed by id.
// Ids that are malformed, missing or someone else's are absent.
func many[R Record](ctx context.Context, st *store, owner int64, ids []string, sh shape[R]) (map[string]R, error) {
	valid := database.CanonicalIDs(ids)
	out := make(map[string]R, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	cond, arg := st.db.IDSet("f.id", valid)
	rows, err := st.db.Prepared().Query(ctx, "SELECT "+sh.columns+" FROM files f WHERE f.owner_id = ? AND "+cond, owner, arg)
	if err != nil {
		return nil, fmt.Errorf("load files: %w", err)
	}
	list, err := scanAll(rows, sh.scan)
	if err != nil {
		return nil, fmt.Errorf("load files: %w", err)
	}
	for _, r := range list {
		out[r.summary().ID] = r
	}
	return out, nil
}

// countLive counts the distinct ids among ids that are owner's live files.
func (st *store) countLive(ctx context.Context, owner int64, ids []string) (int, error) {
	cond, arg := st.db.IDSet("f.id", ids)
	return st.countRows(ctx, st.db.Prepared().Query,
		"SELECT count(*) FROM files f WHERE f.owner_id = ? AND f.deleted_at IS NULL AND "+cond, owner, arg)
}

// listQuery is one page of a listing as the store runs it: the service has
// checked the options and decoded the cursors.
type listQuery struct {
	owner  int64
	filter Filter
	order  OrderField
	desc   bool       // in walking order
	bounds []keyBound // from the cursors
	limit  int
}

// keyBound keeps the rows on one side of a cursor's (sort value, id).
type keyBound struct {
	after bool // in walking order: rows after the position, else before
	value any
	id    string
}

// orderColumns are the sortable columns.
var orderColumns = map[OrderField]string{OrderCreatedAt: "created_at", OrderName: "name", OrderSize: "size"}

// list reads one page of a listing, in walking order.
func list[R Record](ctx context.Context, st *store, q listQuery, sh shape[R]) ([]R, error) {
	col := orderColumns[q.order]
	dir, cmp := "ASC", ">"
	if q.desc {
		dir, cmp = "DESC", "<"
	}
	var b strings.Builder
	b.WriteString("SELECT " + sh.columns + " FROM files f WHERE ")
	args := st.filterSQL(&b, q.owner, q.filter)
	for _, k := range q.bounds {
		op := cmp
		if !k.after {
			op = map[string]string{"<": ">", ">": "<"}[cmp]
		}
		fmt.Fprintf(&b, " AND (f.%s %s ? OR (f.%s = ? AND f.id %s ?))", col, op, col, op)
		args = append(args, k.value, k.value, k.id)
	}
	fmt.Fprintf(&b, " ORDER BY f.%s %s, f.id %s LIMIT ?", col, dir, dir)
	args = append(args, q.limit)
	rows, err := st.db.Prepared().Query(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	out, err := scanAll(rows, sh.scan)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	return out, nil
}

// count counts owner's live files that match f.
func (st *store) count(ctx context.Context, owner int64, f Filter) (int, error) {
	var b strings.Builder
	b.WriteString("SELECT count(*) FROM files f WHERE ")
	args := st.filterSQL(&b, owner, f)
	n, err := st.countRows(ctx, st.db.Prepared().Query, b.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("count files: %w", err)
	}
	return n, nil
}

func (st *store) countRows(ctx context.Context, run queryFunc, query string, args ...any) (int, error) {
	rows, err := run(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	return n, err
}

type queryFunc func(context.Context, string, ...any) (*sql.Rows, error)

// filterSQL writes the conditions selecting owner's live files that match
// f, for a query over files aliased f, and returns their arguments.
func (st *store) filterSQL(b *strings.Builder, owner int64, f Filter) []any {
	b.WriteString("f.owner_id = ? AND f.deleted_at IS NULL")
	args := []any{owner}
	if tags := distinct(f.Tags); len(tags) > 0 {
		// One condition for all the tags, whose text does not change with
		// their number: the file has as many of them as were asked for.
		cond, arg := st.db.TextSet("ft.tag", tags)
		b.WriteString(" AND (SELECT count(*) FROM file_tags ft WHERE ft.file_id = f.id AND " + cond + ") = ?")
		args = append(args, arg, len(tags))
	}
	if f.NameContains != "" {
		b.WriteString(" AND LOWER(f.name) LIKE ? ESCAPE '\\'")
		args = append(args, "%"+escapeLike(strings.ToLower(f.NameContains))+"%")
	}
	if f.Origin != "" {
		b.WriteString(" AND f.origin = ?")
		args = append(args, string(f.Origin))
	}
	return args
}

// distinct is tags without repeats, in their order.
func distinct(tags []string) []string {
	if len(tags) < 2 {
		return tags
	}
	seen := make(map[string]bool, len(tags))
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// derivation is how owner's file id was derived, or nil.
func (st *store) derivation(ctx context.Context, owner int64, id string) (*Derivation, error) {
	got, err := st.derivations(ctx, owner, []string{id})
	if err != nil {
		return nil, err
	}
	for _, d := range got {
		return d, nil
	}
	return nil, nil
}

// derivations is how owner's files among ids were derived, by file id;
// files that were not derived by a cut (or are not owner's) are absent.
func (st *store) derivations(ctx context.Context, owner int64, ids []string) (map[string]*Derivation, error) {
	norm := database.CanonicalIDs(ids)
	out := make(map[string]*Derivation, len(norm))
	if len(norm) == 0 {
		return out, nil
	}
	cond, arg := st.db.IDSet("d.file_id", norm)
	rows, err := st.db.Prepared().Query(ctx, `SELECT d.file_id, d.source_ids, d.columns, d.filter_sql, d.created_by, d.created_at, d.rows_key
FROM derivations d WHERE `+cond+` AND EXISTS (SELECT 1 FROM files f WHERE f.id = d.file_id AND f.owner_id = ?)`, arg, owner)
	if err != nil {
		return nil, fmt.Errorf("load derivation: %w", err)
	}
	list, err := scanAll(rows, func(rows *sql.Rows) (*Derivation, error) {
		d := new(Derivation)
		var sources, columns string
		if err := rows.Scan(&d.FileID, &sources, &columns, &d.FilterSQL, &d.CreatedBy, &d.CreatedAt, &d.RowsKey); err != nil {
			return nil, err
		}
		var err error
		if d.SourceIDs, err = decodeTags(sources); err != nil {
			return nil, fmt.Errorf("source ids: %w", err)
		}
		if d.Columns, err = decodeTags(columns); err != nil {
			return nil, fmt.Errorf("columns: %w", err)
		}
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("load derivation: %w", err)
	}
	for _, d := range list {
		out[d.FileID] = d
	}
	return out, nil
}

// links is what a new file is linked to in the transaction that creates
// it: its parents (lineage edges), its derivation, its column lineage.
type links struct {
	parents    []string
	derivation *Derivation
	columns    []lineage.ColumnEdge
	// outbox queues the derivation for OpenLineage delivery.
	outbox bool
	// key, when set, is the idempotency key the file is recorded under
	// with request, the hash of what made it.
	key, request string
}

// nameAttempts bounds the retries of an insert that lost its name to a
// concurrent one (a write that does not take the names lock, such as an
// import).
const nameAttempts = 5

// namesLockClass keeps the per-owner lock under which new files choose
// their names apart from other users of locks (database.DB.Lock). It is
// taken before the lineage lock in the same transaction, never after.
const namesLockClass = 0x6e616d65 // "name"

// insert commits a new file with a name unique among owner's live files
// (name, or name_1, name_2...), its tag rows, its lineage edges from
// parents and its derivation in one transaction. Choosing the name and
// inserting it happen under a per-owner lock, so that concurrent inserts
// of one owner take name, name_1... in turn instead of colliding on the
// unique index; a collision with a write outside the lock is retried.
// f.Name is set to the name given.
func (st *store) insert(ctx context.Context, f *File, name string, l links) error {
	parents, d := l.parents, l.derivation
	var err error
	for range nameAttempts {
		err = st.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if f.OwnerID != nil {
				if err := st.db.Lock(ctx, tx, namesLockClass, int32(*f.OwnerID)); err != nil {
					return fmt.Errorf("names lock: %w", err)
				}
			}
			if l.key != "" {
				// Under the owner's lock: of two requests with one key, the
				// second finds the first's row here.
				if err := claimKey(ctx, tx, *f.OwnerID, l.key, f.CreatedAt); err != nil {
					return err
				}
			}
			unique, err := uniqueName(ctx, tx, f.OwnerID, name)
			if err != nil {
				return err
			}
			f.Name = unique
			if _, err := tx.ExecContext(ctx, insertFile, fileArgs(f)...); err != nil {
				return err
			}
			if l.key != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (owner_id, key, request, file_id, created_at)
VALUES (?, ?, ?, ?, ?)`, *f.OwnerID, l.key, l.request, f.ID, f.CreatedAt); err != nil {
					return fmt.Errorf("record idempotency key: %w", err)
				}
			}
			if err := insertTags(ctx, tx, f); err != nil {
				return err
			}
			if len(parents) > 0 {
				if err := st.edges.AddEdges(ctx, tx, *f.OwnerID, f.ID, parents, lineage.KindCut, f.CreatedAt, lineage.AddOptions{}); err != nil {
					return err
				}
				if err := st.edges.AddColumnEdges(ctx, tx, l.columns); err != nil {
					return err
				}
				if l.outbox {
					if err := st.edges.Enqueue(ctx, tx, f.ID, f.CreatedAt); err != nil {
						return err
					}
				}
			}
			if d != nil {
				d.FileID, d.CreatedAt = f.ID, f.CreatedAt
				if _, err := tx.ExecContext(ctx, `INSERT INTO derivations (file_id, source_ids, columns, filter_sql, created_by, created_at, rows_key)
VALUES (?, ?, ?, ?, ?, ?, ?)`, d.FileID, encodeTags(d.SourceIDs), encodeTags(d.Columns), d.FilterSQL, d.CreatedBy, d.CreatedAt, d.RowsKey); err != nil {
					return fmt.Errorf("insert derivation: %w", err)
				}
			}
			if f.OwnerID == nil {
				return nil // nobody subscribes to a scratch file
			}
			return st.announced(ctx, tx, Event{Type: EventCreated, FileID: f.ID, OwnerID: *f.OwnerID})
		})
		if _, dup := database.IsDuplicate(err); !dup {
			break
		}
	}
	return err
}

// claimKey makes owner's idempotency key free for a new request at now: a
// row younger than IdempotencyWindow is *errReplayed, an older one is
// forgotten.
func claimKey(ctx context.Context, tx bun.Tx, owner int64, key string, now time.Time) error {
	var rows []struct {
		FileID    string    `bun:"file_id"`
		Request   string    `bun:"request"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := tx.NewRaw("SELECT file_id, request, created_at FROM idempotency_keys WHERE owner_id = ? AND key = ?", owner, key).
		Scan(ctx, &rows); err != nil {
		return fmt.Errorf("read idempotency key: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	if r := rows[0]; r.CreatedAt.After(now.Add(-IdempotencyWindow)) {
		return &errReplayed{replayed{fileID: r.FileID, request: r.Request}}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ?", owner, key); err != nil {
		return fmt.Errorf("forget idempotency key: %w", err)
	}
	return nil
}

// idempotent is the request recorded under owner's key since since, or nil.
func (st *store) idempotent(ctx context.Context, owner int64, key string, since time.Time) (*errReplayed, error) {
	rows, err := st.db.Prepared().Query(ctx,
		"SELECT file_id, request FROM idempotency_keys WHERE owner_id = ? AND key = ? AND created_at > ?", owner, key, since)
	if err != nil {
		return nil, fmt.Errorf("read idempotency key: %w", err)
	}
	list, err := scanAll(rows, func(rows *sql.Rows) (*errReplayed, error) {
		r := new(errReplayed)
		return r, rows.Scan(&r.fileID, &r.request)
	})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// forgetKeys removes the idempotency keys recorded before before.
func (st *store) forgetKeys(ctx context.Context, before time.Time) (int, error) {
	res, err := st.db.ExecContext(ctx, "DELETE FROM idempotency_keys WHERE created_at < ?", before)
	if err != nil {
		return 0, fmt.Errorf("forget old idempotency keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// insertTombstone commits a file that is deleted from the start, with its
// tag rows (deleted files keep theirs). Tombstones are outside the
// unique-name index, which only covers live files: the name is kept.
func (st *store) insertTombstone(ctx context.Context, f *File) error {
	return st.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, insertFile, fileArgs(f)...); err != nil {
			return fmt.Errorf("insert tombstone: %w", err)
		}
		return insertTags(ctx, tx, f)
	})
}

// insertTags writes the tag rows of a file that has none yet.
func insertTags(ctx context.Context, q bun.IDB, f *File) error {
	all := f.Tags()
	if len(all) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO file_tags (file_id, tag) VALUES ")
	args := make([]any, 0, 2*len(all))
	seen := make(map[string]bool, len(all))
	for _, t := range all {
		if seen[t] {
			continue
		}
		if len(seen) > 0 {
			b.WriteString(", ")
		}
		seen[t] = true
		b.WriteString("(?, ?)")
		args = append(args, f.ID, t)
	}
	if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("insert tags: %w", err)
	}
	return nil
}

// uniqueName returns name, or name_1, name_2... (before the extension), the
// first that none of the owner's live files has.
func uniqueName(ctx context.Context, q bun.IDB, owner *int64, name string) (string, error) {
	if owner == nil {
		return name, nil // scratch files have no namespace
	}
	// The common case, a new name, is one probe of the unique index; only
	// a taken name pays for looking at the numbered ones.
	var taken []string
	if err := q.NewRaw("SELECT name FROM files WHERE owner_id = ? AND deleted_at IS NULL AND name = ?", *owner, name).
		Scan(ctx, &taken); err != nil {
		return "", fmt.Errorf("read names: %w", err)
	}
	if len(taken) == 0 {
		return name, nil
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	var numbered []string
	if err := q.NewRaw(`SELECT name FROM files WHERE owner_id = ? AND deleted_at IS NULL AND name LIKE ? ESCAPE '\'`,
		*owner, escapeLike(base)+"\\_%"+escapeLike(ext)).Scan(ctx, &numbered); err != nil {
		return "", fmt.Errorf("read names: %w", err)
	}
	return numberedName(base, ext, numbered), nil
}

// change runs edit on owner's live file id inside a transaction that holds
// the row, then stores the columns edit reports changed ("user_tags",
// "deleted"), so that concurrent changes of one file serialize.
func (st *store) change(ctx context.Context, owner int64, id string, edit func(f *File) (changed string, err error)) (*File, error) {
	id, ok := database.CanonicalID(id)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	var f *File
	err := st.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+fileColumns+
			" FROM files f WHERE f.id = ? AND f.owner_id = ? AND f.deleted_at IS NULL"+st.db.ForUpdate(), id, owner)
		if err != nil {
			return fmt.Errorf("lock file: %w", err)
		}
		list, err := scanAll(rows, scanFile)
		if err != nil {
			return fmt.Errorf("lock file: %w", err)
		}
		if len(list) == 0 {
			return apperr.ErrNotFound
		}
		f = list[0]
		changed, err := edit(f)
		if err != nil {
			return err
		}
		var ev EventType
		switch changed {
		case "user_tags":
			ev = EventUpdated
			if _, err := tx.ExecContext(ctx, "UPDATE files SET user_tags = ? WHERE id = ?", encodeTags(f.UserTags), f.ID); err != nil {
				return fmt.Errorf("update tags: %w", err)
			}
			if _, err := tx.ExecContext(ctx, "DELETE FROM file_tags WHERE file_id = ?", f.ID); err != nil {
				return fmt.Errorf("clear tags: %w", err)
			}
			if err := insertTags(ctx, tx, f); err != nil {
				return err
			}
		case "deleted":
			ev = EventDeleted
			if _, err := tx.ExecContext(ctx, "UPDATE files SET deleted_at = ?, object_key = ? WHERE id = ?",
				nullable(f.DeletedAt), nullable(f.ObjectKey), f.ID); err != nil {
				return fmt.Errorf("delete file: %w", err)
			}
		default:
			return fmt.Errorf("files: unknown change %q", changed)
		}
		return st.announced(ctx, tx, Event{Type: ev, FileID: f.ID, OwnerID: owner})
	})
	if errors.Is(err, database.ErrCommitUnknown) {
		return f, err
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// expired lists up to limit files whose lifetime ended before now.
func (st *store) expired(ctx context.Context, now time.Time, limit int) ([]*Summary, error) {
	rows, err := st.db.Prepared().Query(ctx, "SELECT "+summaryColumns+
		" FROM files f WHERE f.expires_at IS NOT NULL AND f.expires_at < ? LIMIT ?", now, limit)
	if err != nil {
		return nil, fmt.Errorf("find expired files: %w", err)
	}
	out, err := scanAll(rows, scanSummary)
	if err != nil {
		return nil, fmt.Errorf("find expired files: %w", err)
	}
	return out, nil
}

// remove deletes a file's row for good (its tags, edges and derivation go
// with it).
func (st *store) remove(ctx context.Context, id string) error {
	if _, err := st.db.ExecContext(ctx, "DELETE FROM files WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete expired file: %w", err)
	}
	return nil
}

// removeOwned deletes for good every file row of owner, tombstones
// included, and the scratch files owner uploaded (their tags, edges,
// column edges, derivations and outbox rows go with them), and returns the
// object keys those rows named.
func (st *store) removeOwned(ctx context.Context, owner int64) ([]string, error) {
	rows, err := st.db.QueryContext(ctx,
		"DELETE FROM files WHERE owner_id = ? OR uploaded_by = ? RETURNING object_key", owner, owner)
	if err != nil {
		return nil, fmt.Errorf("delete the files of user %d: %w", owner, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var key sql.NullString
		if err := rows.Scan(&key); err != nil {
			return nil, fmt.Errorf("delete the files of user %d: %w", owner, err)
		}
		if key.Valid {
			keys = append(keys, key.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delete the files of user %d: %w", owner, err)
	}
	return keys, nil
}

// referenced reports whether a row names the object key: a file's bytes,
// or the row provenance of a live derived file.
func (st *store) referenced(ctx context.Context, key string) (bool, error) {
	query := "SELECT CASE WHEN EXISTS (SELECT 1 FROM files f WHERE f.object_key = ?) THEN 1 ELSE 0 END"
	args := []any{key}
	if objectKey, ok := strings.CutSuffix(key, rowsSuffix); ok {
		id, _ := strings.CutPrefix(objectKey, blobstore.Prefix)
		query = `SELECT CASE WHEN EXISTS (SELECT 1 FROM derivations d JOIN files f ON f.id = d.file_id
  WHERE d.file_id = ? AND d.rows_key = ? AND f.object_key IS NOT NULL) THEN 1 ELSE 0 END`
		args = []any{id, key}
		if _, valid := database.CanonicalID(id); !valid {
			return false, nil
		}
	}
	n, err := st.countRows(ctx, st.db.Prepared().Query, query, args...)
	if err != nil {
		return false, fmt.Errorf("check object: %w", err)
	}
	return n > 0, nil
}

// scratchUse is the bytes of the live scratch files of a client address.
func (st *store) scratchUse(ctx context.Context, client string, now time.Time) (int64, error) {
	n, err := st.countRows(ctx, st.db.Prepared().Query, `SELECT COALESCE(SUM(f.size), 0) FROM files f
WHERE f.owner_id IS NULL AND f.deleted_at IS NULL AND f.client_key = ? AND f.expires_at > ?`, client, now)
	if err != nil {
		return 0, fmt.Errorf("scratch space in use: %w", err)
	}
	return int64(n), nil
}

// scratchExpiry is when the first live scratch file of a client address
// expires, or nil.
func (st *store) scratchExpiry(ctx context.Context, client string, now time.Time) (*time.Time, error) {
	rows, err := st.db.Prepared().Query(ctx, `SELECT f.expires_at FROM files f
WHERE f.owner_id IS NULL AND f.deleted_at IS NULL AND f.client_key = ? AND f.expires_at > ?
ORDER BY f.expires_at LIMIT 1`, client, now)
	if err != nil {
		return nil, fmt.Errorf("scratch space in use: %w", err)
	}
	defer rows.Close()
	var first sql.NullTime
	if rows.Next() {
		err = rows.Scan(&first)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("scratch space in use: %w", err)
	}
	return optionalTime(first), nil
}
