// Package openlineage speaks the OpenLineage standard: it describes each
// derivation (a file made from parent files) as a RunEvent, for the
// /api/v1/files/{id}/openlineage answer and for the emitter, which sends
// every new derivation to a receiver through the openlineage_outbox table.
//
// A derivation is one run of one job: the run id is a UUID (version 5)
// of the derived file's dataset URI, so the same derivation always has
// the same run id and a receiver can drop repeats. Datasets are files,
// named by the stable URI cutline://NAMESPACE/files/ID.
package openlineage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// The URIs an event names itself and its facets by.
const (
	// Producer identifies this server as the producer of the events.
	Producer = "https://github.com/cutline/cutline"
	// SchemaURL is the version of the RunEvent schema the events follow.
	SchemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

	schemaFacetURL        = "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
	columnLineageFacetURL = "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
	sqlFacetURL           = "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
	jobTypeFacetURL       = "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
	documentationFacetURL = "https://openlineage.io/spec/facets/1-1-0/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet"
	statisticsFacetURL    = "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json#/$defs/OutputStatisticsOutputDatasetFacet"
)

// DefaultNamespace is the job namespace when OPENLINEAGE_NAMESPACE is not set.
const DefaultNamespace = "cutline"

// The operations a derivation's job is named after.
const (
	// OpDerive: a server-side cut (deriveFile).
	OpDerive = "deriveFile"
	// OpSaveGenerated: a file a client made from its parents
	// (saveGeneratedFile, or an import of one).
	OpSaveGenerated = "saveGeneratedFile"
)

// RunEvent is an OpenLineage RunEvent.
type RunEvent struct {
	EventType string          `json:"eventType"`
	EventTime string          `json:"eventTime"`
	Producer  string          `json:"producer"`
	SchemaURL string          `json:"schemaURL"`
	Run       Run             `json:"run"`
	Job       Job             `json:"job"`
	Inputs    []InputDataset  `json:"inputs"`
	Outputs   []OutputDataset `json:"outputs"`
}

// Run is the run of a RunEvent.
type Run struct {
	RunID string `json:"runId"`
}

// Job is the job of a RunEvent.
type Job struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// InputDataset is a file a derivation read.
type InputDataset struct {
	Namespace string         `json:"namespace"`
	Name      string         `json:"name"`
	Facets    map[string]any `json:"facets,omitempty"`
}

// OutputDataset is the file a derivation wrote.
type OutputDataset struct {
	Namespace    string         `json:"namespace"`
	Name         string         `json:"name"`
	Facets       map[string]any `json:"facets,omitempty"`
	OutputFacets map[string]any `json:"outputFacets,omitempty"`
}

// base is the part every facet has.
type base struct {
	Producer  string `json:"_producer"`
	SchemaURL string `json:"_schemaURL"`
}

// SchemaFacet is the schema dataset facet: a file's columns and the types
// the profiler found.
type SchemaFacet struct {
	base
	Fields []SchemaField `json:"fields"`
}

// SchemaField is one column of a SchemaFacet.
type SchemaField struct {
	Name            string `json:"name"`
	Type            string `json:"type"`
	OrdinalPosition int    `json:"ordinal_position"`
}

// ColumnLineageFacet is the columnLineage dataset facet of an output: its
// columns' sources (Fields) and the columns that chose its rows (Dataset).
type ColumnLineageFacet struct {
	base
	Fields  map[string]ColumnSources `json:"fields"`
	Dataset []InputField             `json:"dataset,omitempty"`
}

// ColumnSources is where one output column came from.
type ColumnSources struct {
	InputFields []InputField `json:"inputFields"`
}

// InputField is one input column a column or the dataset depends on.
type InputField struct {
	Namespace       string           `json:"namespace"`
	Name            string           `json:"name"`
	Field           string           `json:"field"`
	Transformations []Transformation `json:"transformations"`
}

// Transformation says how an input column reaches the output.
type Transformation struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype"`
	Description string `json:"description,omitempty"`
	Masking     bool   `json:"masking"`
}

type sqlFacet struct {
	base
	Query string `json:"query"`
}

type jobTypeFacet struct {
	base
	ProcessingType string `json:"processingType"`
	Integration    string `json:"integration"`
	JobType        string `json:"jobType"`
}

type documentationFacet struct {
	base
	Description string `json:"description"`
}

type statisticsFacet struct {
	base
	RowCount int64 `json:"rowCount"`
	Size     int64 `json:"size"`
}

