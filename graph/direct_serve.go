package graph

import (
	"context"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/cutline/cutline/graph/model"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
)

// The caller and a page of their files, written without the executor.
//
// After the lineage answers (direct.go), the two operations clients send
// most are `me { id username }` and a page of files' summaries. For these
// the executor, not the feature, is most of the server's work: a listing
// of 20 files makes a field context, a marshaler and a closure for every
// field of every file, which costs more CPU, and makes more garbage, than
// reading the page from the database. Schema answers them from the
// resolver's own values, written the way the executor writes them, under
// the same rules as the lineage answers: only selections of fields whose
// values need nothing but the summary (or, for me, the token), through the
// same resolvers and field middleware, and the executor answers again
// whenever anything is amiss.

// planUser plans a User selection of the fields an access token carries;
// never nil when ok.
func planUser(oc *graphql.OperationContext, sel ast.SelectionSet) ([]directField, bool) {
	out := []directField{}
	seen := map[directKind]bool{}
	for _, f := range graphql.CollectFields(oc, sel, userImplementors) {
		if f.IsDeferred() {
			return nil, false
		}
		key := keyOf(f)
		var kind directKind
		switch f.Name {
		case "__typename":
			out = append(out, typenamed(key, "User"))
			continue
		case "id":
			// A resolver: run as the executor runs it (tracing spans it).
			if seen[kindUserID] {
				return nil, false
			}
			seen[kindUserID] = true
			out = append(out, directField{key: key, kind: kindUserID, field: f})
			continue
		case "username":
			kind = kindUsername
		default:
			return nil, false
		}
		if seen[kind] {
			return nil, false
		}
		seen[kind] = true
		out = append(out, directField{key: key, kind: kind})
	}
	return out, true
}

// planConnection plans a FileConnection selection of edges (cursors and
// the files' summary fields) and pageInfo; totalCount, which counts, is
// left to the executor. Each part may be selected once.
func planConnection(oc *graphql.OperationContext, sel ast.SelectionSet) (directField, bool) {
	var p directField
	p.conn = []directField{}
	seen := map[directKind]bool{}
	for _, f := range graphql.CollectFields(oc, sel, fileConnectionImplementors) {
		if f.IsDeferred() {
			return p, false
		}
		key := keyOf(f)
		var kind directKind
		var ok bool
		switch f.Name {
		case "__typename":
			p.conn = append(p.conn, typenamed(key, "FileConnection"))
			continue
		case "edges":
			kind = kindFileEdges
			p.edges, p.file, ok = planFileEdges(oc, f.Selections)
		case "pageInfo":
			kind = kindPageInfo
			p.pageInfo, ok = planPageInfo(oc, f.Selections)
		}
		if !ok || seen[kind] {
			return p, false
		}
		seen[kind] = true
		p.conn = append(p.conn, directField{key: key, kind: kind})
	}
	return p, true
}

func planFileEdges(oc *graphql.OperationContext, sel ast.SelectionSet) (edges, file []directField, ok bool) {
	edges = []directField{}
	for _, f := range graphql.CollectFields(oc, sel, fileEdgeImplementors) {
		if f.IsDeferred() {
			return nil, nil, false
		}
		key := keyOf(f)
		switch f.Name {
		case "__typename":
			edges = append(edges, typenamed(key, "FileEdge"))
		case "cursor":
			edges = append(edges, directField{key: key, kind: kindCursor})
		case "node":
			if file != nil {
				return nil, nil, false
			}
			if file, ok = planSummary(oc, f.Selections); !ok {
				return nil, nil, false
			}
			edges = append(edges, directField{key: key, kind: kindNode})
		default:
			return nil, nil, false
		}
	}
	return edges, file, true
}

