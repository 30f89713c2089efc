package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// NoIntrospection refuses operations that ask for __schema or __type, as a
// validation error (the client's mistake, not the server's), when
// introspection is turned off. Without it gqlgen runs them and fails the
// field with an untyped error, which would read as INTERNAL and be logged
// as one. __typename stays available: clients add it everywhere.
type NoIntrospection struct{}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = NoIntrospection{}

// ExtensionName names the extension for gqlgen.
func (NoIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate accepts any schema.
func (NoIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext refuses an operation that introspects.
func (NoIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !introspects(oc.Operation.SelectionSet, 0) {
		return nil
	}
	err := gqlerror.Errorf("introspection is turned off on this server (GRAPHQL_INTROSPECTION=false)")
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// introspects reports whether a root selection names __schema or __type;
// validation allows them nowhere else.
func introspects(set ast.SelectionSet, depth int) bool {
	if depth > maxSelectionDepth {
		return false
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				return true
			}
		case *ast.InlineFragment:
			if introspects(s.SelectionSet, depth+1) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && introspects(s.Definition.SelectionSet, depth+1) {
				return true
			}
		}
	}
	return false
}
