package files_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
	"github.com/cutline/cutline/internal/files"
)

// BenchmarkUploadDurable stores files in a folder bucket (on the disk of
// TMPDIR) with the sync to disk of each new object and its folder, and
// without, for what durability costs an upload. SQLite, as the default.
func BenchmarkUploadDurable(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		body := "id,name,score\n" + strings.Repeat("12345,somebody,67.5\n", size/20)
		for _, mode := range []struct {
			name   string
			noSync bool
		}{{"sync", false}, {"nosync", true}} {
			b.Run(mode.name+"/"+sizeName(size), func(b *testing.B) {
				db := dbtest.SQLite(b)
				e := newEnvWith(b, db, "file://"+b.TempDir(), files.Options{MaxFileSize: 4 << 20, NoSync: mode.noSync})
				ctx := context.Background()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := e.svc.Create(ctx, files.NewFile{OwnerID: &e.alice, Name: "a.csv"}, strings.NewReader(body)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<20 {
		return "1MiB"
	}
	return "4KiB"
}
