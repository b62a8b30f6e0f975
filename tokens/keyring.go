package tokens

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
)

const (
	// KeyIDLen is the length of a key id (kid): six base64url characters,
	// 36 random bits. Key ids only need to be distinct within one keyring,
	// and every character spent on them is a character of the 128-character
	// token budget.
	KeyIDLen = 6

	// keySize is the HMAC-SHA256 key size in bytes: the hash output size,
	// the minimum RFC 7518 section 3.2 allows and go-jose enforces.
	keySize = 32

	// maxKeys bounds a keyring, so the persisted count fits its field with
	// room to spare. Rotating yearly, it is never reached.
	maxKeys = 256

	kidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// key is one HMAC signing key. It is immutable once made. Its secret never
// appears in fmt output: String, GoString and Format all redact it.
type key struct {
	id     string // the kid
	secret []byte // keySize random bytes
	header string // encodedHeader(id), precomputed for Parse
	// macs holds HMAC-SHA256 states keyed with secret, reset after use,
	// so that verifying a token does not hash the key pads again.
	macs sync.Pool
}

// mac returns an HMAC-SHA256 keyed with k's secret, ready to write; give
// it back with putMAC.
func (k *key) mac() hash.Hash {
	if h, ok := k.macs.Get().(hash.Hash); ok {
		return h
	}
	return hmac.New(sha256.New, k.secret)
}

func (k *key) putMAC(h hash.Hash) {
	h.Reset()
	k.macs.Put(h)
}

func (k *key) String() string   { return "tokens.key{kid: " + k.id + ", secret: REDACTED}" }
func (k *key) GoString() string { return k.String() }

// Format implements fmt.Formatter so that every verb, including %x and
// %#v, prints the redacted form.
func (k *key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// newKey draws a secret and a key id from r.
func newKey(r io.Reader) (*key, error) {
	var buf [keySize + KeyIDLen]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return nil, fmt.Errorf("tokens: read random key: %w", err)
	}
	kid := make([]byte, KeyIDLen)
	for i, b := range buf[keySize:] {
		kid[i] = kidAlphabet[b&63] // 256 is a multiple of 64: uniform
	}
	secret := make([]byte, keySize)
	copy(secret, buf[:keySize])
	return makeKey(string(kid), secret), nil
}

func makeKey(kid string, secret []byte) *key {
	return &key{id: kid, secret: secret, header: encodedHeader(kid)}
}

// validKeyID reports whether kid has the length and alphabet of our key ids,
// which also guarantees it needs no escaping inside the JSON header.
func validKeyID(kid string) bool {
	if len(kid) != KeyIDLen {
		return false
	}
	for i := 0; i < len(kid); i++ {
		c := kid[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// keySet is an immutable snapshot of a keyring's keys.
type keySet struct {
	keys []*key // oldest first; the last one is the active signing key
	byID map[string]*key
}

func newKeySet(keys []*key) *keySet {
	s := &keySet{keys: keys, byID: make(map[string]*key, len(keys))}
	for _, k := range keys {
		s.byID[k.id] = k
	}
	return s
}

// Keyring holds the HMAC keys that sign and verify tokens: one active key,
// which signs, and older keys kept so that tokens they signed still verify
// until the keys are removed.
//
// A Keyring is safe for concurrent use. Readers (Verify, Issue) load an
// immutable snapshot with one atomic load and never block; Rotate, Remove
// and UnmarshalBinary build a new snapshot under a mutex and publish it
// atomically, so a verification sees either the old key set or the new one,
// never a mix.
//
// The zero Keyring is empty: it verifies nothing and cannot sign until
// Rotate (or UnmarshalBinary) gives it a key. A Keyring must not be copied
// after first use.
//
// Changes are in memory only; see [SaveKeyring] to persist them.
type Keyring struct {
	mu  sync.Mutex // serializes writers; readers never take it
	set atomic.Pointer[keySet]
}

// NewKeyring returns a keyring with one fresh key drawn from r (nil means
// crypto/rand.Reader).
func NewKeyring(r io.Reader) (*Keyring, error) {
	k := new(Keyring)
	if err := k.Rotate(r); err != nil {
		return nil, err
	}
	return k, nil
}

// snapshot returns the current key set, or nil for an empty (or nil) keyring.
func (k *Keyring) snapshot() *keySet {
	if k == nil {
		return nil
	}
	return k.set.Load()
}

// lookup returns the key with id kid, or nil.
func (k *Keyring) lookup(kid string) *key {
	s := k.snapshot()
	if s == nil {
		return nil
	}
	return s.byID[kid]
}

// byHeader returns the key whose encoded protected header is h, or nil.
func (k *Keyring) byHeader(h string) *key {
	s := k.snapshot()
	if s == nil {
		return nil
	}
	for _, key := range s.keys {
		if key.header == h {
			return key
		}
	}
	return nil
}

// active returns the signing key.
func (k *Keyring) active() (*key, error) {
	s := k.snapshot()
	if s == nil || len(s.keys) == 0 {
		return nil, ErrNoKeys
	}
	return s.keys[len(s.keys)-1], nil
}

// Rotate makes a new key, drawn from r (nil means crypto/rand.Reader), the
// active signing key. Older keys stay and keep verifying the tokens they
// signed until Remove.
//
// Persist the keyring (SaveKeyring) before issuing tokens with the new key:
// a crash in between would leave tokens signed by a key no file holds.
func (k *Keyring) Rotate(r io.Reader) error {
	if r == nil {
		r = rand.Reader
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var old []*key
	if s := k.set.Load(); s != nil {
		old = s.keys
	}
	if len(old) >= maxKeys {
		return fmt.Errorf("tokens: keyring already holds %d keys; remove old ones first", len(old))
	}
	// A kid collision has probability len(old)/2^36; retry a few times, and
	// take repeated collisions as a sign of a broken random source.
	for range 8 {
		nk, err := newKey(r)
		if err != nil {
			return err
		}
		if k.lookup(nk.id) != nil {
			continue
		}
		keys := make([]*key, 0, len(old)+1)
		keys = append(append(keys, old...), nk)
		k.set.Store(newKeySet(keys))
		return nil
	}
	return fmt.Errorf("tokens: repeated key id collisions; is the random source broken?")
}

// Remove deletes the key kid, after which tokens it signed fail with
// ErrUnknownKey. It refuses the active key (ErrActiveKey); an unknown kid
// yields ErrUnknownKey.
func (k *Keyring) Remove(kid string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.set.Load()
	if s == nil || s.byID[kid] == nil {
		return fmt.Errorf("remove key %s: %w", quoteShort(kid), ErrUnknownKey)
	}
	if s.keys[len(s.keys)-1].id == kid {
		return fmt.Errorf("remove key %s: %w", quoteShort(kid), ErrActiveKey)
	}
	keys := make([]*key, 0, len(s.keys)-1)
	for _, key := range s.keys {
		if key.id != kid {
			keys = append(keys, key)
		}
	}
	k.set.Store(newKeySet(keys))
	return nil
}

// ActiveKeyID returns the kid of the signing key, or "" for an empty keyring.
func (k *Keyring) ActiveKeyID() string {
	a, err := k.active()
	if err != nil {
		return ""
	}
	return a.id
}

// KeyIDs returns the kids of all keys, oldest first; the last is the
// active one.
func (k *Keyring) KeyIDs() []string {
	s := k.snapshot()
	if s == nil {
		return nil
	}
	ids := make([]string, len(s.keys))
	for i, key := range s.keys {
		ids[i] = key.id
	}
	return ids
}

// String describes the keyring without any key material.
func (k *Keyring) String() string {
	if k == nil {
		return "tokens.Keyring(nil)"
	}
	return fmt.Sprintf("tokens.Keyring{active: %s, keys: %d}", k.ActiveKeyID(), len(k.KeyIDs()))
}

// GoString is String, so %#v redacts too.
func (k *Keyring) GoString() string { return k.String() }

// Format implements fmt.Formatter: every verb prints String.
func (k *Keyring) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// The persisted form, version 1 (all integers big-endian):
//
//	"LDTK"      4 bytes  magic
//	version     1 byte   = 1
//	count       2 bytes  number of keys, 1..maxKeys
//	count times, oldest first (the last is the active key):
//	  kidLen    1 byte   = KeyIDLen
//	  kid       kidLen bytes of the base64url alphabet
//	  secretLen 1 byte   = keySize
//	  secret    secretLen bytes
const (
	keyringMagic   = "LDTK"
	keyringVersion = 1
)

// MarshalBinary implements encoding.BinaryMarshaler. The result holds the
// secret keys: store it as a secret (SaveKeyring does). An empty keyring
// yields ErrNoKeys.
func (k *Keyring) MarshalBinary() ([]byte, error) {
	s := k.snapshot()
	if s == nil || len(s.keys) == 0 {
		return nil, ErrNoKeys
	}
	b := make([]byte, 0, len(keyringMagic)+3+len(s.keys)*(2+KeyIDLen+keySize))
	b = append(b, keyringMagic...)
	b = append(b, keyringVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(s.keys)))
	for _, key := range s.keys {
		b = append(b, byte(len(key.id)))
		b = append(b, key.id...)
		b = append(b, byte(len(key.secret)))
		b = append(b, key.secret...)
	}
	return b, nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler. It replaces the
// keyring's keys with those in data, or leaves them alone and returns an
// error wrapping ErrInvalidKeyring. data is not retained.
func (k *Keyring) UnmarshalBinary(data []byte) error {
	keys, err := decodeKeys(data)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.set.Store(newKeySet(keys))
	return nil
}

func decodeKeys(b []byte) ([]*key, error) {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrInvalidKeyring, why) }
	if len(b) < len(keyringMagic)+3 || string(b[:len(keyringMagic)]) != keyringMagic {
		return nil, bad("not a keyring (bad magic)")
	}
	b = b[len(keyringMagic):]
	if b[0] != keyringVersion {
		return nil, bad(fmt.Sprintf("unknown version %d", b[0]))
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	b = b[3:]
	if n == 0 || n > maxKeys {
		return nil, bad(fmt.Sprintf("key count %d out of range", n))
	}
	keys := make([]*key, 0, n)
	seen := make(map[string]bool, n)
	for range n {
		if len(b) < 1+KeyIDLen+1+keySize || b[0] != KeyIDLen || b[1+KeyIDLen] != keySize {
			return nil, bad("truncated or wrongly sized key")
		}
		kid := string(b[1 : 1+KeyIDLen])
		if !validKeyID(kid) || seen[kid] {
			return nil, bad("invalid or duplicate key id")
		}
		seen[kid] = true
		secret := make([]byte, keySize)
		copy(secret, b[2+KeyIDLen:])
		keys = append(keys, makeKey(kid, secret))
		b = b[2+KeyIDLen+keySize:]
	}
	if len(b) != 0 {
		return nil, bad("trailing data")
	}
	return keys, nil
}
