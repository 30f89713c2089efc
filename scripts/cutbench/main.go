// Command cutbench measures cutting a large CSV file: the same filter and
// column choice through Cutline's reader, predicate and writer, through a
// straightforward encoding/csv cut, and through Miller; and the floor of
// merely reading the file with encoding/csv. Each runs in its own process so
// peak memory is measured per tool.
//
//	go run ./scripts/cutbench -size 1GiB -file /tmp/cut.csv
//
// -modes picks the tools: floor, stdcut, cut, mlr, service:N (the files
// service's cut, the server's code path from the bucket on, over a folder
// bucket holding the file, with N workers, CUT_WORKERS: servicecut, built
// on first use) and duckdb (DuckDB
// through Node.js: scripts/cutbench/duckdb.mjs, with @duckdb/node-api
// installed by npm in the folder DUCKDB_NODE, DUCKDB_THREADS threads, 2 by
// default). -rounds runs them all that many times, alternating, so that
// the machine's load falls on each alike:
//
//	go run ./scripts/cutbench -file /tmp/cut.csv -modes service:1,service:2,duckdb -rounds 3
package main

import (
	"bufio"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cutline/cutline/internal/benchdata"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/filter"
)

const (
	whereSQL = "age >= 30 AND city IN ('NYC', 'LA', 'SF') AND score < 500"
	mlrExpr  = `$age >= 30 && ($city == "NYC" || $city == "LA" || $city == "SF") && $score < 500`
	keep     = "id,name,city,score,joined"
)

