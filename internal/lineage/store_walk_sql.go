package lineage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// The walks' SQL, for both dialects, and the reading of their rows. How
// the walks work, and why, is told in store_walk.go.

// The planner cannot know how many rows a recursive CTE yields (it guesses a
// few hundred whatever the truth), so the statements only use plans that stay
// linear when the guess is wrong: every CTE drives a join that probes an
// index, and set operations use EXCEPT or a semi-join against a finished CTE
// (hashed), never a membership test inside a loop, which PostgreSQL ran as
// a hash table rebuilt per row. Each probe is fenced so the planner cannot
// turn it around: on PostgreSQL a LATERAL subquery with OFFSET 0 (against a
// smallish table the planner would rather scan it whole), on SQLite a CROSS
// JOIN, whose left operand SQLite keeps as the outer loop (recent SQLite
// otherwise scans the table and indexes the CTE).
func probe(pg bool, outer, table, alias, cond, cols string) string {
	if pg {
		return fmt.Sprintf("%s CROSS JOIN LATERAL (SELECT %s FROM %s %s WHERE %s OFFSET 0) %s", outer, cols, table, alias, cond, alias)
	}
	return fmt.Sprintf("%s CROSS JOIN %s %s ON %s", outer, table, alias, cond)
}

// sortedSQL builds the sorted walk; details adds each edge's kind and time.
// On SQLite, rows (side, tag, a, b, n, name, deleted, kind, at):
//
//	C: n = files found (root included); R: n = the rows the walk produced
//	L: a = a listed file, n = its distance, name and deleted (NULL name: not
//	  the owner's)
//	E: a -> b, an edge among the listed files, with kind and at
//
// On PostgreSQL, the files listed by either side are numbered 1, 2, ... in
// the order of their ids (top), and everything refers to them by number:
// ids and numbers arrive as a few arrays of integers instead of thousands of
// UUIDs written out as text. One row per side (side, found, walked = the
// frontier's last level, poss, ds: the numbers and distances of the files
// it lists), and one row (side ”) with the files' ids, names and states in
// the order of their numbers (state 0: not the owner's, 1: live, 2:
// deleted), and the edges among them as arrays of parents, children (by
// number), kinds and ats (microseconds since 1970; NULL without details).
//
// Arguments per side: root, owner, level cap (PostgreSQL) or depth+1
// (SQLite), limit+1 (PostgreSQL) or row cap (SQLite), limit+2; then the
// owner, once on PostgreSQL and once per side on SQLite.
func sortedSQL(pg bool, sides []side, details bool) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE ")
	for _, sd := range sides {
		if pg {
			fmt.Fprintf(&b, `%[1]s_lv(d, frontier, seen) AS (
	SELECT 0, ARRAY[f.id], ARRAY[f.id] FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION ALL
	SELECT w.d + 1, nx.ids, w.seen || nx.ids
	FROM %[1]s_lv w CROSS JOIN LATERAL (
		SELECT array_agg(x.id) AS ids FROM (
			SELECT e.id FROM %[2]s
			EXCEPT SELECT unnest(w.seen)
		) x
	) nx
	WHERE w.d < ? AND cardinality(w.seen) <= ? AND nx.ids IS NOT NULL
),
%[1]s_found AS MATERIALIZED (SELECT w.d, x.id FROM %[1]s_lv w CROSS JOIN LATERAL unnest(w.frontier) x(id)),
%[1]s_walked AS (SELECT max(d) AS n FROM %[1]s_lv),
`, sd.tag, probe(true, "unnest(w.frontier) fr(id)", "edges", "e", "e."+sd.from+" = fr.id", "e."+sd.to+" AS id"))
		} else {
			fmt.Fprintf(&b, `%[1]s_rows(id, d) AS (
	SELECT f.id, 0 FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s, w.d + 1 FROM %[1]s_rows w CROSS JOIN edges e ON e.%[2]s = w.id WHERE w.d < ?
	ORDER BY 2, 1
	LIMIT ?
),
%[1]s_found AS MATERIALIZED (SELECT id, min(d) AS d FROM %[1]s_rows GROUP BY id),
%[1]s_walked AS (SELECT count(*) AS n FROM %[1]s_rows),
`, sd.tag, sd.from, sd.to)
		}
		fmt.Fprintf(&b, "%[1]s_top AS MATERIALIZED (SELECT d, id FROM %[1]s_found ORDER BY d, id LIMIT ?),\n", sd.tag)
	}
	tops := make([]string, len(sides))
	for i, sd := range sides {
		tops[i] = "SELECT id FROM " + sd.tag + "_top"
	}
	// The edges among the listed files are read as the in-edges of each (a
	// file has few parents but may have many children), which then meet the
	// list in one hashed join: joined inside the probe loop, PostgreSQL
	// rebuilt the hash table once per listed file.
	if pg {
		fmt.Fprintf(&b, "top AS MATERIALIZED (SELECT id, CAST(row_number() OVER (ORDER BY id) AS int) AS pos FROM (%s) t),\n", strings.Join(tops, " UNION "))
		cols := "e.parent_id"
		if details {
			cols += ", e.kind, e.created_at"
		}
		fmt.Fprintf(&b, "top_in AS MATERIALIZED (SELECT q.pos AS c, %s FROM %s)\n", cols,
			probe(true, "top q", "edges", "e", "e.child_id = q.id", cols))
		// One row per side and one for the files and edges, in arrays:
		// sent as rows, the ~3,000 rows of a 1,000-file answer cost the
		// server a third of its time and the client more than half of its
		// own.
		for i, sd := range sides {
			if i > 0 {
				b.WriteString("UNION ALL\n")
			}
			fmt.Fprintf(&b, `SELECT '%[1]s' AS side, (SELECT count(*) FROM %[1]s_found) AS found, (SELECT n FROM %[1]s_walked) AS walked,
	l.poss, l.ds, CAST(NULL AS uuid[]) AS ids, CAST(NULL AS text[]) AS names, CAST(NULL AS int[]) AS states,
	CAST(NULL AS int[]) AS parents, CAST(NULL AS int[]) AS children, CAST(NULL AS text[]) AS kinds, CAST(NULL AS bigint[]) AS ats
FROM (SELECT array_agg(p.pos) AS poss, array_agg(t.d) AS ds FROM %[1]s_top t JOIN top p ON p.id = t.id) l
`, sd.tag)
		}
		kinds, ats := "CAST(NULL AS text[])", "CAST(NULL AS bigint[])"
		if details {
			kinds, ats = "array_agg(e.kind)", "array_agg(CAST(floor(extract(epoch FROM e.created_at) * 1000000) AS bigint))"
		}
		fmt.Fprintf(&b, `UNION ALL
SELECT '', 0, 0, NULL, NULL, n.ids, n.names, n.states, x.parents, x.children, x.kinds, x.ats
FROM (SELECT array_agg(t.id ORDER BY t.pos) AS ids, array_agg(f.name ORDER BY t.pos) AS names,
	array_agg(CASE WHEN f.name IS NULL THEN 0 WHEN f.deleted_at IS NULL THEN 1 ELSE 2 END ORDER BY t.pos) AS states
	FROM top t LEFT JOIN LATERAL (SELECT f.name, f.deleted_at FROM files f WHERE f.id = t.id AND f.owner_id = ? OFFSET 0) f ON TRUE) n
CROSS JOIN (SELECT array_agg(p.pos) AS parents, array_agg(e.c) AS children, %s AS kinds, %s AS ats
	FROM top_in e JOIN top p ON p.id = e.parent_id) x
`, kinds, ats)
		return b.String()
	}
	detail := "NULL AS kind, NULL AS at"
	if details {
		detail = "e.kind AS kind, e.created_at AS at"
	}
	fmt.Fprintf(&b, "top AS MATERIALIZED (%s),\n", strings.Join(tops, " UNION "))
	fmt.Fprintf(&b, "top_in AS MATERIALIZED (SELECT e.parent_id, e.child_id, %s FROM %s)\n", detail,
		probe(false, "top q", "edges", "e", "e.child_id = q.id", ""))
	for i, sd := range sides {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		fmt.Fprintf(&b, `SELECT '%[1]s' AS side, 'C' AS tag, NULL AS a, NULL AS b, count(*) AS n,
	NULL AS name, NULL AS deleted, NULL AS kind, NULL AS at
FROM %[1]s_found
UNION ALL
SELECT '%[1]s', 'R', NULL, NULL, n, NULL, NULL, NULL, NULL FROM %[1]s_walked
UNION ALL
SELECT '%[1]s', 'L', t.id, NULL, t.d, f.name, f.deleted_at IS NOT NULL, NULL, NULL FROM %[1]s_top t LEFT JOIN files f ON f.id = t.id AND f.owner_id = ?
`, sd.tag)
	}
	b.WriteString(`UNION ALL
SELECT '', 'E', e.parent_id, e.child_id, 0, NULL, NULL, e.kind, e.at
FROM top_in e WHERE e.parent_id IN (SELECT id FROM top)
`)
	return b.String()
}