// Service builds the events from what the files and lineage features
// recorded.
type Service struct {
	files     *files.Service
	lineage   *lineage.Service
	namespace string
}

// NewService returns a Service naming jobs and datasets in namespace
// (DefaultNamespace when empty).
func NewService(f *files.Service, l *lineage.Service, namespace string) *Service {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return &Service{files: f, lineage: l, namespace: namespace}
}

// Namespace is the job namespace.
func (s *Service) Namespace() string { return s.namespace }

// DatasetNamespace is the namespace of every dataset: files of this
// server, by the job namespace.
func (s *Service) DatasetNamespace() string { return "cutline://" + s.namespace }

// DatasetName is the name of the dataset of file id.
func DatasetName(id string) string { return "files/" + id }

// RunID is the run id of the derivation of file id: the same for the
// same derivation, always.
func (s *Service) RunID(id string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(s.DatasetNamespace()+"/"+DatasetName(id))).String()
}

// Answer is the derivations of a file's lineage as events.
type Answer struct {
	Events []RunEvent
	// Truncated: the walk's depth or limit left out files (and so maybe
	// derivations) of the lineage.
	Truncated bool
}

// Lineage answers the derivations among the files of fileID's lineage
// (walked as lineage.Service.Graph walks it, with its bounds), each as a
// COMPLETE RunEvent, oldest first. Another user's file is
// apperr.ErrNotFound, like a missing one.
func (s *Service) Lineage(ctx context.Context, owner int64, fileID string, dir lineage.Direction, depth, limit int) (*Answer, error) {
	g, err := s.lineage.Graph(ctx, owner, fileID, dir, depth, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		ids[i] = n.ID
	}
	events, err := s.events(ctx, owner, ids)
	if err != nil {
		return nil, err
	}
	return &Answer{Events: events, Truncated: g.Truncated}, nil
}

// Event is the event of the derivation of file id, whoever owns it (the
// emitter's read: the outbox names files, not owners). A file that is
// not derived, or not there, is (nil, nil).
func (s *Service) Event(ctx context.Context, id string) (*RunEvent, error) {
	f, err := s.files.Find(ctx, id)
	if err != nil || f.OwnerID == nil {
		return nil, ignoreNotFound(err)
	}
	events, err := s.events(ctx, *f.OwnerID, []string{f.ID})
	if err != nil || len(events) == 0 {
		return nil, err
	}
	return &events[0], nil
}

// events builds the events of the derivations among owner's files ids:
// the files with parents. Every read covers all of them at once.
func (s *Service) events(ctx context.Context, owner int64, ids []string) ([]RunEvent, error) {
	parents, err := s.lineage.Parents(ctx, owner, ids)
	if err != nil {
		return nil, fmt.Errorf("openlineage parents: %w", err)
	}
	var derived, all []string
	for _, id := range ids {
		if ps := parents[id]; len(ps) > 0 {
			derived = append(derived, id)
			all = append(all, id)
			all = append(all, ps...)
		}
	}
	if len(derived) == 0 {
		return []RunEvent{}, nil
	}
	fs, err := s.files.GetMany(ctx, owner, all)
	if err != nil {
		return nil, fmt.Errorf("openlineage files: %w", err)
	}
	derivs, err := s.files.LoadDerivations(ctx, owner, derived)
	if err != nil {
		return nil, fmt.Errorf("openlineage derivations: %w", err)
	}
	edges, err := s.lineage.ColumnEdgesOf(ctx, owner, derived)
	if err != nil {
		return nil, fmt.Errorf("openlineage column lineage: %w", err)
	}
	byChild := map[string][]lineage.ColumnEdge{}
	for _, e := range edges {
		byChild[e.ChildID] = append(byChild[e.ChildID], e)
	}
	out := make([]RunEvent, 0, len(derived))
	for _, id := range derived {
		child := fs[id]
		if child == nil {
			continue
		}
		var ps []*files.File
		for _, p := range parents[id] {
			if f := fs[p]; f != nil {
				ps = append(ps, f)
			}
		}
		out = append(out, s.event(child, ps, derivs[child.ID], byChild[child.ID]))
	}
	slices.SortFunc(out, func(a, b RunEvent) int {
		return cmp.Or(strings.Compare(a.EventTime, b.EventTime), strings.Compare(a.Outputs[0].Name, b.Outputs[0].Name))
	})
	return out, nil
}

