// Package apperr holds the few error kinds that feature packages return and
// adapters translate. Each adapter maps them in exactly one place: GraphQL to
// extensions.code, the REST shim to its legacy status and body.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel kinds. Feature packages wrap them (fmt.Errorf("...: %w", ErrNotFound))
// or return the typed errors below, which match them through errors.Is.
var (
	// ErrNotFound is returned for missing records and, deliberately, for
	// records that belong to someone else.
	ErrNotFound = errors.New("not found")
	// ErrUnauthenticated means the caller is not (or no longer) logged in.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrInvalidInput is matched by every *InvalidError.
	ErrInvalidInput = errors.New("invalid input")
	// ErrTooLarge means a payload exceeded a configured size limit.
	ErrTooLarge = errors.New("payload too large")
	// ErrRateLimited means the caller must slow down; see *RateLimitError.
	ErrRateLimited = errors.New("rate limited")
	// ErrUnavailable means a dependency (database, bucket) failed; callers may retry.
	ErrUnavailable = errors.New("service unavailable")
)

// UnavailableRetryAfter is how long every adapter tells a client to wait
// before retrying after ErrUnavailable (Retry-After, retryAfterSeconds).
const UnavailableRetryAfter = 5 * time.Second

// InvalidError says which input field was wrong and why. Field may be empty
// when the problem is not tied to one field.
type InvalidError struct {
	Field  string
	Reason string
	// Err is the underlying cause, kept for errors.As; never shown.
	Err error
}

// Invalid builds an *InvalidError.
func Invalid(field, format string, args ...any) *InvalidError {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalidInput }

// Unwrap returns the cause, if any.
func (e *InvalidError) Unwrap() error { return e.Err }

// TooLargeError carries the limit that was exceeded, so messages can name it.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("file size exceeds the limit of %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// RateLimitError says how long the caller should wait, and optionally
// which limit it reached.
type RateLimitError struct {
	RetryAfter time.Duration
	// Reason, when set, names the limit for the client.
	Reason string
}

func (e *RateLimitError) Error() string {
	wait := max(e.RetryAfter.Round(time.Second), time.Second)
	if e.Reason != "" {
		return fmt.Sprintf("%s; retry in %s", e.Reason, wait)
	}
	return fmt.Sprintf("too many requests, retry in %s", wait)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// ErrStorageFull means the disk (or quota) under the bucket or the
// database has no room left: not the client's fault, and worth retrying
// once an operator made room.
var ErrStorageFull = errors.New("storage is full")
