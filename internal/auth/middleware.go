package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Caller is the authenticated user of a request.
type Caller struct {
	UserID   int64
	Username string
	// ExpiresAt is when the access token that authenticated the caller
	// expires: a connection that outlives one request (a websocket) ends then.
	ExpiresAt time.Time
	// Epoch is the session epoch of that token (CheckSession).
	Epoch int64
}

type ctxKey int

const (
	callerKey ctxKey = iota
	tokenErrKey
)

// WithCaller returns ctx carrying c. A nil c leaves the request anonymous.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	if c == nil {
		return ctx
	}
	return context.WithValue(ctx, callerKey, c)
}

// CallerFrom returns the caller in ctx, if any.
func CallerFrom(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey).(*Caller)
	return c, ok && c != nil
}

// RequireCaller returns the caller, or an error wrapping
// apperr.ErrUnauthenticated: the remembered token failure ("invalid or
// expired token") when the request carried a bad token, so the client learns
// to refresh, otherwise "authentication required".
func RequireCaller(ctx context.Context) (*Caller, error) {
	if c, ok := CallerFrom(ctx); ok {
		return c, nil
	}
	if err := TokenError(ctx); err != nil {
		return nil, err
	}
	return nil, errAuthRequired
}

// TokenError returns why the request's token was rejected, or nil when the
// request had a valid token or none.
func TokenError(ctx context.Context) error {
	err, _ := ctx.Value(tokenErrKey).(error)
	return err
}

func withTokenError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, tokenErrKey, err)
}

// Middleware authenticates "Authorization: Bearer <token>". A valid token
// puts the Caller in the request context; no header leaves the request
// anonymous; a bad token also leaves it anonymous but remembers the failure
// (TokenError) for RequireCaller. It never writes a response: public
// operations must keep working with a stale token, and each adapter answers
// 401 in its own format.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ctx, changed := s.RequestContext(r.Context(), r.Header); changed {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// RequestContext is what Middleware does to a request's context: ctx as
// it comes, with the Caller or the remembered failure of the request's
// Authorization headers in h; changed is false when it has none, and ctx
// is returned as it came. A handler that makes its own copy of the request
// calls it to avoid a copy of the middleware's.
func (s *Service) RequestContext(ctx context.Context, h http.Header) (_ context.Context, changed bool) {
	values := h["Authorization"]
	if len(values) == 0 || (len(values) == 1 && values[0] == "") {
		return ctx, false
	}
	token, ok := bearerToken(values[0])
	switch {
	case len(values) > 1:
		// Two credentials are ambiguous; proxies may pick differently.
		ctx = withTokenError(ctx, badToken(errors.New("several Authorization headers")))
	case !ok:
		ctx = withTokenError(ctx, badToken(errors.New("not a Bearer credential")))
	default:
		ctx, _ = s.authenticate(ctx, token)
	}
	return ctx, true
}

// authenticate verifies token and its session and returns ctx with either
// the Caller or the remembered failure.
func (s *Service) authenticate(ctx context.Context, token string) (context.Context, error) {
	c, err := s.VerifyAccess(token)
	if err == nil {
		err = s.CheckSession(ctx, c.UserID, c.Epoch)
	}
	if err != nil {
		return withTokenError(ctx, err), err
	}
	return WithCaller(ctx, &Caller{UserID: c.UserID, Username: c.Username, ExpiresAt: c.ExpiresAt, Epoch: c.Epoch}), nil
}

// bearerToken extracts the token of "Bearer <token>" (scheme in any case).
func bearerToken(value string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// AuthenticateInit authenticates a websocket connection_init payload, which
// cannot carry HTTP headers. It accepts {"Authorization": "Bearer ..."} or
// {"authToken": "..."} (keys in any case; authToken may carry the Bearer
// prefix too). No credential, or an empty one, leaves the connection
// anonymous with a nil error. A bad one returns the context with the failure
// remembered, as the middleware does, plus the error; the caller chooses
// between refusing the connection and carrying on anonymously.
func (s *Service) AuthenticateInit(ctx context.Context, payload map[string]any) (context.Context, error) {
	fail := func(msg string) (context.Context, error) {
		err := badToken(errors.New(msg))
		return withTokenError(ctx, err), err
	}
	var token string
	for k, v := range payload {
		isAuthz := strings.EqualFold(k, "Authorization")
		if !isAuthz && !strings.EqualFold(k, "authToken") {
			continue
		}
		if v == nil {
			continue
		}
		str, ok := v.(string)
		if !ok {
			return fail("credential is not a string")
		}
		if strings.TrimSpace(str) == "" {
			continue
		}
		t, ok := bearerToken(str)
		if !ok {
			if isAuthz {
				return fail("not a Bearer credential")
			}
			t = strings.TrimSpace(str)
		}
		if token != "" && t != token {
			// Map order is random: refuse rather than pick one.
			return fail("several credentials in connection_init")
		}
		token = t
	}
	if token == "" {
		return ctx, nil
	}
	return s.authenticate(ctx, token)
}