func main() {
	file := flag.String("file", "/tmp/cutbench.csv", "CSV file to cut (generated when missing)")
	size := flag.String("size", "1GiB", "size of the generated file")
	mode := flag.String("mode", "all", "all, or one of: floor, stdcut, cut (what a child process runs)")
	modes := flag.String("modes", "floor,stdcut,cut,mlr", "the modes that all runs, comma-separated (also service:N, duckdb)")
	rounds := flag.Int("rounds", 1, "times to run every mode, alternating")
	profile := flag.String("cpuprofile", "", "with -mode: write a CPU profile of the run to this file")
	flag.Parse()
	if *mode != "all" {
		if *profile != "" {
			pf, err := os.Create(*profile)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if err := pprof.StartCPUProfile(pf); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		n, err := runMode(*mode, *file)
		pprof.StopCPUProfile()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(n)
		return
	}
	want, err := config.ParseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if st, err := os.Stat(*file); err != nil || st.Size() < want {
		fmt.Printf("generating %s (%s)...\n", *file, *size)
		if err := benchdata.Generate(*file, want); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	st, _ := os.Stat(*file)
	fmt.Printf("file: %s, %.0f MB; filter: %s; keep: %s\n\n", *file, float64(st.Size())/1e6, whereSQL, keep)
	// Wall time suffers when other work shares the machine; MB per CPU
	// second is the steadier figure, and ratios are taken on it.
	fmt.Printf("%-8s %9s %8s %9s %10s %12s %9s %s\n", "mode", "seconds", "MB/s", "CPU s", "MB/CPU-s", "peak RSS", "rows", "vs floor")
	var floor float64
	for r := 0; r < *rounds; r++ {
		if *rounds > 1 {
			fmt.Printf("round %d, %s\n", r+1, time.Now().UTC().Format("15:04:05 UTC"))
		}
		for _, m := range strings.Split(*modes, ",") {
			secs, cpu, rss, out, err := measure(m, *file)
			if err != nil {
				fmt.Printf("%-10s failed: %v\n", m, err)
				continue
			}
			mbs := float64(st.Size()) / 1e6 / secs
			mbc := float64(st.Size()) / 1e6 / cpu
			if m == "floor" {
				floor = mbc
			}
			vs := "-"
			if floor > 0 {
				vs = fmt.Sprintf("%.2fx", mbc/floor)
			}
			fmt.Printf("%-10s %9.2f %8.0f %9.2f %10.0f %8.1f MiB %9s %s\n", m, secs, mbs, cpu, mbc, float64(rss)/1024, out, vs)
		}
	}
}

var (
	buildOnce  sync.Once
	serviceBin string
	buildErr   error
)

// serviceBinary builds scripts/cutbench/servicecut once. It is a program
// of its own because it links the files service, whose dependencies (the
// database drivers, the bucket clients) would add tens of MiB to the peak
// RSS of every other mode.
func serviceBinary() (string, error) {
	buildOnce.Do(func() {
		serviceBin = filepath.Join(os.TempDir(), fmt.Sprintf("cutbench-servicecut-%d", os.Getpid()))
		out, err := exec.Command("go", "build", "-o", serviceBin, "./scripts/cutbench/servicecut").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build servicecut (run from the repository's root): %v: %s", err, out)
		}
	})
	return serviceBin, buildErr
}

// measure runs one mode in a child process for its wall time, CPU time and
// peak resident memory (KiB).
func measure(mode, file string) (secs, cpu float64, rss int64, out string, err error) {
	var cmd *exec.Cmd
	switch mode {
	case "mlr":
		cmd = exec.Command("sh", "-c", fmt.Sprintf("mlr --icsv --ocsv filter '%s' then cut -o -f %s %s | tail -n +2 | wc -l", mlrExpr, keep, file))
	case "duckdb":
		dir := os.Getenv("DUCKDB_NODE")
		if dir == "" {
			return 0, 0, 0, "", fmt.Errorf("DUCKDB_NODE names no folder with @duckdb/node-api installed")
		}
		threads := os.Getenv("DUCKDB_THREADS")
		if threads == "" {
			threads = "2"
		}
		script, err := filepath.Abs(filepath.Join("scripts", "cutbench", "duckdb.mjs"))
		if err != nil {
			return 0, 0, 0, "", err
		}
		cmd = exec.Command("node", script, file, threads)
	default:
		if n, ok := strings.CutPrefix(mode, "service:"); ok {
			bin, err := serviceBinary()
			if err != nil {
				return 0, 0, 0, "", err
			}
			cmd = exec.Command(bin, "-file", file, "-workers", n, "-where", whereSQL, "-keep", keep)
			break
		}
		cmd = exec.Command(os.Args[0], "-mode", mode, "-file", file)
	}
	start := time.Now()
	b, err := cmd.Output()
	secs = time.Since(start).Seconds()
	if err != nil {
		return 0, 0, 0, "", err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return secs, cpu, ru.Maxrss, strings.TrimSpace(string(b)), nil
}

func runMode(mode, file string) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	out := bufio.NewWriterSize(io.Discard, 64<<10)
	switch mode {
	case "floor":
		r := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
		r.ReuseRecord = true
		var n int64
		for {
			if _, err := r.Read(); err == io.EOF {
				return n - 1, nil
			} else if err != nil {
				return n, err
			}
			n++
		}
	case "stdcut":
		return stdCut(f, out)
	case "cut":
		return cut(f, out)
	}
	return 0, fmt.Errorf("unknown mode %q", mode)
}

// cut is Cutline's path: the same calls the files service makes.
func cut(f io.Reader, out io.Writer) (int64, error) {
	r := csvio.NewReader(bufio.NewReaderSize(f, 256<<10), csvio.Dialect{Encoding: "utf-8", Delimiter: ','})
	hdr, err := r.Header()
	if err != nil {
		return 0, err
	}
	cols := make([]filter.Column, len(hdr))
	for i, h := range hdr {
		cols[i] = filter.Column{Name: h, Kind: filter.KindText}
		if h == "age" || h == "score" {
			cols[i].Kind = filter.KindNumber
		}
	}
	e, err := filter.ParseSQL(whereSQL)
	if err != nil {
		return 0, err
	}
	match, err := filter.Compile(e, cols)
	if err != nil {
		return 0, err
	}
	idx := indexes(hdr)
	w := csvio.NewWriter(out)
	var n int64
	for {
		row, err := r.Read()
		if err == io.EOF {
			return n, w.Flush()
		}
		if err != nil {
			return n, err
		}
		if match(row) {
			n++
			if err := w.WriteSelected(row, idx); err != nil {
				return n, err
			}
		}
	}
}

// stdCut is the straightforward encoding/csv read, filter and write.
func stdCut(f io.Reader, out io.Writer) (int64, error) {
	r := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	r.ReuseRecord = true
	hdr, err := r.Read()
	if err != nil {
		return 0, err
	}
	hdr = append([]string(nil), hdr...)
	idx := indexes(hdr)
	pos := map[string]int{}
	for i, h := range hdr {
		pos[h] = i
	}
	w := csv.NewWriter(out)
	rec := make([]string, len(idx))
	var n int64
	for {
		row, err := r.Read()
		if err == io.EOF {
			w.Flush()
			return n, w.Error()
		}
		if err != nil {
			return n, err
		}
		age, err1 := strconv.ParseFloat(row[pos["age"]], 64)
		score, err2 := strconv.ParseFloat(row[pos["score"]], 64)
		city := row[pos["city"]]
		if err1 != nil || err2 != nil || age < 30 || score >= 500 || (city != "NYC" && city != "LA" && city != "SF") {
			continue
		}
		for i, k := range idx {
			rec[i] = row[k]
		}
		n++
		if err := w.Write(rec); err != nil {
			return n, err
		}
	}
}

func indexes(hdr []string) []int {
	var idx []int
	for _, k := range strings.Split(keep, ",") {
		for i, h := range hdr {
			if h == k {
				idx = append(idx, i)
			}
		}
	}
	return idx
}