func planPageInfo(oc *graphql.OperationContext, sel ast.SelectionSet) ([]directField, bool) {
	out := []directField{}
	for _, f := range graphql.CollectFields(oc, sel, pageInfoImplementors) {
		if f.IsDeferred() {
			return nil, false
		}
		key := keyOf(f)
		switch f.Name {
		case "__typename":
			out = append(out, typenamed(key, "PageInfo"))
		case "hasNextPage":
			out = append(out, directField{key: key, kind: kindHasNext})
		case "hasPreviousPage":
			out = append(out, directField{key: key, kind: kindHasPrevious})
		case "startCursor":
			out = append(out, directField{key: key, kind: kindStartCursor})
		case "endCursor":
			out = append(out, directField{key: key, kind: kindEndCursor})
		default:
			return nil, false
		}
	}
	return out, true
}

// summaryKinds are the File fields a listing's summary answers, each
// written from the summary as the executor writes its scalar. Origin, an
// enum, and readIssues, an object, are left to the executor.
var summaryKinds = map[string]directKind{
	"id": kindID, "name": kindName, "deleted": kindDeleted, "size": kindSize, "sha256": kindSHA256,
	"contentType": kindContentType, "createdAt": kindFileCreatedAt, "systemTags": kindSystemTags,
	"userTags": kindUserTags, "rowCount": kindRowCount, "delimiter": kindDelimiter, "encoding": kindEncoding,
}

// planSummary plans a File selection of summary fields; never nil when ok.
func planSummary(oc *graphql.OperationContext, sel ast.SelectionSet) ([]directField, bool) {
	out := []directField{}
	for _, f := range graphql.CollectFields(oc, sel, fileImplementors) {
		if f.IsDeferred() {
			return nil, false
		}
		key := keyOf(f)
		if f.Name == "__typename" {
			out = append(out, typenamed(key, "File"))
			continue
		}
		kind, ok := summaryKinds[f.Name]
		if !ok {
			return nil, false
		}
		out = append(out, directField{key: key, kind: kind})
	}
	return out, true
}

// me answers a Query.me field through the field middleware, as the
// executor would, with what the resolver answers when only the token's
// fields are selected (as the plan made sure), and runs the resolver of
// its User.id; the user is nil when there is none to write.
func (s *Schema) me(ctx context.Context, f directField) (*directUser, error) {
	oc := graphql.GetOperationContext(ctx)
	fc := &graphql.FieldContext{Object: "Query", Field: f.field, IsMethod: true, IsResolver: true, Args: map[string]any{}}
	ctx = graphql.WithFieldContext(ctx, fc)
	res, err := oc.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		c, ok := auth.CallerFrom(ctx)
		if !ok {
			return nil, nil // the executor words what is missing
		}
		return tokenUser(c), nil
	})
	if err != nil {
		return nil, err
	}
	u, _ := res.(*auth.User)
	if u == nil {
		return nil, nil
	}
	out := &directUser{User: u}
	for _, p := range f.user {
		if p.kind != kindUserID {
			continue
		}
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Parent: fc, Object: "User", Field: p.field, IsMethod: true, IsResolver: true})
		id, err := oc.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
			return s.resolver.User().ID(ctx, u)
		})
		if err != nil {
			return nil, err
		}
		out.id = id.(string)
	}
	return out, nil
}

// directUser is the caller and the id its resolver gave.
type directUser struct {
	*auth.User
	id string
}

// listing reads the page of a Query.files field through the field
// middleware, as its resolver does for a selection of summaries.
func (s *Schema) listing(ctx context.Context, owner int64, f directField) (*files.Page[*files.Summary], error) {
	fc := &graphql.FieldContext{Object: "Query", Field: f.field, IsMethod: true, IsResolver: true, Args: f.args}
	ctx = graphql.WithFieldContext(ctx, fc)
	res, err := graphql.GetOperationContext(ctx).ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		o := listOptions(f.args["first"].(*int), f.args["after"].(*string), f.args["last"].(*int), f.args["before"].(*string),
			f.args["filter"].(*model.FileFilter), f.args["orderBy"].(*model.FileOrder))
		return s.resolver.Files.ListSummaries(ctx, owner, o)
	})
	if err != nil {
		return nil, err
	}
	return res.(*files.Page[*files.Summary]), nil
}

