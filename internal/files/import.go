package files

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutline/cutline/internal/apperr"
)

// Find returns the file with id whoever owns it, tombstones and expired
// scratch files included, or apperr.ErrNotFound. It serves tools acting
// for the operator (the importer asks "is this id already here?"); request
// handlers must use the owner-scoped reads.
func (s *Service) Find(ctx context.Context, id string) (*File, error) {
	f, err := s.st.anyOwner(ctx, id, false)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, err
}

// CreateTombstone records a file whose bytes are lost: the row an import
// writes when the old system lists a file that is missing, unreadable or
// not CSV, so that lineage through it stays whole. The row is deleted from
// the start (DeletedAt set, no object, size 0, no profile); nf is read as
// by Create, except that ParentIDs, ExpiresAt and Derivation are ignored.
// reason is logged with the id; it is not stored.
func (s *Service) CreateTombstone(ctx context.Context, nf NewFile, reason string) (*File, error) {
	if nf.OwnerID == nil {
		return nil, errors.New("files: a tombstone needs an owner")
	}
	name, err := CleanName(nf.Name)
	if err != nil {
		return nil, err
	}
	tags, err := cleanTags(nf.Tags)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	id, created, err := nf.identity(now)
	if err != nil {
		return nil, err
	}
	origin := nf.Origin
	if origin == "" {
		origin = OriginUploaded
	}
	f := &File{Annotated: Annotated{Summary: Summary{
		ID: id, OwnerID: nf.OwnerID, Name: name, ContentType: "text/csv",
		Origin: origin, SystemTags: []string{origin.SystemTag()},
		UserTags: tags, CreatedAt: created, DeletedAt: &now,
	}, MetadataJSON: nf.Metadata},
		// Empty, not nil: the columns are NOT NULL JSON lists.
		Profile: NewProfile(nil)}
	if err := s.st.insertTombstone(ctx, f); err != nil {
		return nil, err
	}
	s.log.Info("recorded a tombstone for a file whose bytes are lost", "file_id", id, "reason", reason)
	return f, nil
}
