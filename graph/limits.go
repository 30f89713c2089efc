package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits rejects abusive operations before any resolver runs: too deep a
// selection, or a complexity (fields weighted by page sizes) above the
// limit. Both answer QUERY_TOO_COMPLEX.
type Limits struct {
	MaxDepth      int
	MaxComplexity int
	// LineageMax is LINEAGE_MAX_LIMIT, the most a lineage can cost per
	// element (see Cost).
	LineageMax int
	es         graphql.ExecutableSchema
	// measured remembers the verdict on operations that declare no
	// variables: it depends on nothing else, and gqlgen's query cache hands
	// out the same parsed operation for the same text. A refusal is kept as
	// its message, so that each answer gets an error of its own.
	measured *lru.Cache[*ast.OperationDefinition, string]
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = &Limits{}

// ExtensionName names the extension for gqlgen.
func (l *Limits) ExtensionName() string { return "QueryLimits" }

// Validate keeps the schema for complexity calculation.
func (l *Limits) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	cache, err := lru.New[*ast.OperationDefinition, string](1000)
	if err != nil {
		return fmt.Errorf("query limits: %w", err)
	}
	l.measured = cache
	return nil
}

// MutateOperationContext measures the operation.
func (l *Limits) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	op := oc.Doc.Operations.ForName(oc.OperationName)
	if op == nil {
		return nil
	}
	if len(op.VariableDefinitions) > 0 || l.measured == nil {
		return l.measure(ctx, oc, op)
	}
	if refusal, ok := l.measured.Get(op); ok {
		if refusal == "" {
			return nil
		}
		return tooComplex("%s", refusal)
	}
	verdict := l.measure(ctx, oc, op)
	refusal := ""
	if verdict != nil {
		refusal = verdict.Message
	}
	l.measured.Add(op, refusal)
	return verdict
}

func (l *Limits) measure(ctx context.Context, oc *graphql.OperationContext, op *ast.OperationDefinition) *gqlerror.Error {
	if d := depth(op.SelectionSet, oc.Doc.Fragments, 0); l.MaxDepth > 0 && d > l.MaxDepth {
		return tooComplex("operation is nested %d levels deep, more than the limit of %d", d, l.MaxDepth)
	}
	if n := typeExpansions(op.SelectionSet, oc.Doc.Fragments, 0); n > 1 {
		return tooComplex("introspection lists the members of a type inside the members of another type (%d levels); "+
			"ask for each type once, through __schema { types } or __type(name:)", n)
	}
	if l.MaxComplexity > 0 {
		if c := Cost(op, oc.Variables, l.LineageMax); c > l.MaxComplexity {
			return tooComplex("operation has complexity %d, more than the limit of %d", c, l.MaxComplexity)
		}
	}
	return nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, CodeQueryTooComplex)
	return err
}

// depth counts field nesting; fragments count as their fields. The level
// cap stops recursive fragments, which validation rejects anyway.
//
// Introspection (__schema, __type) does not count: the schema's own
// description nests type references deeper than any data needs (GraphiQL's
// query is 15 levels), while what it costs is bounded by the schema's size
// as long as no type's members are listed inside another's (typeExpansions).
func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int) int {
	if level > 100 {
		return level
	}
	max := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			if len(s.SelectionSet) == 0 {
				d = level + 1
			} else {
				d = depth(s.SelectionSet, frags, level+1)
			}
		case *ast.InlineFragment:
			d = depth(s.SelectionSet, frags, level)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				d = depth(f.SelectionSet, frags, level)
			}
		}
		if d > max {
			max = d
		}
	}
	return max
}

// typeMembers are the __Type fields that list a type's members: nesting
// them (types { fields { type { fields ... } } }) multiplies the answer by
// the schema's size at each level.
var typeMembers = map[string]bool{"fields": true, "inputFields": true, "interfaces": true, "possibleTypes": true, "enumValues": true}

// typeExpansions is the largest number of typeMembers fields on one path of
// set. Every common introspection query (GraphiQL's, graphql-js's
// getIntrospectionQuery) lists members once per path.
func typeExpansions(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int) int {
	if level > 100 {
		return level
	}
	max := 0
	for _, sel := range set {
		var n int
		switch s := sel.(type) {
		case *ast.Field:
			n = typeExpansions(s.SelectionSet, frags, level+1)
			if typeMembers[s.Name] && s.ObjectDefinition != nil && s.ObjectDefinition.Name == "__Type" {
				n++
			}
		case *ast.InlineFragment:
			n = typeExpansions(s.SelectionSet, frags, level+1)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				n = typeExpansions(f.SelectionSet, frags, level+1)
			}
		}
		if n > max {
			max = n
		}
	}
	return max
}
