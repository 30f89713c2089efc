package apperr

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
)

// IsUnavailable reports whether err means that a dependency (the database,
// the bucket) could not be reached or stopped answering, so that the same
// request may well succeed later: ErrUnavailable itself, or a failure as
// the drivers report it. Adapters ask it after every kind that is the
// client's doing, so a body the client cut short never counts.
//
// The drivers' own types are not imported here: a PostgreSQL error is
// recognised by its SQLSTATE (the Field('C') every pgdriver.Error has).
func IsUnavailable(err error) bool {
	var inv *InvalidError
	if err == nil || errors.As(err, &inv) {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	// A connection that ended mid-answer: the peer went away.
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	return unavailableState(sqlState(err))
}

// IsStorageFull reports whether err means that a disk or a quota under the
// storage is full: ErrStorageFull, ENOSPC or EDQUOT from the folder bucket,
// PostgreSQL's disk_full (53100).
func IsStorageFull(err error) bool {
	return errors.Is(err, ErrStorageFull) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) ||
		sqlState(err) == "53100"
}

// sqlState is the SQLSTATE of a PostgreSQL error in err's chain, or "".
func sqlState(err error) string {
	var pg interface{ Field(byte) string }
	if errors.As(err, &pg) {
		return pg.Field('C')
	}
	return ""
}

// unavailableState reports whether a SQLSTATE says the server cannot serve
// now rather than that the statement is wrong: a connection exception
// (class 08), a shutdown or a start-up in progress, too many connections.
func unavailableState(state string) bool {
	if len(state) == 5 && state[:2] == "08" {
		return true
	}
	switch state {
	case "57P01", // admin_shutdown
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: the database system is starting up
		"53300", // too_many_connections
		"58000", // system_error (an I/O error on the server)
		"58030": // io_error
		return true
	}
	return false
}
