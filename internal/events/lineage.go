package events

import (
	"context"

	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// LineageFilter passes the events of the files connected to one root file:
// the root, its ancestors and its descendants, as lineage.Service.Connected
// sees them (within the server's depth and size limits), plus the files
// derived from any of the root's descendants later.
//
// The set is read once and then kept up to date from the events themselves
// rather than re-walked per event: edges are only ever written together
// with their child file, so the only way the set can grow is a CREATED
// event whose parents include the root or a descendant, and a new file can
// never become an ancestor of an existing one. Tombstones keep their edges,
// so a deletion removes nothing.
type LineageFilter struct {
	lin   *lineage.Service
	owner int64
	up    map[string]bool // ancestors
	down  map[string]bool // the root and its descendants
}

// NewLineageFilter reads the files connected to rootID. A root that is not
// owner's is lineage's not-found error, as everywhere else.
func NewLineageFilter(ctx context.Context, lin *lineage.Service, owner int64, rootID string) (*LineageFilter, error) {
	g, err := lin.Connected(ctx, owner, rootID)
	if err != nil {
		return nil, err
	}
	f := &LineageFilter{lin: lin, owner: owner, up: map[string]bool{}, down: map[string]bool{}}
	for _, n := range g.Nodes {
		if n.Distance < 0 {
			f.up[n.ID] = true
		} else {
			f.down[n.ID] = true
		}
	}
	return f, nil
}

// Match reports whether ev concerns a connected file, learning about new
// descendants as they are created. It is not safe for concurrent use; each
// subscription has its own filter.
func (f *LineageFilter) Match(ctx context.Context, ev files.Event) (bool, error) {
	if f.up[ev.FileID] || f.down[ev.FileID] {
		return true, nil
	}
	if ev.Type != files.EventCreated {
		return false, nil
	}
	// The edges committed with the file, before the event was published.
	parents, err := f.lin.Parents(ctx, f.owner, []string{ev.FileID})
	if err != nil {
		return false, err
	}
	for _, p := range parents[ev.FileID] {
		if f.down[p] {
			f.down[ev.FileID] = true
			return true, nil
		}
	}
	return false, nil
}
