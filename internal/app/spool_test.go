package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The sweep removes the kept upload parts a dead process left behind, and
// nothing else: not a part still being written, not another file.
func TestSweepSpool(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	for name, mtime := range map[string]time.Time{
		"cutline-upload-1": old, "cutline-upload-2": time.Now(), "other-file": old,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("a\n1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if n := sweepSpool(dir, time.Hour); n != 1 {
		t.Fatalf("removed %d files, want 1", n)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 2 || filepath.Base(left[0]) != "cutline-upload-2" || filepath.Base(left[1]) != "other-file" {
		t.Fatalf("left %v", left)
	}
}
