package boltstore

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/internal/durable"
)

// Upgrades. The file's layout version (the info bucket's "version" key)
// says which layout wrote it. Open of a file with an older version copies
// the file to PATH.bak-v<VERSION>-<UTC timestamp> first, then runs the
// migrations (layout.go) in one write transaction: a failed migration
// leaves the file as it was, and the copy is kept either way. A file with a
// newer version is refused with ErrUnsupportedVersion before anything is
// written.

// layoutPlan is a layout version and the steps that bring older files to
// it: steps[v] upgrades version v to v+1.
type layoutPlan struct {
	version uint64
	steps   map[uint64]func(*bolt.Tx) error
}

// currentLayout is the layout this code reads and writes.
func currentLayout() layoutPlan { return layoutPlan{version: layoutVersion, steps: migrations} }

// fileVersion returns the file's layout version, 0 for a new (or foreign,
// or damaged) file that migrate will create or refuse.
func fileVersion(tx *bolt.Tx) uint64 {
	info := tx.Bucket(bucketInfo)
	if info == nil {
		return 0
	}
	raw := info.Get(keyVersion)
	if len(raw) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(raw)
}

// BackupName returns the name of the copy Open makes of the database at
// path, of layout version from, before migrating it at now.
func BackupName(path string, from uint64, now time.Time) string {
	return fmt.Sprintf("%s.bak-v%d-%s", path, from, now.UTC().Format("20060102T150405Z"))
}

// backupBeforeMigrate writes a consistent copy of db (mode 0600, fsync'd,
// never over an existing file) next to path.
func backupBeforeMigrate(db *bolt.DB, path string, from uint64, now time.Time) error {
	name := BackupName(path, from, now)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("backup before migrating layout %d: %w", from, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(f)
		return err
	})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = durable.SyncDir(filepath.Dir(name))
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("backup before migrating layout %d to %s: %w", from, name, err)
	}
	return nil
}
