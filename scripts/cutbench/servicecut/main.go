// Command servicecut cuts a CSV file through the files service, as the
// server does from the bucket on: a folder bucket holding the file, its
// object read through range reads, the selection compiled by files.Select,
// the cut on -workers goroutines (CUT_WORKERS), GOGC 400 unless GOGC is
// set (the server's default). It prints the rows kept. cutbench runs it
// for its service:N modes.
//
//	go run ./scripts/cutbench/servicecut -file /tmp/cut.csv -workers 2 -where "age >= 30" -keep id,name
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/files"
)

func main() {
	file := flag.String("file", "", "CSV file to cut (UTF-8, commas)")
	workers := flag.Int("workers", 1, "goroutines of the cut")
	where := flag.String("where", "", "SQL WHERE text of the filter")
	keep := flag.String("keep", "", "comma-separated columns to keep (all when empty)")
	numbers := flag.String("numbers", "age,score", "comma-separated columns the profile calls numbers (the rest is text)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the cut to this file")
	flag.Parse()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if *profile != "" {
		pf, err := os.Create(*profile)
		if err == nil {
			err = pprof.StartCPUProfile(pf)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	n, err := serviceCut(*file, *workers, *where, *keep, strings.Split(*numbers, ","), io.Discard)
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(n)
}

// serviceCut cuts file with workers goroutines into out. The profile is
// what matters to the filter: the columns named in numbers are numbers,
// the rest text.
func serviceCut(file string, workers int, whereSQL, keep string, numbers []string, out io.Writer) (int64, error) {
	ctx := context.Background()
	abs, err := filepath.Abs(file)
	if err != nil {
		return 0, err
	}
	bucket, err := blobstore.Open(ctx, "file://"+filepath.Dir(abs))
	if err != nil {
		return 0, err
	}
	defer bucket.Close()
	st, err := os.Stat(abs)
	if err != nil {
		return 0, err
	}
	fh, err := os.Open(abs)
	if err != nil {
		return 0, err
	}
	hdr, err := csvio.NewReader(fh, csvio.Dialect{Encoding: csvio.EncodingUTF8, Delimiter: ','}).Header()
	fh.Close()
	if err != nil {
		return 0, fmt.Errorf("read header: %w", err)
	}
	cols := make([]csvio.Column, len(hdr))
	for i, h := range hdr {
		cols[i] = csvio.Column{Name: h, Index: i, Type: csvio.TypeText}
		for _, n := range numbers {
			if h == n {
				cols[i].Type = csvio.TypeFloat
			}
		}
	}
	key := filepath.Base(abs)
	f := &files.File{}
	f.ObjectKey, f.Size, f.Encoding, f.Delimiter, f.ReadIssues = &key, st.Size(), csvio.EncodingUTF8, ",", &files.ReadIssues{}
	f.Profile = files.NewProfile(cols)
	where, err := files.ParseWhere(nil, whereSQL)
	if err != nil {
		return 0, err
	}
	var names []string
	if keep != "" {
		names = strings.Split(keep, ",")
	}
	sel, err := files.Select(f, names, where)
	if err != nil {
		return 0, err
	}
	svc := files.NewService(nil, bucket, files.Options{CutWorkers: workers})
	return svc.Cut(ctx, f, sel, out)
}
