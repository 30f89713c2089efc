package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/config"
)

// runCLI runs the command line in process with env as the whole environment.
func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestHelpListsCommandsFlagsAndSettings(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"help"}, {"serve", "-h"}, {"migrate", "--help"}, {"-addr", ":1", "-h"}} {
		// A broken environment does not stand in the way of help.
		code, out, errOut := runCLI(t, map[string]string{"GRAPHQL_MAX_DEPTH": "x"}, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, cmd := range []string{"serve", "migrate", "import", "version", "help"} {
			if !strings.Contains(out, "cutline "+cmd) && !strings.Contains(out, "cutline ["+cmd+"]") {
				t.Errorf("%v: help does not list the command %s", args, cmd)
			}
		}
		for _, s := range config.Settings() {
			line := ""
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), s.Env+" ") {
					line = l
				}
			}
			if line == "" || s.Default != "" && !strings.Contains(line, s.Default) {
				t.Errorf("%v: help lists %s as %q, want its default %q", args, s.Env, line, s.Default)
			}
			if s.Flag != "" && !strings.Contains(out, "-"+s.Flag+" ") {
				t.Errorf("%v: help does not list the flag -%s", args, s.Flag)
			}
			if s.Flag != "" && !strings.Contains(out, "("+s.Env+", default "+s.Default) {
				t.Errorf("%v: the flag -%s does not name %s and its default", args, s.Flag, s.Env)
			}
		}
	}
}

func TestVersionFromBuildInfo(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}, {"serve", "-version"}} {
		code, out, errOut := runCLI(t, nil, args...)
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "cutline ") || !strings.Contains(out, "built with go") {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	// The built binary says what go build stamped into it: the module
	// version and, in a git checkout, the revision.
	bin := binary(t)
	out, err := exec.Command(bin.path, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	info, err := buildinfo.ReadFile(bin.path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "cutline "+info.Main.Version+"\n") {
		t.Errorf("version says %q, want the module version %q first", out, info.Main.Version)
	}
	rev := ""
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			rev = s.Value
		}
	}
	if rev == "" {
		// go build stamps a revision only where .git is a folder, not in
		// a linked work tree (whose .git is a file).
		if st, err := os.Stat(".git"); err == nil && st.IsDir() {
			t.Fatalf("go build -buildvcs=true stamped no revision in a git checkout")
		}
		t.Skip("not a git checkout of its own: no revision to compare")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if rev != strings.TrimSpace(string(head)) || !strings.Contains(string(out), "revision "+rev) {
		t.Fatalf("version says %q, want the revision %s", out, head)
	}
}

func TestBadCommandLineExitsTwoWithUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"serve", "--no-such-flag=1"}, "flag provided but not defined: -no-such-flag"},
		{[]string{"-log-level", "loud"}, `LOG_LEVEL ("loud"): must be debug, info, warn or error`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"version", "now"}, `version takes no arguments`},
	} {
		code, out, errOut := runCLI(t, nil, tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Usage:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q with the usage", tc.args, code, out, errOut, tc.want)
		}
	}
	if code, _, errOut := runCLI(t, nil, "import", "--frob"); code != 2 || !strings.Contains(errOut, "usage:") {
		t.Errorf("import --frob: exit %d, stderr %q", code, errOut)
	}
}

// TestConfigurationErrorsNameTheSetting runs the server with settings a
// person gets wrong; each answer names the setting, the value and why.
func TestConfigurationErrorsNameTheSetting(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want []string
	}{
		{map[string]string{"LOG_LEVEL": "loud"}, []string{`LOG_LEVEL="loud": must be debug, info, warn or error`}},
		{map[string]string{"GRAPHQL_MAX_DEPTH": "x"}, []string{`GRAPHQL_MAX_DEPTH="x": not a whole number`}},
		{map[string]string{"MAX_FILE_SIZE": "1e30"}, []string{`MAX_FILE_SIZE="1e30": 1e+30 bytes is more than the largest size, 8EiB`}},
		{map[string]string{"LOG_LEVEL": "loud", "ACCESS_TOKEN_TTL": "soon"}, []string{"LOG_LEVEL=", `ACCESS_TOKEN_TTL="soon": not a duration`}},
	} {
		code, out, errOut := runCLI(t, tc.env)
		if code != 1 || out != "" {
			t.Errorf("%v: exit %d, stdout %q", tc.env, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.env, errOut, w)
			}
		}
		if strings.Contains(errOut, "strconv") {
			t.Errorf("%v: stderr %q speaks Go", tc.env, errOut)
		}
	}
}

