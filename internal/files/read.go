package files

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/database"
)

// Get returns one of owner's live files, or apperr.ErrNotFound, which is
// also the answer for someone else's file.
func (s *Service) Get(ctx context.Context, owner int64, id string) (*File, error) {
	f, err := s.st.live(ctx, owner, id)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, err
}

// GetByName returns owner's newest live file with that display name.
func (s *Service) GetByName(ctx context.Context, owner int64, name string) (*File, error) {
	f, err := s.st.newestNamed(ctx, owner, name)
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, err
}

// GetUnscoped returns a live, unexpired file whoever owns it. Only callers
// that hold proof of access (a signed handle) may use it.
func (s *Service) GetUnscoped(ctx context.Context, id string) (*File, error) {
	f, err := s.st.anyOwner(ctx, id, true)
	if err == nil && f.ExpiresAt != nil && s.now().After(*f.ExpiresAt) {
		return nil, apperr.ErrNotFound
	}
	if err != nil && !errors.Is(err, apperr.ErrNotFound) {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, err
}

// GetMany loads owner's files by id, tombstones included (lineage shows
// them). Ids that do not exist or are not owner's are absent from the map.
func (s *Service) GetMany(ctx context.Context, owner int64, ids []string) (map[string]*File, error) {
	return many(ctx, s.st, owner, ids, fileShape)
}

// GetSummaries is GetMany without the column profiles and the metadata,
// for callers that show neither.
func (s *Service) GetSummaries(ctx context.Context, owner int64, ids []string) (map[string]*Summary, error) {
	return many(ctx, s.st, owner, ids, summaryShape)
}

// OrderField and Order choose how a listing is sorted.
type OrderField string

// The sortable fields.
const (
	OrderCreatedAt OrderField = "CREATED_AT"
	OrderName      OrderField = "NAME"
	OrderSize      OrderField = "SIZE"
)

// Filter narrows a listing.
type Filter struct {
	Tags         []string // has all of them
	NameContains string   // case-insensitive
	Origin       Origin
}

// ListOptions page through a listing, Relay style: First/After forward,
// Last/Before backward.
type ListOptions struct {
	First, Last   int
	After, Before string
	Filter        Filter
	Order         OrderField
	Desc          bool
}

// Page is one page of a listing, of whole files (List), summaries
// (ListSummaries) or summaries with their metadata (ListAnnotated).
type Page[R Record] struct {
	Files           []R
	HasNextPage     bool
	HasPreviousPage bool
	order           OrderField
}

// Cursor is the opaque position of Files[i], for After and Before. It is
// encoded on demand: most listings show no cursor but the last.
func (p *Page[R]) Cursor(i int) string { return encodeCursor(p.order, p.Files[i].summary()) }

// MaxPageSize bounds first and last.
const MaxPageSize = 500

type cursor struct {
	V  any    `json:"v"`
	ID string `json:"id"`
}

func encodeCursor(order OrderField, f *Summary) string {
	c := cursor{ID: f.ID}
	switch order {
	case OrderName:
		c.V = f.Name
	case OrderSize:
		c.V = f.Size
	default:
		c.V = f.CreatedAt.UTC().Format(time.RFC3339Nano)
	}
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(order OrderField, s string) (any, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	id, ok := database.CanonicalID(c.ID)
	if err != nil || !ok {
		return nil, "", apperr.Invalid("after", "not a cursor of this listing")
	}
	c.ID = id
	switch order {
	case OrderName:
		if v, ok := c.V.(string); ok {
			return v, c.ID, nil
		}
	case OrderSize:
		if v, ok := c.V.(float64); ok {
			return int64(v), c.ID, nil
		}
	default:
		if v, ok := c.V.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t, c.ID, nil
			}
		}
	}
	return nil, "", apperr.Invalid("after", "not a cursor of this listing")
}

// List returns a page of owner's live files. Cursors are keyset positions
// (sort value, id), so pages stay stable while files are added.
func (s *Service) List(ctx context.Context, owner int64, o ListOptions) (*Page[*File], error) {
	if err := s.checkFilter(o.Filter); err != nil {
		return nil, err
	}
	return listPage(ctx, s.st, owner, o, fileShape)
}

// ListSummaries is List without the column profiles and the metadata, a
// listing's largest columns, for callers that show neither.
func (s *Service) ListSummaries(ctx context.Context, owner int64, o ListOptions) (*Page[*Summary], error) {
	if err := s.checkFilter(o.Filter); err != nil {
		return nil, err
	}
	return listPage(ctx, s.st, owner, o, summaryShape)
}

// ListAnnotated is List without the column profiles, for callers that show
// the metadata but not the columns.
func (s *Service) ListAnnotated(ctx context.Context, owner int64, o ListOptions) (*Page[*Annotated], error) {
	if err := s.checkFilter(o.Filter); err != nil {
		return nil, err
	}
	return listPage(ctx, s.st, owner, o, annotatedShape)
}

// checkFilter refuses a filter of more distinct tags than MaxFilterTags.
func (s *Service) checkFilter(f Filter) error {
	if s.maxFilterTags > 0 && len(f.Tags) > s.maxFilterTags && len(distinct(f.Tags)) > s.maxFilterTags {
		return apperr.Invalid("filter.tags", "at most %d tags in a filter (MAX_FILTER_TAGS)", s.maxFilterTags)
	}
	return nil
}