// listable reports whether the executor would write every file of p: a
// file without a creation time is a null in a non-null field, an error the
// executor words.
func listable(p *files.Page[*files.Summary]) bool {
	for _, f := range p.Files {
		if f == nil || f.CreatedAt.IsZero() {
			return false
		}
	}
	return true
}

func (w *directWriter) user(sel []directField, u *directUser) {
	w.byte('{')
	for i, p := range sel {
		if i > 0 {
			w.byte(',')
		}
		w.raw(p.key)
		switch p.kind {
		case kindUserID:
			w.str(u.id)
		case kindUsername:
			w.str(u.Username)
		}
	}
	w.byte('}')
}

func (w *directWriter) connection(f directField, p *files.Page[*files.Summary]) {
	w.byte('{')
	for i, c := range f.conn {
		if i > 0 {
			w.byte(',')
		}
		w.raw(c.key)
		switch c.kind {
		case kindFileEdges:
			w.fileEdges(f, p)
		case kindPageInfo:
			w.pageInfo(f.pageInfo, p)
		}
	}
	w.byte('}')
}

func (w *directWriter) fileEdges(f directField, p *files.Page[*files.Summary]) {
	w.byte('[')
	for i, file := range p.Files {
		if i > 0 {
			w.byte(',')
			w.more()
		}
		w.byte('{')
		for j, e := range f.edges {
			if j > 0 {
				w.byte(',')
			}
			w.raw(e.key)
			switch e.kind {
			case kindCursor:
				w.str(p.Cursor(i))
			case kindNode:
				w.summary(f.file, file)
			}
		}
		w.byte('}')
	}
	w.byte(']')
}

func (w *directWriter) pageInfo(sel []directField, p *files.Page[*files.Summary]) {
	w.byte('{')
	n := len(p.Files)
	for i, f := range sel {
		if i > 0 {
			w.byte(',')
		}
		w.raw(f.key)
		switch f.kind {
		case kindHasNext:
			w.bool(p.HasNextPage)
		case kindHasPrevious:
			w.bool(p.HasPreviousPage)
		case kindStartCursor, kindEndCursor:
			if n == 0 {
				w.buf = append(w.buf, "null"...)
			} else if f.kind == kindStartCursor {
				w.str(p.Cursor(0))
			} else {
				w.str(p.Cursor(n - 1))
			}
		}
	}
	w.byte('}')
}

func (w *directWriter) summary(sel []directField, s *files.Summary) {
	w.byte('{')
	for i, f := range sel {
		if i > 0 {
			w.byte(',')
		}
		w.raw(f.key)
		switch f.kind {
		case kindID:
			w.str(s.ID)
		case kindName:
			w.str(s.Name)
		case kindDeleted:
			w.bool(s.Deleted())
		case kindSize:
			w.buf = strconv.AppendInt(w.buf, s.Size, 10)
		case kindSHA256:
			w.str(s.SHA256)
		case kindContentType:
			w.str(s.ContentType)
		case kindFileCreatedAt:
			w.marshal(graphql.MarshalTime(s.CreatedAt))
		case kindSystemTags:
			w.strs(s.SystemTags)
		case kindUserTags:
			w.strs(s.UserTags)
		case kindRowCount:
			w.buf = strconv.AppendInt(w.buf, s.RowCount, 10)
		case kindDelimiter:
			w.str(s.Delimiter)
		case kindEncoding:
			w.str(s.Encoding)
		}
	}
	w.byte('}')
}

// strs writes a list of strings as graphql.Array does.
func (w *directWriter) strs(v []string) {
	w.byte('[')
	for i, s := range v {
		if i > 0 {
			w.byte(',')
		}
		w.str(s)
	}
	w.byte(']')
}
