package app

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/cutline/cutline/graph"
	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/events/wsconn"
	"github.com/cutline/cutline/internal/metrics"
	"github.com/cutline/cutline/internal/ratelimit"
)

// socket is the state of one websocket connection its operations share.
type socket struct {
	client string // the rate-limit key of the client address
	subs   atomic.Int64
}

type socketKey struct{}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// initSocket authenticates connection_init and sets up what the
// connection's operations are held to: the same rate limits as HTTP
// requests, a cap on subscriptions, and the connection checks.
func (a *App) initSocket(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	ctx, err := a.Auth.AuthenticateInit(ctx, p)
	if err != nil {
		return transport.WithWebsocketCloseCode(ctx, wsconn.CloseForbidden), nil, err
	}
	client := ""
	if r := graph.Request(ctx); r != nil {
		client = auth.ClientKey(r)
	}
	ctx = context.WithValue(ctx, socketKey{}, &socket{client: client})
	if c, ok := auth.CallerFrom(ctx); ok {
		wsconn.Watch(ctx, a.connectionChecks(c)...)
	}
	return ctx, nil, nil
}

// connectionChecks are the conditions an authenticated connection lives
// under: the expiry of the access token it was opened with (the client
// reconnects with a fresh one), and its session, looked at every
// SESSION_CHECK_INTERVAL.
func (a *App) connectionChecks(c *auth.Caller) []wsconn.Check {
	var checks []wsconn.Check
	if !c.ExpiresAt.IsZero() {
		checks = append(checks, wsconn.ExpiresAt(c.ExpiresAt))
	}
	every := a.Config.SessionCheckInterval
	if every <= 0 {
		every = time.Second // "every request": a connection has none, so often
	}
	checks = append(checks, wsconn.Every(every, func(ctx context.Context) (bool, string) {
		err := a.Auth.CheckSession(ctx, c.UserID, c.Epoch)
		if err != nil && !errors.Is(err, apperr.ErrUnauthenticated) {
			// The database failed: the next look decides.
			a.Log.WarnContext(ctx, "check the session of a websocket", "err", err)
			return true, ""
		}
		return err == nil, "session ended: log in again"
	}))
	return checks
}

// socketLimits holds each operation sent over a websocket to what one HTTP
// request is held to (the upgrade itself passed the HTTP limits once):
// the per-address and per-user rate limits, and at most max subscriptions
// open at once per connection.
type socketLimits struct {
	byIP, byUser ratelimit.Limit
	max          int
	present      graphql.ErrorPresenterFunc
	metrics      *metrics.Metrics
}

var _ interface {
	graphql.OperationInterceptor
	graphql.HandlerExtension
} = socketLimits{}

func (socketLimits) ExtensionName() string                   { return "SocketLimits" }
func (socketLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (l socketLimits) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	s := socketFrom(ctx)
	if s == nil {
		return next(ctx) // not a websocket operation
	}
	if ok, wait := l.byIP.Take(ctx, s.client); !ok {
		l.metrics.RateLimited("ip")
		return l.refuse(ctx, &apperr.RateLimitError{RetryAfter: wait})
	}
	if c, found := auth.CallerFrom(ctx); found {
		if ok, wait := l.byUser.Take(ctx, strconv.FormatInt(c.UserID, 10)); !ok {
			l.metrics.RateLimited("user")
			return l.refuse(ctx, &apperr.RateLimitError{RetryAfter: wait})
		}
	}
	if oc := graphql.GetOperationContext(ctx); l.max > 0 && oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		if s.subs.Add(1) > int64(l.max) {
			s.subs.Add(-1)
			return l.refuse(ctx, apperr.Invalid("", "at most %d subscriptions per connection (WS_MAX_SUBSCRIPTIONS)", l.max))
		}
		// The operation's context ends when its subscription does.
		context.AfterFunc(ctx, func() { s.subs.Add(-1) })
	}
	return next(ctx)
}

// refuse answers an operation with one error, shaped by the error
// presenter.
func (l socketLimits) refuse(ctx context.Context, err error) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{l.present(ctx, err)}})
}