func listPage[R Record](ctx context.Context, st *store, owner int64, o ListOptions, sh shape[R]) (*Page[R], error) {
	if o.First < 0 || o.Last < 0 {
		return nil, apperr.Invalid("first", "must not be negative")
	}
	if o.First > 0 && o.Last > 0 {
		return nil, apperr.Invalid("last", "use first or last, not both")
	}
	backward := o.Last > 0 || (o.Before != "" && o.First == 0)
	n := o.First
	if backward {
		n = o.Last
	}
	if n == 0 {
		n = 20
	}
	if n > MaxPageSize {
		return nil, apperr.Invalid("first", "at most %d files per page", MaxPageSize)
	}
	switch o.Order {
	case OrderName, OrderSize:
	case OrderCreatedAt, "":
		o.Order = OrderCreatedAt
	default:
		return nil, apperr.Invalid("orderBy", "unknown order %q", o.Order)
	}
	// Walking backward reverses the sort, then the page is flipped back.
	q := listQuery{owner: owner, filter: o.Filter, order: o.Order, desc: o.Desc != backward, limit: n + 1}
	for _, c := range []struct{ field, val string }{{"after", o.After}, {"before", o.Before}} {
		if c.val == "" {
			continue
		}
		// In walking order, after bounds a forward walk and before a
		// backward one; the other cursor bounds from the opposite side.
		v, id, err := decodeCursor(o.Order, c.val)
		if err != nil {
			return nil, apperr.Invalid(c.field, "not a cursor of this listing")
		}
		q.bounds = append(q.bounds, keyBound{after: (c.field == "before") == backward, value: v, id: id})
	}
	rows, err := list(ctx, st, q, sh)
	if err != nil {
		return nil, err
	}
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	if backward {
		slices.Reverse(rows)
	}
	p := &Page[R]{Files: rows, order: o.Order}
	if backward {
		p.HasPreviousPage = more
		p.HasNextPage = o.Before != ""
	} else {
		p.HasNextPage = more
		p.HasPreviousPage = o.After != ""
	}
	return p, nil
}

// Count returns how many of owner's live files match f.
func (s *Service) Count(ctx context.Context, owner int64, f Filter) (int, error) {
	if err := s.checkFilter(f); err != nil {
		return 0, err
	}
	return s.st.count(ctx, owner, f)
}

// Open returns a reader of a live file's bytes. The caller closes it.
func (s *Service) Open(ctx context.Context, f *File) (*Reader, error) {
	if f.ObjectKey == nil {
		return nil, apperr.ErrNotFound
	}
	r, err := s.openKey(ctx, *f.ObjectKey)
	if err != nil {
		return nil, fmt.Errorf("%w: open object: %v", apperr.ErrUnavailable, err)
	}
	return r, nil
}

// openKey opens the object under key; the error is the bucket's.
func (s *Service) openKey(ctx context.Context, key string) (*Reader, error) {
	rctx, idle := blobstore.NewIdle(ctx, s.blobTimeout)
	r, err := s.bucket.NewReader(rctx, key, nil)
	idle.Pause()
	if err != nil {
		idle.Cancel()
		return nil, err
	}
	return &Reader{r: r, ctx: rctx, idle: idle}, nil
}

// openRange is openKey for length bytes from offset (length -1: to the
// end), for readers of parts of an object.
func (s *Service) openRange(ctx context.Context, key string, offset, length int64) (*Reader, error) {
	rctx, idle := blobstore.NewIdle(ctx, s.blobTimeout)
	r, err := s.bucket.NewRangeReader(rctx, key, offset, length, nil)
	idle.Pause()
	if err != nil {
		idle.Cancel()
		return nil, err
	}
	return &Reader{r: r, ctx: rctx, idle: idle}, nil
}

// Reader reads a file's bytes from the bucket; each read must return
// within the bucket's deadline (Options.BlobTimeout), however long the
// whole takes.
type Reader struct {
	r    *blob.Reader
	ctx  context.Context
	idle *blobstore.Idle
}

// Read reads the next bytes. A bucket that stopped answering is
// ErrUnavailable.
func (r *Reader) Read(p []byte) (int, error) {
	r.idle.Start()
	n, err := r.r.Read(p)
	r.idle.Pause()
	if err != nil && err != io.EOF && blobstore.TimedOut(r.ctx) {
		err = fmt.Errorf("%w: read object: %v", apperr.ErrUnavailable, err)
	}
	return n, err
}

// Seek moves the next read to offset (io.Seeker), for ranges.
func (r *Reader) Seek(offset int64, whence int) (int64, error) { return r.r.Seek(offset, whence) }

// Close releases the object.
func (r *Reader) Close() error {
	err := r.r.Close()
	r.idle.Cancel()
	return err
}

// LoadDerivation returns how a file was derived, or nil.
func (s *Service) LoadDerivation(ctx context.Context, owner int64, id string) (*Derivation, error) {
	return s.st.derivation(ctx, owner, id)
}

// LoadDerivations is LoadDerivation for many files in one read, by file
// id; a file that was not derived by a cut has no entry.
func (s *Service) LoadDerivations(ctx context.Context, owner int64, ids []string) (map[string]*Derivation, error) {
	return s.st.derivations(ctx, owner, ids)
}
