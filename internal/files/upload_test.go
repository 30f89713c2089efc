package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
)

// choppyReader hands out its bytes in reads of random sizes, as a network
// connection does.
type choppyReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *choppyReader) Read(p []byte) (int, error) {
	if n := 1 + c.rng.IntN(70<<10); n < len(p) {
		p = p[:n]
	}
	return c.r.Read(p)
}

// randomCSV builds a file of about size bytes of mixed columns, some cells
// not ASCII.
func randomCSV(rng *rand.Rand, size int) []byte {
	b := []byte("id,price,name,day\n")
	names := []string{"Ada", "Zürich", "\"a, b\"", "", "Ōsaka", "x\"\"y"}
	for i := 0; len(b) < size; i++ {
		b = fmt.Appendf(b, "%d,%.2f,%s,2024-%02d-%02d\n", i, rng.Float64()*100, names[rng.IntN(len(names))], 1+rng.IntN(12), 1+rng.IntN(28))
	}
	return b[:size]
}

// TestUploadHashAndProfile: whatever the sizes of the client's reads and
// of the file (around the copy chunks), the stored object, its SHA-256
// and its profile are those of the bytes sent, as Analyze reads them in
// one piece.
func TestUploadHashAndProfile(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "mem://", 8<<20)
		rng := rand.New(rand.NewPCG(4, 2))
		for _, size := range []int{20, 4095, 256 << 10, 256<<10 + 1, 1<<20 - 7, 3<<20 + 12345} {
			body := randomCSV(rng, size)
			want, err := csvio.Analyze(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			f, err := e.svc.Create(context.Background(), files.NewFile{OwnerID: &e.alice, Name: fmt.Sprintf("f%d.csv", size)},
				&choppyReader{r: bytes.NewReader(body), rng: rng})
			if err != nil {
				t.Fatalf("%d bytes: %v", size, err)
			}
			sum := sha256.Sum256(body)
			if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(size) {
				t.Errorf("%d bytes: sha256 %s size %d, want %x %d", size, f.SHA256, f.Size, sum, size)
			}
			if f.RowCount != want.Rows || !reflect.DeepEqual(f.Columns(), want.Columns) {
				t.Errorf("%d bytes: profile differs from Analyze's:\n%+v\n%+v", size, f.Columns(), want.Columns)
			}
			stored, err := e.bucket.ReadAll(context.Background(), *f.ObjectKey)
			if err != nil || !bytes.Equal(stored, body) {
				t.Errorf("%d bytes: the stored object differs (%v)", size, err)
			}
		}
	})
}
