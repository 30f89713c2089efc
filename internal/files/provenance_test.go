package files

import (
	"bytes"
	"context"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"gocloud.dev/blob/memblob"
)

// The lazy reader answers exactly what roaring itself answers, for every
// container kind (array, bitmap, run) and for both header layouts (with
// offsets, and without: few containers and runs).
func TestRowMapMatchesRoaring(t *testing.T) {
	t.Parallel()
	cases := map[string]func(bm *roaring.Bitmap){
		"empty":            func(*roaring.Bitmap) {},
		"one row":          func(bm *roaring.Bitmap) { bm.Add(7) },
		"arrays":           func(bm *roaring.Bitmap) { addEvery(bm, 0, 1_000_000, 97) },
		"bitmaps":          func(bm *roaring.Bitmap) { addEvery(bm, 0, 600_000, 3) },
		"runs":             func(bm *roaring.Bitmap) { bm.AddRange(10, 300_000); bm.AddRange(400_000, 500_001) },
		"one run, no offs": func(bm *roaring.Bitmap) { bm.AddRange(5, 70_000) },
		"mixed": func(bm *roaring.Bitmap) {
			addEvery(bm, 0, 65_536, 2)
			bm.AddRange(65_536, 131_072)
			addEvery(bm, 131_072, 400_000, 1001)
			bm.Add(4_000_000_000)
		},
	}
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			bm := roaring.New()
			fill(bm)
			bm.RunOptimize()
			var buf bytes.Buffer
			if _, err := bm.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			bucket := memblob.OpenBucket(nil)
			defer bucket.Close()
			if err := bucket.WriteAll(ctx, "files/x.rows", buf.Bytes(), nil); err != nil {
				t.Fatal(err)
			}
			m, err := openRowMap(ctx, bucket, "files/x.rows", DefaultBlobTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if m.Total() != int64(bm.GetCardinality()) {
				t.Fatalf("total %d, want %d", m.Total(), bm.GetCardinality())
			}
			i := int64(0)
			it := bm.Iterator()
			for it.HasNext() {
				v := int64(it.Next())
				src, ok, err := m.Source(i)
				if err != nil || !ok || src != v {
					t.Fatalf("Source(%d) = %d, %v, %v; want %d", i, src, ok, err, v)
				}
				d, ok, err := m.Derived(v)
				if err != nil || !ok || d != i {
					t.Fatalf("Derived(%d) = %d, %v, %v; want %d", v, d, ok, err, i)
				}
				if !bm.Contains(uint32(v+1)) && v+1 <= 1<<32-1 {
					if _, ok, _ := m.Derived(v + 1); ok {
						t.Fatalf("Derived(%d) found a row the cut dropped", v+1)
					}
				}
				i++
			}
			if _, ok, _ := m.Source(i); ok {
				t.Errorf("Source(%d) past the end found a row", i)
			}
			if _, ok, _ := m.Derived(-1); ok {
				t.Errorf("Derived(-1) found a row")
			}
		})
	}
}

func addEvery(bm *roaring.Bitmap, from, to, step uint32) {
	for v := from; v < to; v += step {
		bm.Add(v)
	}
}

// A damaged object is an error, never a wrong answer.
func TestRowMapDamaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	for name, data := range map[string][]byte{"empty": {}, "not roaring": []byte("id,name\n1,2\n"), "cut short": {0x3a, 0x30, 0, 0, 9, 0, 0, 0}} {
		if err := bucket.WriteAll(ctx, "files/"+name, data, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := openRowMap(ctx, bucket, "files/"+name, DefaultBlobTimeout); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}
