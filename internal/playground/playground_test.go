package playground

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"
)

// TestEmbeddedFilesMatchPins checks what the binary embeds against
// third_party/SHA256SUMS, and that it is exactly what PINS names, each
// package with its LICENSE (scripts/vendor-playground.sh --check does the
// same on the folder).
func TestEmbeddedFilesMatchPins(t *testing.T) {
	sums, err := embedded.ReadFile("third_party/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		want[f[1]] = f[0]
	}
	pins, err := embedded.ReadFile("third_party/PINS")
	if err != nil {
		t.Fatal(err)
	}
	named := 0
	for _, line := range strings.Split(string(pins), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if !strings.HasPrefix(f[2], "sha512-") {
			t.Errorf("PINS: %s@%s has no sha512 integrity", f[0], f[1])
		}
		for _, file := range append(f[3:], "LICENSE") {
			named++
			if _, ok := want[f[0]+"@"+f[1]+"/"+file]; !ok {
				t.Errorf("SHA256SUMS lacks %s@%s/%s", f[0], f[1], file)
			}
		}
	}
	if named != len(want) {
		t.Errorf("PINS names %d files, SHA256SUMS lists %d", named, len(want))
	}
	seen := 0
	err = fs.WalkDir(embedded, "third_party", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "third_party/PINS" || p == "third_party/SHA256SUMS" {
			return err
		}
		rel := strings.TrimPrefix(p, "third_party/")
		b, err := embedded.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); want[rel] != got {
			t.Errorf("%s: sha256 %s, SHA256SUMS says %q", rel, got, want[rel])
		}
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("embedded %d vendored files, SHA256SUMS lists %d", seen, len(want))
	}
}