// TestReadOnlyDataFolderIsNamed starts the binary on a data folder it may
// not write, with the signing secret already there, as another user than
// root (whom permissions do not stop).
func TestReadOnlyDataFolderIsNamed(t *testing.T) {
	bin := binary(t)
	dir := filepath.Join(bin.dir, "readonly")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "jwt.secret"), []byte(strings.Repeat("ab", 32)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	cmd := exec.Command(bin.path)
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root without setpriv to drop privileges")
		}
		cmd = exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin.path)
	}
	cmd.Env = []string{"DATA_DIR=" + dir, "ADDR=127.0.0.1:0", "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, output %s", err, out)
	}
	want := `DATA_DIR: the SQLite database's folder "` + dir + `" is not writable`
	if !strings.Contains(string(out), want) || strings.Contains(string(out), "(14)") {
		t.Fatalf("output %q, want %q", out, want)
	}
}

// TestStartReportsUnreachableBucket starts the binary on an S3 endpoint
// that refuses connections: the log says so at start, /readyz answers 503,
// and health probes stay out of the info log while other requests are in it.
func TestStartReportsUnreachableBucket(t *testing.T) {
	bin := binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String() // nothing listens there once closed
	ln.Close()
	cmd := exec.Command(bin.path)
	cmd.Env = []string{
		"DATA_DIR=" + t.TempDir(), "ADDR=127.0.0.1:0", "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"BLOB_URL=s3://bucket?endpoint=http://" + closed + "&region=us-east-1&use_path_style=true&disable_https=true",
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var log []string
	waitFor := func(what string) string {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the server exited before logging %q: %s", what, strings.Join(log, "\n"))
				}
				log = append(log, l)
				if strings.Contains(l, what) {
					return l
				}
			case <-deadline:
				t.Fatalf("no %q in the log: %s", what, strings.Join(log, "\n"))
			}
		}
	}
	addr := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(waitFor("cutline listening"))[1]
	l := waitFor("the bucket cannot be reached")
	for _, w := range []string{"level=ERROR", "BLOB_URL", "connection refused"} {
		if !strings.Contains(l, w) {
			t.Errorf("log line %q lacks %q", l, w)
		}
	}
	if strings.Contains(l, `\n`) {
		t.Errorf("log line %q spreads a call stack over lines", l)
	}
	for path, want := range map[string]int{"/readyz": 503, "/healthz": 200, "/playground": 200} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	waitFor("path=/playground")
	for _, l := range log {
		if strings.Contains(l, "msg=request") && (strings.Contains(l, "path=/healthz") || strings.Contains(l, "path=/readyz")) {
			t.Errorf("a health probe is logged at info: %s", l)
		}
	}
}

type built struct {
	dir, path string
	vcs       bool // stamped with the revision
}

var (
	buildOnce sync.Once
	buildOut  built
	buildErr  error
	buildLog  []byte
)

// binary builds the command once for the tests that run it as a user
// would.
func binary(t *testing.T) built {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cutline-cli-")
		if err != nil {
			buildErr = err
			return
		}
		// Other users (the read-only test's) must reach the binary.
		os.Chmod(dir, 0o755)
		buildOut = built{dir: dir, path: filepath.Join(dir, "cutline")}
		// go stamps the revision when the module sits in a git checkout
		// (a .git folder: a worktree's .git file is not looked into).
		fi, err := os.Stat(".git")
		buildOut.vcs = err == nil && fi.IsDir()
		vcs := "false"
		if buildOut.vcs {
			vcs = "true"
		}
		cmd := exec.Command("go", "build", "-buildvcs="+vcs, "-o", buildOut.path, ".")
		buildLog, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildLog)
	}
	return buildOut
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildOut.dir != "" {
		os.RemoveAll(buildOut.dir)
	}
	os.Exit(code)
}

// cutline check reports what disagrees between rows and objects and exits
// 1 on it, 0 when all agrees; it creates nothing where nothing is.
func TestCheckCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DATA_DIR": dir, "DATABASE_URL": "sqlite://" + filepath.Join(dir, "cutline.db"),
		"BLOB_URL": "file://" + filepath.Join(dir, "blobs"), "JWT_SECRET": "test-secret-0123456789abcdef0123456789abcdef"}
	if code, _, errOut := runCLI(t, env, "check"); code != 1 || !strings.Contains(errOut, "database") {
		t.Fatalf("check before any migration: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d, %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, env, "check"); code != 0 || !strings.Contains(out, "0 problems") {
		t.Fatalf("check of an empty, consistent store: exit %d, %q %q", code, out, errOut)
	}
	orphan := filepath.Join(dir, "blobs", "files", "0b6f3a5e-0000-4000-8000-000000000001")
	if err := os.MkdirAll(filepath.Dir(orphan), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphan, []byte("x\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(orphan, old, old); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, env, "check")
	if code != 1 || !strings.Contains(out, "object without row: files/0b6f3a5e-0000-4000-8000-000000000001") {
		t.Fatalf("check with an orphan object: exit %d, %q", code, out)
	}
}
