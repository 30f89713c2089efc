package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Deadline bounds every query and mutation by Timeout from the moment it
// starts executing, on transports whose requests carry no deadline of
// their own: operations over a websocket, and multipart requests, whose
// deadline starts once their parts are received (the body of a file upload
// is bounded by its rate instead). Subscriptions are not bounded: they
// live as long as the client wants them.
type Deadline struct{ Timeout time.Duration }

var _ interface {
	graphql.OperationInterceptor
	graphql.HandlerExtension
} = Deadline{}

// ExtensionName names the extension for gqlgen.
func (Deadline) ExtensionName() string { return "Deadline" }

// Validate accepts any schema.
func (Deadline) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation runs a query or mutation under the deadline. Their
// one response is complete when the handler returns, so the deadline's
// timer is released then.
func (d Deadline) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if d.Timeout <= 0 {
		return next(ctx)
	}
	if _, has := ctx.Deadline(); has || ctx.Value(ownDeadline{}) != nil {
		return next(ctx)
	}
	if oc := graphql.GetOperationContext(ctx); oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		defer cancel()
		return h(ctx)
	}
}

type ownDeadline struct{}

// WithOwnDeadline marks ctx as bounded by its transport, which starts the
// deadline itself: a multipart request whose file reaches the resolver as
// it arrives starts it when the file has been read.
func WithOwnDeadline(ctx context.Context) context.Context {
	return context.WithValue(ctx, ownDeadline{}, true)
}
