package files

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gocloud.dev/blob"

	"github.com/cutline/cutline/internal/apperr"
)

// Get returns one of owner's live files, or apperr.ErrNotFound, which is
// also the answer for someone else's file.
func (s *Service) Get(ctx context.Context, owner int64, id string) (*File, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	rows, err := s.stmts.Query(ctx, "SELECT "+allColumns.sql()+" FROM files f WHERE f.id = ? AND f.owner_id = ? AND f.deleted_at IS NULL", id, owner)
	if err != nil {
		return nil, fmt.Errorf("load file: %w", err)
	}
	list, err := allColumns.scan(rows)
	if err != nil {
		return nil, fmt.Errorf("load file: %w", err)
	}
	if len(list) == 0 {
		return nil, apperr.ErrNotFound
	}
	return list[0], nil
}

// GetByName returns owner's newest live file with that display name.
func (s *Service) GetByName(ctx context.Context, owner int64, name string) (*File, error) {
	f := new(File)
	err := s.db.NewSelect().Model(f).Where("name = ?", name).Where("owner_id = ?", owner).
		Where("deleted_at IS NULL").OrderExpr("created_at DESC").Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, nil
}

// GetUnscoped returns a live, unexpired file whoever owns it. Only callers
// that hold proof of access (a signed handle) may use it.
func (s *Service) GetUnscoped(ctx context.Context, id string) (*File, error) {
	id, ok := canonicalID(id)
	if !ok {
		return nil, apperr.ErrNotFound
	}
	f := new(File)
	err := s.db.NewSelect().Model(f).Where("id = ?", id).Where("deleted_at IS NULL").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && f.ExpiresAt != nil && s.now().After(*f.ExpiresAt)) {
		return nil, apperr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load file: %w", err)
	}
	return f, nil
}

// GetMany loads owner's files by id, tombstones included (lineage shows
// them). Ids that do not exist or are not owner's are absent from the map.
func (s *Service) GetMany(ctx context.Context, owner int64, ids []string) (map[string]*File, error) {
	return s.getMany(ctx, owner, ids, false)
}

// GetManyLight is GetMany without the column profiles and the metadata,
// as ListOptions.Light, for callers that show neither.
func (s *Service) GetManyLight(ctx context.Context, owner int64, ids []string) (map[string]*File, error) {
	return s.getMany(ctx, owner, ids, true)
}

func (s *Service) getMany(ctx context.Context, owner int64, ids []string, light bool) (map[string]*File, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if c, ok := canonicalID(id); ok {
			valid = append(valid, c)
		}
	}
	out := make(map[string]*File, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	cols := allColumns
	if light {
		cols = lightColumns
	}
	cond, arg := s.idSetQuery(valid)
	rows, err := s.stmts.Query(ctx, "SELECT "+cols.sql()+" FROM files f WHERE f.owner_id = ? AND "+cond, owner, arg)
	if err != nil {
		return nil, fmt.Errorf("load files: %w", err)
	}
	list, err := cols.scan(rows)
	if err != nil {
		return nil, fmt.Errorf("load files: %w", err)
	}
	for _, f := range list {
		out[f.ID] = f
	}
	return out, nil
}

// idSetQuery is the condition "f.id is one of ids" with the ids in a
// single argument, so that GetMany is one prepared statement however many
// ids it is given (an IN list would be a new text, parsed and planned
// afresh, for every count). ids are canonical UUIDs: nothing in them
// needs quoting in either list syntax.
func (s *Service) idSetQuery(ids []string) (string, string) {
	if s.pg {
		return "f.id = ANY(CAST(? AS uuid[]))", "{" + strings.Join(ids, ",") + "}"
	}
	return "f.id IN (SELECT value FROM json_each(?))", `["` + strings.Join(ids, `","`) + `"]`
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
	// Light leaves out the column profile and the metadata, a listing's
	// largest columns, for callers that show neither: the files' Columns
	// and Metadata then panic rather than answer wrongly.
	Light bool
	// Metadata, with Light, reads the metadata all the same.
	Metadata bool
}

// Page is one page of a listing.
type Page struct {
	Files           []*File
	HasNextPage     bool
	HasPreviousPage bool
	order           OrderField
}

// Cursor is the opaque position of Files[i], for After and Before. It is
// encoded on demand: most listings show no cursor but the last.
func (p *Page) Cursor(i int) string { return encodeCursor(p.order, p.Files[i]) }

// MaxPageSize bounds first and last.
const MaxPageSize = 500

type cursor struct {
	V  any    `json:"v"`
	ID string `json:"id"`
}

