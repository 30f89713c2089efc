package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/cutline/cutline/internal/apperr"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/csvio"
	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/lineage"
)

// Service is the files feature. It is safe for concurrent use.
type Service struct {
	st      *store
	bucket  *blob.Bucket
	maxSize int64
	maxCols int
	// uploadWorkers is Options.UploadWorkers.
	uploadWorkers int
	scratch       int64 // bytes of live scratch files per client address
	// maxFilterTags bounds the distinct tags of a listing's filter.
	maxFilterTags int
	// blobTimeout bounds every bucket call (Options.BlobTimeout).
	blobTimeout time.Duration
	// bucketName names an S3 bucket, whose multipart uploads the sweep
	// and the check look at.
	bucketName string
	noSync     bool // Options.NoSync
	log        *slog.Logger
	meter      Meter
	now        func() time.Time
	publish    func(Event)
	uncertain  func(Event)
	// outbox: every new derivation is queued for OpenLineage delivery.
	outbox bool
	// cutWorkers is how many goroutines one cut may use (Options.CutWorkers),
	// each cutting parts of about cutChunk bytes, whose ends are found by
	// scans of at most cutScan bytes.
	cutWorkers int
	cutChunk   int64
	cutScan    int64
}

// Meter counts the bytes the feature moves (metrics.Metrics is one).
type Meter interface {
	// Uploaded is called with the size of each file stored.
	Uploaded(n int64)
	// Cut is called with the bytes each cut writes, as it writes them.
	Cut(n int64)
}

type noMeter struct{}

func (noMeter) Uploaded(int64) {}
func (noMeter) Cut(int64)      {}

// Options configure a Service.
type Options struct {
	// MaxFileSize bounds every stored file, uploaded or generated.
	MaxFileSize int64
	// MaxColumns bounds the header of every stored file; 0 does not.
	MaxColumns int
	// ScratchQuota bounds the bytes of the live scratch files of one
	// client address (NewFile.ClientKey), counted in the database so that
	// it holds across replicas; 0 does not.
	ScratchQuota int64
	// MaxFilterTags bounds the distinct tags of one listing's filter; 0
	// does not.
	MaxFilterTags int
	Logger        *slog.Logger
	// Publish, when set, is called after each committed change.
	Publish func(Event)
	// Announce, when set, is called inside the transaction of each change,
	// as its last statement, with the change's events: a relay between
	// processes records them there, so that they are announced exactly
	// when the change commits. Its error fails the change.
	Announce func(ctx context.Context, tx bun.IDB, evs ...Event) error
	// Uncertain, when set, is called with the event of a change whose
	// COMMIT went unanswered (database.ErrCommitUnknown): Publish is not,
	// since whether the change happened is unknown.
	Uncertain func(Event)
	// Meter, when set, counts the bytes stored and cut.
	Meter Meter
	// OpenLineage queues every new derivation (a file made from parents:
	// derived, saved generated, imported) in openlineage_outbox, in the
	// transaction that records it, for delivery to a receiver.
	OpenLineage bool
	// BlobTimeout bounds each bucket call: one that moves no stream must
	// return within it, and so must each read or write of a stream (an
	// upload or a download may last as long as it keeps moving). 0 is
	// DefaultBlobTimeout.
	BlobTimeout time.Duration
	// BucketName is the name of an S3 bucket (blobstore.BucketName): the
	// sweep aborts its stale incomplete multipart uploads.
	BucketName string
	// NoSync skips the sync to disk of a folder bucket's new objects:
	// only for measuring what the sync costs (the server always syncs).
	NoSync bool
	// CutWorkers is how many goroutines one cut of a large file may read,
	// filter and write it with, each a part of the file at a time; the
	// output is the same bytes whatever the number. 0 or 1: one.
	CutWorkers int
	// UploadWorkers is how many goroutines parse and profile one upload's
	// chunks at once; the profile is the same whatever the number. 0:
	// GOMAXPROCS, 1: one.
	UploadWorkers int
}

// DefaultBlobTimeout is Options.BlobTimeout's default.
const DefaultBlobTimeout = 30 * time.Second

