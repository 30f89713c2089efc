package lineage

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// How a walk works, and why.
//
// Each direction is ONE recursive query whose rows are bare file ids joined
// with UNION, so the database keeps every file once: a query that carries the
// depth in its rows meets the same file again at every other path length and
// re-expands it, which on a DAG costs more than walking without a depth bound
// at all. Both engines still emit the ids in breadth-first order (PostgreSQL
// evaluates a recursive term level by level; SQLite pops its queue first in,
// first out), so the first k ids are a BFS prefix, and the recursion stops
// after k ids (PostgreSQL evaluates a WITH query only as far as the outer
// LIMIT reads it; SQLite honours a LIMIT inside the recursive CTE). The walk
// is therefore bounded by the limit, whatever the depth asks for.
//
// The same statement returns the edges leaving each of those k files in the
// walk's direction and the name of every file they reach. From that, Go
// computes the exact distances (the shortest paths to a file of level d run
// through levels < d only, all inside the prefix) and sees the whole last
// level, so the depth bound and the limit are applied in Go, and a level cut
// by the limit keeps its first files by (name, id) instead of whichever ones
// the plan happened to meet first.
//
// k = limit + 2: the root, limit files, and one more to know whether the
// limit cut something.

// side describes one direction of a walk in SQL terms.
type side struct {
	tag  string // row tag and CTE prefix
	from string // the edge column matched against the walked id
	to   string // the edge column the walk moves to
	sign int    // sign of Node.Distance on this side
}

var (
	down = side{tag: "d", from: "parent_id", to: "child_id", sign: 1}
	up   = side{tag: "u", from: "child_id", to: "parent_id", sign: -1}
)

func sidesOf(dir Direction) []side {
	switch dir {
	case Upstream:
		return []side{up}
	case Downstream:
		return []side{down}
	default:
		return []side{up, down}
	}
}

// walkSQL builds the statement for the given sides. Arguments, in order: per
// side root, owner, k; then per side owner.
func walkSQL(pg bool, sides []side) string {
	var b strings.Builder
	b.WriteString("WITH RECURSIVE ")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString(",\n")
		}
		if pg {
			// LIMIT is not allowed inside a recursive query on PostgreSQL; the
			// recursion is pulled lazily, so the LIMIT of the reader stops it.
			fmt.Fprintf(&b, `%[1]s_walk(id) AS (
	SELECT f.id FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s FROM %[1]s_walk w JOIN edges e ON e.%[2]s = w.id
),
%[1]s_pick AS MATERIALIZED (SELECT id FROM %[1]s_walk LIMIT ?),
`, sd.tag, sd.from, sd.to)
		} else {
			fmt.Fprintf(&b, `%[1]s_pick(id) AS MATERIALIZED (
	SELECT f.id FROM files f WHERE f.id = ? AND f.owner_id = ?
	UNION
	SELECT e.%[3]s FROM %[1]s_pick w JOIN edges e ON e.%[2]s = w.id
	LIMIT ?
),
`, sd.tag, sd.from, sd.to)
		}
		fmt.Fprintf(&b, `%[1]s_adj AS MATERIALIZED (
	SELECT e.parent_id, e.child_id, e.kind, e.created_at FROM %[1]s_pick p JOIN edges e ON e.%[2]s = p.id
)`, sd.tag, sd.from)
	}
	b.WriteString("\n")
	for i, sd := range sides {
		if i > 0 {
			b.WriteString("UNION ALL\n")
		}
		// The owner filter here is defence in depth: edges never cross owners,
		// and a foreign file that slipped in is dropped with its edges.
		fmt.Fprintf(&b, `SELECT '%[1]s' AS side, 'N' AS tag, f.id AS a, f.id AS b, '' AS kind, f.created_at AS created_at,
	f.name AS name, f.deleted_at IS NOT NULL AS deleted, f.id IN (SELECT id FROM %[1]s_pick) AS picked
FROM files f
WHERE f.owner_id = ? AND f.id IN (SELECT id FROM %[1]s_pick UNION SELECT %[2]s FROM %[1]s_adj)
UNION ALL
SELECT '%[1]s', 'E', parent_id, child_id, kind, created_at, '', FALSE, FALSE FROM %[1]s_adj
`, sd.tag, sd.to)
	}
	if len(sides) == 2 {
		// Edges from an ancestor straight to a descendant (P->R, R->C, P->C)
		// are seen by neither side's walk.
		b.WriteString(`UNION ALL
SELECT 'x', 'E', e.parent_id, e.child_id, e.kind, e.created_at, '', FALSE, FALSE FROM edges e
WHERE e.parent_id IN (SELECT id FROM u_pick) AND e.child_id IN (SELECT id FROM d_pick)
`)
	}
	return b.String()
}

type walkRow struct {
	Side      string    `bun:"side"`
	Tag       string    `bun:"tag"`
	A         string    `bun:"a"`
	B         string    `bun:"b"`
	Kind      string    `bun:"kind"`
	CreatedAt time.Time `bun:"created_at"`
	Name      string    `bun:"name"`
	Deleted   bool      `bun:"deleted"`
	Picked    bool      `bun:"picked"`
}

type nodeInfo struct {
	name    string
	deleted bool
}

type sideResult struct {
	side   side
	picked map[string]bool
	adj    map[string][]string
}

type edgeKey struct{ parent, child string }

