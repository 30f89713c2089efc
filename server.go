// Command cutline is a GraphQL server for a CSV workspace with lineage.
//
//	go run .            start the server (SQLite and ./data by default)
//	go run . migrate    apply database migrations and exit
//	go run . import     move users and files in from the old backend (see README.md)
//
// Settings come from flags and environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/importer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cutline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if cmd == "import" {
		// import has flags of its own (--db names the old database) and
		// reads the target's settings from the environment only.
		return importer.Command(ctx, args, os.Getenv, os.Stdout, os.Stderr)
	}
	cfg, err := config.Load(args, os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	switch cmd {
	case "serve":
		gcDefault(os.Getenv)
		return app.Serve(ctx, cfg)
	case "migrate":
		return app.MigrateOnly(ctx, cfg)
	default:
		return errors.New("unknown command " + cmd + " (want serve, migrate or import)")
	}
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
