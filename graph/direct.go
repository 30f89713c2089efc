package graph

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// Lineage answers written without the executor.
//
// The executor resolves an answer field by field: for each node, file and
// edge of a lineage graph it makes field contexts and marshalers (and for
// lists, goroutines), about ten times what the walk's own statement costs
// per node, and it holds every one of them until the answer is written. The
// lineage query clients send most selects nothing the walk does not read
// itself: ids, names, tombstones, distances, edges. Schema answers such an
// operation straight from the lineage.Graph, written the way the executor
// writes it (the same field order, aliases, escaping and values), and hands
// every other operation to the executor. Whatever goes wrong in the direct
// answer (a missing root, a bad argument, a failed statement) is answered by
// the executor again from the start, so errors keep their one shape.

// Schema is the executable schema the handler serves: the generated one,
// with lineage, me and listing answers written directly where they can be
// (direct_serve.go has the last two).
type Schema struct {
	*executableSchema
	resolver *Resolver
	// indirect turns the direct answers off: tests compare both.
	indirect atomic.Bool
	// answered counts the operations answered directly, for tests.
	answered atomic.Int64
	// plans remembers the plan (or that there is none) of operations that
	// declare no variables: it depends on nothing else, and gqlgen's query
	// cache hands out the same parsed operation for the same text.
	plans *lru.Cache[*ast.OperationDefinition, []directField]
}

// planCacheSize is how many operations' plans Schema remembers: as many as
// gqlgen's query cache keeps documents.
const planCacheSize = 1000

// NewSchema returns the executable schema over cfg's resolver, which must
// be a *Resolver.
func NewSchema(cfg Config) *Schema {
	plans, err := lru.New[*ast.OperationDefinition, []directField](planCacheSize)
	if err != nil {
		panic(err) // only for a size that is not positive
	}
	return &Schema{executableSchema: NewExecutableSchema(cfg).(*executableSchema), resolver: cfg.Resolvers.(*Resolver), plans: plans}
}

// SetDirectLineage turns the direct answers (lineage, me, listings) on
// (the default) or off; off, the executor answers every operation.
func (s *Schema) SetDirectLineage(on bool) { s.indirect.Store(!on) }

// DirectAnswers is how many operations were answered without the executor.
func (s *Schema) DirectAnswers() int64 { return s.answered.Load() }

// Exec runs the operation of ctx.
func (s *Schema) Exec(ctx context.Context) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	var plan []directField
	if !s.indirect.Load() && oc.Operation != nil && oc.Operation.Operation == ast.Query {
		plan = s.planned(ctx, oc)
	}
	if plan == nil {
		return s.executableSchema.Exec(ctx)
	}
	var executor graphql.ResponseHandler
	done := false
	return func(ctx context.Context) *graphql.Response {
		if executor != nil {
			return executor(ctx)
		}
		if done {
			return nil
		}
		done = true
		data, ok := s.answer(ctx, oc, plan)
		if !ok {
			executor = s.executableSchema.Exec(ctx)
			return executor(ctx)
		}
		s.answered.Add(1)
		return &graphql.Response{Data: data}
	}
}

// Answer writes the data of the operation in ctx's operation context, as
// Exec's response would, when the operation has a direct answer; ok is
// false, with nothing written, when the executor must answer. It is Exec
// without the executor's operation and response handlers, for a transport
// that has made sure no handler would do anything to this operation (see
// the app's prepared operations): a direct answer reads nothing from the
// request cache and adds no errors to the response context, so it needs
// neither.
func (s *Schema) Answer(ctx context.Context) (data []byte, ok bool) {
	oc := graphql.GetOperationContext(ctx)
	if s.indirect.Load() || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil, false
	}
	plan := s.planned(ctx, oc)
	if plan == nil {
		return nil, false
	}
	if data, ok = s.answer(ctx, oc, plan); ok {
		s.answered.Add(1)
	}
	return data, ok
}

// Direct reports whether Answer would answer the operation in ctx's
// operation context (unless a statement fails).
func (s *Schema) Direct(ctx context.Context) bool {
	oc := graphql.GetOperationContext(ctx)
	return !s.indirect.Load() && oc.Operation != nil && oc.Operation.Operation == ast.Query && s.planned(ctx, oc) != nil
}

// planned is the plan of the operation of oc, remembered when the
// operation declares no variables. Plans are only read once made, so that
// answers running at once may share one.
func (s *Schema) planned(ctx context.Context, oc *graphql.OperationContext) []directField {
	op := oc.Operation
	if len(op.VariableDefinitions) > 0 {
		return s.plan(ctx, oc)
	}
	if plan, ok := s.plans.Get(op); ok {
		return plan
	}
	plan := s.plan(ctx, oc)
	s.plans.Add(op, plan)
	return plan
}

