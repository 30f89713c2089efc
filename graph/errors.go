package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/requestid"
)

// The extensions.code values clients rely on.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	CodeRateLimited     = "RATE_LIMITED"
	CodeQueryTooComplex = "QUERY_TOO_COMPLEX"
	CodeUnavailable     = "UNAVAILABLE"
	// CodeInsufficientStorage: the disk under the storage is full.
	CodeInsufficientStorage = "INSUFFICIENT_STORAGE"
	CodeInternal            = "INTERNAL"
)

// ErrorPresenter maps feature errors to GraphQL errors: the one place
// where this adapter decides codes and messages. Internal errors are
// logged with the request id and shown only as "internal error".
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions != nil && gqlErr.Extensions["code"] != nil {
			// Set by gqlgen (parse, validation) or by our own limits.
			return gqlErr
		}
		var cause error = err
		var wrapped *gqlerror.Error
		if errors.As(err, &wrapped) && wrapped.Err != nil {
			cause = wrapped.Err
		}
		code, msg := classify(cause)
		if (code == "" || code == CodeUnavailable) && ended(ctx) {
			// The operation's deadline passed, or its client left, while a
			// dependency was working: drivers report that in words of their
			// own (a read timeout) rather than as the context's error.
			code, msg = classify(context.DeadlineExceeded)
		}
		if code == "" {
			if wrapped != nil && wrapped.Err == nil {
				// A gqlgen error without a cause: input coercion and the like.
				setCode(gqlErr, CodeBadUserInput)
				return gqlErr
			}
			log.ErrorContext(ctx, "internal error", "err", cause, "path", gqlErr.Path.String(), "request_id", requestid.From(ctx))
			code, msg = CodeInternal, "internal error"
			if id := requestid.From(ctx); id != "" {
				msg += " (request " + id + ")"
			}
		}
		gqlErr.Message = msg
		setCode(gqlErr, code)
		var inv *apperr.InvalidError
		if errors.As(cause, &inv) && inv.Field != "" {
			gqlErr.Extensions["field"] = inv.Field
		}
		var rl *apperr.RateLimitError
		if errors.As(cause, &rl) {
			gqlErr.Extensions["retryAfterSeconds"] = int(rl.RetryAfter.Seconds() + 0.999)
		}
		if code == CodeUnavailable || code == CodeInsufficientStorage {
			// The cause is logged, not shown: it may name the storage.
			log.WarnContext(ctx, "storage unavailable", "err", cause, "path", gqlErr.Path.String(), "request_id", requestid.From(ctx))
			gqlErr.Extensions["retryAfterSeconds"] = int(apperr.UnavailableRetryAfter.Seconds())
		}
		return gqlErr
	}
}

// ended reports whether ctx is over. A driver whose socket deadline is the
// context's may report the timeout a moment before the context itself
// says so, hence the look at the clock.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}

// classify returns the code and client-safe message of a known error kind,
// or "" for anything unexpected.
func classify(err error) (code, msg string) {
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return CodeNotFound, "not found"
	case errors.Is(err, apperr.ErrUnauthenticated):
		return CodeUnauthenticated, unwrapMessage(err, "authentication required")
	case errors.Is(err, apperr.ErrInvalidInput):
		var inv *apperr.InvalidError
		if errors.As(err, &inv) {
			return CodeBadUserInput, inv.Error()
		}
		return CodeBadUserInput, "invalid input"
	case errors.Is(err, apperr.ErrTooLarge):
		return CodePayloadTooLarge, err.Error()
	case errors.Is(err, apperr.ErrRateLimited):
		var rl *apperr.RateLimitError
		if errors.As(err, &rl) {
			return CodeRateLimited, rl.Error()
		}
		return CodeRateLimited, "too many requests"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeInternal, "the request was cancelled or timed out"
	case apperr.IsStorageFull(err):
		return CodeInsufficientStorage, "storage is full, try again later"
	case apperr.IsUnavailable(err):
		return CodeUnavailable, "storage is unavailable, try again"
	}
	return "", ""
}

// unwrapMessage keeps the outermost message of an authentication error,
// which the auth package writes for clients ("invalid or expired token").
func unwrapMessage(err error, fallback string) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "+apperr.ErrUnauthenticated.Error()); i > 0 {
		return msg[:i]
	}
	if msg == apperr.ErrUnauthenticated.Error() {
		return fallback
	}
	return msg
}

// RecoverFunc turns a panic in a resolver into an INTERNAL error; the
// cause is logged, never shown.
func RecoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "request_id", requestid.From(ctx))
		return errors.New("panic in resolver")
	}
}
