// Command uploadcpu runs the upload's pipeline once over a file, as
// files.Service's store does it: the bytes copied through a 256 KiB buffer
// into a mem bucket's writer, a SHA-256 and a pipe that csvio analyses on
// its own goroutine. It calls only what every revision since
// csvio.AnalyzeLimited has, so that scripts/abcompare/callgrind.sh can
// build it in two trees and count the instructions of each.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/cutline/cutline/internal/benchdata"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/csvio"
)

func main() {
	file := flag.String("file", "/tmp/uploadcpu.csv", "CSV file to upload (generated when missing)")
	size := flag.String("size", "32MiB", "size of the generated file")
	flag.Parse()
	if err := run(*file, *size); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(file, size string) error {
	if _, err := os.Stat(file); err != nil {
		want, err := config.ParseSize(size)
		if err != nil {
			return err
		}
		if err := benchdata.Generate(file, want); err != nil {
			return fmt.Errorf("generate %s: %w", file, err)
		}
		return nil // generating is not part of what is counted
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx := context.Background()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	w, err := bucket.NewWriter(ctx, "upload", &blob.WriterOptions{ContentType: "text/csv", BufferSize: 8 << 20})
	if err != nil {
		return fmt.Errorf("open object: %w", err)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var summary csvio.Summary
	var analyzeErr error
	go func() {
		defer close(done)
		summary, analyzeErr = csvio.AnalyzeLimited(pr, csvio.Limits{MaxColumns: 1000})
		pr.CloseWithError(io.ErrClosedPipe)
	}()
	h := sha256.New()
	n, copyErr := io.CopyBuffer(io.MultiWriter(w, h, pw), f, make([]byte, 256<<10))
	pw.CloseWithError(copyErr)
	<-done
	if copyErr != nil {
		return fmt.Errorf("copy: %w", copyErr)
	}
	if analyzeErr != nil {
		return fmt.Errorf("analyse: %w", analyzeErr)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("finish object: %w", err)
	}
	fmt.Printf("%d bytes, %d rows, %d columns, encoding %s, sha256 %s\n",
		n, summary.Rows, len(summary.Columns), summary.Dialect.Encoding, hex.EncodeToString(h.Sum(nil)))
	return nil
}
