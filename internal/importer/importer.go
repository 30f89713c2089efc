package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// Options configure an Importer.
type Options struct {
	// DryRun reads everything and writes nothing: the summary says what a
	// real run would do.
	DryRun bool
	// Progress hears about each item; nil means none.
	Progress Progress
}

// Importer moves a Source into this server's database and bucket through
// the same services the server uses.
type Importer struct {
	auth    *auth.Service
	files   *files.Service
	lineage *lineage.Service
	opts    Options
}

// New returns an Importer writing through the given services (app.App
// holds them all).
func New(a *auth.Service, f *files.Service, l *lineage.Service, opts Options) *Importer {
	if opts.Progress == nil {
		opts.Progress = noProgress{}
	}
	return &Importer{auth: a, files: f, lineage: l, opts: opts}
}

// fileIDSpace is the namespace of the name-based UUIDs given to old
// file_ids that are not UUIDs. Fixed, so every run and every edge maps an
// old id to the same new one.
var fileIDSpace = uuid.MustParse("0b5e4c1a-3f3c-4d0e-9d6a-6c7574696d70")

// FileID is this server's id for an old file_id: the UUID itself in
// canonical form, or a name-based (version 5) UUID derived from any other
// text. ok is false for an empty id.
func FileID(old string) (id string, ok bool) {
	old = strings.TrimSpace(old)
	if old == "" {
		return "", false
	}
	if u, err := uuid.Parse(old); err == nil {
		return u.String(), true
	}
	return uuid.NewSHA1(fileIDSpace, []byte(old)).String(), true
}

// userRef is where an old user id landed.
type userRef struct {
	id     int64  // this server's id (negative: planned by a dry run)
	failed string // why the user was not imported
}

// fileState is what the edge phase needs to know about a file.
type fileState struct {
	owner   int64
	deleted bool
	created time.Time
	planned bool // only in a dry run's plan, not in the database
}

// run is the state of one Run.
type run struct {
	*Importer
	ctx   context.Context
	src   Source
	sum   *Summary
	prog  Progress
	users map[string]userRef
	state map[string]*fileState // this server's file id -> state; nil: known missing
	// placeholder numbers the users a dry run would create.
	placeholder int64
}

// Run imports src: users, then files, then lineage edges. Each item is
// committed on its own, and anything already here is skipped, so an
// interrupted run (ctx cancelled) returns the summary so far with ctx's
// error, and running again continues where it stopped. Errors of single
// items are counted and noted in the summary; Run returns an error only
// when it cannot go on (the source cannot be read, ctx ends).
func (im *Importer) Run(ctx context.Context, src Source) (*Summary, error) {
	r := &run{
		Importer: im, ctx: ctx, src: src, prog: im.opts.Progress,
		sum:   &Summary{Source: src.Describe(), DryRun: im.opts.DryRun},
		users: map[string]userRef{}, state: map[string]*fileState{},
	}
	users, err := src.Users(ctx)
	if err != nil {
		return r.sum, fmt.Errorf("read users: %w", err)
	}
	list, err := src.Files(ctx)
	if err != nil {
		return r.sum, fmt.Errorf("read files: %w", err)
	}
	edges, err := src.Edges(ctx)
	if err != nil {
		return r.sum, fmt.Errorf("read edges: %w", err)
	}
	for _, step := range []func() error{
		func() error { return r.importUsers(users) },
		func() error { return r.importFiles(list) },
		func() error { return r.importEdges(list, edges) },
	} {
		err := step()
		r.prog.Finish()
		if err != nil {
			r.sum.Interrupted = ctx.Err() != nil
			return r.sum, err
		}
	}
	return r.sum, nil
}

// ---- users ----