// NewService builds the files feature over a database and a bucket.
func NewService(db *database.DB, bucket *blob.Bucket, opts Options) *Service {
	s := &Service{st: newStore(db), bucket: bucket, maxSize: opts.MaxFileSize, maxCols: opts.MaxColumns, uploadWorkers: opts.UploadWorkers, scratch: opts.ScratchQuota,
		maxFilterTags: opts.MaxFilterTags, blobTimeout: opts.BlobTimeout, bucketName: opts.BucketName, noSync: opts.NoSync, log: opts.Logger, meter: opts.Meter, now: time.Now, publish: opts.Publish,
		uncertain: opts.Uncertain, outbox: opts.OpenLineage, cutWorkers: opts.CutWorkers, cutChunk: cutChunk, cutScan: cutScan}
	s.st.announce = opts.Announce
	if s.blobTimeout <= 0 {
		s.blobTimeout = DefaultBlobTimeout
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.meter == nil {
		s.meter = noMeter{}
	}
	if s.maxSize <= 0 {
		s.maxSize = 10 << 20
	}
	return s
}

// MaxFileSize is the configured size limit.
func (s *Service) MaxFileSize() int64 { return s.maxSize }

// The fields of the feature's input errors that adapters tell apart.
const (
	// FieldParents: a parent file is missing, deleted, someone else's or
	// would close a cycle, or none was named where one is needed.
	FieldParents = lineage.FieldParents
	// FieldFile: the bytes are not CSV, or the upload was cut short.
	FieldFile = "file"
	// FieldWhere and FieldWhereSQL: the row filter, typed or as SQL text.
	FieldWhere    = "where"
	FieldWhereSQL = "whereSql"
	// FieldEncoding: a stated encoding the server does not know.
	FieldEncoding = "encoding"
)

// Limits on user tags.
const (
	MaxTags      = 50
	MaxTagLength = 64
	maxNameRunes = 200
)

// maxEncodingName bounds a stated encoding name, which the error for an
// unknown one repeats: every real name is far shorter.
const maxEncodingName = 40

// NewFile describes a file to store. Bytes come separately, as a stream.
type NewFile struct {
	// OwnerID is nil only for anonymous scratch uploads, which must expire.
	OwnerID   *int64
	Name      string
	Origin    Origin
	Tags      []string
	Metadata  *string
	ParentIDs []string
	ExpiresAt *time.Time
	// ClientKey is the client address an anonymous scratch file counts
	// against (auth.ClientKey).
	ClientKey string
	// UploadedBy is the account whose token came with an anonymous scratch
	// upload, if any: the file is deleted with that account.
	UploadedBy *int64
	// Derivation, when set, is recorded with the file (FileID is filled in).
	Derivation *Derivation
	// columns, when set, gives the file's column lineage, recorded with
	// its lineage edges.
	columns columnPlan
	// rows, when set with Derivation, has the source rows the file's rows
	// were cut from: stored beside the bytes (row provenance).
	rows *rowsRecorder
	// ID and CreatedAt are normally chosen by the server; an import from
	// another system keeps the original ones.
	ID        string
	CreatedAt time.Time
	// Encoding is the encoding the caller says the bytes are in, by any
	// name csvio.LookupEncoding knows (utf-8, windows-1252, latin1,
	// macintosh, utf-16le...); empty detects it. A byte order mark still
	// wins over a stated Unicode encoding.
	Encoding string
	// IdempotencyKey, when set, names the request for retries: within
	// IdempotencyWindow the same key of the same owner answers the file
	// the first request made (if the retry asks the same), instead of
	// making another. Only an owner's files take one.
	IdempotencyKey *string
}

// Create stores body as a new file: one pass streams the bytes into the
// bucket while counting, hashing and analysing them as CSV. The row is
// committed only after the object is complete; any failure removes the
// object, so nothing is left half-written.
func (s *Service) Create(ctx context.Context, nf NewFile, body io.Reader) (*File, error) {
	name, err := CleanName(nf.Name)
	if err != nil {
		return nil, err
	}
	tags, err := cleanTags(nf.Tags)
	if err != nil {
		return nil, err
	}
	if nf.OwnerID == nil && nf.ExpiresAt == nil {
		return nil, errors.New("files: an anonymous file must expire")
	}
	if nf.Encoding != "" {
		if len(nf.Encoding) > maxEncodingName {
			return nil, apperr.Invalid(FieldEncoding, "unknown or unsupported encoding: a name of %d bytes (use one of %s)",
				len(nf.Encoding), strings.Join(csvio.Encodings, ", "))
		}
		if _, err := csvio.LookupEncoding(nf.Encoding); err != nil {
			return nil, apperr.Invalid(FieldEncoding, "%s", err.Error())
		}
	}
	if nf.IdempotencyKey != nil {
		if nf.OwnerID == nil {
			return nil, errors.New("files: an anonymous file cannot have an idempotency key")
		}
		if err := checkIdempotencyKey(*nf.IdempotencyKey); err != nil {
			return nil, err
		}
		if f, found, err := s.replay(ctx, nf, name, tags, body); found {
			return f, err
		}
	}
	if len(nf.ParentIDs) > 0 {
		if nf.OwnerID == nil {
			// Lineage belongs to an owner: a scratch file has none.
			return nil, apperr.Invalid(FieldParents, "a file without an owner cannot have parent files")
		}
		// Validate before writing anything; the transaction checks again.
		if err := s.checkParents(ctx, *nf.OwnerID, nf.ParentIDs); err != nil {
			return nil, err
		}
	}

	now := s.now().UTC().Truncate(time.Microsecond)
	id, now, err := nf.identity(now)
	if err != nil {
		return nil, err
	}
	limit, quota, err := s.scratchRoom(ctx, nf, now)
	if err != nil {
		return nil, err
	}
	key := blobstore.Key(id)
	st, err := s.store(ctx, key, body, limit, nf.Encoding)
	if errors.Is(err, errOverLimit) {
		err = quota()
	}
	if err != nil {
		return nil, err
	}

	origin := nf.Origin
	if origin == "" {
		origin = OriginUploaded
	}
	f := &File{Annotated: Annotated{Summary: Summary{
		ID: id, OwnerID: nf.OwnerID, ObjectKey: &key, Size: st.size, SHA256: st.sha256,
		ContentType: "text/csv", Encoding: st.summary.Dialect.Encoding,
		Delimiter: string(st.summary.Dialect.Delimiter), RowCount: st.summary.Rows,
		ReadIssues: &ReadIssues{ShortRows: st.summary.Short, LongRows: st.summary.Long, RepairedRows: st.summary.Repaired},
		Origin:     origin, SystemTags: []string{origin.SystemTag()},
		UserTags: tags, CreatedAt: now, ExpiresAt: nf.ExpiresAt,
	}, MetadataJSON: nf.Metadata}, Profile: NewProfile(st.summary.Columns)}
	if nf.OwnerID == nil && nf.ClientKey != "" {
		f.ClientKey = &nf.ClientKey
	}
	if nf.OwnerID == nil {
		f.UploadedBy = nf.UploadedBy
	}
	if nf.rows != nil && nf.Derivation != nil {
		// The bytes are complete, so the cut has seen every row.
		rk := rowsKey(key)
		wctx, cancel := blobstore.Call(ctx, s.blobTimeout)
		ok, err := nf.rows.write(wctx, s.bucket, rk, !s.noSync)
		cancel()
		if err != nil {
			s.removeObject(key)
			return nil, err
		}
		if ok {
			nf.Derivation.RowsKey = &rk
		}
	}
	request := ""
	if nf.IdempotencyKey != nil {
		bodySHA := st.sha256
		if nf.Derivation != nil {
			bodySHA = "" // a cut's bytes follow from its source and selection
		}
		request = nf.requestHash(name, tags, bodySHA)
	}
	if err := s.insert(ctx, f, name, nf, request); err != nil {
		if errors.Is(err, database.ErrCommitUnknown) {
			// The row may exist: its object stays. The sweep removes it
			// once it is sure that no row references it.
			s.log.WarnContext(ctx, "a file's commit went unanswered; its object is kept", "id", id, "err", err)
			s.unsure(EventCreated, f)
			return nil, fmt.Errorf("%w: %w", apperr.ErrUnavailable, err)
		}
		s.removeObject(key)
		if nf.Derivation != nil && nf.Derivation.RowsKey != nil {
			s.removeObject(*nf.Derivation.RowsKey)
		}
		var again *errReplayed
		if errors.As(err, &again) {
			// A request with the same key committed while this one stored
			// its bytes.
			return s.answerReplay(ctx, *nf.OwnerID, again.replayed, request)
		}
		return nil, err
	}
	if err := s.checkScratch(ctx, f, now, quota); err != nil {
		return nil, err
	}
	s.emit(EventCreated, f)
	return f, nil
}

// identity returns the id and creation time of a new file: the server's
// own, unless an import supplies the original ones.
func (nf NewFile) identity(now time.Time) (string, time.Time, error) {
	id := uuid.NewString()
	if nf.ID != "" {
		u, err := uuid.Parse(nf.ID)
		if err != nil {
			return "", now, apperr.Invalid("id", "not a UUID")
		}
		id = u.String()
	}
	if !nf.CreatedAt.IsZero() {
		now = nf.CreatedAt.UTC().Truncate(time.Microsecond)
	}
	return id, now, nil
}

type stored struct {
	size    int64
	sha256  string
	summary csvio.Summary
}

// copyBuffers holds the buffers uploads are copied through: large enough
// that big files take few writes, and reused because most uploads are a
// few kilobytes, for which making and zeroing a fresh one cost more than
// the copy.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// errOverLimit is store's answer to a body over a limit below MaxFileSize.
var errOverLimit = errors.New("over the scratch quota")

// store streams body into the bucket under key, at most limit bytes. The
// CSV analysis runs on a pipe beside the upload, so the bytes are read
// exactly once; encoding is the one the caller stated, if any.
func (s *Service) store(ctx context.Context, key string, body io.Reader, limit int64, encoding string) (stored, error) {
	// The bucket's calls are bounded, the client's pace is not: that is
	// UPLOAD_IDLE_TIMEOUT's.
	wctx, idle := blobstore.NewIdle(ctx, s.blobTimeout)
	defer idle.Cancel()
	var file *os.File // a folder bucket's temporary file, to sync
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: "text/csv", BufferSize: 8 << 20,
		BeforeWrite: func(as func(any) bool) error {
			if !s.noSync {
				as(&file)
			}
			return nil
		}})
	idle.Pause()
	if err != nil {
		return stored{}, bucketFailure("open object", err)
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var summary csvio.Summary
	var analyzeErr error
	go func() {
		defer close(done)
		summary, analyzeErr = csvio.AnalyzeAs(pr, encoding, csvio.Limits{MaxColumns: s.maxCols, Workers: s.uploadWorkers})
		// Unblock the writer if analysis stopped early (not a CSV file).
		pr.CloseWithError(errAnalysisDone)
	}()

	h := sha256.New()
	buf := copyBuffers.Get().(*[]byte)
	bw := &idleWriter{w: w, idle: idle}
	n, copyErr := io.CopyBuffer(io.MultiWriter(bw, h, pw), fillReader{io.LimitReader(body, limit+1)}, *buf)
	copyBuffers.Put(buf)
	pw.CloseWithError(copyErr)
	<-done

	fail := func(err error) (stored, error) {
		idle.Cancel() // a cancelled context makes Close abort the upload
		_ = w.Close()
		s.removeObject(key)
		return stored{}, err
	}
	switch {
	case n > limit && limit < s.maxSize:
		return fail(errOverLimit)
	case n > limit:
		return fail(&apperr.TooLargeError{Limit: s.maxSize})
	case analyzeErr != nil:
		var notCSV *csvio.NotCSVError
		if errors.As(analyzeErr, &notCSV) {
			return fail(apperr.Invalid(FieldFile, "%s", notCSV.Error()))
		}
		var wide *csvio.TooManyColumnsError
		if errors.As(analyzeErr, &wide) {
			return fail(apperr.Invalid(FieldFile, "%s (MAX_COLUMNS)", wide.Error()))
		}
		var badBytes *csvio.EncodingError
		if errors.As(analyzeErr, &badBytes) {
			return fail(apperr.Invalid(FieldFile, "%s", badBytes.Error()))
		}
		if copyErr == nil {
			return fail(fmt.Errorf("analyse upload: %w", analyzeErr))
		}
	}
	if copyErr != nil {
		if errors.Is(copyErr, errAnalysisDone) {
			return fail(fmt.Errorf("analyse upload: %w", analyzeErr))
		}
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		if errors.Is(copyErr, apperr.ErrUnavailable) {
			// The body itself came from storage (a derive reads its
			// source) and storage failed: not the client's doing.
			return fail(copyErr)
		}
		if bw.err != nil || isBucketError(copyErr) {
			return fail(bucketFailure("write object", copyErr))
		}
		var mbe *http.MaxBytesError
		if errors.As(copyErr, &mbe) {
			return fail(&apperr.TooLargeError{Limit: s.maxSize})
		}
		inv := apperr.Invalid(FieldFile, "the upload was interrupted: %v", copyErr)
		inv.Err = copyErr
		return fail(inv)
	}
	idle.Start()
	err = durableClose(w, file)
	idle.Pause()
	if err != nil {
		s.removeObject(key)
		if ctxErr := ctx.Err(); ctxErr != nil {
			// The request ended (its client left) while the object was
			// being finished: nothing is wrong with the storage.
			return stored{}, fmt.Errorf("finish object: %w", ctxErr)
		}
		return stored{}, bucketFailure("finish object", err)
	}
	s.meter.Uploaded(n)
	return stored{size: n, sha256: hex.EncodeToString(h.Sum(nil)), summary: summary}, nil
}

