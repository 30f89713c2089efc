package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/cutline/cutline/internal/apperr"
)

// FieldIdempotencyKey: the idempotency key is malformed, or was used for a
// different request.
const FieldIdempotencyKey = "idempotencyKey"

// MaxIdempotencyKey bounds an idempotency key in bytes (Stripe's bound: a
// UUID or a random token fits many times over).
const MaxIdempotencyKey = 255

// IdempotencyWindow is how long a key answers its first request's file; a
// key older than that is forgotten (the sweep removes it) and may be used
// again.
const IdempotencyWindow = 24 * time.Hour

// replayed is the answer to a retried request: the file its first request
// made, and what that request asked.
type replayed struct {
	fileID  string
	request string
}

// errReplayed carries a replay out of the transaction that found the key
// already used (rolling it back).
type errReplayed struct{ replayed }

func (e *errReplayed) Error() string { return "idempotency key already used for file " + e.fileID }

// checkIdempotencyKey refuses keys a client could not mean: empty, too
// long, or with control characters (they would be printed in errors).
func checkIdempotencyKey(key string) error {
	switch {
	case key == "":
		return apperr.Invalid(FieldIdempotencyKey, "an idempotency key must not be empty")
	case len(key) > MaxIdempotencyKey:
		return apperr.Invalid(FieldIdempotencyKey, "an idempotency key is at most %d bytes, not %d", MaxIdempotencyKey, len(key))
	case strings.ContainsFunc(key, unicode.IsControl):
		return apperr.Invalid(FieldIdempotencyKey, "an idempotency key must not contain control characters")
	}
	return nil
}

// requestHash is what a request carrying an idempotency key asked, as a
// hash: everything that shapes the file it makes. bodySHA is the SHA-256
// of the client's bytes, or "" for a server-side cut, whose bytes follow
// from the rest.
func (nf NewFile) requestHash(name string, tags []string, bodySHA string) string {
	desc := struct {
		Name       string      `json:"name"`
		Origin     Origin      `json:"origin"`
		Tags       []string    `json:"tags"`
		Metadata   *string     `json:"metadata"`
		Parents    []string    `json:"parents"`
		Encoding   string      `json:"encoding"`
		Derivation *Derivation `json:"derivation"`
		Body       string      `json:"body"`
	}{name, nf.Origin, tags, nf.Metadata, nf.ParentIDs, nf.Encoding, nil, bodySHA}
	if d := nf.Derivation; d != nil {
		desc.Derivation = &Derivation{SourceIDs: d.SourceIDs, Columns: d.Columns, FilterSQL: d.FilterSQL}
	}
	b, _ := json.Marshal(desc)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// replay answers a request whose key an earlier request of the same owner
// used within the window: that request's file when both asked the same,
// an error naming the key when they did not. found is false when the key
// is new; body is then untouched. A client's bytes are read (not stored)
// to tell a retry from another upload under the same key.
func (s *Service) replay(ctx context.Context, nf NewFile, name string, tags []string, body io.Reader) (f *File, found bool, err error) {
	r, err := s.st.idempotent(ctx, *nf.OwnerID, *nf.IdempotencyKey, s.now().UTC().Add(-IdempotencyWindow))
	if err != nil || r == nil {
		return nil, false, err
	}
	bodySHA := ""
	if nf.Derivation == nil {
		h := sha256.New()
		n, err := io.Copy(h, io.LimitReader(body, s.maxSize+1))
		if err != nil {
			return nil, true, apperr.Invalid(FieldFile, "the upload was interrupted: %v", err)
		}
		if n > s.maxSize {
			return nil, true, &apperr.TooLargeError{Limit: s.maxSize}
		}
		bodySHA = hex.EncodeToString(h.Sum(nil))
	}
	f, err = s.answerReplay(ctx, *nf.OwnerID, r.replayed, nf.requestHash(name, tags, bodySHA))
	return f, true, err
}

// answerReplay is the first request's file, if request is what it asked.
func (s *Service) answerReplay(ctx context.Context, owner int64, r replayed, request string) (*File, error) {
	if r.request != request {
		return nil, apperr.Invalid(FieldIdempotencyKey,
			"this idempotency key was used for a different request in the last %s: use a new key for a new request",
			IdempotencyWindow)
	}
	f, err := s.st.live(ctx, owner, r.fileID)
	if errors.Is(err, apperr.ErrNotFound) {
		return nil, apperr.Invalid(FieldIdempotencyKey, "the file this idempotency key made has been deleted since: use a new key")
	}
	if err != nil {
		return nil, fmt.Errorf("load the file of an idempotency key: %w", err)
	}
	return f, nil
}