// A plan is an operation's fields in the order of the answer, each with the
// bytes of its key.
type directField struct {
	key  []byte // "alias":
	kind directKind
	// Query.lineage: the field and its arguments, and the selection of
	// each part of the graph. Any sub-plan may be empty.
	field                    graphql.CollectedField
	args                     map[string]any
	graph, root, nodes, file []directField
	edges, parent, child     []directField
	// details: the selection needs the edges' kinds or times (DOT and
	// Mermaid label edges with their kinds).
	details bool
	// Query.me: the user's fields. Query.files: the connection's, its
	// edges', its pageInfo's (in pageInfo) and its files' (in file).
	user, conn, pageInfo []directField
}

type directKind uint8

const (
	kindTypename directKind = iota // value: the type's name, in key's place
	kindLineage
	kindRoot
	kindNodes
	kindEdges
	kindTruncated
	kindDot
	kindMermaid
	kindDistance
	kindFile
	kindParent
	kindChild
	kindKind
	kindCreatedAt
	kindID
	kindName
	kindDeleted
	// Query.me and its fields (direct_serve.go).
	kindMe
	kindUserID
	kindUsername
	// Query.files and the parts of its connection (direct_serve.go).
	kindFiles
	kindFileEdges
	kindPageInfo
	kindCursor
	kindNode
	kindHasNext
	kindHasPrevious
	kindStartCursor
	kindEndCursor
	kindSize
	kindSHA256
	kindContentType
	kindFileCreatedAt
	kindSystemTags
	kindUserTags
	kindRowCount
	kindDelimiter
	kindEncoding
)

// typenamed is a __typename field: the key, then the name.
func typenamed(key []byte, typ string) directField {
	return directField{key: append(key, strconv.Quote(typ)...), kind: kindTypename}
}

// keyOf is the field's response name as the executor writes it, with the
// colon.
func keyOf(f graphql.CollectedField) []byte {
	var b bytes.Buffer
	graphql.MarshalString(f.Alias).MarshalGQL(&b)
	b.WriteByte(':')
	return b.Bytes()
}

// plan returns the plan of an operation that only selects Query.lineage
// fields (and __typename) whose selections a walk answers, or nil.
func (s *Schema) plan(ctx context.Context, oc *graphql.OperationContext) []directField {
	var ec *executionContext
	fields := graphql.CollectFields(oc, oc.Operation.SelectionSet, queryImplementors)
	plan := make([]directField, 0, len(fields))
	walks := 0
	for _, f := range fields {
		if f.IsDeferred() {
			return nil
		}
		switch f.Name {
		case "__typename":
			plan = append(plan, typenamed(keyOf(f), "Query"))
		case "lineage":
			if ec == nil {
				ec = newExecutionContext(oc, s.executableSchema, nil)
			}
			args, err := ec.field_Query_lineage_args(ctx, f.ArgumentMap(oc.Variables))
			if err != nil {
				return nil
			}
			g, ok := planGraph(oc, f.Selections)
			if !ok {
				return nil
			}
			plan = append(plan, directField{key: keyOf(f), kind: kindLineage, field: f, args: args, graph: g.graph,
				root: g.root, nodes: g.nodes, file: g.file, edges: g.edges, parent: g.parent, child: g.child, details: g.details})
			walks++
		case "me":
			user, ok := planUser(oc, f.Selections)
			if !ok {
				return nil
			}
			plan = append(plan, directField{key: keyOf(f), kind: kindMe, field: f, user: user})
			walks++
		case "files":
			if ec == nil {
				ec = newExecutionContext(oc, s.executableSchema, nil)
			}
			args, err := ec.field_Query_files_args(ctx, f.ArgumentMap(oc.Variables))
			if err != nil {
				return nil
			}
			df, ok := planConnection(oc, f.Selections)
			if !ok {
				return nil
			}
			df.key, df.kind, df.field, df.args = keyOf(f), kindFiles, f, args
			plan = append(plan, df)
			walks++
		default:
			return nil
		}
	}
	if walks == 0 {
		return nil
	}
	return plan
}

// graphPlan is the plan of a LineageGraph selection.
type graphPlan struct {
	graph, root, nodes, file, edges, parent, child []directField
	details                                        bool
}

