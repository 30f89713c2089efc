package database

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// What pgdriver logs reaches slog with the driver named; a failed write of
// a statement whose context had ended is debug, anything else a warning.
func TestDriverLog(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	const write = "pgdriver: Conn.Write failed (zero-length): %s"
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want string
	}{
		{"live context", context.Background(), "level=WARN"},
		{"ended context", cancelled, "level=DEBUG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			driverLog{func() *slog.Logger { return log }}.Printf(tc.ctx, write, "use of closed network connection")
			got := buf.String()
			for _, want := range []string{tc.want, `msg="Conn.Write failed (zero-length): use of closed network connection"`, "component=pgdriver"} {
				if !strings.Contains(got, want) {
					t.Errorf("logged %q, want %s in it", got, want)
				}
			}
		})
	}
}
