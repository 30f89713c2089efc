package database

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/uptrace/bun/driver/pgdriver"
)

// pgdriver logs through a package logger of its own, by default the
// standard library's log on stderr, beside the server's log. It is routed
// into slog's default logger (the process logger once Serve set it), at
// warn, except for a line about a statement whose own context had ended:
// pgdriver logs a write on a connection closed under it, and a statement
// cancelled as it was being sent has its connection closed by the guard
// (guardedConn.watch) before or during that write. That is the
// cancellation working, so it is logged at debug; a write that failed on
// a live context (the server or the network went away) stays a warning.
func init() { pgdriver.Logger = driverLog{slog.Default} }

// driverLog is pgdriver's logger writing to the slog logger that log
// returns at the time of the call.
type driverLog struct{ log func() *slog.Logger }

// Printf logs one pgdriver line.
func (l driverLog) Printf(ctx context.Context, format string, v ...any) {
	level := slog.LevelWarn
	if ctx.Err() != nil {
		level = slog.LevelDebug
	}
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "pgdriver: ")
	l.log().Log(ctx, level, msg, "component", "pgdriver")
}
