package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Source is one old backend, read-only. Both sources are small readers
// behind this interface, so the import loop, its idempotence and its
// report are shared.
type Source interface {
	// Describe names the source for the report, without secrets.
	Describe() string
	// Users lists every account.
	Users(ctx context.Context) ([]User, error)
	// Files lists every saved file.
	Files(ctx context.Context) ([]File, error)
	// Edges lists the lineage edges the source stores apart from the
	// files' metadata (file_relationships, a Neo4j export); may be none.
	Edges(ctx context.Context) ([]Edge, error)
	// Open streams a file's bytes. An error for which Permanent is true
	// means they are gone for good (the file is imported as a tombstone);
	// any other error leaves the file for the next run.
	Open(ctx context.Context, f File) (io.ReadCloser, error)
	// Close releases the source's handles.
	Close() error
}

// User is an account as the old backend stored it.
type User struct {
	// OldID is the old primary key as text; files refer to it.
	OldID        string
	Username     string
	Email        string
	PasswordHash string
	JoinedAt     time.Time
	LastLoginAt  *time.Time
	// Active is false for accounts the old system had deactivated.
	Active bool
}

// File is a saved file as the old backend stored it.
type File struct {
	// FileID is the old file_id; a UUID is kept as this server's id.
	FileID     string
	OwnerOldID string
	Name       string
	// Path locates the bytes: relative to the media folder (or absolute)
	// for Django, an object key for the Workers port.
	Path       string
	UploadedAt time.Time
	SystemTags []string
	UserTags   []string
	// Metadata is the JSON text, nil when there was none.
	Metadata *string
}

// Edge is a lineage edge between two old file ids, parent -> child.
type Edge struct {
	Parent, Child string
	// From says where the edge was read, for the report.
	From string
	// Kind is empty for a derivation (CUT_TO, or a flipped CUT_FROM);
	// otherwise the relationship type, which the import skips and reports.
	Kind string
}

// permanentError marks a source failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err as a failure retrying cannot fix: the bytes are gone.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// column is a logical column a reader wants from a table, under any of
// several names, as text or as it comes.
type column struct {
	names    []string
	required bool
	text     bool // CAST(... AS TEXT): arrays, json, jsonb and uuid read alike in both dialects
}

// selectFrom builds "SELECT ... FROM table" for the wanted columns that the
// table actually has, reading its column names once, so schemas that
// differ a little (an extra column, a missing optional one) still import.
// A missing optional column reads as NULL; a missing required one is an
// error naming it.
func selectFrom(ctx context.Context, db *sql.DB, table string, cols []column) (string, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" WHERE 1 = 0")
	if err != nil {
		return "", fmt.Errorf("read table %s: %w", table, err)
	}
	have, err := rows.Columns()
	rows.Close()
	if err != nil {
		return "", fmt.Errorf("read columns of %s: %w", table, err)
	}
	byLower := make(map[string]string, len(have))
	for _, h := range have {
		byLower[strings.ToLower(h)] = h
	}
	exprs := make([]string, 0, len(cols))
	for _, c := range cols {
		actual := ""
		for _, n := range c.names {
			if a, ok := byLower[strings.ToLower(n)]; ok {
				actual = a
				break
			}
		}
		switch {
		case actual == "" && c.required:
			return "", fmt.Errorf("table %s has no column %s (it has %s)", table, c.names[0], strings.Join(have, ", "))
		case actual == "":
			exprs = append(exprs, "NULL")
		case c.text:
			exprs = append(exprs, "CAST("+quoteIdent(actual)+" AS TEXT)")
		default:
			exprs = append(exprs, quoteIdent(actual))
		}
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM " + quoteIdent(table), nil
}

// tableExists reports whether table can be read.
func tableExists(ctx context.Context, db *sql.DB, table string) bool {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	rows.Close()
	return true
}

// quoteIdent quotes an identifier the way both PostgreSQL and SQLite read it.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// scanAll runs query and hands each row's values to fn. Values come as the
// driver returns them (string, []byte, int64, float64, bool, time.Time or
// nil); the as* helpers below convert them.
func scanAll(ctx context.Context, db *sql.DB, query string, fn func(v []any) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		for i := range vals {
			vals[i] = nil
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// asString renders a scanned value as text ("" for NULL).
func asString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return fmt.Sprint(x)
	}
}

// asNullString is asString with NULL kept apart from "".
func asNullString(v any) *string {
	if v == nil {
		return nil
	}
	s := asString(v)
	return &s
}

// asBool reads booleans as PostgreSQL (bool) and SQLite (0/1, "t") store them.
// NULL is def.
func asBool(v any, def bool) bool {
	switch x := v.(type) {
	case nil:
		return def
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	switch strings.ToLower(strings.TrimSpace(asString(v))) {
	case "1", "t", "true", "y", "yes", "on":
		return true
	case "0", "f", "false", "n", "no", "off":
		return false
	}
	return def
}

// timeLayouts are the text spellings of times the old backends wrote:
// RFC 3339, SQLite's CURRENT_TIMESTAMP, PostgreSQL's text output, and
// Python's isoformat.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// asTime reads a timestamp: a time, text in one of timeLayouts (no zone
// means UTC, as both old backends wrote UTC), or a Unix time in seconds or
// milliseconds. NULL and unreadable values give the zero time.
func asTime(v any) time.Time {
	switch x := v.(type) {
	case nil:
		return time.Time{}
	case time.Time:
		return x.UTC()
	case int64:
		return unixTime(float64(x))
	case float64:
		return unixTime(x)
	}
	s := strings.TrimSpace(asString(v))
	if s == "" {
		return time.Time{}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return unixTime(f)
	}
	return time.Time{}
}

// unixTime reads seconds, or milliseconds when the number is too big to be
// seconds of this era (JavaScript's Date.now(), which the Workers port used).
func unixTime(f float64) time.Time {
	if f > 1e11 {
		return time.UnixMilli(int64(f)).UTC()
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// asTags reads a tag list stored as a JSON array, a PostgreSQL array
// literal ({a,"b c"}), or, failing both, comma-separated text.
func asTags(v any) []string {
	s := strings.TrimSpace(asString(v))
	if s == "" || s == "null" || s == "{}" || s == "[]" {
		return nil
	}
	if strings.HasPrefix(s, "[") {
		var list []any
		if err := json.Unmarshal([]byte(s), &list); err == nil {
			out := make([]string, 0, len(list))
			for _, x := range list {
				if x != nil {
					out = append(out, asString(jsonScalar(x)))
				}
			}
			return out
		}
	}
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		return parsePGArray(s[1 : len(s)-1])
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// jsonScalar turns a decoded JSON number into int64 when it is whole, so
// [1, 2] reads as "1", "2".
func jsonScalar(x any) any {
	if f, ok := x.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return x
}

// parsePGArray reads the inside of a one-dimensional PostgreSQL array
// literal: elements separated by commas, optionally double-quoted with
// backslash escapes; an unquoted NULL is a null element (dropped).
func parsePGArray(s string) []string {
	var out []string
	var b strings.Builder
	quoted, inQuotes, escaped := false, false, false
	flush := func() {
		el := b.String()
		if !quoted {
			el = strings.TrimSpace(el)
		}
		if quoted || (el != "" && !strings.EqualFold(el, "NULL")) {
			out = append(out, el)
		}
		b.Reset()
		quoted = false
	}
	for _, r := range s {
		switch {
		case escaped:
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			inQuotes = !inQuotes
			quoted = true
		case r == ',' && !inQuotes:
			flush()
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return out
}
