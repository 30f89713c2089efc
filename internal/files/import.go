package files

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/apperr"
)

// Find returns the file with id whoever owns it, tombstones and expired
// scratch files included, or apperr.ErrNotFound. It serves tools acting
// for the operator (the importer asks "is this id already here?"); request
// handlers must use the owner-scoped reads.
func (s *Service) Find(ctx context.Context, id string) (*File, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return nil, apperr.ErrNotFound
	}
	f := new(File)
	err = s.db.NewSelect().Model(f).Where("id = ?", u.String()).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, nil
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
	f := &File{
		ID: id, OwnerID: nf.OwnerID, Name: name, ContentType: "text/csv",
		// Empty, not nil: the columns are NOT NULL JSON lists.
		Profile: NewProfile(nil), Origin: origin, SystemTags: []string{origin.SystemTag()},
		UserTags: tags, MetadataJSON: nf.Metadata, CreatedAt: created, DeletedAt: &now,
	}
	// Tombstones are outside the unique-name index (it only covers live
	// files), so the name is kept as it was.
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(f).Exec(ctx); err != nil {
			return fmt.Errorf("insert tombstone: %w", err)
		}
		// Deleted files keep their tag rows too; do the same.
		return insertTags(ctx, tx, f)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("recorded a tombstone for a file whose bytes are lost", "file_id", id, "reason", reason)
	return f, nil
}
