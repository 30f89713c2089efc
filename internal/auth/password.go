package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id cost parameters. Zero fields take the
// defaults (OWASP's minimum recommendation: 19 MiB, 2 passes, 1 lane).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	KeyLen  uint32 // bytes of hash
	SaltLen uint32 // bytes of salt
}

// DefaultArgon2Params returns the parameters used when none are configured.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{Memory: 19456, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2Params()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	return p
}

// Bounds on parameters, for new hashes and for stored ones: a corrupt or
// hostile hash string must not make one login allocate gigabytes or spin for
// minutes.
const (
	maxArgonMemory = 1 << 20 // KiB, 1 GiB
	maxArgonTime   = 100
	minKeyLen      = 16
	maxKeyLen      = 1024
	minSaltLen     = 8
	maxSaltLen     = 1024
	maxPBKDF2Iter  = 10_000_000
)

func (p Argon2Params) validate() error {
	switch {
	case p.Threads < 1:
		return errors.New("threads must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgonMemory:
		return fmt.Errorf("memory must be between %d and %d KiB", 8*uint32(p.Threads), maxArgonMemory)
	case p.Time < 1 || p.Time > maxArgonTime:
		return fmt.Errorf("time must be between 1 and %d", maxArgonTime)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length must be between %d and %d", minKeyLen, maxKeyLen)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length must be between %d and %d", minSaltLen, maxSaltLen)
	}
	return nil
}

// b64 is the PHC string encoding: standard alphabet, no padding. Strict so
// that one hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// HashPassword returns an argon2id PHC string
// "$argon2id$v=19$m=..,t=..,p=..$salt$hash" for password. Zero fields of p
// take the defaults. It is CPU- and memory-heavy and not rate limited; the
// Service bounds its own use, other callers (the importer) must bound theirs.
func HashPassword(password string, p Argon2Params) (string, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("argon2 parameters: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword checks password against a stored hash: argon2id PHC
// strings, and two legacy formats of imported users (Django's
// "pbkdf2_sha256$iterations$salt$base64" and bare unsalted SHA-256 hex).
// needsRehash is true after a successful check when the hash is legacy or
// its argon2 parameters differ from DefaultArgon2Params, so the caller
// should store a fresh HashPassword. err reports an unreadable hash, never a
// wrong password.
func VerifyPassword(encoded, password string) (ok bool, needsRehash bool, err error) {
	ok, legacy, params, err := verifyPassword(encoded, password)
	if err != nil || !ok {
		return false, false, err
	}
	return true, legacy || params != DefaultArgon2Params(), nil
}

// verifyPassword reports whether password matches encoded, whether encoded
// is a legacy format, and (for argon2id) the parameters read from it.
func verifyPassword(encoded, password string) (ok, legacy bool, params Argon2Params, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		ok, params, err = verifyArgon2(encoded, password)
		return ok, false, params, err
	case strings.HasPrefix(encoded, "pbkdf2_sha256$"):
		ok, err = verifyDjango(encoded, password)
		return ok, true, params, err
	case isSHA256Hex(encoded):
		sum := sha256.Sum256([]byte(password))
		want, _ := hex.DecodeString(encoded)
		return subtle.ConstantTimeCompare(sum[:], want) == 1, true, params, nil
	}
	return false, false, params, errors.New("unrecognised password hash format")
}

func verifyArgon2(encoded, password string) (bool, Argon2Params, error) {
	var p Argon2Params
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return false, p, errors.New("malformed argon2id hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return false, p, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	if err := parseArgonParams(parts[3], &p); err != nil {
		return false, p, err
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return false, p, errors.New("malformed argon2id salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < minKeyLen || len(want) > maxKeyLen {
		return false, p, errors.New("malformed argon2id hash value")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(want))
	if err := p.validate(); err != nil {
		return false, p, fmt.Errorf("argon2id parameters: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, p, nil
}

// parseArgonParams reads "m=..,t=..,p=.." (each exactly once, in any order).
func parseArgonParams(s string, p *Argon2Params) error {
	var seen [3]bool
	for field := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(field, "=")
		if !ok {
			return fmt.Errorf("malformed argon2id parameter %q", field)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return fmt.Errorf("malformed argon2id parameter %q", field)
		}
		var i int
		switch k {
		case "m":
			i, p.Memory = 0, uint32(n)
		case "t":
			i, p.Time = 1, uint32(n)
		case "p":
			if n > 255 {
				return fmt.Errorf("argon2id parallelism %d out of range", n)
			}
			i, p.Threads = 2, uint8(n)
		default:
			return fmt.Errorf("unknown argon2id parameter %q", k)
		}
		if seen[i] {
			return fmt.Errorf("repeated argon2id parameter %q", k)
		}
		seen[i] = true
	}
	if !seen[0] || !seen[1] || !seen[2] {
		return errors.New("argon2id hash lacks m, t or p")
	}
	return nil
}

// verifyDjango checks Django's PBKDF2-HMAC-SHA256 format. Django uses the
// salt string's UTF-8 bytes as the salt and a 32-byte key, base64 with padding.
func verifyDjango(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 4 {
		return false, errors.New("malformed pbkdf2_sha256 hash")
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxPBKDF2Iter {
		return false, errors.New("malformed pbkdf2_sha256 iteration count")
	}
	if parts[2] == "" {
		return false, errors.New("malformed pbkdf2_sha256 salt")
	}
	want, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil || len(want) != sha256.Size {
		return false, errors.New("malformed pbkdf2_sha256 hash value")
	}
	got, err := pbkdf2.Key(sha256.New, password, []byte(parts[2]), iter, sha256.Size)
	if err != nil {
		return false, fmt.Errorf("pbkdf2: %w", err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// acquire takes a hashing slot, giving up when ctx ends first.
func (s *Service) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.sem }

// hash is HashPassword with the configured parameters, bounded by the
// semaphore.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(password, s.cfg.Argon2)
}

// verify is verifyPassword bounded by the semaphore. needsRehash compares
// against the configured parameters, so raising them upgrades hashes as
// users log in.
func (s *Service) verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	if err := s.acquire(ctx); err != nil {
		return false, false, err
	}
	defer s.release()
	ok, legacy, params, err := verifyPassword(encoded, password)
	if err != nil || !ok {
		return false, false, err
	}
	return true, legacy || params != s.cfg.Argon2, nil
}
