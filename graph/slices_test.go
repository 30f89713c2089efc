package graph

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// selectionUnder parses query against the schema and returns the selection
// under the first field named field.
func selectionUnder(t *testing.T, query, field string) ast.SelectionSet {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(parsedSchema, query, nil)
	if errs != nil {
		t.Fatalf("query does not validate: %v", errs)
	}
	var find func(ast.SelectionSet) ast.SelectionSet
	find = func(sel ast.SelectionSet) ast.SelectionSet {
		for _, s := range sel {
			var sub ast.SelectionSet
			switch s := s.(type) {
			case *ast.Field:
				if s.Name == field {
					return s.SelectionSet
				}
				sub = s.SelectionSet
			case *ast.InlineFragment:
				sub = s.SelectionSet
			case *ast.FragmentSpread:
				sub = s.Definition.SelectionSet
			}
			if found := find(sub); found != nil {
				return found
			}
		}
		return nil
	}
	sel := find(doc.Operations[0].SelectionSet)
	if sel == nil {
		t.Fatalf("no %s field in the query", field)
	}
	return sel
}

func TestInlineSelection(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  bool
	}{
		{"plain fields", `{ files(first: 20) { edges { cursor node { id name size rowCount userTags systemTags createdAt } } } }`, true},
		{"typename and nested columns", `{ files { edges { __typename node { __typename columns { name type } } } } }`, true},
		{"fragment of plain fields", `query { files { edges { node { ...F } } } } fragment F on File { id name }`, true},
		{"inline fragment of plain fields", `{ files { edges { node { ... on File { id } } } } }`, true},
		{"a resolver: owner", `{ files { edges { node { id owner { username } } } } }`, false},
		{"a resolver in a fragment", `query { files { edges { node { ...F } } } } fragment F on File { downloadUrl }`, false},
		{"a resolver in an inline fragment", `{ files { edges { node { ... on File { parents { id } } } } } }`, false},
		{"a resolver under a plain field", `{ files { edges { node { lineage { nodes { distance } } } } } }`, false},
		{"rows of each file", `{ files { edges { node { rows(first: 1) { edges { cursor } } } } } }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inlineSelection(selectionUnder(t, tt.query, "edges"), 0); got != tt.want {
				t.Errorf("inlineSelection = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInlineSelectionDepth(t *testing.T) {
	var sel ast.SelectionSet
	def := &ast.Definition{Name: "FileEdge"}
	for range maxSelectionDepth + 2 {
		sel = ast.SelectionSet{&ast.Field{Name: "node", ObjectDefinition: def, SelectionSet: sel}}
	}
	if inlineSelection(sel, 0) {
		t.Error("a selection deeper than the bound counts as inline")
	}
}

// listContext is the context of a list field whose elements select sel,
// inside a response context that collects errors.
func listContext(sel ast.SelectionSet) context.Context {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter,
		func(ctx context.Context, err any) error { return fmt.Errorf("panic: %v", err) })
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{
		Field: graphql.CollectedField{Field: &ast.Field{Name: "edges", Alias: "edges", SelectionSet: sel}, Selections: sel},
	})
}

func TestMarshalSlice(t *testing.T) {
	inline := ast.SelectionSet{&ast.Field{Name: "cursor", ObjectDefinition: &ast.Definition{Name: "FileEdge"}}}
	blocking := ast.SelectionSet{&ast.Field{Name: "owner", ObjectDefinition: &ast.Definition{Name: "File"}}}
	tests := []struct {
		name       string
		sel        ast.SelectionSet
		n          int
		sequential bool
	}{
		{"inline selection", inline, 5, true},
		{"blocking selection", blocking, 5, false},
		{"one element", blocking, 1, true}, // gqlgen runs a single element in place too
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := listContext(tt.sel)
			caller := goroutineID()
			var running, overlapped atomic.Int32
			release := make(chan struct{})
			started := make(chan struct{}, tt.n)
			if !tt.sequential {
				// Each element waits until all have started: only concurrent
				// elements can finish.
				go func() {
					for range tt.n {
						<-started
					}
					close(release)
				}()
			}
			ret := marshalSlice(ctx, tt.n, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
				if got := *graphql.GetFieldContext(ctx).Index; got != i {
					t.Errorf("element %d has index %d", i, got)
				}
				if tt.sequential && goroutineID() != caller {
					t.Errorf("element %d of an inline selection ran on its own goroutine", i)
				}
				if running.Add(1) > 1 {
					overlapped.Store(1)
				}
				if !tt.sequential {
					started <- struct{}{}
					select {
					case <-release:
					case <-time.After(10 * time.Second):
						t.Errorf("element %d: the elements of a blocking selection did not run concurrently", i)
					}
				}
				running.Add(-1)
				return graphql.MarshalInt(i)
			})
			if len(ret) != tt.n {
				t.Fatalf("%d results, want %d", len(ret), tt.n)
			}
			for i, m := range ret {
				if got := render(m); got != fmt.Sprint(i) {
					t.Errorf("result %d is %s", i, got)
				}
			}
			if tt.sequential && overlapped.Load() != 0 {
				t.Error("elements of an inline selection ran concurrently")
			}
		})
	}
}

// goroutineID reads the running goroutine's number from its stack header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

func render(m graphql.Marshaler) string {
	var b strings.Builder
	m.MarshalGQL(&b)
	return b.String()
}

func TestMarshalSlicePanic(t *testing.T) {
	sel := ast.SelectionSet{&ast.Field{Name: "cursor", ObjectDefinition: &ast.Definition{Name: "FileEdge"}}}
	ctx := listContext(sel)
	ret := marshalSlice(ctx, 3, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		if i == 1 {
			panic("boom")
		}
		return graphql.MarshalInt(i)
	})
	if got := render(ret); got != "[0,null,2]" {
		t.Errorf("results %s, want [0,null,2]", got)
	}
	errs := graphql.GetErrors(ctx)
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	var gqlErr *gqlerror.Error
	if !errors.As(errs[0], &gqlErr) || fmt.Sprint(gqlErr.Path) != "edges[1]" {
		t.Errorf("error %v at path %v, want the panic at edges[1]", errs[0], gqlErr.Path)
	}
}