// idsSQL builds the ids walk of PostgreSQL. Rows (side, tag, a, b, n):
//
//	C: n = ids walked (root included; 0: the root is not the owner's)
//	E: a -> b, an edge leaving a walked file in walk direction
//
// Arguments per side: root, owner, limit+2.
func idsSQL(sides []side) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE ")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString(",\n")
		}
		// LIMIT is not allowed inside a recursive query on PostgreSQL; the
		// recursion is pulled lazily, so the LIMIT of the reader stops it.
		fmt.Fprintf(&b, `%[1]s_walk(id) AS (
	SELECT f.id FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s FROM %[1]s_walk w JOIN edges e ON e.%[2]s = w.id
),
%[1]s_set AS MATERIALIZED (SELECT id FROM %[1]s_walk LIMIT ?)`, sd.tag, sd.from, sd.to)
	}
	b.WriteString("\n")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		fmt.Fprintf(&b, `SELECT '%[1]s' AS side, 'C' AS tag, CAST(NULL AS uuid) AS a, CAST(NULL AS uuid) AS b, count(*) AS n FROM %[1]s_set
UNION ALL
SELECT '%[1]s', 'E', e.%[2]s, e.%[3]s, 0 FROM %[4]s
`, sd.tag, sd.from, sd.to, probe(true, sd.tag+"_set p", "edges", "e", "e."+sd.from+" = p.id", "e."+sd.from+", e."+sd.to))
	}
	return b.String()
}

