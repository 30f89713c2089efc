package legacy

import (
	"context"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
)

// handleSuffix ends every handle: the old frontend expected file_path to
// look like a CSV file's path, and the suffix keeps it looking that way.
const handleSuffix = ".csv"

// handleFor returns the opaque file_path of file id: a signed, expiring
// token naming the file. It is never a server path, and a client cannot
// make one up for a file it was not shown.
func (h *Handler) handleFor(id string) string {
	return h.Handles.Sign(id, h.clock().Add(h.HandleTTL)) + handleSuffix
}

// resolveHandle returns the file a file_path names. Holding a valid handle
// is the proof of access (the cutter page calls #3 without a token), so
// the file is looked up whoever owns it. A caller with a valid token may
// also use an expired handle of one of their own files: they could fetch a
// fresh one anyway, and a page left open overnight keeps working. Anything
// else (forged, altered, expired, or not a handle at all) is not found.
func (h *Handler) resolveHandle(ctx context.Context, handle string) (*files.File, error) {
	token, ok := strings.CutSuffix(handle, handleSuffix)
	if !ok || token == "" {
		return nil, apperr.ErrNotFound
	}
	id, err := h.Handles.Verify(token, h.clock())
	if err == nil {
		return h.Files.GetUnscoped(ctx, id)
	}
	caller, signed := auth.CallerFrom(ctx)
	if !signed {
		return nil, apperr.ErrNotFound
	}
	// Verifying at the epoch checks the signature alone, not the expiry.
	id, err = h.Handles.Verify(token, time.Unix(0, 0))
	if err != nil {
		return nil, apperr.ErrNotFound
	}
	return h.Files.Get(ctx, caller.UserID, id)
}
