package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestHashPasswordDefaults(t *testing.T) {
	h, err := HashPassword("correct horse", Argon2Params{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %q", h)
	}
	parts := strings.Split(h, "$")
	if salt, _ := b64.DecodeString(parts[4]); len(salt) != 16 {
		t.Fatalf("salt length %d", len(salt))
	}
	if key, _ := b64.DecodeString(parts[5]); len(key) != 32 {
		t.Fatalf("key length %d", len(key))
	}
	ok, rehash, err := VerifyPassword(h, "correct horse")
	if !ok || rehash || err != nil {
		t.Fatalf("VerifyPassword = %v, %v, %v", ok, rehash, err)
	}
	if ok, _, err := VerifyPassword(h, "correct horsE"); ok || err != nil {
		t.Fatalf("wrong password: %v, %v", ok, err)
	}
	h2, _ := HashPassword("correct horse", Argon2Params{})
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestVerifyPasswordFormats(t *testing.T) {
	custom, err := HashPassword("pw", Argon2Params{Memory: 32, Time: 3, Threads: 2, KeyLen: 24, SaltLen: 12})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("pw"))
	tests := []struct {
		name, hash, password string
		ok, rehash           bool
	}{
		{"argon2 other params", custom, "pw", true, true},
		{"argon2 other params wrong", custom, "pW", false, false},
		{"django", djangoHash("pw", "s4lt", 1200), "pw", true, true},
		{"django wrong", djangoHash("pw", "s4lt", 1200), "px", false, false},
		{"django unicode salt and password", djangoHash("pässwörd", "sälz", 100), "pässwörd", true, true},
		{"sha256", hex.EncodeToString(sum[:]), "pw", true, true},
		{"sha256 wrong", hex.EncodeToString(sum[:]), "pw ", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(tc.hash, tc.password)
			if err != nil || ok != tc.ok || rehash != tc.rehash {
				t.Fatalf("VerifyPassword = %v, %v, %v; want %v, %v", ok, rehash, err, tc.ok, tc.rehash)
			}
		})
	}
	// Parameters are read back from the string.
	_, _, p, err := verifyPassword(custom, "pw")
	if err != nil || p != (Argon2Params{Memory: 32, Time: 3, Threads: 2, KeyLen: 24, SaltLen: 12}) {
		t.Fatalf("params = %+v, %v", p, err)
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	good, _ := HashPassword("pw", cheapArgon2)
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	sum := sha256.Sum256([]byte("pw"))
	for _, bad := range []string{
		"",
		"plaintext",
		"!unusable",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,x=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=300$" + salt + "$" + key,
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "==",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$extra",
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA",
		"pbkdf2_sha256$0$salt$" + strings.Repeat("A", 43) + "=",
		"pbkdf2_sha256$99999999999$salt$" + strings.Repeat("A", 43) + "=",
		"pbkdf2_sha256$100$$" + strings.Repeat("A", 43) + "=",
		"pbkdf2_sha256$100$salt$short",
		"pbkdf2_sha256$100$salt",
		"pbkdf2_sha1$100$salt$" + strings.Repeat("A", 27) + "=",
		strings.ToUpper(hex.EncodeToString(sum[:])),
		hex.EncodeToString(sum[:31]),
	} {
		ok, rehash, err := VerifyPassword(bad, "pw")
		if err == nil || ok || rehash {
			t.Errorf("VerifyPassword(%q) = %v, %v, %v; want an error", bad, ok, rehash, err)
		}
	}
}
