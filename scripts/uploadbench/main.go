// Command uploadbench uploads one large generated CSV file to a freshly
// started server through the streaming REST endpoint and reports the
// throughput, the CPU time the server spent and its peak resident memory.
// It builds the server from the current tree, or runs a given binary, so
// that two builds can be compared run for run; with -graphql it sends the
// file as the GraphQL multipart request of uploadFile instead, the form
// streamed from the file as the REST body is:
//
//	go run ./scripts/uploadbench -size 1GiB
//	go run ./scripts/uploadbench -bin /tmp/cutline-old -runs 3
//	go run ./scripts/uploadbench -graphql
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/benchdata"
	"github.com/cutline/cutline/internal/config"
)

func main() {
	size := flag.String("size", "1GiB", "size of the uploaded file")
	file := flag.String("file", "/tmp/uploadbench.csv", "file to upload (generated when missing)")
	addr := flag.String("addr", "127.0.0.1:18181", "address for the server under test")
	bin := flag.String("bin", "", "server binary to run (default: build the current tree)")
	runs := flag.Int("runs", 1, "uploads, each to a freshly started server")
	graphQL := flag.Bool("graphql", false, "upload through GraphQL uploadFile (multipart) instead of POST /api/v1/files")
	flag.Parse()
	for range *runs {
		if err := run(*size, *file, *addr, *bin, *graphQL); err != nil {
			fmt.Fprintln(os.Stderr, "uploadbench:", err)
			os.Exit(1)
		}
	}
}

func run(size, file, addr, bin string, graphQL bool) error {
	want, err := config.ParseSize(size)
	if err != nil {
		return err
	}
	if st, err := os.Stat(file); err != nil || st.Size() < want {
		fmt.Printf("generating %s...\n", file)
		if err := benchdata.Generate(file, want); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "uploadbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "cutline")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return fmt.Errorf("build: %v\n%s", err, out)
		}
	}
	srv := exec.Command(bin)
	srv.Env = append(os.Environ(), "ADDR="+addr, "DATA_DIR="+filepath.Join(dir, "data"),
		"MAX_FILE_SIZE=8GiB", "LOG_LEVEL=warn")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/readyz"); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 100 {
			return fmt.Errorf("server did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	token, err := register(base)
	if err != nil {
		return err
	}
	idle := peakRSS(srv.Process.Pid)
	cpu0 := cpuSeconds(srv.Process.Pid)

	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	req, _ := http.NewRequest("POST", base+"/api/v1/files?name=big.csv", f)
	req.ContentLength = st.Size()
	if graphQL {
		req = multipartUpload(base, f, st.Size())
	}
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	secs := time.Since(start).Seconds()
	cpu := cpuSeconds(srv.Process.Pid) - cpu0
	var created struct{ RowCount int64 }
	if graphQL {
		var answer struct {
			Data struct{ UploadFile struct{ RowCount int64 } }
		}
		if err := json.Unmarshal(body, &answer); resp.StatusCode != http.StatusOK || err != nil || bytes.Contains(body, []byte(`"errors"`)) {
			return fmt.Errorf("upload: %d %.500s", resp.StatusCode, body)
		}
		created.RowCount = answer.Data.UploadFile.RowCount
	} else {
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("upload: %d %s", resp.StatusCode, body)
		}
		json.Unmarshal(body, &created)
	}
	fmt.Printf("uploaded %.0f MB (%d rows) in %.2fs: %.0f MB/s, server CPU %.2fs\n", float64(st.Size())/1e6, created.RowCount, secs, float64(st.Size())/1e6/secs, cpu)
	fmt.Printf("server peak RSS: %.1f MiB (%.1f MiB before the upload)\n", float64(peakRSS(srv.Process.Pid))/1024, float64(idle)/1024)
	return nil
}

// multipartUpload is the GraphQL multipart request of uploadFile for f:
// the operations and map parts, then f streamed as the file part, with its
// length known, as the REST upload's is.
func multipartUpload(base string, f *os.File, size int64) *http.Request {
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadFile(file: $f, name: \"big.csv\") { id rowCount } }","variables":{"f":null}}`)
	mw.WriteField("map", `{"0":["variables.f"]}`)
	mw.CreateFormFile("0", "big.csv")
	ctype := mw.FormDataContentType()
	mw = multipart.NewWriter(&tail)
	mw.SetBoundary(strings.TrimPrefix(ctype, "multipart/form-data; boundary="))
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/graphql", io.MultiReader(bytes.NewReader(head.Bytes()), f, bytes.NewReader(tail.Bytes())))
	req.ContentLength = int64(head.Len()) + size + int64(tail.Len())
	req.Header.Set("Content-Type", ctype)
	return req
}

func register(base string) (string, error) {
	q := `mutation { register(input: {username: "bench", password: "benchmark password"}) { accessToken } }`
	b, _ := json.Marshal(map[string]string{"query": q})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Data struct{ Register struct{ AccessToken string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Data.Register.AccessToken == "" {
		return "", fmt.Errorf("register failed: %v", err)
	}
	return out.Data.Register.AccessToken, nil
}

// cpuSeconds reads the user and system time a process has used so far,
// from /proc (Linux: 100 ticks a second).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the parenthesised command name; utime and stime are
	// the 14th and 15th of the line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st float64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return (ut + st) / 100
}

// peakRSS reads the high-water mark of a process's resident memory in KiB.
func peakRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%d", &kb)
			return kb
		}
	}
	return 0
}
