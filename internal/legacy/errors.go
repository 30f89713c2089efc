package legacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/filter"
	"github.com/cutline/cutline/internal/ratelimit"
	"github.com/cutline/cutline/internal/requestid"
)

// reply is an answer a handler has already put in its legacy shape, for
// failures that belong to the shim's own request parsing ("No file
// uploaded" and the like). fail writes it as it is.
type reply struct {
	status int
	body   any
}

func (e *reply) Error() string { return fmt.Sprintf("legacy reply %d", e.status) }

// errorReply is the handlers' usual {"error": msg} answer.
func errorReply(status int, msg string) *reply {
	return &reply{status: status, body: map[string]string{"error": msg}}
}

// throttled is the shim's own rate limit (the auth package has its own for
// logins, an *apperr.RateLimitError; both answer alike).
type throttled struct{ wait time.Duration }

func (e *throttled) Error() string { return "throttled" }

// Messages the frontend relies on, word for word.
const (
	msgNoCredentials   = "Authentication credentials were not provided."
	msgTokenNotValid   = "Given token not valid for any token type"
	msgNoActiveAccount = "No active account found with the given credentials"
	msgRefreshInvalid  = "Token is invalid or expired"
	msgInternal        = "Something went wrong. Please try again."
	msgUploadFailed    = "File upload failed. Please try again."
	msgOriginalMissing = "Original file not found."
	notCSVPrefix       = "not a CSV file: "
	readCSVPrefix      = "Could not read CSV file: "
)

// fail is the shim's one mapping from errors to legacy answers. Feature
// packages return apperr kinds; the wording and status depend on the
// endpoint because the old views each had their own.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, ep endpoint, err error) {
	var (
		rp  *reply
		th  *throttled
		rl  *apperr.RateLimitError
		tl  *apperr.TooLargeError
		inv *apperr.InvalidError
		fe  *filter.Error
	)
	switch {
	case errors.As(err, &rp):
		writeJSON(w, rp.status, rp.body)

	case errors.As(err, &th):
		writeThrottled(w, th.wait)
	case errors.As(err, &rl) && rl.Reason != "":
		// A quota rather than a throttle: the page shows the error.
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(rl.RetryAfter)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": rl.Error()})
	case errors.As(err, &rl):
		writeThrottled(w, rl.RetryAfter)

	case errors.Is(err, apperr.ErrUnauthenticated):
		switch ep {
		case epLogin:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": msgNoActiveAccount})
		case epRefresh:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": msgRefreshInvalid, "code": "token_not_valid"})
		default:
			// 401, never 403: the frontend refreshes and retries only on 401.
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			if auth.TokenError(r.Context()) != nil {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": msgTokenNotValid, "code": "token_not_valid"})
			} else {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": msgNoCredentials})
			}
		}

	case errors.As(err, &tl) || errors.Is(err, apperr.ErrTooLarge):
		limit := h.Files.MaxFileSize()
		if tl != nil && tl.Limit > 0 {
			limit = tl.Limit
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": sizeMessage(limit)})

	case errors.Is(err, apperr.ErrNotFound):
		switch ep {
		case epSave:
			// The only thing #8 looks up is the original file.
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": msgOriginalMissing})
		case epUser:
			// simplejwt's answer for a valid token whose user is gone.
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "User not found", "code": "user_not_found"})
		case epExport, epDownload:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "File not found"})
		default:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "File not found."})
		}

	case apperr.IsStorageFull(err) || apperr.IsUnavailable(err):
		// The storage failed, not the request: the client may retry (507
		// when a disk is full, which an operator must see to).
		status, what := http.StatusServiceUnavailable, "legacy: storage unavailable"
		if apperr.IsStorageFull(err) {
			status, what = http.StatusInsufficientStorage, "legacy: storage full"
		}
		h.Log.WarnContext(r.Context(), what, "path", r.URL.Path, "err", err,
			"request_id", requestid.From(r.Context()))
		w.Header().Set("Retry-After", strconv.Itoa(int(apperr.UnavailableRetryAfter.Seconds())))
		// The old server's words, which the pages show; only the status
		// and Retry-After say that trying again is worth it.
		msg := msgInternal
		if ep == epUpload {
			msg = msgUploadFailed
		}
		writeJSON(w, status, map[string]string{"error": msg})

	case errors.As(err, &fe):
		// Filter messages name the column and the clause already.
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fe.Error()})

	case errors.As(err, &inv):
		switch {
		case ep == epRegister:
			field := inv.Field
			if field == "" {
				field = "non_field_errors"
			}
			writeJSON(w, http.StatusBadRequest, map[string][]string{field: {drfReason(inv.Reason)}})
		case ep == epSave && inv.Field == files.FieldParents:
			// The original was deleted between the check and the commit.
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": msgOriginalMissing})
		case inv.Field == files.FieldFile:
			// The upload pipeline's verdict on the bytes: not CSV, or cut short.
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"error": readCSVPrefix + strings.TrimPrefix(inv.Reason, notCSVPrefix),
			})
		default:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": inv.Reason})
		}

	default:
		ctx := r.Context()
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// The client went away; nobody reads this answer.
			h.Log.DebugContext(ctx, "legacy: request cancelled", "path", r.URL.Path, "err", err)
		} else {
			h.Log.ErrorContext(ctx, "legacy: request failed", "path", r.URL.Path, "err", err,
				"request_id", requestid.From(ctx))
		}
		msg := msgInternal
		if ep == epUpload {
			msg = msgUploadFailed
		}
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": msg})
	}
}

// sizeMessage is the old server's wording, which the frontend matches on
// ("File size exceeds"): the limit in MiB with two decimals.
func sizeMessage(limit int64) string {
	return fmt.Sprintf("File size exceeds %.2fMB limit.", float64(limit)/(1<<20))
}

// drfReason words the auth package's reasons the way Django did where the
// frontend may show them: a duplicate account gets Django's sentence.
func drfReason(reason string) string {
	if strings.HasPrefix(reason, "a user with that ") && strings.HasSuffix(reason, " already exists") {
		return "A" + reason[1:] + "."
	}
	return reason
}

// writeThrottled answers 429 as DRF's throttling did.
func writeThrottled(w http.ResponseWriter, wait time.Duration) {
	secs := int64((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeJSON(w, http.StatusTooManyRequests, map[string]string{
		"detail": fmt.Sprintf("Request was throttled. Expected available in %d %s.", secs, unit),
	})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