// Row tags of the SQLite ids walk and details statements: small integers,
// which the driver hands over without allocating.
const (
	tagCount = iota // the ids walked
	tagFile         // a file: its rowid and id (walk), position and rowid (details)
	tagEdge         // an edge between two files, by number
)

// idsSQLite builds the ids walk of SQLite, which refers to files by their
// rowid: the driver allocates a string for every text value it returns, and
// the edges of a large walk, two UUIDs each, left more garbage than the
// answer weighs. Each file's id comes once, and the edges as pairs of
// integers. Rows (side, tag, a, b, id), side the position in sides:
//
//	tagCount: a = ids walked (root included; 0: the root is not the owner's)
//	tagFile: a = a file's rowid, id = its id; every walked file and every
//	  file an edge leads to, each once per side, before the side's edges
//	tagEdge: a -> b by rowid, an edge leaving a walked file in walk
//	  direction
//
// The walk itself runs on the ids like PostgreSQL's, the rowids are looked up
// once per walked file and once per edge, through the index on files.id
// (which holds the rowid). Arguments per side: root, owner, limit+2.
func idsSQLite(sides []side) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE ")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `%[1]s_set(id) AS MATERIALIZED (
	SELECT f.id FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s FROM %[1]s_set w CROSS JOIN edges e ON e.%[2]s = w.id
	LIMIT ?
),
%[1]s_num AS MATERIALIZED (SELECT f.rowid AS r, f.id FROM %[1]s_set s CROSS JOIN files f ON f.id = s.id),
%[1]s_out AS MATERIALIZED (SELECT p.r AS a, t.rowid AS b, t.id FROM %[1]s_num p CROSS JOIN edges e ON e.%[2]s = p.id CROSS JOIN files t ON t.id = e.%[3]s)`,
			sd.tag, sd.from, sd.to)
	}
	b.WriteString("\n")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		fmt.Fprintf(&b, `SELECT %[2]d AS side, %[3]d AS tag, count(*) AS a, NULL AS b, NULL AS id FROM %[1]s_set
