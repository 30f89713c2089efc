package app_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// cutterUpload posts content to the anonymous legacy cutter.
func cutterUpload(t *testing.T, s *server, content []byte) (int, string) {
	t.Helper()
	return cutterUploadAs(t, s, "", content)
}

// cutterUploadAs posts content to the legacy cutter with token, if any.
func cutterUploadAs(t *testing.T, s *server, token string, content []byte) (int, string) {
	t.Helper()
	body, ctype := cutterBody(content)
	status, answer := postCutter(t, s, token, body, ctype, -1)
	return status, string(answer)
}

// cutterBody is the legacy cutter's multipart form holding content.
func cutterBody(content []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "wide.csv")
	fw.Write(content)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// postCutter sends a form made by cutterBody and returns the status and
// the answer's first keep bytes (all of it when keep < 0).
func postCutter(t *testing.T, s *server, token string, body []byte, ctype string, keep int64) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/api/list_cutter/csv_cutter/", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if keep >= 0 {
		r = io.LimitReader(resp.Body, keep)
	}
	b, _ := io.ReadAll(r)
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, b
}

// wideCSV has a header of n columns and one data row.
func wideCSV(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("c")
	}
	b.WriteString("\n1\n")
	return b.Bytes()
}

// A header wider than MAX_COLUMNS is refused with an error that says so,
// on every upload path; one at the limit is kept.
func TestMaxColumns(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxColumns = 100 })
	if status, body := cutterUpload(t, s, wideCSV(101)); status != http.StatusBadRequest || !strings.Contains(body, "more than 100 columns") {
		t.Errorf("legacy cutter, 101 columns: %d %s", status, body)
	}
	if status, body := cutterUpload(t, s, wideCSV(100)); status != http.StatusOK || strings.Count(body, `"c_`) != 99 {
		t.Errorf("legacy cutter, 100 columns: %d %.200s", status, body)
	}
	tok := s.register(t, "ada").AccessToken
	r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", "wide.csv", string(wideCSV(101)))
	if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "MAX_COLUMNS") {
		t.Errorf("GraphQL upload, 101 columns: %+v", r.Errors)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/files?name=w.csv", bytes.NewReader(wideCSV(101)))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "MAX_COLUMNS") {
		t.Errorf("streamed upload, 101 columns: %d %s", resp.StatusCode, b)
	}
}

// peakHeap runs fn and returns how far the live heap rose above where it
// stood before, sampled every millisecond.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// Upload memory is bounded whatever the shape of the file: a header of a
// million columns (refused by MAX_COLUMNS before it grows) and a single
// line of 9 MiB each cost the server a few read buffers, not hundreds of
// megabytes.
func TestUploadMemoryWhateverTheShape(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxFileSize = 10 << 20 })
	wide := wideCSV(1_000_000)
	long := append(append([]byte("name\n"), bytes.Repeat([]byte("x"), 9<<20)...), '\n')
	const bound = 96 << 20
	for _, tc := range []struct {
		name    string
		content []byte
		status  int
	}{
		{"a million columns", wide, http.StatusBadRequest},
		{"a 9 MiB line", long, http.StatusOK},
	} {
		// The request is made, and the answer mostly dropped, outside
		// what is measured: the client's copies are not the server's.
		form, ctype := cutterBody(tc.content)
		var status int
		var body []byte
		grew := peakHeap(func() { status, body = postCutter(t, s, "", form, ctype, 300) })
		t.Logf("%s: heap rose by %.1f MiB", tc.name, float64(grew)/(1<<20))
		if status != tc.status {
			t.Errorf("%s: %d %.300s", tc.name, status, body)
		}
		if grew > bound {
			t.Errorf("%s: the heap rose by %.0f MiB during the upload, more than %d MiB", tc.name, float64(grew)/(1<<20), bound>>20)
		}
	}
}
