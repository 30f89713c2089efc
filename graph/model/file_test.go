package model

import (
	"errors"
	"testing"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/files"
)

func whole(id string, cols ...string) *files.File {
	cs := make([]csvio.Column, len(cols))
	for i, c := range cols {
		cs[i] = csvio.Column{Name: c, Index: i}
	}
	meta := `{"id":"` + id + `"}`
	return &files.File{Annotated: files.Annotated{Summary: files.Summary{ID: id}, MetadataJSON: &meta}, Profile: files.NewProfile(cs)}
}

// Files read as summaries read the rest once, for all of them, when the
// first asks; each then answers with its own columns and metadata.
func TestSummaryFileReadsTheRestOnce(t *testing.T) {
	a, b := whole("a", "x"), whole("b", "y", "z")
	loads := 0
	rest := NewRest(func() (map[string]*files.File, error) {
		loads++
		return map[string]*files.File{"a": a, "b": b}, nil
	})
	fa, fb := SummaryFile(&files.Summary{ID: "a"}, rest), SummaryFile(&files.Summary{ID: "b"}, rest)
	ca, err := fa.Columns()
	if err != nil || len(ca) != 1 || ca[0].Name != "x" {
		t.Fatalf("columns of a: %v, %v", ca, err)
	}
	cb, err := fb.Columns()
	if err != nil || len(cb) != 2 || cb[1].Name != "z" {
		t.Fatalf("columns of b: %v, %v", cb, err)
	}
	m, err := fb.Metadata()
	if got, _ := m.(map[string]any); err != nil || got["id"] != "b" {
		t.Fatalf("metadata of b: %v, %v", m, err)
	}
	if loads != 1 {
		t.Fatalf("the rest was read %d times, want once", loads)
	}
	if WholeFile(a).Summary != &a.Summary {
		t.Fatal("a whole file's summary is not its own")
	}
	if WholeFile(nil) != nil || SummaryFile(nil, rest) != nil {
		t.Fatal("nil files must stay nil")
	}
}

// A failed read of the rest is the field's error, and a file the read no
// longer finds is not found: never an empty answer that looks right.
func TestSummaryFileRestFailures(t *testing.T) {
	boom := errors.New("database down")
	f := SummaryFile(&files.Summary{ID: "a"}, NewRest(func() (map[string]*files.File, error) { return nil, boom }))
	if _, err := f.Columns(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read's error", err)
	}
	g := SummaryFile(&files.Summary{ID: "a"}, NewRest(func() (map[string]*files.File, error) { return map[string]*files.File{}, nil }))
	if _, err := g.Metadata(); !errors.Is(err, apperr.ErrNotFound) {
		t.Fatalf("got %v, want not found", err)
	}
}
