package app

import (
	"context"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/99designs/gqlgen/graphql/handler/extension"

	"github.com/cutline/cutline/graph"
	"github.com/cutline/cutline/internal/metrics"
)

// prepared answers the plain queries clients repeat most (me, a page of
// files, a lineage: what graph.Schema answers without the executor)
// without gqlgen's operation machinery either, which costs such an answer
// more than the answer itself: an operation context made from scratch,
// the variables coerced again, and a chain of closures through every
// extension, for an operation that none of them changes.
//
// What gqlgen would do to the operation is done once, by gqlgen, and
// remembered: the first time a body {"query":"..."} with no other member
// comes (a query with no variables, extensions or operation name, so that
// nothing else can change what it becomes), its operation context is made
// as for any request (the document parsed and validated, every extension's
// operation mutator run: persisted queries, the limits, introspection).
// If that succeeds with a query that the schema answers directly, later
// requests copy that context and hand it to graph.Schema.Answer. The
// extensions that act on a running operation act on none of these: the
// websocket limits and the deadline act on websocket operations and on
// requests without a deadline of their own (HTTP requests have the
// request's), and the request cache serves resolvers a direct answer does
// not run; the metrics are recorded as their extension records them.
// Tracing spans operations and fields, so with tracing on nothing is
// prepared. Anything else (a remembered refusal, an answer the executor
// must give) goes the usual way.
type prepared struct {
	schema  *graph.Schema
	metrics *metrics.Metrics
	// ops maps a query's text to its operation context, or to nil when
	// the usual way must answer it.
	ops *lru.Cache[string, *graphql.OperationContext]
}

// preparedQueries is how many queries' operation contexts are
// remembered, as many as gqlgen's query cache keeps documents; only
// queries up to preparedQuerySize bytes, so that what is remembered,
// refusals included, stays under 4 MiB of text.
const (
	preparedQueries   = 1000
	preparedQuerySize = 4 << 10
)

func newPrepared(schema *graph.Schema, m *metrics.Metrics) *prepared {
	ops, err := lru.New[string, *graphql.OperationContext](preparedQueries)
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	return &prepared{schema: schema, metrics: m, ops: ops}
}

// serve answers params, a plain query, and reports whether it did; when
// not, nothing was written.
func (p *prepared) serve(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, params *graphql.RawParams) bool {
	if p == nil || len(params.Query) > preparedQuerySize || params.OperationName != "" || params.Variables != nil || params.Extensions != nil {
		return false
	}
	tmpl, seen := p.ops.Get(params.Query)
	if !seen {
		p.ops.Add(params.Query, p.prepare(ctx, exec, params))
		return false
	}
	if tmpl == nil {
		return false
	}
	oc := copyOperation(tmpl, params, graphql.GetStartTime(ctx))
	ctx = graphql.WithOperationContext(ctx, oc)
	ctx, stream := graph.WithStream(ctx, w)
	start := time.Now()
	data, ok := p.schema.Answer(ctx)
	if !ok {
		return false
	}
	p.metrics.ObserveOperation(oc, false, time.Since(start))
	if !stream.Written() {
		writeResponse(w, &graphql.Response{Data: data})
	}
	return true
}

// prepare makes the operation context of params as gqlgen makes it for
// every request, or returns nil when it is not one to remember: a request
// that fails, or an operation the schema does not answer directly.
func (p *prepared) prepare(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams) *graphql.OperationContext {
	oc, errs := exec.CreateOperationContext(ctx, params)
	if len(errs) > 0 || oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query ||
		!p.schema.Direct(graphql.WithOperationContext(ctx, oc)) {
		return nil
	}
	return oc
}

// copyOperation is the operation context of a request for the prepared
// one: the same operation, with the request's headers and times (its own
// field collection cache, which is unexported, starts empty).
func copyOperation(t *graphql.OperationContext, params *graphql.RawParams, start time.Time) *graphql.OperationContext {
	return &graphql.OperationContext{
		RawQuery:               t.RawQuery,
		Variables:              t.Variables,
		OperationName:          t.OperationName,
		Doc:                    t.Doc,
		Extensions:             t.Extensions,
		Headers:                params.Headers,
		Operation:              t.Operation,
		DisableIntrospection:   t.DisableIntrospection,
		RecoverFunc:            t.RecoverFunc,
		ResolverMiddleware:     t.ResolverMiddleware,
		RootResolverMiddleware: t.RootResolverMiddleware,
		Stats:                  graphql.Stats{Read: params.ReadTime, OperationStart: start},
	}
}

// preparable reports whether prepared operations may skip what exts do:
// each is one whose effect prepared keeps (see prepared). Any other, which
// may act on a running operation or make its context depend on more than
// its text, turns preparing off.
func preparable(exts []graphql.HandlerExtension) bool {
	for _, e := range exts {
		switch e.(type) {
		case extension.Introspection, graph.NoIntrospection, extension.AutomaticPersistedQuery, *graph.Limits,
			socketLimits, graph.Deadline, graph.RequestCache, metrics.GraphQL:
		default:
			return false
		}
	}
	return true
}