UNION ALL
SELECT %[2]d, %[4]d, r, NULL, id FROM %[1]s_num
UNION ALL
SELECT %[2]d, %[4]d, b, NULL, id FROM (SELECT DISTINCT b, id FROM %[1]s_out WHERE b NOT IN (SELECT r FROM %[1]s_num))
UNION ALL
SELECT %[2]d, %[5]d, a, b, NULL FROM %[1]s_out
`, sd.tag, i, tagCount, tagFile, tagEdge)
	}
	return b.String()
}

// readSortedRows reads the SQLite form of the sorted walk.
func (st *Store) readSortedRows(ctx context.Context, query string, args []any, sides []side, gs *graphState,
	views []*sideView, found, walked []int, got *fetched) error {
	rows, err := st.db.Prepared().Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var sideTag, tag string
	var a, b, name, kind sql.NullString
	var deleted sql.NullBool
	var n sql.NullInt64
	var at any
	for rows.Next() {
		if err := rows.Scan(&sideTag, &tag, &a, &b, &n, &name, &deleted, &kind, &at); err != nil {
			return err
		}
		si := sideIndex(sides, sideTag)
		switch tag {
		case "C":
			found[si] = int(n.Int64)
		case "R":
			walked[si] = int(n.Int64)
		case "L":
			// A file of another owner (no name) stays in the walk like in
			// the ids walk, and assemble drops it.
			views[si].dist[gs.intern(a.String)] = int32(n.Int64)
			if name.Valid {
				got.files[a.String] = fileInfo{name.String, deleted.Bool}
			}
		case "E":
			t, err := asTime(at)
			if err != nil {
				return fmt.Errorf("edge time: %w", err)
			}
			// Both ends are listed files: the edge shares their strings.
			got.edges = append(got.edges, Edge{ParentID: gs.ids[gs.intern(a.String)], ChildID: gs.ids[gs.intern(b.String)],
				Kind: internKind(kind.String), CreatedAt: t})
		}
	}
	return rows.Err()
}

// readSortedArrays reads the PostgreSQL form of the sorted walk.
func (st *Store) readSortedArrays(ctx context.Context, query string, args []any, sides []side, gs *graphState,
	views []*sideView, found, walked []int, got *fetched) error {
	rows, err := st.db.Prepared().Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		sideTag                        string
		nFound, nWalked                sql.NullInt64
		ids, names, kinds              []string
		states, parents, children, ats []int64
		sidePoss, sideDs               = make([][]int64, len(sides)), make([][]int64, len(sides))
		haveFiles                      bool
	)
	// The arrays of numbers and of ids are read here, each sized once: a
	// generic array scanner grows its slice element by element.
	var p, d, is, ns, ps, cs, as sql.RawBytes
	for rows.Next() {
		var nm, ks []string
		if err := rows.Scan(&sideTag, &nFound, &nWalked, &p, &d, &is, pgdialect.Array(&nm), &ns,
			&ps, &cs, pgdialect.Array(&ks), &as); err != nil {
			return err
		}
		if sideTag == "" {
			names, kinds, haveFiles = nm, ks, true
			for _, a := range []struct {
				raw  sql.RawBytes
				into *[]int64
			}{{ns, &states}, {ps, &parents}, {cs, &children}, {as, &ats}} {
				if *a.into, err = intArray(a.raw); err != nil {
					return err
				}
			}
			if ids, err = textArray(is); err != nil {
				return err
			}
			continue
		}
		si := sideIndex(sides, sideTag)
		found[si], walked[si] = int(nFound.Int64), int(nWalked.Int64)
		if sidePoss[si], err = intArray(p); err != nil {
			return err
		}
		if sideDs[si], err = intArray(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !haveFiles {
		return errors.New("no row of files")
	}
	if len(names) != len(ids) || len(states) != len(ids) {
		return errors.New("file arrays of different lengths")
	}
	// The numbers are positions in ids, from 1.
	idx := make([]int32, len(ids))
	for i, id := range ids {
		idx[i] = gs.intern(id)
		if states[i] != 0 { // a file of another owner stays in the walk; assemble drops it
			got.files[id] = fileInfo{names[i], states[i] == 2}
		}
	}
	at := func(n int64) (int, error) {
		if n < 1 || n > int64(len(ids)) {
			return 0, fmt.Errorf("file number %d of %d", n, len(ids))
		}
		return int(n - 1), nil
	}
	for si := range sides {
		if len(sideDs[si]) != len(sidePoss[si]) {
			return errors.New("side arrays of different lengths")
		}
		for i, n := range sidePoss[si] {
			j, err := at(n)
			if err != nil {
				return err
			}
			views[si].dist[idx[j]] = int32(sideDs[si][i])
		}
	}
	if len(children) != len(parents) || kinds != nil && len(kinds) != len(parents) || ats != nil && len(ats) != len(parents) {
		return errors.New("edge arrays of different lengths")
	}
	got.edges = slices.Grow(got.edges, len(parents))
	for i := range parents {
		p, err := at(parents[i])
		if err != nil {
			return err
		}
		c, err := at(children[i])
		if err != nil {
			return err
		}
		// The ends share the files' strings.
		e := Edge{ParentID: gs.ids[idx[p]], ChildID: gs.ids[idx[c]]}
		if kinds != nil {
			e.Kind = internKind(kinds[i])
		}
		if ats != nil {
			e.CreatedAt = time.UnixMicro(ats[i]).UTC()
		}
		got.edges = append(got.edges, e)
	}
	return nil
}

// arrayItems splits the text form of a one-dimensional PostgreSQL array
// whose elements are never quoted (numbers, UUIDs): nil for NULL.
func arrayItems(raw []byte, each func(item []byte) error) (int, error) {
	if raw == nil {
		return 0, nil
	}
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return 0, fmt.Errorf("not an array: %.40q", raw)
	}
	body := raw[1 : len(raw)-1]
	if len(body) == 0 {
		return 0, nil
	}
	n := bytes.Count(body, []byte{','}) + 1
	if each == nil {
		return n, nil
	}
	for item := range bytes.SplitSeq(body, []byte{','}) {
		if err := each(item); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// intArray reads an int[] or bigint[] in text form.
func intArray(raw []byte) ([]int64, error) {
	n, err := arrayItems(raw, nil)
	if err != nil || raw == nil {
		return nil, err
	}
	out := make([]int64, 0, n)
	_, err = arrayItems(raw, func(item []byte) error {
		v, err := strconv.ParseInt(string(item), 10, 64)
		if err != nil {
			return fmt.Errorf("array element: %w", err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// textArray reads an array of unquoted text elements (a uuid[]).
func textArray(raw []byte) ([]string, error) {
	n, err := arrayItems(raw, nil)
	if err != nil || raw == nil {
		return nil, err
	}
	out := make([]string, 0, n)
	_, err = arrayItems(raw, func(item []byte) error {
		if len(item) > 0 && item[0] == '"' || bytes.Equal(item, []byte("NULL")) {
			return fmt.Errorf("unexpected array element %q", item)
		}
		out = append(out, string(item))
		return nil
	})
	return out, err
}

// internKind returns the one string of a common edge kind, so that a large
// graph does not keep a copy per edge.
func internKind(k string) string {
	if k == KindCut {
		return KindCut
	}
	return k
}

// readIDs runs the ids walk of each side from root: it sets each view's
// found and returns, per side, the edges leaving each walked file.
func (st *Store) readIDs(ctx context.Context, gs *graphState, ownerID int64, root string, sides []side, limit int, views []*sideView) ([]map[int32][]int32, error) {
	k := limit + 2 // the root, limit files, and one to know the limit cut something
	var args []any
	for range sides {
		args = append(args, root, ownerID, k)
	}
	adj := make([]map[int32][]int32, len(sides))
	for i := range sides {
		adj[i] = make(map[int32][]int32)
	}
	if !st.db.Postgres() {
		return adj, st.readIDsSQLite(ctx, gs, sides, args, views, adj)
	}
	rows, err := st.db.Prepared().Query(ctx, idsSQL(sides), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var sideTag, tag string
	var a, b sql.NullString
	var n int
	for rows.Next() {
		if err := rows.Scan(&sideTag, &tag, &a, &b, &n); err != nil {
			return nil, err
		}
		si := sideIndex(sides, sideTag)
		switch tag {
		case "C":
			views[si].found = n > 0
		case "E":
			ai, bi := gs.intern(a.String), gs.intern(b.String)
			adj[si][ai] = append(adj[si][ai], bi)
		}
	}
	return adj, rows.Err()
}

// readIDsSQLite reads the rows of idsSQLite into views and adj.
func (st *Store) readIDsSQLite(ctx context.Context, gs *graphState, sides []side, args []any, views []*sideView, adj []map[int32][]int32) error {
	rows, err := st.db.Prepared().Query(ctx, idsSQLite(sides), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	// The rowids the walk met, numbered as gs numbers their ids.
	num := make(map[int64]int32)
	// Values scanned into any reach here as the driver made them, with no
	// conversion through reflection.
	var sideV, tagV, aV, bV, idV any
	for rows.Next() {
		if err := rows.Scan(&sideV, &tagV, &aV, &bV, &idV); err != nil {
			return err
		}
		si, tag, a := sqliteInt(sideV), sqliteInt(tagV), sqliteInt(aV)
		if si < 0 || si >= int64(len(sides)) {
			return fmt.Errorf("row of side %v", sideV)
		}
		switch tag {
		case tagCount:
			views[si].found = a > 0
			// The side met at least the a files it walked: room for them
			// from the start rather than by doubling.
			gs.grow(int(a))
			if len(num) == 0 {
				num = make(map[int64]int32, a)
			}
			if len(adj[si]) == 0 {
				adj[si] = make(map[int32][]int32, a)
			}
		case tagFile:
			id, ok := idV.(string)
			if !ok {
				return fmt.Errorf("file %d: id %T", a, idV)
			}
			num[a] = gs.intern(id)
		case tagEdge:
			// A side's files come before its edges (the arms of a UNION ALL
			// run in order); an end not met is an error, not a lost edge.
			from, okF := num[a]
			to, okT := num[sqliteInt(bV)]
			if !okF || !okT {
				return fmt.Errorf("edge %v -> %v before its files", aV, bV)
			}
			adj[si][from] = append(adj[si][from], to)
		default:
			return fmt.Errorf("row tag %v", tagV)
		}
	}
	return rows.Err()
}

// sqliteInt is an integer as the SQLite driver returns it, -1 for anything
// else (NULL).
func sqliteInt(v any) int64 {
	if n, ok := v.(int64); ok {
		return n
	}
	return -1
}

// details reads the names of nodes and their in-edges in one statement,
// with each edge's kind and time when details is set; assemble keeps the
// edges whose parent is among the nodes too. Testing both ends in SQL
// (parent_id IN (...) AND child_id IN (...)) made SQLite probe the index for
// every pair of the two lists: 10,000 files took minutes.
func (st *Store) details(ctx context.Context, ownerID int64, nodes []Node, details bool) (*fetched, error) {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	files, arg := st.db.IDSet("f.id", ids)
	edges, _ := st.db.IDSet("e.child_id", ids)
	detail := "'', NULL"
	if details {
		detail = "e.kind, e.created_at"
	}
	query := `SELECT 'N' AS tag, f.id AS a, f.id AS b, f.name AS name, f.deleted_at IS NOT NULL AS deleted, '' AS kind, NULL AS at
