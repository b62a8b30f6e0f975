package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ldapd/ldapd/tokens"
)

// A backup archive holds everything a restore needs: the token signing
// keyring and a hot copy of the bbolt file. Layout:
//
//	"LDAPDBK1"                     magic
//	uint32 big-endian              keyring length K
//	K bytes                        tokens.Keyring.MarshalBinary (secret)
//	D bytes                        the database (bbolt Tx.WriteTo)
//	uint64 big-endian              D
//	32 bytes                       SHA-256 of everything before it
//
// The archive holds the signing keys, so it is as secret as DATA/keys:
// it is created with mode 0600 and must be stored accordingly.
const archiveMagic = "LDAPDBK1"

// archiveMode is the mode of a new archive: it holds the signing keys.
const archiveMode = 0o600

// hotCopier is the part of boltstore's store a backup needs.
type hotCopier interface {
	Backup(w io.Writer) (int64, error)
}

// writeArchive writes the archive of db and keys to w.
func writeArchive(w io.Writer, db hotCopier, keys *tokens.Keyring) error {
	kb, err := keys.MarshalBinary()
	if err != nil {
		return fmt.Errorf("backup keyring: %w", err)
	}
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	head := append([]byte(archiveMagic), binary.BigEndian.AppendUint32(nil, uint32(len(kb)))...)
	if _, err := mw.Write(append(head, kb...)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	n, err := db.Backup(mw)
	if err != nil {
		return err
	}
	if _, err := mw.Write(binary.BigEndian.AppendUint64(nil, uint64(n))); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// writeArchiveFile creates path (it must not exist) with mode 0600 and
// writes the archive to it, synced; on failure nothing is left behind.
func writeArchiveFile(path string, db hotCopier, keys *tokens.Keyring) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, archiveMode)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("backup: %w", cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	if err := writeArchive(f, db, keys); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

var errBadArchive = errors.New("not a valid ldapd backup archive")

// readArchive checks the archive in f (its checksum, then its layout) and
// returns the keyring and the database's offset and length in f.
func readArchive(f *os.File) (keys *tokens.Keyring, dbOff, dbLen int64, err error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	size := fi.Size()
	minSize := int64(len(archiveMagic) + 4 + 8 + sha256.Size)
	if size < minSize {
		return nil, 0, 0, fmt.Errorf("%w: too short", errBadArchive)
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size-sha256.Size)); err != nil {
		return nil, 0, 0, err
	}
	sum := make([]byte, sha256.Size)
	if _, err := f.ReadAt(sum, size-sha256.Size); err != nil {
		return nil, 0, 0, err
	}
	if !bytes.Equal(sum, h.Sum(nil)) {
		return nil, 0, 0, fmt.Errorf("%w: checksum mismatch (truncated or altered)", errBadArchive)
	}
	head := make([]byte, len(archiveMagic)+4)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, 0, 0, err
	}
	if string(head[:len(archiveMagic)]) != archiveMagic {
		return nil, 0, 0, fmt.Errorf("%w: bad magic", errBadArchive)
	}
	klen := int64(binary.BigEndian.Uint32(head[len(archiveMagic):]))
	tail := make([]byte, 8)
	if _, err := f.ReadAt(tail, size-sha256.Size-8); err != nil {
		return nil, 0, 0, err
	}
	dbOff = int64(len(head)) + klen
	dbLen = int64(binary.BigEndian.Uint64(tail))
	if klen > 1<<20 || dbOff+dbLen+8+sha256.Size != size {
		return nil, 0, 0, fmt.Errorf("%w: inconsistent lengths", errBadArchive)
	}
	kb := make([]byte, klen)
	if _, err := f.ReadAt(kb, int64(len(head))); err != nil {
		return nil, 0, 0, err
	}
	keys = &tokens.Keyring{}
	if err := keys.UnmarshalBinary(kb); err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %w", errBadArchive, err)
	}
	return keys, dbOff, dbLen, nil
}
