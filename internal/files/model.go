// Package files owns users' CSV files: the upload pipeline that streams
// bytes into the bucket while learning their shape, listing, tags, reading
// rows, cutting, downloads and deletion. Every query is scoped to the owner.
package files

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

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

// Summary is a file without its two large columns, the column profile and
// the metadata: what a listing shows. A deleted file keeps its row as a
// tombstone (DeletedAt set, ObjectKey nil) so lineage through it stays whole.
//
// Reads that need less than a whole file return a Summary, so that asking
// one for its columns does not compile.
type Summary struct {
	ID          string
	OwnerID     *int64
	Name        string
	ObjectKey   *string
	Size        int64
	SHA256      string
	ContentType string
	Encoding    string
	Delimiter   string
	RowCount    int64
	// ReadIssues counts the rows the reader had to repair or extend; nil
	// for files stored before they were counted (see Dialect).
	ReadIssues *ReadIssues
	Origin     Origin
	SystemTags []string
	UserTags   []string
	CreatedAt  time.Time
	DeletedAt  *time.Time
	ExpiresAt  *time.Time
}

// ReadIssues says how far a file's rows were from a clean rectangle of
// cells, so that a user can see it was ragged or had broken quoting.
type ReadIssues struct {
	// ShortRows had fewer cells than the header; the missing ones are empty.
	ShortRows int64
	// LongRows had more cells than the header; their extra cells are kept
	// in the columns named column_N they added.
	LongRows int64
	// RepairedRows (the header included) had broken quoting that the reader
	// repaired the way Python's csv module does (see csvio's package doc).
	RepairedRows int64
}

// Dialect is how the file's bytes are read. A file stored before uploads
// were checked to the last byte (no ReadIssues) is read by the rules it
// was profiled with, and whatever its label, never yields invalid UTF-8
// (csvio.Dialect.Unverified).
func (s *Summary) Dialect() csvio.Dialect {
	d := csvio.Dialect{Encoding: s.Encoding, Unverified: s.ReadIssues == nil}
	if s.Delimiter != "" {
		d.Delimiter = s.Delimiter[0]
	}
	return d
}

// Annotated is a Summary with the metadata a client attached, for
// listings that show the metadata but not the columns.
type Annotated struct {
	Summary
	// MetadataJSON is the JSON text a client attached, kept verbatim.
	MetadataJSON *string
}

// File is a whole row of the files table.
type File struct {
	Annotated
	// Profile is the column profile; Columns decodes it on first use.
	Profile Profile
	// ClientKey is the client address a new scratch file counts against
	// (the scratch quota); it is written with the file, never read back.
	ClientKey *string
	// UploadedBy is the account whose token came with a scratch upload: the
	// file has no owner, but goes when that account is deleted. Written
	// with the file, never read back.
	UploadedBy *int64
}

// Columns is what the server learned about each column.
func (f *File) Columns() []csvio.Column { return f.Profile.Columns() }

// Record is what a read of files can return: a Summary, an Annotated or a File.
type Record interface {
	*Summary | *Annotated | *File
	summary() *Summary
}

func (s *Summary) summary() *Summary { return s }

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

// text is the JSON text to store.
func (p Profile) text() string {
	if p.raw == "" {
		return "[]"
	}
	return p.raw
}

// Deleted reports whether the file is a tombstone.
func (s *Summary) Deleted() bool { return s.DeletedAt != nil }

// Metadata decodes MetadataJSON; text that is not JSON comes back as a string.
func (f *Annotated) Metadata() any {
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
func (f *Summary) Tags() []string {
	out := make([]string, 0, len(f.SystemTags)+len(f.UserTags))
	out = append(out, f.SystemTags...)
	return append(out, f.UserTags...)
}

// Derivation records how deriveFile made a file, so it can be re-run.
type Derivation struct {
	FileID    string
	SourceIDs []string
	Columns   []string
	FilterSQL string
	CreatedBy int64
	CreatedAt time.Time
	// RowsKey is the object recording which source row each row is (row
	// provenance), nil when none was recorded.
	RowsKey *string
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