FROM files f WHERE f.owner_id = ? AND ` + files + `
UNION ALL
SELECT 'E', e.parent_id, e.child_id, '', FALSE, ` + detail + ` FROM edges e WHERE ` + edges
	rows, err := st.db.Prepared().Query(ctx, query, ownerID, arg, arg)
	if err != nil {
		return nil, fmt.Errorf("lineage details: %w", err)
	}
	defer rows.Close()
	// Room for three edges per file from the start: grown by doubling, the
	// edges of a large graph left as much again behind as garbage.
	got := &fetched{files: make(map[string]fileInfo, len(nodes)), edges: make([]Edge, 0, 3*len(nodes))}
	// An edge whose parent is not a node is dropped here rather than by
	// assemble: a large graph would hold every in-edge of every file until
	// then. The ends kept share the nodes' strings.
	member := make(map[string]string, len(nodes))
	for _, n := range nodes {
		member[n.ID] = n.ID
	}
	var tag, a, b, name, kind string
	var deleted bool
	var at any
	for rows.Next() {
		if err := rows.Scan(&tag, &a, &b, &name, &deleted, &kind, &at); err != nil {
			return nil, fmt.Errorf("lineage details: %w", err)
		}
		if tag == "N" {
			if id, ok := member[a]; ok {
				got.files[id] = fileInfo{name, deleted}
			}
			continue
		}
		parent, ok := member[a]
		if !ok {
			continue
		}
		t, err := asTime(at)
		if err != nil {
			return nil, fmt.Errorf("lineage details: edge time: %w", err)
		}
		got.edges = append(got.edges, Edge{ParentID: parent, ChildID: member[b], Kind: internKind(kind), CreatedAt: t})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lineage details: %w", err)
	}
	return got, nil
}

// detailsSQLite reads what details reads, on SQLite, and assembles the
// graph: nodes are the root and the chosen files. The rows refer to files
// by number rather than by id (the driver allocates a string for every text
// value): a node by its position in the list of ids sent, the parent of an
// edge by its rowid, which the node's row gives too. The nodes are found by
// id, so their positions hold even if a rowid was reused since the walk.
// Rows (tag, a, b, name, deleted, kind, at):
//
//	tagFile: a = position in nodes, b = rowid, name, deleted (the owner's
//	  files only)
//	tagEdge: a = position of the child, b = rowid of the parent, kind and at
//	  when details is set
func (st *Store) detailsSQLite(ctx context.Context, ownerID int64, nodes []Node, details, truncated bool) (*Graph, error) {
	var list strings.Builder
	list.Grow(len(nodes) * 39)
	list.WriteByte('[')
	for i, n := range nodes {
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteByte('"')
		list.WriteString(n.ID)
		list.WriteByte('"')
	}
	list.WriteByte(']')
	detail := "NULL, NULL"
	if details {
		detail = "e.kind, e.created_at"
	}
	query := fmt.Sprintf(`SELECT %[1]d AS tag, j.key AS a, f.rowid AS b, f.name AS name, f.deleted_at IS NOT NULL AS deleted, NULL AS kind, NULL AS at