func (r *run) importUsers(users []User) error {
	sort.SliceStable(users, func(i, j int) bool {
		a, errA := strconv.ParseInt(users[i].OldID, 10, 64)
		b, errB := strconv.ParseInt(users[j].OldID, 10, 64)
		if errA == nil && errB == nil {
			return a < b
		}
		return users[i].OldID < users[j].OldID
	})
	r.prog.Start("users", len(users))
	names := map[string]string{} // lower-case username -> old id, to catch case twins
	// Accounts whose old id is taken here get a new id, but only after
	// every account that can keep its id has it: a new id handed out
	// earlier could be the old id of an account still to come.
	var later []User
	for _, u := range users {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if r.importUser(u, names, true) {
			later = append(later, u)
			continue
		}
		r.prog.Advance(0)
	}
	for _, u := range later {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		r.importUser(u, names, false)
		r.prog.Advance(0)
	}
	return nil
}

// importUser imports one account. With keepIDOnly, an account whose old
// id is taken here is left alone and deferred is true.
func (r *run) importUser(u User, names map[string]string, keepIDOnly bool) (deferred bool) {
	item := fmt.Sprintf("%q (old id %s)", u.Username, u.OldID)
	in := auth.ImportedUser{Username: u.Username, Email: u.Email, PasswordHash: u.PasswordHash,
		Disabled: !u.Active, CreatedAt: u.JoinedAt, LastLoginAt: u.LastLoginAt}
	if n, err := strconv.ParseInt(strings.TrimSpace(u.OldID), 10, 64); err == nil && n > 0 {
		in.ID = n
	}
	if keepIDOnly {
		if _, dup := r.users[u.OldID]; dup {
			r.sum.record("user", item, OutcomeSkipped, "listed twice in the source", "")
			return false
		}
		key := strings.ToLower(u.Username)
		if other, twin := names[key]; twin {
			// Django compares usernames case-sensitively, this server does
			// not: the later of two such accounts cannot keep its name.
			reason := "username differs only in letter case from another user in the source"
			r.users[u.OldID] = userRef{failed: reason}
			r.sum.record("user", item, OutcomeFailed, reason, "old id "+other+" keeps the name")
			return false
		}
		names[key] = u.OldID
		if in.ID > 0 {
			plan, err := r.auth.PlanImportUser(r.ctx, in)
			if err == nil && plan.Created && !plan.KeptID {
				r.users[u.OldID] = userRef{} // reserved: not a duplicate
				return true
			}
		}
	}

	var res auth.ImportResult
	var err error
	if r.opts.DryRun {
		res, err = r.auth.PlanImportUser(r.ctx, in)
	} else {
		res, err = r.auth.ImportUser(r.ctx, in)
	}
	switch {
	case err == nil && !res.Created:
		r.users[u.OldID] = userRef{id: res.ID}
		r.sum.record("user", item, OutcomeSkipped, ReasonAlreadyImported, "")
	case err == nil:
		id := res.ID
		if id == 0 { // a dry run that would pick a new id
			r.placeholder--
			id = r.placeholder
		}
		r.users[u.OldID] = userRef{id: id}
		r.sum.record("user", item, OutcomeImported, "", "")
		if in.ID > 0 && !res.KeptID {
			detail := fmt.Sprintf("id %d belongs to another account here", in.ID)
			if !r.opts.DryRun {
				detail += fmt.Sprintf("; the account is id %d", res.ID)
			}
			r.sum.warn("user", item, "new id", detail)
		}
		if res.EmailDropped != "" {
			r.sum.warn("user", item, "email not kept", res.EmailDropped)
		}
		switch {
		case !u.Active:
			r.sum.warn("user", item, "deactivated in the old system", "imported with its files, but cannot log in")
		case !res.PasswordUsable:
			r.sum.warn("user", item, "password hash format not supported", "the account cannot log in with its old password")
		}
	case r.ctx.Err() != nil:
		// Run notices on the next item.
	case errors.Is(err, auth.ErrUsernameTaken):
		reason := "username taken by an account made on this server"
		r.users[u.OldID] = userRef{failed: reason}
		r.sum.record("user", item, OutcomeFailed, reason, "its files are not imported; rename or remove that account and run again")
	case errors.Is(err, apperr.ErrInvalidInput):
		r.users[u.OldID] = userRef{failed: "invalid username"}
		r.sum.record("user", item, OutcomeFailed, "invalid username", err.Error())
	default:
		r.users[u.OldID] = userRef{failed: "could not be imported"}
		r.sum.record("user", item, OutcomeFailed, "error", err.Error())
	}
	return false
}

