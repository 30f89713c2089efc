package files

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// A read of files names its columns by hand and scans them plainly: bun's
// reflective scan was the largest part of a listing's cost. Two columns
// are large and often unneeded, the column profile (about 1 KB of JSON)
// and the metadata; a columnSet says which of them a read includes.
type columnSet struct{ metadata, profile bool }

var (
	allColumns   = columnSet{metadata: true, profile: true}
	lightColumns = columnSet{}
)

// lightFileColumns is every column of files but the two large ones, which
// follow it in this order when read.
const lightFileColumns = `f.id, f.owner_id, f.name, f.object_key, f.size, f.sha256, f.content_type, f.encoding,
	f.delimiter, f.row_count, f.origin, f.system_tags, f.user_tags, f.created_at, f.deleted_at, f.expires_at`

// sql is the select list of the set.
func (c columnSet) sql() string {
	switch {
	case c.metadata && c.profile:
		return lightFileColumns + ", f.metadata, f.columns"
	case c.metadata:
		return lightFileColumns + ", f.metadata"
	case c.profile:
		return lightFileColumns + ", f.columns"
	}
	return lightFileColumns
}

// scanRow reads one row of c's columns.
func (c columnSet) scanRow(rows *sql.Rows) (*File, error) {
	f := &File{noProfile: !c.profile, noMetadata: !c.metadata}
	var (
		owner                       sql.NullInt64
		objectKey, metadata         sql.NullString
		origin, systemTags, userTag string
		deletedAt, expiresAt        sql.NullTime
	)
	dest := []any{&f.ID, &owner, &f.Name, &objectKey, &f.Size, &f.SHA256, &f.ContentType, &f.Encoding,
		&f.Delimiter, &f.RowCount, &origin, &systemTags, &userTag, &f.CreatedAt, &deletedAt, &expiresAt}
	if c.metadata {
		dest = append(dest, &metadata)
	}
	if c.profile {
		dest = append(dest, &f.Profile)
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	if owner.Valid {
		f.OwnerID = &owner.Int64
	}
	if objectKey.Valid {
		f.ObjectKey = &objectKey.String
	}
	if metadata.Valid {
		f.MetadataJSON = &metadata.String
	}
	f.Origin = Origin(origin)
	var err error
	if f.SystemTags, err = decodeTags(systemTags); err != nil {
		return nil, fmt.Errorf("file %s: system tags: %w", f.ID, err)
	}
	if f.UserTags, err = decodeTags(userTag); err != nil {
		return nil, fmt.Errorf("file %s: user tags: %w", f.ID, err)
	}
	f.DeletedAt = optionalTime(deletedAt)
	f.ExpiresAt = optionalTime(expiresAt)
	return f, nil
}

// scan reads every row of c's columns and closes rows.
func (c columnSet) scan(rows *sql.Rows) ([]*File, error) { return scanAll(rows, c.scanRow) }

func scanAll(rows *sql.Rows, scan func(*sql.Rows) (*File, error)) ([]*File, error) {
	defer rows.Close()
	var list []*File
	for rows.Next() {
		f, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, f)
	}
	return list, rows.Err()
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
