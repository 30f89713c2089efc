// Command cutline is a GraphQL server for a CSV workspace with lineage.
//
//	go run .            start the server (SQLite and ./data by default)
//	go run . migrate    apply database migrations and exit
//	go run . import     move users and files in from the old backend (see README.md)
//	go run . check      compare the database's rows with the bucket's objects
//	go run . help       every command, flag and setting
//	go run . version    the module version and VCS revision
//
// Settings come from flags and environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"text/tabwriter"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/importer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit statuses: 2 is a command line that could not be understood (with
// the usage on stderr), 1 anything else that failed.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the whole command line: it returns the exit status, having
// written help and version to stdout and errors to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help":
		usage(stdout)
		return exitOK
	case "version":
		if len(args) > 0 {
			return usageError(stderr, fmt.Errorf("version takes no arguments, got %q", args[0]))
		}
		version(stdout)
		return exitOK
	case "import":
		// import has flags of its own (--db names the old database) and
		// reads the target's settings from the environment only.
		err := importer.Command(ctx, args, getenv, stdout, stderr)
		if ue := (*config.UsageError)(nil); errors.As(err, &ue) {
			// import printed its own usage.
			fmt.Fprintln(stderr, "cutline:", err)
			return exitUsage
		}
		return fail(stderr, err)
	case "serve", "migrate", "check":
	default:
		return usageError(stderr, fmt.Errorf("unknown command %q", cmd))
	}
	// Help and version answer whatever the environment holds, so they are
	// looked for before the settings are read.
scan:
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			usage(stdout)
			return exitOK
		case "-version", "--version":
			version(stdout)
			return exitOK
		case "--":
			break scan
		}
	}
	cfg, err := config.Load(args, getenv)
	if ue := (*config.UsageError)(nil); errors.As(err, &ue) {
		return usageError(stderr, err)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("configuration: %w", err))
	}
	switch cmd {
	case "migrate":
		return fail(stderr, app.MigrateOnly(ctx, cfg))
	case "check":
		if err := app.Check(ctx, cfg, stdout); errors.Is(err, app.ErrProblems) {
			return exitError // the report says what
		} else if err != nil {
			return fail(stderr, err)
		}
		return exitOK
	}
	gcDefault(getenv)
	return fail(stderr, app.Serve(ctx, cfg))
}

func fail(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "cutline:", err)
	return exitError
}

func usageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "cutline: %v\n\n", err)
	usage(stderr)
	return exitUsage
}

// usage lists the commands, the flags and every setting with its default.
func usage(w io.Writer) {
	fmt.Fprint(w, `Cutline: a GraphQL server for a CSV workspace with lineage.

Usage:
  cutline [serve] [flags]     run the server (the default command)
  cutline migrate [flags]     apply the database migrations and exit
  cutline import SOURCE ...   move accounts, files and lineage in from the old backend
                              (cutline import -h for its flags)
  cutline check [flags]       compare the database's rows with the bucket's objects: report
                              rows without objects, partial objects, objects without rows,
                              stale temporary objects, incomplete multipart uploads; exit 1
                              on any
  cutline version             print the module version and VCS revision
  cutline help                print this help

Flags (each wins over its environment variable):
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	settings := config.Settings()
	for _, s := range settings {
		if s.Flag != "" {
			fmt.Fprintf(tw, "  -%s %s\t%s (%s, default %s)\n", s.Flag, argName(s.Env), s.Usage, s.Env, orNone(s.Default))
		}
	}
	fmt.Fprintf(tw, "  -h, -help\tprint this help\n")
	fmt.Fprintf(tw, "  -version\tprint the version\n")
	tw.Flush()
	fmt.Fprint(w, "\nEnvironment (every setting; README.md explains each):\n")
	for _, s := range settings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Env, orNone(s.Default), s.Usage)
	}
	tw.Flush()
	fmt.Fprint(w, "\nGOGC (default 400 for the server) and OTEL_* (tracing, off unless an exporter is named) mean\nwhat Go and OpenTelemetry define.\n")
	fmt.Fprint(w, "\nExit status: 0 on success, 1 on failure, 2 when the command line is wrong.\n")
}

func argName(env string) string {
	switch env {
	case "DATABASE_URL", "BLOB_URL":
		return "URL"
	case "DATA_DIR":
		return "DIR"
	case "LOG_LEVEL":
		return "LEVEL"
	case "LOG_FORMAT":
		return "FORMAT"
	}
	return env
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// version prints what the build recorded about itself: the module version
// ("(devel)" for a build from a work tree) and the VCS revision, which go
// build stamps into every binary built inside a git checkout.
func version(w io.Writer) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintf(w, "cutline: no build information (%s)\n", runtime.Version())
		return
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	fmt.Fprintf(w, "cutline %s\n", bi.Main.Version)
	if rev := vcs["vcs.revision"]; rev != "" {
		mod := ""
		if vcs["vcs.modified"] == "true" {
			mod = " (with uncommitted changes)"
		}
		fmt.Fprintf(w, "revision %s%s, committed %s\n", rev, mod, vcs["vcs.time"])
	} else {
		fmt.Fprintln(w, "revision unknown: built without VCS information (go run, or -buildvcs=false)")
	}
	fmt.Fprintf(w, "built with %s for %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
}

// gcPercent is the server's default GOGC. Its live heap is small (tens of
// MiB) while every request allocates, so at Go's default of 100 the
// collector ran many times a second and took a fifth of the CPU under load;
// 400 costs a few tens of MiB of resident memory. A GOGC in the environment
// wins.
const gcPercent = 400

func gcDefault(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