func planGraph(oc *graphql.OperationContext, sel ast.SelectionSet) (graphPlan, bool) {
	var p graphPlan
	seen := map[directKind]bool{}
	for _, f := range graphql.CollectFields(oc, sel, lineageGraphImplementors) {
		if f.IsDeferred() {
			return p, false
		}
		key := keyOf(f)
		var kind directKind
		var ok bool
		switch f.Name {
		case "__typename":
			p.graph = append(p.graph, typenamed(key, "LineageGraph"))
			continue
		case "root":
			kind = kindRoot
			p.root, ok = planFile(oc, f.Selections)
		case "nodes":
			kind = kindNodes
			p.nodes, p.file, ok = planNodes(oc, f.Selections)
		case "edges":
			kind = kindEdges
			p.edges, p.parent, p.child, ok = planEdges(oc, f.Selections)
			for _, e := range p.edges {
				p.details = p.details || e.kind == kindKind || e.kind == kindCreatedAt
			}
		case "truncated":
			kind, ok = kindTruncated, true
		case "dot":
			kind, ok = kindDot, true
		case "mermaid":
			kind, ok = kindMermaid, true
		}
		// The same part under two aliases would need a plan of its own
		// for each: left to the executor.
		if !ok || seen[kind] {
			return p, false
		}
		if kind == kindDot || kind == kindMermaid {
			p.details = true
		}
		seen[kind] = true
		p.graph = append(p.graph, directField{key: key, kind: kind})
	}
	return p, true
}

func planNodes(oc *graphql.OperationContext, sel ast.SelectionSet) (nodes, file []directField, ok bool) {
	for _, f := range graphql.CollectFields(oc, sel, lineageNodeImplementors) {
		if f.IsDeferred() {
			return nil, nil, false
		}
		key := keyOf(f)
		switch f.Name {
		case "__typename":
			nodes = append(nodes, typenamed(key, "LineageNode"))
		case "distance":
			nodes = append(nodes, directField{key: key, kind: kindDistance})
		case "file":
			if file != nil {
				return nil, nil, false
			}
			if file, ok = planFile(oc, f.Selections); !ok {
				return nil, nil, false
			}
			nodes = append(nodes, directField{key: key, kind: kindFile})
		default:
			return nil, nil, false
		}
	}
	return nodes, file, true
}

func planEdges(oc *graphql.OperationContext, sel ast.SelectionSet) (edges, parent, child []directField, ok bool) {
	for _, f := range graphql.CollectFields(oc, sel, lineageEdgeImplementors) {
		if f.IsDeferred() {
			return nil, nil, nil, false
		}
		key := keyOf(f)
		switch f.Name {
		case "__typename":
			edges = append(edges, typenamed(key, "LineageEdge"))
		case "kind":
			edges = append(edges, directField{key: key, kind: kindKind})
		case "createdAt":
			edges = append(edges, directField{key: key, kind: kindCreatedAt})
		case "parent":
			if parent != nil {
				return nil, nil, nil, false
			}
			if parent, ok = planFile(oc, f.Selections); !ok {
				return nil, nil, nil, false
			}
			edges = append(edges, directField{key: key, kind: kindParent})
		case "child":
			if child != nil {
				return nil, nil, nil, false
			}
			if child, ok = planFile(oc, f.Selections); !ok {
				return nil, nil, nil, false
			}
			edges = append(edges, directField{key: key, kind: kindChild})
		default:
			return nil, nil, nil, false
		}
	}
	return edges, parent, child, true
}

// planFile plans a File selection of the fields a walk reads; the plan is
// never nil when ok, so that a selection is told from none.
func planFile(oc *graphql.OperationContext, sel ast.SelectionSet) ([]directField, bool) {
	out := []directField{}
	for _, f := range graphql.CollectFields(oc, sel, fileImplementors) {
		if f.IsDeferred() {
			return nil, false
		}
		key := keyOf(f)
		switch f.Name {
		case "__typename":
			out = append(out, typenamed(key, "File"))
		case "id":
			out = append(out, directField{key: key, kind: kindID})
		case "name":
			out = append(out, directField{key: key, kind: kindName})
		case "deleted":
			out = append(out, directField{key: key, kind: kindDeleted})
		default:
			return nil, false
		}
	}
	return out, true
}

