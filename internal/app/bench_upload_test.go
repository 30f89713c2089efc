package app_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// BenchmarkUploadREST and BenchmarkUploadGraphQL send the same 16 MiB file
// through a real connection to a folder bucket, the REST endpoint's raw
// body against the GraphQL multipart request (whose file part streams to
// the resolver), both chunked, so that the difference is the transport.
func BenchmarkUploadREST(b *testing.B) { benchUpload(b, false) }

// BenchmarkUploadGraphQL: see BenchmarkUploadREST.
func BenchmarkUploadGraphQL(b *testing.B) { benchUpload(b, true) }

func benchUpload(b *testing.B, graphQL bool) {
	s := newServerOn(b, dbtest.SQLite(b), folderBucket(b), func(c *config.Config) { c.MaxFileSize = 64 << 20 })
	tok := s.registerB(b, "ada")
	csv := benchCSV(16 << 20)
	b.SetBytes(int64(len(csv)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var req *http.Request
		if graphQL {
			pr, pw := io.Pipe()
			mw := multipart.NewWriter(pw)
			go func() {
				mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f) { id } }","variables":{"f":null}}`)
				mw.WriteField("map", `{"0":["variables.f"]}`)
				fw, _ := mw.CreateFormFile("0", fmt.Sprintf("g%d.csv", i))
				fw.Write(csv)
				pw.CloseWithError(mw.Close())
			}()
			req, _ = http.NewRequest("POST", s.URL+"/graphql", pr)
			req.Header.Set("Content-Type", mw.FormDataContentType())
		} else {
			req, _ = http.NewRequest("POST", fmt.Sprintf("%s/api/v1/files?name=r%d.csv", s.URL, i), io.MultiReader(bytes.NewReader(csv)))
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 || strings.Contains(string(answer), `"errors"`) {
			b.Fatalf("%d %s", resp.StatusCode, answer)
		}
	}
}

// benchCSV is a CSV file of about size bytes: numbers, words, dates.
func benchCSV(size int) []byte {
	var buf bytes.Buffer
	buf.Grow(size + 100)
	buf.WriteString("id,name,day,price,ok\n")
	for i := 0; buf.Len() < size; i++ {
		fmt.Fprintf(&buf, "%d,name %d,2024-06-%02d,%d.%02d,%t\n", i, i%977, i%28+1, i%1000, i%100, i%3 == 0)
	}
	return buf.Bytes()
}
