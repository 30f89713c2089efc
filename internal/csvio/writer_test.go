package csvio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestWriterOutput(t *testing.T) {
	tests := []struct {
		rec  []string
		want string
	}{
		{[]string{"a", "b"}, "a,b\n"},
		{[]string{"a,b", "c"}, "\"a,b\",c\n"},
		{[]string{`say "hi"`}, "\"say \"\"hi\"\"\"\n"},
		{[]string{"x\ny", "x\rz"}, "\"x\ny\",\"x\rz\"\n"},
		{[]string{" lead", "trail ", "\ttab"}, "\" lead\",trail ,\"\ttab\"\n"},
		{[]string{"", ""}, ",\n"},
		{[]string{""}, "\"\"\n"},
		{[]string{`\.`}, "\"\\.\"\n"},
		{[]string{"é;ü"}, "é;ü\n"},
		{[]string{}, "\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		w := NewWriter(&b)
		if err := w.Write(tt.rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("Write(%q) = %q, want %q", tt.rec, b.String(), tt.want)
		}
	}
}

func TestWriteSelected(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	rec := []string{"a", "b,c", "d"}
	_ = w.WriteSelected(rec, []int{2, 0, 1})
	_ = w.WriteSelected(rec, []int{1, 1, 7, -1})
	_ = w.WriteSelected([]string{"", "x"}, []int{0})
	_ = w.WriteSelected(rec, nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "d,a,\"b,c\"\n\"b,c\",\"b,c\",,\n\"\"\n\n"
	if b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func randomField(rng *rand.Rand) string {
	const alphabet = "ab ,\"\n\r;é"
	n := rng.IntN(8)
	var sb strings.Builder
	for range n {
		i := rng.IntN(len(alphabet) - 1)
		if alphabet[i] == 0xC3 {
			sb.WriteString("é")
			continue
		}
		sb.WriteByte(alphabet[i])
	}
	return sb.String()
}

// Round trip through encoding/csv (the reference reader) and through Reader.
func TestWriterRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		ncol := 1 + rng.IntN(5)
		header := make([]string, ncol)
		for i := range header {
			header[i] = string(rune('a' + i))
		}
		records := [][]string{header}
		for range rng.IntN(20) {
			rec := make([]string, ncol)
			for i := range rec {
				rec[i] = randomField(rng)
			}
			records = append(records, rec)
		}
		var b bytes.Buffer
		w := NewWriter(&b)
		for _, rec := range records {
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		out := b.String()

		cr := csv.NewReader(strings.NewReader(out))
		got, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("iter %d: encoding/csv: %v\n%q", iter, err, out)
		}
		// encoding/csv turns \r\n inside quotes into \n; nothing else changes.
		want := make([][]string, len(records))
		for i, rec := range records {
			want[i] = make([]string, len(rec))
			for j, f := range rec {
				want[i][j] = strings.ReplaceAll(f, "\r\n", "\n")
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("iter %d: encoding/csv read back %q, want %q", iter, got, want)
		}

		h, rows, _, err := readAll(NewReader(strings.NewReader(out), Dialect{}))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(append([][]string{h}, rows...), records) {
			t.Fatalf("iter %d: Reader read back %q, want %q", iter, rows, records[1:])
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("disk full")
}

func TestWriterErrorSticky(t *testing.T) {
	fw := &failWriter{}
	w := NewWriter(fw)
	big := strings.Repeat("x", writerBufSize)
	if err := w.Write([]string{big}); err == nil {
		t.Fatal("no error from a write that filled the buffer")
	}
	if err := w.Write([]string{"a"}); err == nil {
		t.Fatal("error not sticky")
	}
	if err := w.Flush(); err == nil || fw.n != 1 {
		t.Fatalf("Flush = %v after %d writes", err, fw.n)
	}
}

func TestWriterAllocs(t *testing.T) {
	w := NewWriter(io.Discard)
	rec := []string{"1", "hello, world", `q"q`, "2024-01-01", "x"}
	idx := []int{4, 1, 0}
	if a := testing.AllocsPerRun(10000, func() {
		_ = w.Write(rec)
		_ = w.WriteSelected(rec, idx)
	}); a != 0 {
		t.Fatalf("%.1f allocations per row", a)
	}
}
