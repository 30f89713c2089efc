package app

import (
	"reflect"
	"slices"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"

	"github.com/cutline/cutline/graph"
	"github.com/cutline/cutline/internal/metrics"
	"github.com/cutline/cutline/internal/tracing"
)

// TestPreparableExtensions: operations are prepared only beside the
// extensions whose effects prepared keeps; tracing, or any extension it
// does not know, turns preparing off.
func TestPreparableExtensions(t *testing.T) {
	known := []graphql.HandlerExtension{graph.NoIntrospection{}, extension.AutomaticPersistedQuery{}, &graph.Limits{},
		socketLimits{}, graph.Deadline{}, graph.RequestCache{}, metrics.New().GraphQL()}
	for _, tc := range []struct {
		name string
		exts []graphql.HandlerExtension
		want bool
	}{
		{"the server's", known, true},
		{"with introspection", append([]graphql.HandlerExtension{extension.Introspection{}}, known[1:]...), true},
		{"with tracing", append(slices.Clone(known), tracing.GraphQL{}), false},
		{"with another", append(slices.Clone(known), extension.FixedComplexityLimit(10)), false},
	} {
		if got := preparable(tc.exts); got != tc.want {
			t.Errorf("%s: preparable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestPreparedCopiesTheOperation holds copyOperation to gqlgen's
// OperationContext: a field added to it must be copied, or left out on
// purpose, before operations are prepared with it.
func TestPreparedCopiesTheOperation(t *testing.T) {
	copied := []string{"RawQuery", "Variables", "OperationName", "Doc", "Extensions", "Headers", "Operation",
		"DisableIntrospection", "RecoverFunc", "ResolverMiddleware", "RootResolverMiddleware", "Stats"}
	var exported []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[graphql.OperationContext]()) {
		if f.IsExported() {
			exported = append(exported, f.Name)
		}
	}
	slices.Sort(copied)
	slices.Sort(exported)
	if !slices.Equal(copied, exported) {
		t.Fatalf("graphql.OperationContext has %v; copyOperation copies %v", exported, copied)
	}
}
