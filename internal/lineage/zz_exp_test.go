package lineage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/cutline/cutline/internal/database"
)

func TestZZExp(t *testing.T) {
	if os.Getenv("ZZ") == "" {
		t.Skip()
	}
	ctx := context.Background()
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN("postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		pgdriver.WithConnParams(map[string]any{"search_path": "lb"})))
	sqldb.SetMaxOpenConns(1)
	pg := bun.NewDB(sqldb, pgdialect.New())
	lite, err := database.Open(ctx, "sqlite:///tmp/lb.db")
	if err != nil {
		t.Fatal(err)
	}
	lite.SetMaxOpenConns(1)
	n := 50
	for _, db := range []*bun.DB{pg, lite} {
		svc := NewService(db, benchMax, benchMax)
		m := newCPUMeter(t, db)
		for _, c := range benchCases() {
			if os.Getenv("ZZCASE") != "" && !slices.Contains([]string{os.Getenv("ZZCASE")}, c.name) {
				continue
			}
			var times []time.Duration
			var g *Graph
			m.start()
			for range n {
				t0 := time.Now()
				g, err = svc.Graph(ctx, 1, c.root, c.dir, c.depth, c.limit)
				if err != nil {
					t.Fatal(err)
				}
				times = append(times, time.Since(t0))
			}
			cl, sv := m.stop()
			slices.Sort(times)
			fmt.Printf("%-8s %-40s nodes %6d  p50 %8.2f ms  cpu client %7.2f server %7.2f ms/op\n", db.Dialect().Name(), c.name, len(g.Nodes), ms(times[n/2]), ms(cl/time.Duration(n)), ms(sv/time.Duration(n)))
		}
	}
}