var errAnalysisDone = errors.New("analysis finished")

// fillReader fills each read's buffer before it returns, unless the
// source ends or fails first. A body can come in small reads (a multipart
// file part in reads of at most its reader's window): copied as they come,
// each would be a write to the bucket, a hash call and a hand-over to the
// analysis.
type fillReader struct{ r io.Reader }

func (f fillReader) Read(p []byte) (int, error) {
	n, err := io.ReadFull(f.r, p)
	if err == io.ErrUnexpectedEOF || (err == io.EOF && n > 0) {
		err = nil // the next read says io.EOF
	}
	return n, err
}

// idleWriter gives each write to the bucket its deadline, and keeps the
// bucket's error apart from the body's.
type idleWriter struct {
	w    io.Writer
	idle *blobstore.Idle
	err  error
}

func (w *idleWriter) Write(p []byte) (int, error) {
	w.idle.Start()
	defer w.idle.Pause()
	n, err := w.w.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// syncFile is (*os.File).Sync; tests see through it what reaches the disk.
var syncFile = (*os.File).Sync

// durableClose finishes an object. For a folder bucket (file is its
// temporary file) the bytes reach the disk before the rename that makes
// the object, and the rename before the row commits: a power loss then
// cannot leave a committed row over an empty or missing object.
func durableClose(w *blob.Writer, file *os.File) error {
	if file != nil {
		if err := syncFile(file); err != nil {
			_ = w.Close()
			return fmt.Errorf("sync object: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	if file == nil {
		return nil
	}
	dir, err := os.Open(filepath.Dir(file.Name()))
	if err != nil {
		return fmt.Errorf("sync object folder: %w", err)
	}
	defer dir.Close()
	if err := syncFile(dir); err != nil {
		return fmt.Errorf("sync object folder: %w", err)
	}
	return nil
}

// bucketFailure is the kind of a failed bucket call: ErrStorageFull when
// the disk under it is full, ErrUnavailable otherwise. The cause, which
// may name a server path, is only ever logged.
func bucketFailure(op string, err error) error {
	if apperr.IsStorageFull(err) {
		return fmt.Errorf("%w: %s: %v", apperr.ErrStorageFull, op, err)
	}
	return fmt.Errorf("%w: %s: %v", apperr.ErrUnavailable, op, err)
}

// isBucketError tells a failing bucket from a failing client body: the
// blob writer's errors carry a gcerrors code.
func isBucketError(err error) bool {
	return gcerrors.Code(err) != gcerrors.Unknown && gcerrors.Code(err) != gcerrors.OK
}

// removeObject deletes an object whose row was never committed. It uses
// its own context: the request's may already be cancelled.
func (s *Service) removeObject(key string) {
	ctx, cancel := blobstore.Call(context.Background(), s.blobTimeout)
	defer cancel()
	if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		// The sweep removes it later; nothing references it.
		s.log.Warn("remove orphan object", "key", key, "err", err)
	}
}

// insert commits the file row with a unique name, its tags, lineage edges
// and derivation in one transaction.
func (s *Service) insert(ctx context.Context, f *File, name string, nf NewFile, request string) error {
	l := links{parents: nf.ParentIDs, derivation: nf.Derivation, outbox: s.outbox, request: request}
	if nf.IdempotencyKey != nil {
		l.key = *nf.IdempotencyKey
	}
	if nf.columns != nil && len(nf.ParentIDs) > 0 {
		l.columns = nf.columns(f)
	}
	err := s.st.insert(ctx, f, name, l)
	if err != nil && ctx.Err() != nil {
		// The request ended mid-transaction: database/sql rolled it back and
		// reports only that the transaction is gone. Say why.
		err = fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	var again *errReplayed
	if err != nil && !errors.Is(err, apperr.ErrInvalidInput) && !errors.Is(err, apperr.ErrNotFound) && !errors.As(err, &again) {
		return fmt.Errorf("save file record: %w", err)
	}
	return err
}

// numberedName is the first of base_1ext, base_2ext... not in used.
func numberedName(base, ext string, used []string) string {
	taken := make(map[string]bool, len(used))
	for _, t := range used {
		taken[t] = true
	}
	for i := 1; ; i++ {
		c := fmt.Sprintf("%s_%d%s", base, i, ext)
		if !taken[c] {
			return c
		}
	}
}

// SaveGenerated stores body as a GENERATED file of owner's that was made
// from parents (at least one, each a live file of owner's) outside the
// server, such as a cut a client made itself, with the lineage edges in
// the same transaction. key, when set, is the request's idempotency key
// (NewFile.IdempotencyKey).
func (s *Service) SaveGenerated(ctx context.Context, owner int64, name string, parents []string, metadata *string, key *string, body io.Reader) (*File, error) {
	if len(parents) == 0 {
		return nil, apperr.Invalid(FieldParents, "name at least one parent file")
	}
	// The parents' columns, for inferring the new file's column lineage.
	got, err := many(ctx, s.st, owner, database.CanonicalIDs(parents), fileShape)
	if err != nil {
		return nil, fmt.Errorf("load parents: %w", err)
	}
	ps := make([]*File, 0, len(got))
	for _, id := range database.CanonicalIDs(parents) {
		if p := got[id]; p != nil {
			ps = append(ps, p)
		}
	}
	return s.Create(ctx, NewFile{OwnerID: &owner, Name: name, Origin: OriginGenerated, ParentIDs: parents, Metadata: metadata,
		IdempotencyKey: key, columns: inferredColumns(ps, metadata)}, body)
}

// MetadataOf encodes metadata a client gave as a JSON value; nil is none.
func MetadataOf(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, apperr.Invalid("metadata", "not JSON: %v", err)
	}
	s := string(b)
	return &s, nil
}

// MetadataText is what is stored for metadata a client sent as text: the
// text when it is JSON (kept verbatim), otherwise that text as a JSON
// string, so that what is stored always parses. Blank means none.
func MetadataText(s string) *string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if json.Valid([]byte(s)) {
		return &s
	}
	b, _ := json.Marshal(s)
	out := string(b)
	return &out
}

// CleanName turns a client-supplied name into a display name: only the
// last path element survives, control characters are dropped, and it is
// never empty. A name is never used as a storage path.
func CleanName(name string) (string, error) {
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if !utf8.ValidString(name) {
		return "", apperr.Invalid("name", "the name is not valid UTF-8")
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		name = "file.csv"
	}
	if utf8.RuneCountInString(name) > maxNameRunes {
		return "", apperr.Invalid("name", "the name is longer than %d characters", maxNameRunes)
	}
	return name, nil
}

// cleanTags trims, drops empty and duplicate tags, and enforces the limits.
func cleanTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTagLength {
			return nil, apperr.Invalid("tags", "tag %q is longer than %d characters", t, MaxTagLength)
		}
		if strings.ContainsFunc(t, unicode.IsControl) {
			return nil, apperr.Invalid("tags", "tag %q contains control characters", t)
		}
		if t == OriginUploaded.SystemTag() || t == OriginGenerated.SystemTag() {
			return nil, apperr.Invalid("tags", "%q is a system tag and cannot be set by users", t)
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, apperr.Invalid("tags", "at most %d tags per file", MaxTags)
	}
	return out, nil
}

func (s *Service) checkParents(ctx context.Context, owner int64, ids []string) error {
	for _, id := range ids {
		if _, ok := database.CanonicalID(id); !ok {
			return apperr.Invalid(FieldParents, "file %s not found", id)
		}
	}
	want := database.CanonicalIDs(ids)
	n, err := s.st.countLive(ctx, owner, want)
	if err != nil {
		return fmt.Errorf("check parents: %w", err)
	}
	if n != len(want) {
		return apperr.Invalid(FieldParents, "a parent file was not found")
	}
	return nil
}

// unsure tells the broker of a change that may or may not have committed.
func (s *Service) unsure(t EventType, f *File) {
	if s.uncertain == nil || f == nil || f.OwnerID == nil {
		return
	}
	s.uncertain(Event{Type: t, FileID: f.ID, OwnerID: *f.OwnerID})
}

func (s *Service) emit(t EventType, f *File) {
	if s.publish == nil || f.OwnerID == nil {
		return
	}
	s.publish(Event{Type: t, FileID: f.ID, OwnerID: *f.OwnerID})
}
