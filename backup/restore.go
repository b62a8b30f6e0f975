package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/internal/durable"
)

// ErrDatabaseExists is returned by Restore when the data directory holds a
// database and replace is false.
var ErrDatabaseExists = errors.New("the data directory holds a database")

// Restore restores the archive at archivePath into the data directory
// data, offline: no server may use data (bbolt's lock is checked). The
// archive's checksum is checked and its database verified before anything
// is replaced; an existing database is replaced only if replace is set.
// Restored files keep the owner of the files they replace (or of data),
// the keyring gets mode 0600, and each directory is synced after its
// rename.
func Restore(ctx context.Context, archivePath, data string, replace bool) error {
	f, err := os.Open(archivePath)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	a, err := Read(f)
	if err != nil {
		return fmt.Errorf("restore %s: %w", archivePath, err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	dbPath := datastore.DBPath(data)
	if _, err := os.Stat(dbPath); err == nil {
		if !replace {
			return fmt.Errorf("%s: %w", dbPath, ErrDatabaseExists)
		}
		// Fail if a server holds it: bbolt's lock.
		s, err := boltstore.Open(dbPath, boltstore.Options{Timeout: time.Second})
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		s.Close()
	}
	// Every restored file is staged next to its final name with the owner
	// and mode it must end with, then renamed into place: nothing is
	// replaced unless every file could be given its owner.
	kb, err := a.Keys.MarshalBinary()
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var staged []*stagedFile
	defer func() {
		for _, s := range staged {
			os.Remove(s.tmp)
		}
	}()
	stage := func(final string, mode os.FileMode, keepMode bool, src io.Reader) (*stagedFile, error) {
		s, err := stageFile(data, final, mode, keepMode, src)
		if s != nil {
			staged = append(staged, s)
		}
		return s, err
	}
	db, err := stage(dbPath, 0o600, true, io.NewSectionReader(f, a.DBOff, a.DBLen))
	if err != nil {
		return err
	}
	if err := datastore.VerifyFile(ctx, db.tmp); err != nil {
		return fmt.Errorf("restore: the archived database does not verify: %w", err)
	}
	if _, err := stage(datastore.KeysPath(data), 0o600, false, bytes.NewReader(kb)); err != nil {
		return err
	}
	for _, af := range a.Files {
		if _, err := stage(filepath.Join(data, filepath.FromSlash(af.Name)), af.Mode, false, bytes.NewReader(af.Data)); err != nil {
			return err
		}
	}
	// The database last: until it is in place, a server would refuse the
	// directory (new keys without a database) or see the old one.
	for i := len(staged) - 1; i >= 0; i-- {
		s := staged[i]
		if err := os.Rename(s.tmp, s.final); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		s.tmp = ""
		if err := durable.SyncDir(filepath.Dir(s.final)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// stagedFile is a restored file written next to its final name.
type stagedFile struct{ tmp, final string }

// stageFile writes src to a temporary file in final's directory (made
// 0700 if missing, owned like data) with the owner of the file it will
// replace, or of the data directory if there is none, and with mode: the
// replaced file's if keepMode, else mode. If that owner cannot be given
// (restore run by another user than root or the owner), it refuses,
// saying so: a file the service user cannot read would stop the service
// at its next start.
func stageFile(data, final string, mode os.FileMode, keepMode bool, src io.Reader) (*stagedFile, error) {
	dfi, err := os.Stat(data)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	owner, ownerOf := dfi, data
	if fi, err := os.Stat(final); err == nil {
		owner, ownerOf = fi, final
		if keepMode {
			mode = fi.Mode().Perm()
		}
	}
	dir := filepath.Dir(final)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		if err := chownLike(dir, dfi); err != nil {
			return nil, fmt.Errorf("restore: cannot give %s to the owner of %s: %w; run ldapd restore as root or as that user", dir, data, err)
		}
	}
	tmp, err := os.CreateTemp(dir, ".restore-*")
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	s := &stagedFile{tmp: tmp.Name(), final: final}
	_, err = io.Copy(tmp, src)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s, fmt.Errorf("restore: %w", err)
	}
	if err := chownLike(s.tmp, owner); err != nil {
		return s, fmt.Errorf("restore: cannot give %s the owner of %s (%s): %w; nothing was replaced. Run ldapd restore as root or as that user",
			final, ownerOf, ownerString(owner), err)
	}
	return s, nil
}
