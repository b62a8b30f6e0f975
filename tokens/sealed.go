package tokens

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// A sealed keyring is a keyring encrypted with a key-encryption key (KEK),
// so that it can be kept in a shared store (etcd, for a cluster of ldapd
// nodes) that must not be able to mint tokens by itself:
//
//	"LDSK"   4 bytes   magic
//	version  1 byte    = 1
//	nonce    12 bytes  random
//	sealed   AES-256-GCM(KEK, nonce, MarshalBinary(), aad = magic+version)
//
// Whoever holds the KEK and a copy of the store can mint tokens; whoever
// holds only one of them cannot.
const (
	sealedMagic   = "LDSK"
	sealedVersion = 1
	// KEKSize is the size of a key-encryption key: AES-256.
	KEKSize = 32
)

// ErrSealedKeyring is wrapped by OpenSealedKeyring's errors: the blob is not
// a sealed keyring, or the KEK is not the one it was sealed with.
var ErrSealedKeyring = errors.New("tokens: cannot open sealed keyring")

// SealKeyring encrypts k with kek (KEKSize bytes), drawing the nonce from r
// (nil means crypto/rand.Reader).
func SealKeyring(k *Keyring, kek []byte, r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	plain, err := k.MarshalBinary()
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	head := append([]byte(sealedMagic), sealedVersion)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("tokens: seal keyring: %w", err)
	}
	out := append(append([]byte{}, head...), nonce...)
	return aead.Seal(out, nonce, plain, head), nil
}

// OpenSealedKeyring decrypts a keyring sealed by SealKeyring with kek.
func OpenSealedKeyring(blob, kek []byte) (*Keyring, error) {
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	head := len(sealedMagic) + 1
	if len(blob) < head+aead.NonceSize()+aead.Overhead() || string(blob[:len(sealedMagic)]) != sealedMagic {
		return nil, fmt.Errorf("%w: not a sealed keyring", ErrSealedKeyring)
	}
	if blob[len(sealedMagic)] != sealedVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrSealedKeyring, blob[len(sealedMagic)])
	}
	nonce := blob[head : head+aead.NonceSize()]
	plain, err := aead.Open(nil, nonce, blob[head+aead.NonceSize():], blob[:head])
	if err != nil {
		return nil, fmt.Errorf("%w: wrong key-encryption key, or the keyring was altered", ErrSealedKeyring)
	}
	k := new(Keyring)
	if err := k.UnmarshalBinary(plain); err != nil {
		return nil, err
	}
	return k, nil
}

func newAEAD(kek []byte) (cipher.AEAD, error) {
	if len(kek) != KEKSize {
		return nil, fmt.Errorf("tokens: key-encryption key of %d bytes, want %d", len(kek), KEKSize)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// LoadKEK reads a key-encryption key file: KEKSize raw bytes, or their
// 2*KEKSize hex digits (whitespace around them ignored). Like a keyring
// file, it must be a regular file with no group or other permission bits
// (ErrInsecurePermissions).
func LoadKEK(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: key-encryption key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("tokens: key-encryption key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("tokens: key-encryption key %s has mode %04o; run chmod 600 %s: %w", path, perm, path, ErrInsecurePermissions)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: key-encryption key: %w", err)
	}
	if len(data) == KEKSize {
		return data, nil
	}
	if k, err := hex.DecodeString(strings.TrimSpace(string(data))); err == nil && len(k) == KEKSize {
		return k, nil
	}
	return nil, fmt.Errorf("tokens: key-encryption key %s: want %d random bytes or %d hex digits (e.g. openssl rand -hex 32)",
		path, KEKSize, 2*KEKSize)
}
