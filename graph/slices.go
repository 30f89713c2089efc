package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalSlice stands in for graphql.MarshalSliceConcurrently in the
// generated executor (see graph/generate). When nothing selected under the
// list's elements can block, it marshals them in order on the calling
// goroutine: a goroutine per element would only add a fresh stack to grow
// and a semaphore to wait on. Otherwise gqlgen runs them concurrently, so
// that the resolvers of different elements overlap.
func marshalSlice(ctx context.Context, n int, workerLimit int64, omitPanicHandler bool,
	marshal func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	fc := graphql.GetFieldContext(ctx)
	if n < 2 || fc == nil || !inlineSelection(fc.Field.Selections, 0) {
		return graphql.MarshalSliceConcurrently(ctx, n, workerLimit, omitPanicHandler, marshal)
	}
	ret := make(graphql.Array, n)
	// One allocation for the elements' contexts; each needs its own index,
	// which error paths read.
	idx := make([]int, n)
	fcs := make([]graphql.FieldContext, n)
	for i := range n {
		idx[i] = i
		fcs[i].Index = &idx[i]
		ret[i] = marshalElement(graphql.WithFieldContext(ctx, &fcs[i]), i, omitPanicHandler, marshal)
	}
	return ret
}

func marshalElement(ctx context.Context, i int, omitPanicHandler bool,
	marshal func(ctx context.Context, i int) graphql.Marshaler,
) (m graphql.Marshaler) {
	if !omitPanicHandler {
		// As gqlgen does: a panic nulls this element and becomes an error.
		defer func() {
			if r := recover(); r != nil {
				graphql.AddError(ctx, graphql.Recover(ctx, r))
				m = graphql.Null
			}
		}()
	}
	return marshal(ctx, i)
}

// inlineSelection reports whether every field in sel, through fragments and
// nested selections, is resolved in place (inlineFields). Fields of
// interfaces and unions are not in the table, so they count as blocking.
func inlineSelection(sel ast.SelectionSet, depth int) bool {
	return !anySelected(sel, depth, blocks)
}

func blocks(f *ast.Field) bool {
	return f.Name != "__typename" && (f.ObjectDefinition == nil || !inlineFields[f.ObjectDefinition.Name][f.Name])
}
