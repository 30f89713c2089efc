package filter

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

var benchCols = []Column{
	{Name: "id", Kind: KindNumber},
	{Name: "name", Kind: KindText},
	{Name: "age", Kind: KindNumber},
	{Name: "city", Kind: KindText},
	{Name: "email", Kind: KindText},
	{Name: "joined", Kind: KindTime},
}

const benchSQL = "age > 30 AND city IN ('NYC', 'LA', 'SF', 'Boston') AND name LIKE 'A%'"

func benchRows(n int) [][]string {
	r := rand.New(rand.NewPCG(1, 1))
	cities := []string{"NYC", "LA", "SF", "Boston", "Paris", "Berlin", ""}
	names := []string{"Alice", "Bob", "Anna", "Carl", "Ada", "Zoe"}
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{
			fmt.Sprint(i),
			names[r.IntN(len(names))],
			fmt.Sprint(r.IntN(80)),
			cities[r.IntN(len(cities))],
			fmt.Sprintf("user%d@example.com", i),
			fmt.Sprintf("2024-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)),
		}
	}
	return rows
}

// BenchmarkPredicate: one op is one row.
func BenchmarkPredicate(b *testing.B) {
	p := mustCompile(b, mustSQL(b, benchSQL), benchCols)
	rows := benchRows(4096)
	b.ReportAllocs()
	b.ResetTimer()
	kept := 0
	for i := 0; b.Loop(); i++ {
		if p(rows[i&4095]) {
			kept++
		}
	}
	if kept == 0 {
		b.Fatal("filter kept nothing")
	}
}

func BenchmarkParseSQL(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSQL(benchSQL); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	e := mustSQL(b, benchSQL)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(e, benchCols); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNoAllocPerRow: the common predicates allocate nothing per row.
func TestNoAllocPerRow(t *testing.T) {
	rows := benchRows(64)
	bigIn := "city IN ('a','b','c','d','e','f','g','h','i','j','NYC')"
	for _, src := range []string{
		benchSQL,
		"age >= 30.5 OR age != 3 OR id BETWEEN 10 AND 20 OR age NOT BETWEEN 1 AND 2",
		"name = 'Bob' OR name != 'x' OR name > 'B' OR name < 5 OR name ILIKE '%A_a%'",
		"joined > '2024-06-01' AND joined IN ('2024-01-01', '2024-02-02') OR joined = 'x'",
		"email LIKE '%@example.%' AND email NOT LIKE 'x%' AND NOT email IS NULL",
		"age IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12) OR " + bigIn,
		"name = 'x' OR name = 'y' OR name = 'z' OR name = 'w' OR city IS NULL",
	} {
		p := mustCompile(t, mustSQL(t, src), benchCols)
		allocs := testing.AllocsPerRun(100, func() {
			for _, row := range rows {
				p(row)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per %d rows", src, allocs, len(rows))
		}
	}
	// A bool column, and garbage cells that fail every parser.
	cols := []Column{{Name: "b", Kind: KindBool}, {Name: "n", Kind: KindNumber}, {Name: "t", Kind: KindTime}}
	p := mustCompile(t, mustSQL(t, "b = true OR n > 1 OR n = 1e5 OR t < '2020-01-01' OR b IN (true)"), cols)
	garbage := [][]string{{"maybe", "1e99999", "2024-13-45"}, {"yes", "abc", "x"}, {"", "", ""}}
	p(garbage[0]) // out of range: ParseFloat allocates its error, the one rare case
	if allocs := testing.AllocsPerRun(100, func() {
		for _, row := range garbage[1:] {
			p(row)
		}
	}); allocs != 0 {
		t.Errorf("garbage cells: %v allocations", allocs)
	}
}
