package model

import (
	"errors"
	"sync"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/files"
)

// File is a file as the GraphQL File type resolves it. Every read brings
// its summary; a read that the query's selection showed to need neither
// the column profile nor the metadata brings only that, and Columns or
// Metadata then read the rest, once, for every file of that read together
// (Rest). So a selection misjudged costs a query, never a wrong answer.
type File struct {
	*files.Summary
	full *files.File
	rest *Rest
}

// WholeFile is f as a File; nil stays nil.
func WholeFile(f *files.File) *File {
	if f == nil {
		return nil
	}
	return &File{Summary: &f.Summary, full: f}
}

// SummaryFile is s as a File whose rest, when asked for, rest reads.
func SummaryFile(s *files.Summary, rest *Rest) *File {
	if s == nil {
		return nil
	}
	return &File{Summary: s, rest: rest}
}

// Rest reads the whole files of one light read the first time one of
// them is asked for more than its summary.
type Rest struct {
	once sync.Once
	load func() (map[string]*files.File, error)
	got  map[string]*files.File
	err  error
}

// NewRest returns a Rest that reads with load: the ids of the read, by the
// request that made it (whose context load keeps: a Rest lives no longer
// than its response).
func NewRest(load func() (map[string]*files.File, error)) *Rest { return &Rest{load: load} }

var errNoRest = errors.New("graph: a file summary without a way to read the rest")

// Full is the whole file.
func (f *File) Full() (*files.File, error) {
	if f.full != nil {
		return f.full, nil
	}
	if f.rest == nil {
		return nil, errNoRest
	}
	f.rest.once.Do(func() { f.rest.got, f.rest.err = f.rest.load() })
	if f.rest.err != nil {
		return nil, f.rest.err
	}
	full := f.rest.got[f.ID]
	if full == nil {
		// Gone for good since the summary was read (its owner was deleted).
		return nil, apperr.ErrNotFound
	}
	return full, nil
}

// Columns is what the server learned about each column, each knowing its
// file (for its lineage fields).
func (f *File) Columns() ([]*Column, error) {
	full, err := f.Full()
	if err != nil {
		return nil, err
	}
	cols := full.Columns()
	out := make([]*Column, len(cols))
	for i := range cols {
		out[i] = &Column{Column: cols[i], File: f}
	}
	return out, nil
}

// Column is a column of a file.
type Column struct {
	csvio.Column
	File *File
}

// Metadata is the JSON a client attached, or nil.
func (f *File) Metadata() (any, error) {
	full, err := f.Full()
	if err != nil {
		return nil, err
	}
	return full.Metadata(), nil
}
