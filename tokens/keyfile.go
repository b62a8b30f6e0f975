package tokens

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ldapd/ldapd/internal/durable"
)

// maxKeyringFile bounds how much of a keyring file is read; a full keyring
// of maxKeys keys is about 10 KiB.
const maxKeyringFile = 64 << 10

// LoadKeyring reads the keyring persisted at path. If there is no file, it
// makes a keyring with one fresh key drawn from r (nil means
// crypto/rand.Reader) and saves it there with SaveKeyring, creating missing
// parent directories with mode 0700 (existing ones are left as they are).
//
// An existing file must be a regular file with no group or other permission
// bits; otherwise LoadKeyring refuses it with an error wrapping
// ErrInsecurePermissions and saying how to fix it, because anyone who can
// read the file can mint tokens for every account.
func LoadKeyring(path string, r io.Reader) (*Keyring, error) {
	k, err := readKeyring(path)
	if err == nil {
		return k, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	k, err = NewKeyring(r)
	if err != nil {
		return nil, err
	}
	if err := SaveKeyring(path, k); err != nil {
		return nil, err
	}
	return k, nil
}

func readKeyring(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokens: open keyring: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the checked file is the read one.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("tokens: stat keyring %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("tokens: keyring %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("tokens: keyring %s has mode %04o, but anyone who can read it can mint tokens; run chmod 600 %s: %w",
			path, perm, path, ErrInsecurePermissions)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyringFile+1))
	if err != nil {
		return nil, fmt.Errorf("tokens: read keyring %s: %w", path, err)
	}
	if len(data) > maxKeyringFile {
		return nil, fmt.Errorf("tokens: keyring %s: %w: larger than %d bytes", path, ErrInvalidKeyring, maxKeyringFile)
	}
	k := new(Keyring)
	if err := k.UnmarshalBinary(data); err != nil {
		return nil, fmt.Errorf("tokens: keyring %s: %w", path, err)
	}
	return k, nil
}

// SaveKeyring writes k to path atomically, with mode 0600, creating missing
// parent directories with mode 0700. A reader (or a crash) sees either the
// old file or the new one, never a partial write.
//
// Only one process should write a given path: ldapd's data directory is
// already held by one server at a time (bbolt's file lock).
func SaveKeyring(path string, k *Keyring) (err error) {
	data, err := k.MarshalBinary()
	if err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	// The temporary file lives in the same directory so that the rename is
	// atomic. os.CreateTemp makes it with mode 0600 before any byte is
	// written, so the secret is never readable by others, not even briefly.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	// Sync the data before the rename, because otherwise a crash can leave
	// the new name pointing at an empty file, and every token would be lost.
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	// Sync the directory after the rename, so the rename itself survives a
	// crash.
	if err := durable.SyncDir(dir); err != nil {
		return fmt.Errorf("tokens: save keyring: %w", err)
	}
	return nil
}
