// Package benchdata writes the deterministic CSV files that benchmarks and
// load scripts use, so every measurement reads the same kind of data.
package benchdata

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// Header is the generated files' header: mixed integers, floats, text,
// dates and booleans, with some quoted cells.
var Header = []string{"id", "name", "age", "score", "city", "joined", "active", "email", "amount", "note"}

// Generate writes a deterministic mixed CSV of about size bytes.
func Generate(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	cw := csv.NewWriter(w)
	cw.Write(Header)
	rng := rand.New(rand.NewPCG(1, 2))
	cities := []string{"NYC", "LA", "SF", "Chicago", "Boston", "Austin", "Denver", "Seattle"}
	names := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Dennis", "Margaret", "Linus", "Donald"}
	rec := make([]string, len(Header))
	var written int64
	for i := 1; written < size; i++ {
		rec[0] = strconv.Itoa(i)
		rec[1] = names[rng.IntN(len(names))] + " " + names[rng.IntN(len(names))]
		rec[2] = strconv.Itoa(18 + rng.IntN(60))
		rec[3] = strconv.FormatFloat(rng.Float64()*1000, 'f', 2, 64)
		rec[4] = cities[rng.IntN(len(cities))]
		rec[5] = fmt.Sprintf("20%02d-%02d-%02d", rng.IntN(25), 1+rng.IntN(12), 1+rng.IntN(28))
		rec[6] = strconv.FormatBool(rng.IntN(2) == 0)
		rec[7] = strings.ToLower(names[rng.IntN(len(names))]) + strconv.Itoa(i) + "@example.com"
		rec[8] = strconv.FormatFloat(rng.Float64()*1e5, 'f', 2, 64)
		if rng.IntN(10) == 0 {
			rec[9] = "says \"hi\", twice"
		} else {
			rec[9] = "plain note"
		}
		cw.Write(rec)
		if i%1024 == 0 {
			cw.Flush()
			written = int64(w.Buffered()) + mustSize(f)
		}
	}
	cw.Flush()
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func mustSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}
