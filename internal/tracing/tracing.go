// Package tracing switches OpenTelemetry tracing on when the standard
// OTEL_* environment variables ask for it, and stays out of the way
// otherwise: with nothing configured, no exporter runs and spans are no-ops.
package tracing

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Enabled reports whether the environment asks for traces: an OTLP
// endpoint, or OTEL_TRACES_EXPORTER=otlp, and not OTEL_SDK_DISABLED=true.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.ToLower(getenv("OTEL_TRACES_EXPORTER")) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs a global tracer provider exporting over OTLP/HTTP, which
// the exporter configures from the OTEL_EXPORTER_OTLP_* variables. The
// returned function flushes and stops it.
func Setup(ctx context.Context) (func(context.Context) error, error) {
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing exporter: %w", err)
	}
	name := os.Getenv("OTEL_SERVICE_NAME")
	if name == "" {
		name = "cutline"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(name)))
	if err != nil {
		res = resource.Default()
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp.Shutdown, nil
}

// GraphQL is a gqlgen extension that opens a span per operation and per
// resolver-backed field (the fields that reach storage); plain struct
// fields are not traced, they cost nothing worth seeing.
type GraphQL struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.FieldInterceptor
} = GraphQL{}

var tracer = otel.Tracer("github.com/cutline/cutline/graph")

// ExtensionName names the extension for gqlgen.
func (GraphQL) ExtensionName() string { return "Tracing" }

// Validate accepts any schema.
func (GraphQL) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation spans the whole operation.
func (GraphQL) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name := oc.OperationName
	if name == "" {
		name = "anonymous"
	}
	ctx, span := tracer.Start(ctx, "graphql "+name, trace.WithSpanKind(trace.SpanKindServer))
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil || len(resp.Errors) > 0 {
			span.SetStatus(codes.Error, "graphql errors")
		}
		span.End()
		return resp
	}
}

// InterceptField spans resolver-backed fields.
func (GraphQL) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := tracer.Start(ctx, fc.Object+"."+fc.Field.Name,
		trace.WithAttributes(attribute.String("graphql.path", fc.Path().String())))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return res, err
}
