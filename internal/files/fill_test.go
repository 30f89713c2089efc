package files

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
	"testing/iotest"
)

// fillReader hands the copy full buffers however small the source's
// reads, and the source's bytes, end and error exactly.
func TestFillReader(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000) // 10,000 bytes
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		src   io.Reader
		err   error // what the last read says
		sizes []int // of every read
	}{
		// The end comes alone, in a read of no bytes.
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(data)), io.EOF, []int{4096, 4096, 1808, 0}},
		{"half reads", iotest.HalfReader(bytes.NewReader(data)), io.EOF, []int{4096, 4096, 1808, 0}},
		{"data with its EOF", iotest.DataErrReader(bytes.NewReader(data)), io.EOF, []int{4096, 4096, 1808, 0}},
		// A failure comes with the bytes read before it.
		{"a failure after the data", io.MultiReader(iotest.OneByteReader(bytes.NewReader(data)), iotest.ErrReader(boom)), boom, []int{4096, 4096, 1808}},
	} {
		f := fillReader{tc.src}
		buf := make([]byte, 4096)
		var got []byte
		var sizes []int
		var err error
		for {
			var n int
			n, err = f.Read(buf)
			got = append(got, buf[:n]...)
			sizes = append(sizes, n)
			if err != nil {
				break
			}
		}
		if !errors.Is(err, tc.err) || !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes, err %v; want %d bytes, %v", tc.name, len(got), err, len(data), tc.err)
		}
		if !slices.Equal(sizes, tc.sizes) {
			t.Errorf("%s: reads of %v bytes, want %v", tc.name, sizes, tc.sizes)
		}
	}
}