// event describes the derivation of child from parents: d is its cut
// (nil for a client-made file), edges its column lineage.
func (s *Service) event(child *files.File, parents []*files.File, d *files.Derivation, edges []lineage.ColumnEdge) RunEvent {
	b := base{Producer: Producer}
	ns := s.DatasetNamespace()
	op, jobType, where := OpSaveGenerated, "CLIENT_CUT", files.LegacyFilterSQL(child.MetadataJSON)
	if d != nil {
		op, jobType, where = OpDerive, "CUT", d.FilterSQL
	}
	job := Job{Namespace: s.namespace, Name: op + "." + child.ID, Facets: map[string]any{
		"jobType": jobTypeFacet{base: withURL(b, jobTypeFacetURL), ProcessingType: "BATCH", Integration: "CUTLINE", JobType: jobType},
	}}
	if where != "" && len(parents) > 0 {
		job.Facets["sql"] = sqlFacet{base: withURL(b, sqlFacetURL), Query: selectSQL(child, parents[0], where)}
	}
	inputs := make([]InputDataset, 0, len(parents))
	for _, p := range parents {
		inputs = append(inputs, InputDataset{Namespace: ns, Name: DatasetName(p.ID), Facets: datasetFacets(b, p)})
	}
	out := OutputDataset{Namespace: ns, Name: DatasetName(child.ID), Facets: datasetFacets(b, child),
		OutputFacets: map[string]any{"outputStatistics": statisticsFacet{base: withURL(b, statisticsFacetURL), RowCount: child.RowCount, Size: child.Size}}}
	if cl := columnLineage(b, ns, edges, where); cl != nil {
		out.Facets["columnLineage"] = cl
	}
	return RunEvent{
		EventType: "COMPLETE",
		EventTime: child.CreatedAt.UTC().Format(time.RFC3339Nano),
		Producer:  Producer, SchemaURL: SchemaURL,
		Run:     Run{RunID: s.RunID(child.ID)},
		Job:     job,
		Inputs:  inputs,
		Outputs: []OutputDataset{out},
	}
}

func withURL(b base, url string) base { b.SchemaURL = url; return b }

// datasetFacets are the facets every file has: its columns, and its name
// (the dataset's own name is the stable id).
func datasetFacets(b base, f *files.File) map[string]any {
	cols := f.Columns()
	fields := make([]SchemaField, len(cols))
	for i, c := range cols {
		fields[i] = SchemaField{Name: c.Name, Type: string(c.Type), OrdinalPosition: i + 1}
	}
	name := f.Name
	if f.Deleted() {
		name += " (deleted)"
	}
	return map[string]any{
		"schema":        SchemaFacet{base: withURL(b, schemaFacetURL), Fields: fields},
		"documentation": documentationFacet{base: withURL(b, documentationFacetURL), Description: name},
	}
}

// columnLineage is the columnLineage facet of a derivation's column
// edges: an IDENTITY as DIRECT/IDENTITY, an INFERRED one too (said so in
// its description), a FILTER as INDIRECT/FILTER on the dataset as a
// whole. nil when there are none.
func columnLineage(b base, ns string, edges []lineage.ColumnEdge, where string) *ColumnLineageFacet {
	if len(edges) == 0 {
		return nil
	}
	cl := &ColumnLineageFacet{base: withURL(b, columnLineageFacetURL), Fields: map[string]ColumnSources{}}
	for _, e := range edges {
		in := InputField{Namespace: ns, Name: DatasetName(e.ParentID), Field: e.ParentColumn}
		switch e.Kind {
		case lineage.ColumnFilter:
			in.Transformations = []Transformation{{Type: "INDIRECT", Subtype: "FILTER", Description: where}}
			cl.Dataset = append(cl.Dataset, in)
			continue
		case lineage.ColumnInferred:
			in.Transformations = []Transformation{{Type: "DIRECT", Subtype: "IDENTITY", Description: "inferred: a column of the same name"}}
		default:
			in.Transformations = []Transformation{{Type: "DIRECT", Subtype: "IDENTITY"}}
		}
		src := cl.Fields[e.ChildColumn]
		src.InputFields = append(src.InputFields, in)
		cl.Fields[e.ChildColumn] = src
	}
	return cl
}

// selectSQL is the cut as one SELECT statement over the parent's dataset.
func selectSQL(child, parent *files.File, where string) string {
	cols := child.Columns()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.Name)
	}
	list := strings.Join(names, ", ")
	if list == "" {
		list = "*"
	}
	return "SELECT " + list + " FROM " + quoteIdent(DatasetName(parent.ID)) + " WHERE " + where
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func ignoreNotFound(err error) error {
	if errors.Is(err, apperr.ErrNotFound) {
		return nil
	}
	return err
}
