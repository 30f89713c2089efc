package apperr_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/cutline/cutline/internal/apperr"
)

// pgError is shaped like pgdriver.Error: its SQLSTATE is Field('C').
type pgError map[byte]string

func (e pgError) Field(k byte) string { return e[k] }
func (e pgError) Error() string       { return e['M'] }

func TestIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"the kind itself", fmt.Errorf("open object: %w", apperr.ErrUnavailable), true},
		{"connection refused", fmt.Errorf("connect to database: %w", refused), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"lost connection", fmt.Errorf("save file record: %w", io.EOF), true},
		{"bad connection", driver.ErrBadConn, true},
		{"starting up", pgError{'C': "57P03", 'M': "the database system is starting up"}, true},
		{"shutting down", pgError{'C': "57P01", 'M': "terminating connection due to administrator command"}, true},
		{"connection exception", pgError{'C': "08006"}, true},
		{"syntax error", pgError{'C': "42601", 'M': "syntax error"}, false},
		{"unique violation", pgError{'C': "23505"}, false},
		{"a bug", errors.New("unexpected"), false},
		{"the request ended", context.Canceled, false},
		// A body the client cut short is the client's doing, whatever the cause.
		{"client input", &apperr.InvalidError{Field: "file", Reason: "cut short", Err: io.ErrUnexpectedEOF}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := apperr.IsUnavailable(tc.err); got != tc.want {
				t.Fatalf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestIsStorageFull(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"no space", &os.PathError{Op: "write", Path: "/data/blobs/files/x.tmp", Err: syscall.ENOSPC}, true},
		{"quota", fmt.Errorf("write: %w", syscall.EDQUOT), true},
		{"PostgreSQL disk full", pgError{'C': "53100"}, true},
		{"the kind itself", fmt.Errorf("write object: %w", apperr.ErrStorageFull), true},
		{"connection refused", syscall.ECONNREFUSED, false},
		{"nil", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := apperr.IsStorageFull(tc.err); got != tc.want {
				t.Fatalf("IsStorageFull(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