func (s *Service) walk(ctx context.Context, ownerID int64, root string, dir Direction, depth, limit int) (*Graph, error) {
	sides := sidesOf(dir)
	k := limit + 2
	var args []any
	for range sides {
		args = append(args, root, ownerID, k)
	}
	for range sides {
		args = append(args, ownerID)
	}
	var rows []walkRow
	if err := s.db.NewRaw(walkSQL(s.pg, sides), args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("lineage walk: %w", err)
	}

	info := make(map[string]nodeInfo)
	results := make([]*sideResult, len(sides))
	byTag := make(map[string]*sideResult, len(sides))
	for i, sd := range sides {
		results[i] = &sideResult{side: sd, picked: make(map[string]bool), adj: make(map[string][]string)}
		byTag[sd.tag] = results[i]
	}
	edges := make(map[edgeKey]Edge)
	for _, r := range rows {
		if r.Tag == "N" {
			info[r.A] = nodeInfo{name: r.Name, deleted: r.Deleted}
			if r.Picked {
				byTag[r.Side].picked[r.A] = true
			}
			continue
		}
		edges[edgeKey{r.A, r.B}] = Edge{ParentID: r.A, ChildID: r.B, Kind: r.Kind, CreatedAt: r.CreatedAt}
		if sr := byTag[r.Side]; sr != nil {
			from, to := r.A, r.B
			if sr.side == up {
				from, to = to, from
			}
			sr.adj[from] = append(sr.adj[from], to)
		}
	}
	if _, ok := info[root]; !ok {
		return nil, errNotFound("lineage root", root)
	}

	// Signed distance of every file reached, and whether it may be chosen:
	// beyond the last level a side saw in full, its distances are not final.
	type cand struct {
		dist   int
		usable bool
	}
	cands := make(map[string]cand)
	for _, sr := range results {
		dist := bfs(root, sr.adj, info)
		complete := math.MaxInt
		if len(sr.picked) >= k {
			complete = 0
			for id := range sr.picked {
				if d, ok := dist[id]; ok {
					complete = max(complete, d)
				}
			}
		}
		for id, d := range dist {
			if id == root {
				continue
			}
			c := cand{dist: sr.side.sign * d, usable: d <= complete}
			old, seen := cands[id]
			switch {
			case !seen, c.usable && !old.usable:
				cands[id] = c
			case c.usable == old.usable && (abs(c.dist) < abs(old.dist) || abs(c.dist) == abs(old.dist) && c.dist > 0):
				cands[id] = c
			}
		}
	}

	chosen := make([]Node, 0, min(len(cands), limit))
	for id, c := range cands {
		if c.usable && abs(c.dist) <= depth {
			chosen = append(chosen, Node{ID: id, Name: info[id].name, Deleted: info[id].deleted, Distance: c.dist})
		}
	}
	slices.SortFunc(chosen, func(x, y Node) int {
		return cmp.Or(cmp.Compare(abs(x.Distance), abs(y.Distance)), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
	})
	if len(chosen) > limit {
		chosen = chosen[:limit]
	}

	g := &Graph{RootID: root, Truncated: len(cands) > len(chosen)}
	g.Nodes = append(make([]Node, 0, len(chosen)+1), Node{ID: root, Name: info[root].name, Deleted: info[root].deleted})
	g.Nodes = append(g.Nodes, chosen...)
	slices.SortFunc(g.Nodes, compareNodes)

	pos := make(map[string]int, len(g.Nodes))
	allPicked := true
	for i, n := range g.Nodes {
		pos[n.ID] = i
		inPick := false
		for _, sr := range results {
			inPick = inPick || sr.picked[n.ID]
		}
		allPicked = allPicked && inPick
	}
	if !allPicked {
		// The limit kept files of the last level that the walk only reached:
		// their own edges were not read, so read the edges among the chosen
		// files directly.
		var err error
		if edges, err = inducedEdges(ctx, s.db, g.Nodes); err != nil {
			return nil, err
		}
	}
	for _, e := range edges {
		if _, ok := pos[e.ParentID]; !ok {
			continue
		}
		if _, ok := pos[e.ChildID]; !ok {
			continue
		}
		g.Edges = append(g.Edges, e)
	}
	slices.SortFunc(g.Edges, func(x, y Edge) int {
		return cmp.Or(cmp.Compare(pos[x.ParentID], pos[y.ParentID]), cmp.Compare(pos[x.ChildID], pos[y.ChildID]))
	})
	return g, nil
}

// bfs returns the distance from root of every file reachable through adj,
// stepping only on files present in info (the owner's files).
func bfs(root string, adj map[string][]string, info map[string]nodeInfo) map[string]int {
	dist := map[string]int{root: 0}
	queue := []string{root}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, next := range adj[id] {
			if _, seen := dist[next]; seen {
				continue
			}
			if _, ok := info[next]; !ok {
				continue
			}
			dist[next] = dist[id] + 1
			queue = append(queue, next)
		}
	}
	return dist
}

// inducedEdges reads every edge whose two ends are among nodes.
func inducedEdges(ctx context.Context, db bun.IDB, nodes []Node) (map[edgeKey]Edge, error) {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	var rows []struct {
		ParentID  string    `bun:"parent_id"`
		ChildID   string    `bun:"child_id"`
		Kind      string    `bun:"kind"`
		CreatedAt time.Time `bun:"created_at"`
	}
	if err := db.NewRaw(`SELECT parent_id, child_id, kind, created_at FROM edges WHERE parent_id IN (?) AND child_id IN (?)`,
		bun.In(ids), bun.In(ids)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("lineage edges: %w", err)
	}
	edges := make(map[edgeKey]Edge, len(rows))
	for _, r := range rows {
		edges[edgeKey{r.ParentID, r.ChildID}] = Edge{ParentID: r.ParentID, ChildID: r.ChildID, Kind: r.Kind, CreatedAt: r.CreatedAt}
	}
	return edges, nil
}

func compareNodes(x, y Node) int {
	return cmp.Or(cmp.Compare(x.Distance, y.Distance), strings.Compare(x.Name, y.Name), strings.Compare(x.ID, y.ID))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