// answer writes the data of the plan; false when the executor must answer
// instead. Every statement has run before the first byte is written, so
// that nothing can fail once the answer has begun: with a Stream in ctx the
// data goes to it as it is written, a few KiB at a time, and the response
// returned is empty.
func (s *Schema) answer(ctx context.Context, oc *graphql.OperationContext, plan []directField) ([]byte, bool) {
	c, err := auth.RequireCaller(ctx)
	if err != nil {
		return nil, false
	}
	var graphs []*lineage.Graph
	var pages []*files.Page[*files.Summary]
	var users []*directUser
	size := 2
	for i, f := range plan {
		switch f.kind {
		case kindLineage:
			g, err := s.walk(ctx, oc, c.UserID, f)
			if err != nil {
				return nil, false
			}
			if graphs == nil {
				graphs = make([]*lineage.Graph, len(plan))
			}
			graphs[i] = g
			size += len(g.Nodes)*96 + len(g.Edges)*128
		case kindMe:
			u, err := s.me(ctx, f)
			if err != nil || u == nil {
				return nil, false
			}
			if users == nil {
				users = make([]*directUser, len(plan))
			}
			users[i] = u
			size += 64
		case kindFiles:
			p, err := s.listing(ctx, c.UserID, f)
			if err != nil || !listable(p) {
				return nil, false
			}
			if pages == nil {
				pages = make([]*files.Page[*files.Summary], len(plan))
			}
			pages[i] = p
			size += 64 + len(p.Files)*256
		}
	}
	w := directWriter{}
	if st, ok := ctx.Value(streamKey).(*Stream); ok {
		w.out, st.written = st, true
		w.buf = make([]byte, 0, min(size, 2*flushAt))
		w.raw(dataKey)
	} else {
		w.buf = make([]byte, 0, size)
	}
	w.byte('{')
	for i, f := range plan {
		if i > 0 {
			w.byte(',')
		}
		w.raw(f.key)
		switch f.kind {
		case kindLineage:
			w.graph(f, graphs[i])
		case kindMe:
			w.user(f.user, users[i])
		case kindFiles:
			w.connection(f, pages[i])
		}
	}
	w.byte('}')
	if w.out != nil {
		w.byte('}')
		w.flush()
		return nil, true
	}
	return w.buf, true
}

var dataKey = []byte(`{"data":`)

// Stream takes the data of a direct answer as it is written (Schema's
// answers only; the executor's still come whole in a Response). A
// transport that puts one in the operation's context with WithStream and
// finds it Written after the response has nothing more to write: the
// answer was {"data": ...} alone, written to the Stream's writer.
type Stream struct {
	w       io.Writer
	written bool
	err     error
}

type streamKeyType struct{}

var streamKey streamKeyType

// WithStream returns ctx with a Stream writing to w.
func WithStream(ctx context.Context, w io.Writer) (context.Context, *Stream) {
	st := &Stream{w: w}
	return context.WithValue(ctx, streamKey, st), st
}

// Written reports whether the answer went to the Stream's writer.
func (st *Stream) Written() bool { return st.written }

// write passes p on until the first failure (a client gone), after which
// the rest is dropped: the answer cannot be taken back.
func (st *Stream) write(p []byte) {
	if st.err == nil {
		_, st.err = st.w.Write(p)
	}
}

// flushAt is how much of a streamed answer is held before it is written.
const flushAt = 32 << 10

// walk runs the resolver of a Query.lineage field through the field
// middleware, as the executor would (tracing spans it).
func (s *Schema) walk(ctx context.Context, oc *graphql.OperationContext, owner int64, f directField) (*lineage.Graph, error) {
	fc := &graphql.FieldContext{Object: "Query", Field: f.field, IsMethod: true, IsResolver: true, Args: f.args}
	ctx = graphql.WithFieldContext(ctx, fc)
	res, err := oc.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		d, dp, lm := walkArgs(f.args["direction"].(*lineage.Direction), f.args["depth"].(*int), f.args["limit"].(*int))
		read := lineage.EdgeEnds
		if f.details {
			read = lineage.EdgeDetails
		}
		return s.resolver.Lineage.Walk(ctx, owner, f.args["fileId"].(string), d, dp, lm, read)
	})
	if err != nil {
		return nil, err
	}
	return res.(*lineage.Graph), nil
}

// directWriter appends JSON as gqlgen's marshalers write it, handing it
// to out, when set, every flushAt bytes or so.
type directWriter struct {
	buf []byte
	out *Stream
	// at finds a node by id, for edges that select more of a file than
	// its id; made on first use.
	at map[string]int32
}

func (w *directWriter) byte(c byte) { w.buf = append(w.buf, c) }

// more is called between the elements of a list: a streamed answer is
// written out once enough of it is held.
func (w *directWriter) more() {
	if w.out != nil && len(w.buf) >= flushAt {
		w.flush()
	}
}

func (w *directWriter) flush() {
	w.out.write(w.buf)
	w.buf = w.buf[:0]
}
func (w *directWriter) raw(b []byte) { w.buf = append(w.buf, b...) }