// ---- files ----

func (r *run) importFiles(list []File) error {
	// Oldest first: when two files share a name, the older keeps it and the
	// newer becomes name_1.csv, as the old server numbered them.
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].UploadedAt.Equal(list[j].UploadedAt) {
			return list[i].UploadedAt.Before(list[j].UploadedAt)
		}
		return list[i].FileID < list[j].FileID
	})
	r.prog.Start("files", len(list))
	for _, f := range list {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		n, err := r.importFile(f)
		if err != nil {
			return err
		}
		r.prog.Advance(n)
	}
	return nil
}

// importFile imports one file and returns the bytes copied. Its error is
// only ctx's: everything else is noted in the summary.
func (r *run) importFile(f File) (int64, error) {
	id, ok := FileID(f.FileID)
	item := fmt.Sprintf("%s %q", id, f.Name)
	if id != f.FileID {
		item += " (file_id " + f.FileID + ")"
	}
	if !ok {
		r.sum.record("file", item, OutcomeFailed, "no file_id", "")
		return 0, nil
	}
	if st, seen := r.state[id]; seen && st != nil {
		r.sum.record("file", item, OutcomeSkipped, "listed twice in the source", "")
		return 0, nil
	}
	existing, err := r.files.Find(r.ctx, id)
	switch {
	case err == nil:
		r.state[id] = stateOf(existing)
		r.sum.record("file", item, OutcomeSkipped, ReasonAlreadyImported, "")
		return 0, nil
	case r.ctx.Err() != nil:
		return 0, r.ctx.Err()
	case !errors.Is(err, apperr.ErrNotFound):
		r.sum.record("file", item, OutcomeFailed, "error", err.Error())
		return 0, nil
	}
	owner, ok := r.users[f.OwnerOldID]
	if !ok || owner.failed != "" {
		why := "user id " + f.OwnerOldID + " is not in the source"
		if ok {
			why = "user id " + f.OwnerOldID + ": " + owner.failed
		}
		r.sum.record("file", item, OutcomeFailed, "owner not imported", why)
		return 0, nil
	}
	nf := r.newFile(f, id, owner.id, item)
	if r.opts.DryRun {
		return r.planFile(f, nf, item)
	}
	return r.copyFile(f, nf, item)
}

func stateOf(f *files.File) *fileState {
	owner := int64(-1 << 62) // no owner: matches nobody
	if f.OwnerID != nil {
		owner = *f.OwnerID
	}
	return &fileState{owner: owner, deleted: f.Deleted(), created: f.CreatedAt}
}

// newFile maps an old row onto files.NewFile, noting what had to change.
func (r *run) newFile(f File, id string, owner int64, item string) files.NewFile {
	meta, original := normalizeMetadata(f.Metadata)
	origin := files.OriginUploaded
	if original != "" || containsFold(f.SystemTags, files.OriginGenerated.SystemTag()) {
		origin = files.OriginGenerated
	}
	// Only "uploaded" and "generated" are system tags here, and the origin
	// sets them; any other old system tag is kept as a user tag, so nothing
	// is lost.
	var extra []string
	for _, t := range f.SystemTags {
		if !strings.EqualFold(t, "uploaded") && !strings.EqualFold(t, "generated") {
			extra = append(extra, t)
		}
	}
	tags, dropped := sanitizeTags(append(append([]string{}, f.UserTags...), extra...))
	if len(dropped) > 0 {
		r.sum.warn("file", item, "tags dropped", strings.Join(dropped, "; "))
	}
	return files.NewFile{
		ID: id, CreatedAt: f.UploadedAt, OwnerID: &owner, Name: importName(f.Name),
		Origin: origin, Tags: tags, Metadata: meta,
	}
}