FROM json_each(?) j CROSS JOIN files f ON f.id = j.value WHERE f.owner_id = ?
UNION ALL
SELECT %[2]d, j.key, p.rowid, NULL, NULL, %[3]s
FROM json_each(?) j CROSS JOIN edges e ON e.child_id = j.value CROSS JOIN files p ON p.id = e.parent_id`, tagFile, tagEdge, detail)
	rows, err := st.db.Prepared().Query(ctx, query, list.String(), ownerID, list.String())
	if err != nil {
		return nil, fmt.Errorf("lineage details: %w", err)
	}
	defer rows.Close()
	// present: the node is a file of the owner. pos: the nodes' positions
	// by rowid; an edge whose parent is not among them is dropped.
	present := make([]bool, len(nodes))
	pos := make(map[int64]uint32, len(nodes))
	// The edges as (parent, child) positions, with room for three per node
	// from the start (grown by doubling, they would leave as much again
	// behind); their kinds and times beside them when details is set.
	ends := make([]uint64, 0, 3*len(nodes))
	var more []edgeDetail
	edges := false
	var tagV, aV, bV, nameV, deletedV, kindV, atV any
	for rows.Next() {
		if err := rows.Scan(&tagV, &aV, &bV, &nameV, &deletedV, &kindV, &atV); err != nil {
			return nil, fmt.Errorf("lineage details: %w", err)
		}
		a, b := sqliteInt(aV), sqliteInt(bV)
		if a < 0 || a >= int64(len(nodes)) {
			return nil, fmt.Errorf("lineage details: node position %v of %d", aV, len(nodes))
		}
		switch sqliteInt(tagV) {
		case tagFile:
			// The files come before the edges (the arms of a UNION ALL run
			// in order), else an edge could be dropped for want of its parent.
			if edges {
				return nil, errors.New("lineage details: a file after the edges")
			}
			name, ok := nameV.(string)
			if !ok {
				return nil, fmt.Errorf("lineage details: name %T", nameV)
			}
			pos[b] = uint32(a)
			present[a] = true
			nodes[a].Name, nodes[a].Deleted = name, sqliteInt(deletedV) == 1
		case tagEdge:
			edges = true
			parent, ok := pos[b]
			if !ok || !present[a] {
				continue
			}
			ends = append(ends, uint64(parent)<<32|uint64(a))
			if details {
				kind, ok := kindV.(string)
				if !ok {
					return nil, fmt.Errorf("lineage details: edge kind %T", kindV)
				}
				at, err := asTime(atV)
				if err != nil {
					return nil, fmt.Errorf("lineage details: edge time: %w", err)
				}
				more = append(more, edgeDetail{internKind(kind), at})
			}
		default:
			return nil, fmt.Errorf("lineage details: row tag %v", tagV)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lineage details: %w", err)
	}
	return assembleAt(nodes, present, ends, more, truncated)
}

// asTime converts a timestamp as the drivers return it: time.Time from
// PostgreSQL; from SQLite, time.Time or, where the column's declared type is
// lost (a UNION), the text bun wrote.
func asTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v, nil
	case []byte:
		return parseTime(string(v))
	case string:
		return parseTime(v)
	case nil:
		return time.Time{}, nil
	}
	return time.Time{}, fmt.Errorf("unexpected %T", v)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999Z07:00",
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q", s)
}
