package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/cutline/cutline/internal/blobstore"
)

// SweepGrace is how old an object nothing references, a temporary object
// or an incomplete multipart upload must be before the sweep removes it
// (and the check calls it a problem): younger ones may belong to an
// upload still in flight.
const SweepGrace = time.Hour

// ProblemKind names what the check found wrong.
type ProblemKind string

// What Check reports.
const (
	// MissingObject: a row names an object the bucket does not have.
	MissingObject ProblemKind = "row without object"
	// PartialObject: the object's size or SHA-256 is not the row's.
	PartialObject ProblemKind = "partial object"
	// Orphan: an object no row names, older than the grace period.
	Orphan ProblemKind = "object without row"
	// StaleTemporary: a temporary object of the folder bucket (an upload
	// that never finished), older than the grace period.
	StaleTemporary ProblemKind = "stale temporary object"
	// StaleUpload: an incomplete S3 multipart upload older than the grace
	// period.
	StaleUpload ProblemKind = "incomplete multipart upload"
)

// Problem is one thing Check found wrong.
type Problem struct {
	Kind   ProblemKind
	Key    string
	FileID string // when a row is involved
	Detail string
}

func (p Problem) String() string {
	s := string(p.Kind) + ": " + p.Key
	if p.FileID != "" {
		s += " (file " + p.FileID + ")"
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Report is what Check found.
type Report struct {
	Rows    int // objects rows name
	Objects int // objects in the bucket
	// Recent counts the objects, temporary objects and uploads that no row
	// names but are younger than the grace period: not judged.
	Recent   int
	Problems []Problem
}

// OK reports whether nothing is wrong.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Write prints the report, a problem a line.
func (r *Report) Write(w io.Writer) error {
	for _, p := range r.Problems {
		if _, err := fmt.Fprintln(w, p); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d objects named by rows, %d objects in the bucket, %d recent ones not judged, %d problems\n",
		r.Rows, r.Objects, r.Recent, len(r.Problems))
	return err
}

// tempSuffix ends the names of the folder bucket's temporary objects.
const tempSuffix = ".tmp"

// CheckOptions tune Check.
type CheckOptions struct {
	// Grace is how old an unreferenced object must be to count as a
	// problem; 0 is SweepGrace, a negative value judges every object.
	Grace time.Duration
}

// Check compares the rows with the bucket: every object a row names must
// exist with the row's size and SHA-256 (each is read whole), and every
// object under the files prefix must be named by a row, unless it is
// younger than the grace period. It reads; it changes nothing. The keys
// rows name are held in memory while the bucket is listed.
func (s *Service) Check(ctx context.Context, opts CheckOptions) (*Report, error) {
	grace := opts.Grace
	if grace == 0 {
		grace = SweepGrace
	}
	now := s.now()
	rep := &Report{}
	named := map[string]bool{}
	after := ""
	for {
		page, err := s.st.objectsAfter(ctx, after, listPageSize)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			named[o.Key] = true
			rep.Rows++
			if p, ok := s.checkObject(ctx, o); !ok {
				rep.Problems = append(rep.Problems, p)
			}
		}
		if len(page) < listPageSize {
			break
		}
		after = page[len(page)-1].Key
	}
	err := eachObject(ctx, s.bucket, s.blobTimeout, func(obj *blob.ListObject) error {
		if obj.IsDir {
			return nil
		}
		rep.Objects++
		if named[obj.Key] {
			return nil
		}
		if now.Sub(obj.ModTime) < grace {
			rep.Recent++
			return nil
		}
		kind := Orphan
		if strings.HasSuffix(obj.Key, tempSuffix) {
			kind = StaleTemporary
		}
		rep.Problems = append(rep.Problems, Problem{Kind: kind, Key: obj.Key, Detail: "last written " + obj.ModTime.UTC().Format(time.RFC3339)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	uploads, err := blobstore.IncompleteUploads(ctx, s.bucket, s.bucketName)
	if err != nil && !errors.Is(err, blobstore.ErrNoMultipart) {
		return nil, err
	}
	for _, u := range uploads {
		if now.Sub(u.Initiated) < grace {
			rep.Recent++
			continue
		}
		rep.Problems = append(rep.Problems, Problem{Kind: StaleUpload, Key: u.Key, Detail: "started " + u.Initiated.UTC().Format(time.RFC3339)})
	}
	return rep, nil
}

// checkObject reads the object o names whole; false with the problem when
// it is missing or differs from the row.
func (s *Service) checkObject(ctx context.Context, o storedObject) (Problem, bool) {
	p := Problem{Key: o.Key, FileID: o.FileID}
	r, err := s.openKey(ctx, o.Key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		p.Kind = MissingObject
		return p, false
	}
	if err != nil {
		p.Kind, p.Detail = MissingObject, "cannot be read: "+err.Error()
		return p, false
	}
	defer r.Close()
	if o.Rows {
		return p, true // a row provenance: no size or hash on record
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	switch sum := hex.EncodeToString(h.Sum(nil)); {
	case err != nil:
		p.Kind, p.Detail = PartialObject, "cannot be read: "+err.Error()
	case n != o.Size:
		p.Kind, p.Detail = PartialObject, fmt.Sprintf("%d bytes, the row says %d", n, o.Size)
	case sum != o.SHA256:
		p.Kind, p.Detail = PartialObject, "SHA-256 "+sum+", the row says "+o.SHA256
	default:
		return p, true
	}
	return p, false
}