// copyFile streams the bytes through files.Service.Create (profiled like an
// upload), or records a tombstone when the bytes are gone or rejected.
func (r *run) copyFile(f File, nf files.NewFile, item string) (int64, error) {
	rc, err := r.src.Open(r.ctx, f)
	if err != nil {
		switch {
		case r.ctx.Err() != nil:
			return 0, r.ctx.Err()
		case IsPermanent(err):
			return 0, r.tombstone(nf, item, "source file missing", err.Error())
		}
		r.sum.record("file", item, OutcomeFailed, "source file unreadable", err.Error()+" (a later run retries it)")
		return 0, nil
	}
	cr := &countingReader{r: rc}
	created, err := r.files.Create(r.ctx, nf, cr)
	rc.Close()
	var invalid *apperr.InvalidError
	switch {
	case err == nil:
		r.state[created.ID] = stateOf(created)
		r.sum.Bytes += created.Size
		r.sum.record("file", item, OutcomeImported, "", "")
		if want, _ := files.CleanName(nf.Name); created.Name != want {
			r.sum.warn("file", item, "renamed", fmt.Sprintf("the owner has another file named %q: now %q", want, created.Name))
		}
		return created.Size, nil
	case r.ctx.Err() != nil:
		return 0, r.ctx.Err()
	case cr.err != nil && IsPermanent(cr.err):
		return 0, r.tombstone(nf, item, "source file unreadable", cr.err.Error())
	case cr.err != nil:
		r.sum.record("file", item, OutcomeFailed, "reading the source failed", cr.err.Error()+" (a later run retries it)")
	case errors.Is(err, apperr.ErrTooLarge):
		return 0, r.tombstone(nf, item, "larger than MAX_FILE_SIZE", err.Error())
	case errors.As(err, &invalid) && invalid.Field == files.FieldFile:
		return 0, r.tombstone(nf, item, "rejected by the CSV reader", invalid.Reason)
	default:
		r.sum.record("file", item, OutcomeFailed, "could not store the file", err.Error()+" (a later run retries it)")
	}
	return 0, nil
}

// tombstone records a file whose bytes cannot be imported, so lineage
// through it stays whole.
func (r *run) tombstone(nf files.NewFile, item, reason, detail string) error {
	st := &fileState{owner: *nf.OwnerID, deleted: true, created: nf.CreatedAt, planned: r.opts.DryRun}
	if !r.opts.DryRun {
		f, err := r.files.CreateTombstone(r.ctx, nf, reason+": "+detail)
		if err != nil {
			if r.ctx.Err() != nil {
				return r.ctx.Err()
			}
			r.sum.record("file", item, OutcomeFailed, "could not record a tombstone", err.Error())
			return nil
		}
		st = stateOf(f)
	}
	r.state[nf.ID] = st
	r.sum.record("file", item, OutcomeTombstone, reason, detail)
	return nil
}

