package files

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The files table as the store reads and writes it. Reads name their
// columns and scan them plainly: bun's reflective scan was the largest part
// of a listing's cost. Two columns are large and often unneeded, the column
// profile (about 1 KB of JSON) and the metadata; they come last, so a
// Summary reads a prefix of what an Annotated reads, and an Annotated a
// prefix of what a File reads.
const (
	summaryColumns = `f.id, f.owner_id, f.name, f.object_key, f.size, f.sha256, f.content_type, f.encoding,
	f.delimiter, f.row_count, f.short_rows, f.long_rows, f.repaired_rows, f.origin, f.system_tags, f.user_tags,
	f.created_at, f.deleted_at, f.expires_at`
	annotatedColumns = summaryColumns + ", f.metadata"
	fileColumns      = annotatedColumns + ", f.columns"
)

// insertFile writes every column of a File, in the order of fileColumns,
// then the client address and uploader of a scratch file.
const insertFile = `INSERT INTO files (id, owner_id, name, object_key, size, sha256, content_type, encoding,
	delimiter, row_count, short_rows, long_rows, repaired_rows, origin, system_tags, user_tags,
	created_at, deleted_at, expires_at, metadata, columns, client_key, uploaded_by)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// fileArgs are the arguments of insertFile for f.
func fileArgs(f *File) []any {
	var short, long, repaired any // NULL: not counted
	if ri := f.ReadIssues; ri != nil {
		short, long, repaired = ri.ShortRows, ri.LongRows, ri.RepairedRows
	}
	return []any{f.ID, nullable(f.OwnerID), f.Name, nullable(f.ObjectKey), f.Size, f.SHA256, f.ContentType, f.Encoding,
		f.Delimiter, f.RowCount, short, long, repaired, string(f.Origin), encodeTags(f.SystemTags), encodeTags(f.UserTags),
		f.CreatedAt, nullable(f.DeletedAt), nullable(f.ExpiresAt), nullable(f.MetadataJSON), f.Profile.text(), nullable(f.ClientKey), nullable(f.UploadedBy)}
}

// nullable is NULL for a nil pointer, else what it points to.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// A shape is one of the three reads: its select list and how to scan it.
type shape[R Record] struct {
	columns string
	scan    func(*sql.Rows) (R, error)
}

var (
	summaryShape   = shape[*Summary]{summaryColumns, scanSummary}
	annotatedShape = shape[*Annotated]{annotatedColumns, scanAnnotated}
	fileShape      = shape[*File]{fileColumns, scanFile}
)

func scanSummary(rows *sql.Rows) (*Summary, error) {
	s := new(Summary)
	return s, scanRow(rows, s)
}

func scanAnnotated(rows *sql.Rows) (*Annotated, error) {
	a := new(Annotated)
	var metadata sql.NullString
	if err := scanRow(rows, &a.Summary, &metadata); err != nil {
		return nil, err
	}
	if metadata.Valid {
		a.MetadataJSON = &metadata.String
	}
	return a, nil
}

func scanFile(rows *sql.Rows) (*File, error) {
	f := new(File)
	var metadata sql.NullString
	if err := scanRow(rows, &f.Summary, &metadata, &f.Profile); err != nil {
		return nil, err
	}
	if metadata.Valid {
		f.MetadataJSON = &metadata.String
	}
	return f, nil
}

// scanRow reads the summary columns of one row into s, and what follows
// them into more.
func scanRow(rows *sql.Rows, s *Summary, more ...any) error {
	var (
		owner                       sql.NullInt64
		objectKey                   sql.NullString
		short, long, repaired       sql.NullInt64
		origin, systemTags, userTag string
		deletedAt, expiresAt        sql.NullTime
	)
	dest := append([]any{&s.ID, &owner, &s.Name, &objectKey, &s.Size, &s.SHA256, &s.ContentType, &s.Encoding,
		&s.Delimiter, &s.RowCount, &short, &long, &repaired, &origin, &systemTags, &userTag,
		&s.CreatedAt, &deletedAt, &expiresAt}, more...)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	if short.Valid && long.Valid && repaired.Valid {
		s.ReadIssues = &ReadIssues{ShortRows: short.Int64, LongRows: long.Int64, RepairedRows: repaired.Int64}
	}
	if owner.Valid {
		s.OwnerID = &owner.Int64
	}
	if objectKey.Valid {
		s.ObjectKey = &objectKey.String
	}
	s.Origin = Origin(origin)
	var err error
	if s.SystemTags, err = decodeTags(systemTags); err != nil {
		return fmt.Errorf("file %s: system tags: %w", s.ID, err)
	}
	if s.UserTags, err = decodeTags(userTag); err != nil {
		return fmt.Errorf("file %s: user tags: %w", s.ID, err)
	}
	s.DeletedAt = optionalTime(deletedAt)
	s.ExpiresAt = optionalTime(expiresAt)
	return nil
}

// scanAll reads every row and closes rows.
func scanAll[R any](rows *sql.Rows, scan func(*sql.Rows) (R, error)) ([]R, error) {
	defer rows.Close()
	var list []R
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// encodeTags writes a tag column: a JSON array of strings.
func encodeTags(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// decodeTags reads a tag column: a JSON array of strings, as bun writes it.
func decodeTags(s string) ([]string, error) {
	if s == "" || s == "null" {
		return []string{}, nil
	}
	if tags, ok := splitTags(s); ok {
		return tags, nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []string{}
	}
	return tags, nil
}

// splitTags reads the shape nearly every tag column has, an array of
// strings without escapes (["a", "b"]), as substrings of s. It reports false
// for anything else, which json.Unmarshal then reads: a page of files spent
// more time decoding tags with it than scanning the rows.
func splitTags(s string) ([]string, bool) {
	const space = " \t\r\n"
	s = strings.Trim(s, space)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	body := strings.Trim(s[1:len(s)-1], space)
	if body == "" {
		return []string{}, true
	}
	tags := make([]string, 0, strings.Count(body, ",")+1)
	for {
		if body == "" || body[0] != '"' {
			return nil, false
		}
		end := strings.IndexByte(body[1:], '"') + 1
		if end == 0 {
			return nil, false
		}
		tag := body[1:end]
		for i := 0; i < len(tag); i++ {
			if c := tag[i]; c == '\\' || c < 0x20 {
				return nil, false
			}
		}
		if !utf8.ValidString(tag) {
			return nil, false
		}
		tags = append(tags, tag)
		body = strings.TrimLeft(body[end+1:], space)
		if body == "" {
			return tags, true
		}
		if body[0] != ',' {
			return nil, false
		}
		body = strings.TrimLeft(body[1:], space)
	}
}

func optionalTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}