// str writes s quoted, escaped as graphql.MarshalString escapes it:
// control characters, backslash and double quote, and nothing else (bytes
// that are not UTF-8 pass as they are).
func (w *directWriter) str(s string) {
	w.buf = append(w.buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		w.buf = append(w.buf, s[start:i]...)
		switch c {
		case '\t':
			w.buf = append(w.buf, `\t`...)
		case '\r':
			w.buf = append(w.buf, `\r`...)
		case '\n':
			w.buf = append(w.buf, `\n`...)
		case '\\':
			w.buf = append(w.buf, `\\`...)
		case '"':
			w.buf = append(w.buf, `\"`...)
		default:
			const hex = "0123456789ABCDEF"
			w.buf = append(w.buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	w.buf = append(w.buf, s[start:]...)
	w.buf = append(w.buf, '"')
}

func (w *directWriter) bool(v bool) { w.buf = strconv.AppendBool(w.buf, v) }

// marshal writes what a gqlgen marshaler writes.
func (w *directWriter) marshal(m graphql.Marshaler) {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	w.buf = append(w.buf, b.Bytes()...)
}

func (w *directWriter) graph(f directField, g *lineage.Graph) {
	w.byte('{')
	for i, p := range f.graph {
		if i > 0 {
			w.byte(',')
		}
		w.raw(p.key)
		switch p.kind {
		case kindRoot:
			w.file(f.root, g, w.rootOf(g))
		case kindNodes:
			w.nodes(f.nodes, f.file, g)
		case kindEdges:
			w.edges(f, g)
		case kindTruncated:
			w.bool(g.Truncated)
		case kindDot:
			w.str(lineage.DOT(g))
		case kindMermaid:
			w.str(lineage.Mermaid(g))
		}
	}
	w.byte('}')
}

// rootOf is the position of the root among the nodes; the walk always
// returns it.
func (w *directWriter) rootOf(g *lineage.Graph) int {
	for i, n := range g.Nodes {
		if n.ID == g.RootID {
			return i
		}
	}
	return -1
}

func (w *directWriter) nodes(sel, file []directField, g *lineage.Graph) {
	w.byte('[')
	for i := range g.Nodes {
		if i > 0 {
			w.byte(',')
			w.more()
		}
		w.byte('{')
		for j, p := range sel {
			if j > 0 {
				w.byte(',')
			}
			w.raw(p.key)
			switch p.kind {
			case kindDistance:
				w.buf = strconv.AppendInt(w.buf, int64(g.Nodes[i].Distance), 10)
			case kindFile:
				w.file(file, g, i)
			}
		}
		w.byte('}')
	}
	w.byte(']')
}

func (w *directWriter) edges(f directField, g *lineage.Graph) {
	w.byte('[')
	for i, e := range g.Edges {
		if i > 0 {
			w.byte(',')
			w.more()
		}
		w.byte('{')
		for j, p := range f.edges {
			if j > 0 {
				w.byte(',')
			}
			w.raw(p.key)
			switch p.kind {
			case kindParent:
				w.end(f.parent, g, e.ParentID)
			case kindChild:
				w.end(f.child, g, e.ChildID)
			case kindKind:
				w.str(e.Kind)
			case kindCreatedAt:
				w.marshal(graphql.MarshalTime(e.CreatedAt))
			}
		}
		w.byte('}')
	}
	w.byte(']')
}

// end writes the file at one end of an edge: by its id alone when that is
// all the selection asks, else as the node it is.
func (w *directWriter) end(sel []directField, g *lineage.Graph, id string) {
	idOnly := true
	for _, p := range sel {
		idOnly = idOnly && (p.kind == kindID || p.kind == kindTypename)
	}
	if idOnly {
		w.fileFields(sel, id, "", false)
		return
	}
	if w.at == nil {
		w.at = make(map[string]int32, len(g.Nodes))
		for i, n := range g.Nodes {
			w.at[n.ID] = int32(i)
		}
	}
	w.file(sel, g, int(w.at[id]))
}

func (w *directWriter) file(sel []directField, g *lineage.Graph, i int) {
	n := &g.Nodes[i]
	w.fileFields(sel, n.ID, n.Name, n.Deleted)
}

func (w *directWriter) fileFields(sel []directField, id, name string, deleted bool) {
	w.byte('{')
	for j, p := range sel {
		if j > 0 {
			w.byte(',')
		}
		w.raw(p.key)
		switch p.kind {
		case kindID:
			w.str(id)
		case kindName:
			w.str(name)
		case kindDeleted:
			w.bool(deleted)
		}
	}
	w.byte('}')
}
