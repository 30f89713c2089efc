package files

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/filter"
)

// Selection is a compiled choice of columns and rows for one file.
type Selection struct {
	// Names are the chosen columns in output order; Index their positions.
	Names []string
	Index []int
	Match filter.Predicate // nil keeps every row
}

// Select resolves column names (exactly, else case-insensitively when that
// is unambiguous) and compiles the filter against f's columns. Nothing runs
// per row until the selection is used.
func Select(f *File, columns []string, where filter.Expr) (*Selection, error) {
	sel := &Selection{}
	fcols := f.Columns()
	if len(columns) == 0 {
		for _, c := range fcols {
			sel.Names = append(sel.Names, c.Name)
			sel.Index = append(sel.Index, c.Index)
		}
	}
	for _, name := range columns {
		i, err := resolveColumn(fcols, name)
		if err != nil {
			return nil, err
		}
		sel.Names = append(sel.Names, fcols[i].Name)
		sel.Index = append(sel.Index, fcols[i].Index)
	}
	if where != nil {
		cols := make([]filter.Column, len(fcols))
		for i, c := range fcols {
			// DateFormat tells the filter how this column's dates are
			// written ("" on files profiled before it was recorded: ISO).
			cols[i] = filter.Column{Name: c.Name, Kind: kindOf(c.Type), TimeFormat: c.DateFormat}
		}
		p, err := filter.Compile(where, cols)
		if err != nil {
			return nil, filterError(err)
		}
		sel.Match = p
	}
	return sel, nil
}

func resolveColumn(cols []csvio.Column, name string) (int, error) {
	for i, c := range cols {
		if c.Name == name {
			return i, nil
		}
	}
	found := -1
	for i, c := range cols {
		if strings.EqualFold(c.Name, name) {
			if found >= 0 {
				return 0, apperr.Invalid("columns", "column %q is ambiguous", name)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, apperr.Invalid("columns", "unknown column %q", name)
	}
	return found, nil
}

func kindOf(t csvio.ColumnType) filter.Kind {
	switch t {
	case csvio.TypeInteger, csvio.TypeFloat:
		return filter.KindNumber
	case csvio.TypeBoolean:
		return filter.KindBool
	case csvio.TypeDateTime:
		return filter.KindTime
	}
	return filter.KindText
}

// filterError turns a filter problem into a BAD_USER_INPUT error whose
// field names the part that is wrong, and whose message says it once:
// whereSql for SQL text (the message gives the position), the typed input's
// path (where, where.and[1], ...) otherwise.
func filterError(err error) error {
	var fe *filter.Error
	switch {
	case !errors.As(err, &fe):
		return err
	case fe.Pos > 0:
		return apperr.Invalid(FieldWhereSQL, "%s", fe.Error())
	case fe.Path != "":
		return apperr.Invalid(fe.Path, "%s", fe.Msg)
	}
	return apperr.Invalid(FieldWhere, "%s", fe.Msg)
}

// ParseSQL parses a SQL WHERE expression into a filter, as user input.
func ParseSQL(text string) (filter.Expr, error) {
	e, err := filter.ParseSQL(text)
	if err != nil {
		var fe *filter.Error
		if errors.As(err, &fe) {
			return nil, apperr.Invalid(FieldWhereSQL, "%s", fe.Error())
		}
		return nil, err
	}
	return e, nil
}

// scan streams f's data rows through sel, calling emit for each match with
// its zero-based row index. emit returns false to stop early.
func (s *Service) scan(ctx context.Context, f *File, emit func(index int64, row []string) (bool, error)) error {
	r, err := s.Open(ctx, f)
	if err != nil {
		return err
	}
	defer r.Close()
	cr := csvio.NewReader(bufio.NewReaderSize(r, 256<<10), f.Dialect())
	if _, err := cr.Header(); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	// Every row as wide as the profile, which has a column for every cell
	// of the longest row.
	cr.SetWidth(len(f.Columns()))
	for i := int64(0); ; i++ {
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read row %d: %w", i+1, err)
		}
		more, err := emit(i, row)
		if err != nil || !more {
			return err
		}
	}
}

// Row is one data row of a page: values in the selection's order, nil
// for an empty cell.
type Row struct {
	Index  int64
	Values []*string
}

// RowPage is one page of rows.
type RowPage struct {
	Columns     []string
	Rows        []Row
	HasNextPage bool
	HasPrevPage bool
}

// RowCursor encodes a row position for paging.
func RowCursor(index int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("row:" + strconv.FormatInt(index, 10)))
}

func parseRowCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(b), "row:") {
		if n, err := strconv.ParseInt(string(b[4:]), 10, 64); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, apperr.Invalid("after", "not a row cursor")
}

// MaxRowPage bounds how many rows one page may ask for.
const MaxRowPage = 1000