// planFile is copyFile for a dry run: it reads and profiles the bytes
// exactly as Create would, and writes nothing.
func (r *run) planFile(f File, nf files.NewFile, item string) (int64, error) {
	rc, err := r.src.Open(r.ctx, f)
	if err != nil {
		switch {
		case r.ctx.Err() != nil:
			return 0, r.ctx.Err()
		case IsPermanent(err):
			return 0, r.tombstone(nf, item, "source file missing", err.Error())
		}
		r.sum.record("file", item, OutcomeFailed, "source file unreadable", err.Error())
		return 0, nil
	}
	limit := r.files.MaxFileSize()
	cr := &countingReader{r: rc}
	_, aerr := csvio.Analyze(io.LimitReader(cr, limit+1))
	rc.Close()
	var notCSV *csvio.NotCSVError
	switch {
	case r.ctx.Err() != nil:
		return 0, r.ctx.Err()
	case cr.n > limit:
		return 0, r.tombstone(nf, item, "larger than MAX_FILE_SIZE", (&apperr.TooLargeError{Limit: limit}).Error())
	case cr.err != nil && IsPermanent(cr.err):
		return 0, r.tombstone(nf, item, "source file unreadable", cr.err.Error())
	case cr.err != nil:
		r.sum.record("file", item, OutcomeFailed, "reading the source failed", cr.err.Error())
	case errors.As(aerr, &notCSV):
		return 0, r.tombstone(nf, item, "rejected by the CSV reader", notCSV.Error())
	case aerr != nil:
		r.sum.record("file", item, OutcomeFailed, "could not store the file", aerr.Error())
	default:
		r.state[nf.ID] = &fileState{owner: *nf.OwnerID, created: nf.CreatedAt, planned: true}
		r.sum.Bytes += cr.n
		r.sum.record("file", item, OutcomeImported, "", "")
		return cr.n, nil
	}
	return 0, nil
}

// countingReader counts bytes and remembers the source's own read error,
// so a failing source is told apart from a failing bucket or a rejection.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		c.err = err
	}
	return n, err
}

// maxNameRunes is files' limit on display names.
const maxNameRunes = 200

// importName shortens an over-long name (keeping its extension) instead
// of refusing the file; CleanName does the rest.
func importName(name string) string {
	if utf8.RuneCountInString(name) <= maxNameRunes {
		return name
	}
	ext := path.Ext(name)
	if utf8.RuneCountInString(ext) > 16 {
		ext = ""
	}
	base := []rune(strings.TrimSuffix(name, ext))
	return string(base[:maxNameRunes-utf8.RuneCountInString(ext)]) + ext
}

// sanitizeTags keeps the tags files.Create accepts and lists the others.
func sanitizeTags(in []string) (keep, dropped []string) {
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.TrimSpace(t)
		switch {
		case t == "" || seen[t]:
			continue
		case strings.EqualFold(t, "uploaded") || strings.EqualFold(t, "generated"):
			dropped = append(dropped, fmt.Sprintf("%q is a system tag here", t))
		case utf8.RuneCountInString(t) > files.MaxTagLength:
			dropped = append(dropped, fmt.Sprintf("%q is longer than %d characters", t, files.MaxTagLength))
		case strings.ContainsFunc(t, unicode.IsControl):
			dropped = append(dropped, fmt.Sprintf("%q contains control characters", t))
		case len(keep) >= files.MaxTags:
			dropped = append(dropped, fmt.Sprintf("%q is over the limit of %d tags", t, files.MaxTags))
		default:
			seen[t] = true
			keep = append(keep, t)
		}
	}
	return keep, dropped
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// normalizeMetadata returns the metadata text to store and the
// original_file_id it names at its top level ("" when none). JSON that was
// stored as a JSON string holding JSON (the frontend sent text and the old
// server saved it into a JSON column) is unwrapped once, so it reads back
// as the object the frontend meant. Text that is not JSON is kept verbatim.
func normalizeMetadata(m *string) (*string, string) {
	if m == nil {
		return nil, ""
	}
	text := strings.TrimSpace(*m)
	if text == "" || text == "null" {
		return nil, ""
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return &text, ""
	}
	if s, ok := v.(string); ok {
		var inner any
		if json.Unmarshal([]byte(s), &inner) == nil {
			if _, isObj := inner.(map[string]any); isObj {
				text, v = strings.TrimSpace(s), inner
			}
		}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return &text, ""
	}
	switch o := obj["original_file_id"].(type) {
	case string:
		return &text, strings.TrimSpace(o)
	case float64:
		return &text, asString(jsonScalar(o))
	}
	return &text, ""
}

// ---- edges ----

