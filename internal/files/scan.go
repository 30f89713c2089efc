package files

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// lightFileColumns is every column of files but the column profile and
// the metadata, for ListOptions.Light; fileColumns adds those two. The hot
// reads (one file, a page of files) use them with hand-written SQL and a
// plain scan: bun's reflective scan was the largest part of a listing's
// cost.
const (
	lightFileColumns = `f.id, f.owner_id, f.name, f.object_key, f.size, f.sha256, f.content_type, f.encoding,
	f.delimiter, f.row_count, f.origin, f.system_tags, f.user_tags, f.created_at, f.deleted_at, f.expires_at`
	fileColumns = lightFileColumns + ", f.columns, f.metadata"
)

// scanFile reads one row of fileColumns.
func scanFile(rows *sql.Rows) (*File, error) { return scanRow(rows, false) }

// scanLightFile reads one row of lightFileColumns.
func scanLightFile(rows *sql.Rows) (*File, error) { return scanRow(rows, true) }

func scanRow(rows *sql.Rows, light bool) (*File, error) {
	f := &File{partial: light}
	var (
		owner                       sql.NullInt64
		objectKey, metadata         sql.NullString
		origin, systemTags, userTag string
		deletedAt, expiresAt        sql.NullTime
	)
	dest := []any{&f.ID, &owner, &f.Name, &objectKey, &f.Size, &f.SHA256, &f.ContentType, &f.Encoding,
		&f.Delimiter, &f.RowCount, &origin, &systemTags, &userTag, &f.CreatedAt, &deletedAt, &expiresAt}
	if !light {
		dest = append(dest, &f.Profile, &metadata)
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

// scanFiles reads every row of fileColumns and closes rows.
func scanFiles(rows *sql.Rows) ([]*File, error) { return scanAll(rows, scanFile) }

// scanLightFiles reads every row of lightFileColumns and closes rows.
func scanLightFiles(rows *sql.Rows) ([]*File, error) { return scanAll(rows, scanLightFile) }

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