// Rows returns up to first matching rows after the cursor. It streams from
// the bucket and stops as soon as the page is full.
func (s *Service) Rows(ctx context.Context, f *File, sel *Selection, first int, after string) (*RowPage, error) {
	if first < 0 || first > MaxRowPage {
		return nil, apperr.Invalid("first", "must be between 0 and %d", MaxRowPage)
	}
	start := int64(-1)
	if after != "" {
		n, err := parseRowCursor(after)
		if err != nil {
			return nil, err
		}
		start = n
	}
	page := &RowPage{Columns: sel.Names, HasPrevPage: start >= 0}
	err := s.scan(ctx, f, func(i int64, row []string) (bool, error) {
		if i <= start || (sel.Match != nil && !sel.Match(row)) {
			return true, nil
		}
		if len(page.Rows) == first {
			page.HasNextPage = true
			return false, nil
		}
		vals := make([]*string, len(sel.Index))
		for j, k := range sel.Index {
			if row[k] != "" {
				v := strings.Clone(row[k])
				vals[j] = &v
			}
		}
		page.Rows = append(page.Rows, Row{Index: i, Values: vals})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// Cut writes the selection of f to w as RFC 4180 CSV with a header row,
// while reading: memory does not grow with the file.
func (s *Service) Cut(ctx context.Context, f *File, sel *Selection, w io.Writer) (rows int64, err error) {
	return s.cut(ctx, f, sel, w, nil)
}

// cut is Cut, telling rec (when set) the index of every row it keeps.
func (s *Service) cut(ctx context.Context, f *File, sel *Selection, w io.Writer, rec *rowsRecorder) (rows int64, err error) {
	out := countingWriter{w, s.meter}
	cw := csvio.NewWriter(out)
	if err := cw.Write(sel.Names); err != nil {
		return 0, err
	}
	if n := s.cutWorkersFor(f); n > 1 {
		if err := cw.Flush(); err != nil {
			return 0, err
		}
		return s.cutParallel(ctx, f, sel, out, rec, n)
	}
	err = s.scan(ctx, f, func(i int64, row []string) (bool, error) {
		if sel.Match != nil && !sel.Match(row) {
			return true, nil
		}
		if rec != nil {
			rec.add(i)
		}
		rows++
		return true, cw.WriteSelected(row, sel.Index)
	})
	if err != nil {
		return rows, err
	}
	return rows, cw.Flush()
}

// DeriveInput describes a server-side cut saved as a new file.
type DeriveInput struct {
	SourceID string
	Name     string
	Columns  []string
	Where    filter.Expr
	Tags     []string
	// IdempotencyKey, when set, is the request's (NewFile.IdempotencyKey).
	IdempotencyKey *string
}

// Derive cuts a source file of owner's into a new GENERATED file, streaming
// source -> filter -> bucket, and records the lineage edge and the
// derivation in the same transaction as the file.
func (s *Service) Derive(ctx context.Context, owner int64, in DeriveInput) (*File, error) {
	src, err := s.Get(ctx, owner, in.SourceID)
	if err != nil {
		return nil, err
	}
	sel, err := Select(src, in.Columns, in.Where)
	if err != nil {
		return nil, err
	}
	sql := ""
	if in.Where != nil {
		sql = filter.SQL(in.Where)
	}
	pr, pw := io.Pipe()
	rec := newRowsRecorder()
	go func() {
		_, err := s.cut(ctx, src, sel, pw, rec)
		pw.CloseWithError(err)
	}()
	f, err := s.Create(ctx, NewFile{
		OwnerID: &owner, Name: in.Name, Origin: OriginGenerated, Tags: in.Tags,
		ParentIDs: []string{src.ID}, IdempotencyKey: in.IdempotencyKey,
		columns: cutColumns(src, sel, in.Where),
		rows:    rec,
		Derivation: &Derivation{
			SourceIDs: []string{src.ID}, Columns: sel.Names, FilterSQL: sql, CreatedBy: owner,
		},
	}, pr)
	pr.CloseWithError(errors.New("derive finished"))
	return f, err
}

// ParseWhere turns a row filter into one expression. A filter is given
// either typed (filter.Input) or as SQL WHERE text, never both; the errors
// name FieldWhere and FieldWhereSQL, whatever an adapter calls them. Blank
// SQL text (empty, or only spaces and line breaks) is no filter, as if it
// were not given.
func ParseWhere(in *filter.Input, sqlText string) (filter.Expr, error) {
	blank := strings.TrimSpace(sqlText) == ""
	switch {
	case in != nil && !blank:
		return nil, apperr.Invalid(FieldWhere, "give where or whereSql, not both")
	case in != nil:
		e, err := filter.FromInput(in)
		if err != nil {
			return nil, filterError(err)
		}
		return e, nil
	case !blank:
		return ParseSQL(sqlText)
	}
	return nil, nil
}

// countingWriter feeds the cut-bytes metric; the csv writer hands it large
// buffers, so the count costs nothing per row.
type countingWriter struct {
	w     io.Writer
	meter Meter
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.meter.Cut(int64(n))
	return n, err
}
