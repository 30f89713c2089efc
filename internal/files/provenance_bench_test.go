package files_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
)

// sourceRows streams a CSV of n rows (n, k) with k = n mod 3, without
// holding it.
type sourceRows struct {
	n, next int
	buf     []byte
}

func (s *sourceRows) Read(p []byte) (int, error) {
	for len(s.buf) < len(p) && s.next <= s.n {
		if s.next == 0 {
			s.buf = append(s.buf, "n,k\n"...)
		} else {
			s.buf = fmt.Appendf(s.buf, "%d,%d\n", s.next-1, (s.next-1)%3)
		}
		s.next++
	}
	if len(s.buf) == 0 {
		return 0, io.EOF
	}
	c := copy(p, s.buf)
	s.buf = s.buf[c:]
	return c, nil
}

// A page of a derived file's rows with their sources costs what the page
// costs: the derived file keeps two of every three rows of a 10-million-row
// source (a provenance object of bitmap containers, the largest kind: 1.3
// MB), and a page reads its header and one container. Pages at the start
// and after a million rows, with and without sources, side by side.
//
//	go test ./internal/files -run '^$' -bench BenchmarkRowSources -benchtime 200x
func BenchmarkRowSources(b *testing.B) {
	db := dbtest.SQLite(b)
	e := newEnv(b, db, "file://"+b.TempDir(), 1<<30)
	ctx := context.Background()
	src, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "ten-million.csv"}, &sourceRows{n: 10_000_000})
	if err != nil {
		b.Fatal(err)
	}
	where, err := filter.ParseSQL("k <> 2")
	if err != nil {
		b.Fatal(err)
	}
	d, err := e.svc.Derive(ctx, e.alice, files.DeriveInput{SourceID: src.ID, Name: "two-thirds.csv", Where: where})
	if err != nil {
		b.Fatal(err)
	}
	sel, err := files.Select(d, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, at := range []int64{0, 1_000_000} {
		after := ""
		if at > 0 {
			after = files.RowCursor(at - 1)
		}
		for _, withSource := range []bool{false, true} {
			b.Run(fmt.Sprintf("after=%d/source=%v", at, withSource), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					p, err := e.svc.Rows(ctx, d, sel, 50, after)
					if err != nil || len(p.Rows) != 50 {
						b.Fatalf("rows: %v", err)
					}
					if !withSource {
						continue
					}
					prov, err := e.svc.Provenance(ctx, e.alice, d)
					if err != nil || prov == nil {
						b.Fatalf("provenance: %v, %v", prov, err)
					}
					for _, r := range p.Rows {
						s, ok, err := prov.Source(r.Index)
						if err != nil || !ok || s != r.Index/2*3+r.Index%2 {
							b.Fatalf("row %d: source %d, %v, %v", r.Index, s, ok, err)
						}
					}
				}
			})
		}
	}
}
