package files

import (
	"context"
	"fmt"
	"time"

	"github.com/cutline/cutline/internal/apperr"
)

// scratchRoom returns how many bytes a new file may have: MaxFileSize,
// or less for a scratch file whose client address has already used part
// of its quota. quota builds the refusal. A full quota is refused before
// anything is read.
func (s *Service) scratchRoom(ctx context.Context, nf NewFile, now time.Time) (limit int64, quota func() error, err error) {
	quota = func() error { return nil }
	if nf.OwnerID != nil || nf.ClientKey == "" || s.scratch <= 0 {
		return s.maxSize, quota, nil
	}
	used, err := s.st.scratchUse(ctx, nf.ClientKey, now)
	if err != nil {
		return 0, nil, err
	}
	quota = func() error {
		wait := time.Second
		first, err := s.st.scratchExpiry(ctx, nf.ClientKey, now)
		if err != nil {
			return err
		}
		if first != nil {
			wait = max(first.Sub(now), wait)
		}
		return &apperr.RateLimitError{RetryAfter: wait, Reason: fmt.Sprintf(
			"the scratch space of your address is full: its uploads that have not expired yet may hold %d bytes (SCRATCH_QUOTA)", s.scratch)}
	}
	if used >= s.scratch {
		return 0, nil, quota()
	}
	return min(s.maxSize, s.scratch-used), quota, nil
}

// checkScratch takes back f, just committed, when uploads that ran beside
// it from the same address went over the quota together.
func (s *Service) checkScratch(ctx context.Context, f *File, now time.Time, quota func() error) error {
	if f.ClientKey == nil || s.scratch <= 0 {
		return nil
	}
	used, err := s.st.scratchUse(ctx, *f.ClientKey, now)
	if err != nil || used <= s.scratch {
		return err
	}
	if err := s.st.remove(ctx, f.ID); err != nil {
		return fmt.Errorf("take back a scratch file over the quota: %w", err)
	}
	if f.ObjectKey != nil {
		s.removeObject(*f.ObjectKey)
	}
	return quota()
}