func encodeCursor(order OrderField, f *File) string {
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
	if err != nil || c.ID == "" {
		return nil, "", apperr.Invalid("after", "not a cursor of this listing")
	}
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
func (s *Service) List(ctx context.Context, owner int64, o ListOptions) (*Page, error) {
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
	col := "created_at"
	switch o.Order {
	case OrderName:
		col = "name"
	case OrderSize:
		col = "size"
	case OrderCreatedAt, "":
		o.Order = OrderCreatedAt
	default:
		return nil, apperr.Invalid("orderBy", "unknown order %q", o.Order)
	}
	// Walking backward reverses the sort, then the page is flipped back.
	desc := o.Desc != backward
	dir := "ASC"
	cmp := ">"
	if desc {
		dir, cmp = "DESC", "<"
	}

	var b strings.Builder
	cols := allColumns
	if o.Light {
		cols = columnSet{metadata: o.Metadata}
	}
	b.WriteString("SELECT " + cols.sql() + " FROM files f WHERE ")
	args := filterSQL(&b, owner, o.Filter)
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
		op := cmp
		if (c.field == "before") != backward {
			op = map[string]string{"<": ">", ">": "<"}[cmp]
		}
		fmt.Fprintf(&b, " AND (f.%s %s ? OR (f.%s = ? AND f.id %s ?))", col, op, col, op)
		args = append(args, v, v, id)
	}
	fmt.Fprintf(&b, " ORDER BY f.%s %s, f.id %s LIMIT ?", col, dir, dir)
	args = append(args, n+1)
	rows, err := s.query(o.Filter)(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	list, err := cols.scan(rows)
	if err != nil {
		return nil, fmt.Errorf("list files: %w", err)
	}
	more := len(list) > n
	if more {
		list = list[:n]
	}
	if backward {
		for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
			list[i], list[j] = list[j], list[i]
		}
	}
	p := &Page{Files: list, order: o.Order}
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
	var b strings.Builder
	b.WriteString("SELECT count(*) FROM files f WHERE ")
	args := filterSQL(&b, owner, f)
	rows, err := s.query(f)(ctx, b.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("count files: %w", err)
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		err = rows.Scan(&n)
	}
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("count files: %w", err)
	}
	return n, nil
}

// query picks how a listing's SQL runs: prepared, unless f's tags (one
// condition each, as many as the client sent) make its text unbounded.
func (s *Service) query(f Filter) func(context.Context, string, ...any) (*sql.Rows, error) {
	if len(f.Tags) > 0 {
		return s.stmts.QueryOnce
	}
	return s.stmts.Query
}

// filterSQL writes the conditions selecting owner's live files that match
// f, for a query over files aliased f, and returns their arguments.
func filterSQL(b *strings.Builder, owner int64, f Filter) []any {
	b.WriteString("f.owner_id = ? AND f.deleted_at IS NULL")
	args := []any{owner}
	for _, t := range f.Tags {
		b.WriteString(" AND EXISTS (SELECT 1 FROM file_tags ft WHERE ft.file_id = f.id AND ft.tag = ?)")
		args = append(args, t)
	}
	if f.NameContains != "" {
		b.WriteString(" AND LOWER(f.name) LIKE ? ESCAPE '\\'")
		args = append(args, "%"+escapeLike(strings.ToLower(f.NameContains))+"%")
	}
	if f.Origin != "" {
		b.WriteString(" AND f.origin = ?")
		args = append(args, string(f.Origin))
	}
	return args
}

// Open returns a reader of a live file's bytes. The caller closes it.
func (s *Service) Open(ctx context.Context, f *File) (*blob.Reader, error) {
	if f.ObjectKey == nil {
		return nil, apperr.ErrNotFound
	}
	r, err := s.bucket.NewReader(ctx, *f.ObjectKey, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: open object: %v", apperr.ErrUnavailable, err)
	}
	return r, nil
}

// LoadDerivation returns how a file was derived, or nil.
func (s *Service) LoadDerivation(ctx context.Context, owner int64, id string) (*Derivation, error) {
	d := new(Derivation)
	err := s.db.NewSelect().Model(d).
		Where("file_id = ?", id).
		Where("EXISTS (SELECT 1 FROM files f WHERE f.id = derivation.file_id AND f.owner_id = ?)", owner).
		Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load derivation: %w", err)
	}
	return d, nil
}

// canonicalID accepts only the plain 36-character UUID form and lower-cases
// it, so every dialect compares ids the same way.
func canonicalID(id string) (string, bool) {
	if len(id) != 36 {
		return "", false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