// pendingEdge is an edge between this server's ids, with the old ones kept
// for the report.
type pendingEdge struct {
	parent, child string
	src           Edge
}

func (r *run) importEdges(list []File, extra []Edge) error {
	var all []Edge
	for _, f := range list {
		if _, orig := normalizeMetadata(f.Metadata); orig != "" {
			all = append(all, Edge{Parent: orig, Child: f.FileID, From: "metadata of " + f.FileID})
		}
	}
	all = append(all, extra...)

	// The same derivation often appears twice (in the metadata and in the
	// graph export): it is one edge.
	var pending []pendingEdge
	seen := map[string]bool{}
	for _, e := range all {
		p, _ := FileID(e.Parent)
		c, _ := FileID(e.Child)
		k := p + ">" + c + ">" + e.Kind
		if seen[k] {
			continue
		}
		seen[k] = true
		pending = append(pending, pendingEdge{parent: p, child: c, src: e})
	}

	r.prog.Start("edges", len(pending))
	for _, e := range pending {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if err := r.importEdge(e); err != nil {
			return err
		}
		r.prog.Advance(0)
	}
	return nil
}

func (r *run) importEdge(e pendingEdge) error {
	item := fmt.Sprintf("%s -> %s (%s)", e.src.Parent, e.src.Child, e.src.From)
	skip := func(reason, detail string) error {
		r.sum.record("edge", item, OutcomeSkipped, reason, detail)
		return nil
	}
	switch {
	case e.src.Kind != "":
		return skip("not a derivation", "relationship type "+e.src.Kind)
	case e.parent == "" || e.child == "":
		return skip("end missing", "an end has no file id")
	case e.parent == e.child:
		return skip("links a file to itself", "")
	}
	ps, err := r.fileState(e.parent)
	if err != nil {
		return r.edgeError(item, err)
	}
	cs, err := r.fileState(e.child)
	if err != nil {
		return r.edgeError(item, err)
	}
	switch {
	case ps == nil:
		return skip("end missing", "parent "+e.src.Parent+" is neither in the source nor here")
	case cs == nil:
		return skip("end missing", "child "+e.src.Child+" is neither in the source nor here")
	case ps.owner != cs.owner:
		return skip("ends belong to different users", "")
	}
	if !ps.planned && !cs.planned {
		parents, err := r.lineage.Parents(r.ctx, cs.owner, []string{e.child})
		if err != nil {
			return r.edgeError(item, err)
		}
		for _, p := range parents[e.child] {
			if p == e.parent {
				return skip(ReasonEdgePresent, "")
			}
		}
	}
	if r.opts.DryRun {
		r.sum.record("edge", item, OutcomeImported, "", "")
		return nil
	}
	// The derivation happened when the child was made. A tombstone parent
	// is a derivation made before the parent's bytes were lost: lineage
	// must show it, so it is accepted here (users cannot derive from one).
	err = r.files.LinkImported(r.ctx, cs.owner, e.child, e.parent, cs.created, lineage.AddOptions{DeletedParents: ps.deleted})
	if err != nil {
		return r.edgeError(item, err)
	}
	r.sum.record("edge", item, OutcomeImported, "", "")
	return nil
}

// edgeError notes a failed edge; only ctx's end stops the run.
func (r *run) edgeError(item string, err error) error {
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	reason := "error"
	if errors.Is(err, apperr.ErrInvalidInput) {
		reason = "refused by lineage"
	}
	r.sum.record("edge", item, OutcomeFailed, reason, err.Error())
	return nil
}

// fileState is what is known of a file of this server: imported or
// skipped by this run, or else looked up. nil: there is no such file.
func (r *run) fileState(id string) (*fileState, error) {
	if st, ok := r.state[id]; ok {
		return st, nil
	}
	f, err := r.files.Find(r.ctx, id)
	if errors.Is(err, apperr.ErrNotFound) {
		r.state[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := stateOf(f)
	r.state[id] = st
	return st, nil
}
