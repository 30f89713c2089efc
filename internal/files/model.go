// Package files owns users' CSV files: the upload pipeline that streams
// bytes into the bucket while learning their shape, listing, tags, reading
// rows, cutting, downloads and deletion. Every query is scoped to the owner.
package files

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/cutline/cutline/internal/csvio"
)

// Origin says where a file came from.
type Origin string

// The origins, and the system tag each one carries.
const (
	OriginUploaded  Origin = "UPLOADED"
	OriginGenerated Origin = "GENERATED"
)

// SystemTag is the tag the server sets for an origin.
func (o Origin) SystemTag() string {
	if o == OriginGenerated {
		return "generated"
	}
	return "uploaded"
}

// File is one row of the files table. A deleted file keeps its row as a
// tombstone (DeletedAt set, ObjectKey nil) so lineage through it stays whole.
type File struct {
	bun.BaseModel `bun:"table:files"`

	ID          string  `bun:"id,pk"`
	OwnerID     *int64  `bun:"owner_id"`
	Name        string  `bun:"name"`
	ObjectKey   *string `bun:"object_key"`
	Size        int64   `bun:"size"`
	SHA256      string  `bun:"sha256"`
	ContentType string  `bun:"content_type"`
	Encoding    string  `bun:"encoding"`
	Delimiter   string  `bun:"delimiter"`
	RowCount    int64   `bun:"row_count"`
	// Profile is the column profile; Columns decodes it on first use.
	Profile    Profile  `bun:"columns"`
	Origin     Origin   `bun:"origin"`
	SystemTags []string `bun:"system_tags,type:text"`
	UserTags   []string `bun:"user_tags,type:text"`
	// MetadataJSON is the JSON text a client attached, kept verbatim.
	MetadataJSON *string    `bun:"metadata"`
	CreatedAt    time.Time  `bun:"created_at"`
	DeletedAt    *time.Time `bun:"deleted_at"`
	ExpiresAt    *time.Time `bun:"expires_at"`

	// noProfile and noMetadata: read without Profile or MetadataJSON (see
	// columnSet).
	noProfile  bool `bun:"-"`
	noMetadata bool `bun:"-"`
}

// errPartial is the panic of Columns and Metadata on a file read without
// them: a caller asked for a light listing and then for what it left out.
const errPartial = "files: columns and metadata of a file from a light listing"

// Columns is what the server learned about each column.
func (f *File) Columns() []csvio.Column {
	if f.noProfile {
		panic(errPartial)
	}
	return f.Profile.Columns()
}

// Profile is a file's column profile as stored: JSON text, decoded only
// when someone reads it. Listings load many files and rarely show columns,
// and decoding them was most of a listing's cost.
type Profile struct {
	raw string
	d   *decoded // shared by copies, so a copy never decodes twice
}

type decoded struct {
	once sync.Once
	cols []csvio.Column
}

// NewProfile wraps decoded columns for storing.
func NewProfile(cols []csvio.Column) Profile {
	if cols == nil {
		cols = []csvio.Column{}
	}
	b, _ := json.Marshal(cols)
	d := &decoded{cols: cols}
	d.once.Do(func() {})
	return Profile{raw: string(b), d: d}
}

// Columns decodes the profile once; a damaged profile reads as empty.
func (p *Profile) Columns() []csvio.Column {
	if p.d == nil {
		p.d = &decoded{}
	}
	p.d.once.Do(func() {
		if p.raw != "" {
			_ = json.Unmarshal([]byte(p.raw), &p.d.cols)
		}
	})
	return p.d.cols
}

// Scan reads the stored JSON text.
func (p *Profile) Scan(src any) error {
	switch v := src.(type) {
	case string:
		p.raw = v
	case []byte:
		p.raw = string(v)
	case nil:
		p.raw = ""
	default:
		return fmt.Errorf("files: cannot read a column profile from %T", src)
	}
	p.d = &decoded{}
	return nil
}

// Value stores the JSON text.
func (p Profile) Value() (driver.Value, error) {
	if p.raw == "" {
		return "[]", nil
	}
	return p.raw, nil
}

// Deleted reports whether the file is a tombstone.
func (f *File) Deleted() bool { return f.DeletedAt != nil }

// Metadata decodes MetadataJSON; text that is not JSON comes back as a string.
func (f *File) Metadata() any {
	if f.noMetadata {
		panic(errPartial)
	}
	if f.MetadataJSON == nil {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(*f.MetadataJSON), &v); err != nil {
		return *f.MetadataJSON
	}
	return v
}

// Tags returns system and user tags together.
func (f *File) Tags() []string {
	out := make([]string, 0, len(f.SystemTags)+len(f.UserTags))
	out = append(out, f.SystemTags...)
	return append(out, f.UserTags...)
}

// tagRow is one row of file_tags, the index that tag filters use.
type tagRow struct {
	bun.BaseModel `bun:"table:file_tags"`
	FileID        string `bun:"file_id,pk"`
	Tag           string `bun:"tag,pk"`
}

// Derivation records how deriveFile made a file, so it can be re-run.
type Derivation struct {
	bun.BaseModel `bun:"table:derivations"`

	FileID    string    `bun:"file_id,pk"`
	SourceIDs []string  `bun:"source_ids,type:text"`
	Columns   []string  `bun:"columns,type:text"`
	FilterSQL string    `bun:"filter_sql"`
	CreatedBy int64     `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
}

// EventType says what happened to a file.
type EventType string

// The event types subscribers see.
const (
	EventCreated EventType = "CREATED"
	EventUpdated EventType = "UPDATED"
	EventDeleted EventType = "DELETED"
)

// Event is published after the transaction that changed a file commits.
type Event struct {
	Type    EventType
	FileID  string
	OwnerID int64
}
