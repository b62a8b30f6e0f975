// Package password hashes and verifies userPassword values.
//
// # Basics
//
// New passwords are hashed with argon2id, a memory-hard function, and stored
// in the form OpenLDAP's argon2 module uses:
//
//	{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// Verify also accepts the schemes OpenLDAP stores, so that entries imported
// from it keep working: {SSHA}, {SHA}, {SSHA512}, {SHA512} and {CRYPT} with
// the glibc methods $1$ (MD5), $5$ (SHA-256) and $6$ (SHA-512), the last
// two with at most MaxCryptRounds rounds (crypt.go implements them). NeedsRehash tells the caller to
// replace such a value with argon2id after a successful bind.
//
// # Caveats
//
// Hashing costs tens of milliseconds and 19 MiB of memory by design. A
// Hasher bounds how many hashes run at once (MaxConcurrent) so that a burst
// of binds cannot exhaust memory; callers wait for a slot or their context.
// The work of one hash is bounded too (bounds.go): a password longer than
// MaxLen is never hashed, and a stored value whose parameters ask for more
// than MaxParams or MaxCryptRounds is refused (CheckParams), so neither a
// client's password nor a crafted stored value can make Verify spin or
// allocate without limit.
package password

import (
	"context"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // verifying legacy {SSHA}/{SHA} values only
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams are OWASP's recommended argon2id minimums (19 MiB, t=2, p=1).
func DefaultParams() Params { return Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

// TestParams are cheap parameters for tests only.
func TestParams() Params { return Params{Memory: 64, Time: 1, Threads: 1} }

const (
	saltLen = 16
	keyLen  = 32
	// maxSaltLen and maxKeyLen bound the salt and hash read from a stored
	// argon2 value.
	maxSaltLen = 64
	maxKeyLen  = 128
	prefix     = "{ARGON2}"
	sha1Size   = sha1.Size
	sha512Size = sha512.Size
)

var base64Raw = base64.RawStdEncoding

// ErrMismatch is returned by Verify for a wrong password.
var ErrMismatch = errors.New("password mismatch")

// ErrUnsupported is returned for a stored value in an unknown scheme.
var ErrUnsupported = errors.New("unsupported password scheme")

// Hasher hashes and verifies passwords. The zero value is not usable; use
// NewHasher.
type Hasher struct {
	params Params
	rand   io.Reader
	slots  chan struct{}
}

// NewHasher returns a Hasher with params, drawing salts from r (nil means
// crypto/rand) and running at most maxConcurrent hashes at once (<= 0
// means 4).
func NewHasher(params Params, r io.Reader, maxConcurrent int) *Hasher {
	if r == nil {
		r = rand.Reader
	}
	if maxConcurrent <= 0 {
		maxConcurrent = 4
	}
	return &Hasher{params: params, rand: r, slots: make(chan struct{}, maxConcurrent)}
}

// acquire waits for a hash slot or the end of ctx. A context that has
// already ended never takes a slot.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the stored form of a new password. A password longer than
// MaxLen is refused with ErrTooLong before any work.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxLen {
		return "", ErrTooLong
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%s$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", prefix, argon2.Version,
		p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against a stored value in constant time. It returns nil
// on a match, ErrMismatch on a wrong password, and another error for a
// value it cannot read (wrapping ErrUnsupported) or will not run (wrapping
// ErrTooCostly: see CheckParams, applied with MaxParams) or when ctx ends
// first.
//
// A password longer than MaxLen is a mismatch, found before any work and
// without taking a hash slot. The legacy {CRYPT} methods check ctx as they
// go; argon2id and the SHA schemes, bounded by MaxParams and MaxLen, run to
// the end once started.
func (h *Hasher) Verify(ctx context.Context, stored, pw string) error {
	if len(pw) > MaxLen {
		return ErrMismatch
	}
	sha, isSHA := findSHA(stored)
	switch {
	case strings.HasPrefix(stored, prefix):
		a, err := parseArgon2(stored[len(prefix):])
		if err != nil {
			return err
		}
		return h.verifyArgon2(ctx, a, pw)
	case isSHA:
		return sha.verify(stored, pw)
	case hasScheme(stored, "{CRYPT}"):
		v := stored[len("{CRYPT}"):]
		c, err := parseCrypt(v)
		if err != nil {
			return err
		}
		if err := h.acquire(ctx); err != nil {
			return err
		}
		defer h.release()
		return verifyCrypt(ctx, c, v, pw)
	}
	return ErrUnsupported
}

// NeedsRehash reports whether stored is in a legacy scheme that should be
// replaced by an argon2id hash once the password is known (after a
// successful bind).
func NeedsRehash(stored string) bool { return !strings.HasPrefix(stored, prefix) }

// shaScheme is one of the {SHA} family: after the scheme name, the base64
// of a SHA-1 or SHA-512 digest of the password and salt, then the salt
// (none unless salted).
type shaScheme struct {
	name   string
	size   int // sha1Size or sha512Size
	salted bool
}

// findSHA returns the {SHA}-family scheme of stored, if it has one.
func findSHA(stored string) (shaScheme, bool) {
	for _, s := range [...]shaScheme{
		{"{SSHA}", sha1Size, true}, {"{SHA}", sha1Size, false},
		{"{SSHA512}", sha512Size, true}, {"{SHA512}", sha512Size, false},
	} {
		if hasScheme(stored, s.name) {
			return s, true
		}
	}
	return shaScheme{}, false
}

// decode splits stored into its digest and its salt.
func (s shaScheme) decode(stored string) (digest, salt []byte, err error) {
	raw, err := base64.StdEncoding.DecodeString(stored[len(s.name):])
	if err != nil || len(raw) < s.size || (!s.salted && len(raw) != s.size) {
		return nil, nil, fmt.Errorf("%w: bad SHA encoding", ErrUnsupported)
	}
	return raw[:s.size], raw[s.size:], nil
}

func (s shaScheme) verify(stored, pw string) error {
	digest, salt, err := s.decode(stored)
	if err != nil {
		return err
	}
	var sum []byte
	if s.size == sha512Size {
		d := sha512.Sum512(append([]byte(pw), salt...))
		sum = d[:]
	} else {
		d := sha1.Sum(append([]byte(pw), salt...)) //nolint:gosec // legacy verification
		sum = d[:]
	}
	if subtle.ConstantTimeCompare(sum, digest) != 1 {
		return ErrMismatch
	}
	return nil
}

func (h *Hasher) verifyArgon2(ctx context.Context, a argon2Value, pw string) error {
	if err := a.params.within(h.MaxParams()); err != nil {
		return err
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	p := a.params
	got := argon2.IDKey([]byte(pw), a.salt, p.Time, p.Memory, p.Threads, uint32(len(a.hash)))
	if subtle.ConstantTimeCompare(got, a.hash) != 1 {
		return ErrMismatch
	}
	return nil
}

func hasScheme(v, scheme string) bool {
	return len(v) >= len(scheme) && strings.EqualFold(v[:len(scheme)], scheme)
}

// IsHashed reports whether v is already in a stored scheme that Verify
// reads, so that an Add or Modify carrying it is stored unchanged (for
// imports from another server).
func IsHashed(v string) bool {
	_, isSHA := findSHA(v)
	return isSHA || hasScheme(v, "{CRYPT}") || strings.HasPrefix(v, prefix)
}

// Generate returns a new random password of 24 URL-safe characters
// (144 bits).
func Generate(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 18)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
