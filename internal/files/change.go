package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
)

// TagChange edits user tags: Set replaces them all; otherwise Remove is
// applied, then Add.
type TagChange struct {
	Add, Remove []string
	Set         []string
	Replace     bool // Set was given (possibly empty)
}

// UpdateTags changes owner's file's user tags. System tags cannot be
// touched: naming one is a BAD_USER_INPUT error.
func (s *Service) UpdateTags(ctx context.Context, owner int64, id string, c TagChange) (*File, error) {
	f, err := s.st.change(ctx, owner, id, func(f *File) (string, error) {
		var next []string
		if c.Replace {
			next = c.Set
		} else {
			if _, err := cleanTags(c.Remove); err != nil {
				return "", err
			}
			drop := map[string]bool{}
			for _, t := range c.Remove {
				drop[trimTag(t)] = true
			}
			for _, t := range f.UserTags {
				if !drop[t] {
					next = append(next, t)
				}
			}
			next = append(next, c.Add...)
		}
		tags, err := cleanTags(next)
		if err != nil {
			return "", err
		}
		f.UserTags = tags
		return "user_tags", nil
	})
	if errors.Is(err, database.ErrCommitUnknown) {
		s.unsure(EventUpdated, f)
	}
	if err != nil {
		return nil, err
	}
	s.emit(EventUpdated, f)
	return f, nil
}

// Delete removes the bytes of owner's file and hides it; its row stays as a
// tombstone so lineage through it is not cut. Deleting a file that is
// already deleted succeeds and changes nothing.
func (s *Service) Delete(ctx context.Context, owner int64, id string) error {
	var key *string
	f, err := s.st.change(ctx, owner, id, func(f *File) (string, error) {
		key = f.ObjectKey
		now := s.now().UTC()
		f.DeletedAt, f.ObjectKey = &now, nil
		return "deleted", nil
	})
	if errors.Is(err, apperr.ErrNotFound) && s.isTombstone(ctx, owner, id) {
		return nil
	}
	if errors.Is(err, database.ErrCommitUnknown) {
		s.unsure(EventDeleted, f)
	}
	if err != nil {
		return err
	}
	if key != nil {
		s.removeObject(*key)
		s.removeObject(rowsKey(*key)) // a derived file's row provenance, if any
	}
	s.emit(EventDeleted, f)
	return nil
}

// DeleteOwner removes everything owner has for good: every file row,
// tombstones included, with its tags, lineage, derivation and bytes (row
// provenance included), and the scratch files owner uploaded with a
// token. The rows go first, in one statement; an object the bucket fails
// to remove then is logged and left to the sweep, which removes objects no
// row names.
func (s *Service) DeleteOwner(ctx context.Context, owner int64) error {
	keys, err := s.st.removeOwned(ctx, owner)
	if err != nil {
		return err
	}
	for _, key := range keys {
		s.removeObject(key)
		s.removeObject(rowsKey(key)) // a derived file's row provenance, if any
	}
	return nil
}

func (s *Service) isTombstone(ctx context.Context, owner int64, id string) bool {
	m, err := s.GetSummaries(ctx, owner, []string{id})
	return err == nil && m[id] != nil && m[id].Deleted()
}

// Sweep removes what nobody needs any more: expired scratch files (row and
// bytes), idempotency keys older than IdempotencyWindow, and objects that
// no row references, older than grace so that an upload still in flight is
// never touched.
func (s *Service) Sweep(ctx context.Context, grace time.Duration) (removed int, err error) {
	now := s.now().UTC()
	expired, err := s.st.expired(ctx, now, 1000)
	if err != nil {
		return 0, err
	}
	for _, f := range expired {
		if err := s.st.remove(ctx, f.ID); err != nil {
			return removed, err
		}
		if f.ObjectKey != nil {
			s.removeObject(*f.ObjectKey)
		}
		removed++
	}

	forgotten, err := s.st.forgetKeys(ctx, now.Add(-IdempotencyWindow))
	if err != nil {
		return removed, err
	}
	removed += forgotten

	// Temporary objects of the folder bucket (an upload that never
	// finished: the process was killed) are listed like any other.
	err = eachObject(ctx, s.bucket, s.blobTimeout, func(obj *blob.ListObject) error {
		if obj.IsDir || now.Sub(obj.ModTime) < grace {
			return nil
		}
		exists, err := s.st.referenced(ctx, obj.Key)
		if err != nil {
			return err
		}
		if !exists {
			s.removeObject(obj.Key)
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, err
	}
	n, err := s.abortStaleUploads(ctx, now, grace)
	return removed + n, err
}

// abortStaleUploads aborts the S3 bucket's incomplete multipart uploads
// that began more than grace ago: an upload whose process was killed
// leaves its parts behind, billed until aborted.
func (s *Service) abortStaleUploads(ctx context.Context, now time.Time, grace time.Duration) (int, error) {
	lctx, cancel := blobstore.Call(ctx, s.blobTimeout)
	uploads, err := blobstore.IncompleteUploads(lctx, s.bucket, s.bucketName)
	cancel()
	if errors.Is(err, blobstore.ErrNoMultipart) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range uploads {
		if now.Sub(u.Initiated) < grace {
			continue
		}
		actx, cancel := blobstore.Call(ctx, s.blobTimeout)
		err := blobstore.AbortUpload(actx, s.bucket, s.bucketName, u)
		cancel()
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func trimTag(t string) string {
	tags, _ := cleanTags([]string{t})
	if len(tags) == 1 {
		return tags[0]
	}
	return t
}

var blobListOptions = blob.ListOptions{Prefix: blobstore.Prefix}

// listPageSize is how many objects the sweep lists at a time.
const listPageSize = 1000

// listAttempts bounds how often one page is listed again after an object
// vanished while it was being listed.
const listAttempts = 5

// eachObject calls fn for every object under the files prefix, a page at a
// time. A folder bucket lists by reading the directory and then each entry;
// an upload finishing in between renames its temporary file away and fails
// the whole page with NotFound. That object is simply gone, so the page is
// read again rather than ending the sweep.
func eachObject(ctx context.Context, b *blob.Bucket, timeout time.Duration, fn func(*blob.ListObject) error) error {
	token := blob.FirstPageToken
	for {
		var (
			objs []*blob.ListObject
			next []byte
			err  error
		)
		for range listAttempts {
			lctx, cancel := blobstore.Call(ctx, timeout)
			objs, next, err = b.ListPage(lctx, token, listPageSize, &blobListOptions)
			cancel()
			if gcerrors.Code(err) != gcerrors.NotFound {
				break
			}
		}
		if isEOF(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		for _, obj := range objs {
			if err := fn(obj); err != nil {
				return err
			}
		}
		if len(next) == 0 {
			return nil
		}
		token = next
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }
