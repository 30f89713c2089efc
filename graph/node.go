package graph

import (
	"context"
	"strconv"
	"strings"

	"github.com/cutline/cutline/graph/model"
	"github.com/cutline/cutline/internal/auth"
)

// MaxNodes bounds the ids of one nodes(ids:) call.
const MaxNodes = 100

// nodes answers node(id:) and nodes(ids:). Ids are global as they are: a
// decimal number is a User's id, anything else a File's (a UUID), so no
// id changes for Relay. What is not the caller's is nil, like what does not
// exist; a file id that is not a UUID is simply not found. A deleted file
// is its tombstone, as in lineage graphs, so that a client can refetch any
// node it was shown.
func (r *Resolver) nodes(ctx context.Context, ids []string) ([]model.Node, error) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.Node, len(ids))
	var fileIDs []string
	for _, id := range ids {
		if _, isUser := userID(id); !isUser {
			fileIDs = append(fileIDs, id)
		}
	}
	// Summaries: the rest of the files is read, for all of them at once,
	// only if the selection asks for it.
	found, err := r.summaries(ctx, c.UserID, fileIDs)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if uid, isUser := userID(id); isUser {
			if uid == c.UserID {
				u, err := r.user(ctx, uid)
				if err != nil {
					return nil, err
				}
				out[i] = u
			}
			continue
		}
		// Files are keyed by their canonical (lower-case) id, which
		// file(id:) accepts in any case too.
		if f := found[strings.ToLower(id)]; f != nil {
			out[i] = f
		}
	}
	return out, nil
}

// userID reads a User's id: the decimal form User.id writes, nothing else
// ("+7" and "007" are no one's).
func userID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return 0, false
	}
	return n, true
}
