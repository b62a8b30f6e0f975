package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// nextLayout is a layout one version newer than this code's, whose step
// records that it ran, as a real migration would rewrite buckets.
func nextLayout(step func(*bolt.Tx) error) *layoutPlan {
	steps := map[uint64]func(*bolt.Tx) error{}
	for v, s := range migrations {
		steps[v] = s
	}
	steps[layoutVersion] = step
	return &layoutPlan{version: layoutVersion + 1, steps: steps}
}

func backups(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(path + ".bak-v*")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func versionOf(t *testing.T, path string) uint64 {
	t.Helper()
	var v uint64
	db, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.View(func(tx *bolt.Tx) error { v = fileVersion(tx); return nil })
	return v
}

// TestOpenMigratesOlderFileWithBackup opens a file of this code's layout
// with code one layout newer: Open copies the file, then migrates it.
func TestOpenMigratesOlderFileWithBackup(t *testing.T) {
	path := populated(t, 20)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	plan := nextLayout(func(tx *bolt.Tx) error {
		ran++
		return tx.Bucket(bucketMeta).Put([]byte("migrated"), []byte("yes"))
	})
	s := openTest(t, path, Options{plan: plan})
	if ran != 1 {
		t.Fatalf("the migration step ran %d times", ran)
	}
	st, err := s.Stats(t.Context())
	if err != nil || st.Entries < 20 {
		t.Fatalf("after migration: %+v, %v", st, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, path); v != layoutVersion+1 {
		t.Errorf("migrated file has version %d, want %d", v, layoutVersion+1)
	}
	bak := backups(t, path)
	if want := fmt.Sprintf("ldapd.db.bak-v%d-", layoutVersion); len(bak) != 1 || !strings.HasPrefix(filepath.Base(bak[0]), want) {
		t.Fatalf("backups = %v, want one %sTIMESTAMP", bak, want)
	}
	fi, err := os.Stat(bak[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup %v: %v", fi, err)
	}
	if v := versionOf(t, bak[0]); v != layoutVersion {
		t.Errorf("backup has version %d, want the old %d", v, layoutVersion)
	}
	// The backup is the old database, which the old code opens.
	old := openTest(t, bak[0], Options{})
	if st, err := old.Stats(t.Context()); err != nil || st.Entries < 20 || st.FileBytes > int64(len(before)) {
		t.Errorf("backup: %+v, %v (original %d bytes)", st, err, len(before))
	}
	// A second start needs no migration and makes no second backup.
	openTest(t, path, Options{plan: plan}).Close()
	if ran != 1 || len(backups(t, path)) != 1 {
		t.Errorf("second open: step ran %d times, backups %v", ran, backups(t, path))
	}
}

// TestOpenFailedMigrationKeepsFile checks a failing step leaves the file
// at its old version (the write transaction rolls back) and the backup in
// place.
func TestOpenFailedMigrationKeepsFile(t *testing.T) {
	path := populated(t, 3)
	plan := nextLayout(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketMeta).Put([]byte("half"), []byte("done")); err != nil {
			return err
		}
		return errors.New("disk full (simulated)")
	})
	_, err := open(path, Options{plan: plan})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("migrate layout %d to %d: disk full (simulated)", layoutVersion, layoutVersion+1)) {
		t.Fatalf("Open = %v", err)
	}
	if v := versionOf(t, path); v != layoutVersion {
		t.Errorf("file version %d after a failed migration", v)
	}
	if len(backups(t, path)) != 1 {
		t.Errorf("backups = %v", backups(t, path))
	}
	openTest(t, path, Options{}) // the old code still opens it
}

// TestOpenRefusesNewerFile writes, with raw bbolt, a file of layout 99 and
// checks Open refuses it with a message that says what to do, without
// writing to it or copying it.
func TestOpenRefusesNewerFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ldapd.db")
	raw(t, path, func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketInfo).Put(keyVersion, binary.BigEndian.AppendUint64(nil, 99))
	})
	before, _ := os.ReadFile(path)
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("Open = %v, want ErrUnsupportedVersion", err)
	}
	for _, want := range []string{"layout version 99", fmt.Sprintf("supports up to %d", layoutVersion), "run a newer ldapd or restore a backup"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) || len(backups(t, path)) != 0 {
		t.Errorf("a refused file was changed or copied")
	}
}

// TestOpenNewFileNoBackup: creating a database is not a migration.
func TestOpenNewFileNoBackup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ldapd.db")
	openTest(t, path, Options{}).Close()
	openTest(t, path, Options{Indexes: []string{"uid"}}).Close() // an index change is not one either
	if b := backups(t, path); len(b) != 0 {
		t.Errorf("backups = %v", b)
	}
}

func TestBackupName(t *testing.T) {
	got := BackupName("/var/lib/ldapd/ldapd.db", 1, time.Date(2026, 1, 31, 10, 4, 5, 0, time.FixedZone("X", 3600)))
	if got != "/var/lib/ldapd/ldapd.db.bak-v1-20260131T090405Z" {
		t.Errorf("BackupName = %q", got)
	}
}
