package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
	"github.com/ldapd/ldapd/directory/storetest"
)

const (
	testSuffix = "dc=example,dc=com"
	testAlice  = "uid=user00001,ou=People,dc=example,dc=com"
)

// openTest opens path and closes the store when the test ends.
func openTest(t *testing.T, path string, opts Options) *store {
	t.Helper()
	s, err := open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// populated returns the path of a closed database holding
// storetest.Populate's tree with n users.
func populated(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ldapd.db")
	s := openTest(t, path, Options{})
	storetest.Populate(t, s, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// raw runs fn in a write transaction on the closed database at path,
// bypassing the store, to set up states the store never writes.
func raw(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func getIn(t *testing.T, s directory.Store, name string) (*directory.Entry, error) {
	t.Helper()
	var e *directory.Entry
	err := s.View(context.Background(), func(tx directory.ReadTx) (err error) {
		e, err = tx.Get(directory.MustParseDN(name))
		return err
	})
	return e, err
}

func TestReopenKeepsData(t *testing.T) {
	path := populated(t, 10)
	s := openTest(t, path, Options{})
	err := s.Update(context.Background(), func(tx directory.WriteTx) error {
		if err := tx.SetMeta("domain", []byte("example.com")); err != nil {
			return err
		}
		_, err := tx.NextSequence("uidNumber")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, path, Options{})
	if _, err := getIn(t, s, testAlice); err != nil {
		t.Fatalf("entry lost across restart: %v", err)
	}
	err = s.Update(context.Background(), func(tx directory.WriteTx) error {
		if v, err := tx.Meta("domain"); err != nil || string(v) != "example.com" {
			t.Errorf("meta after restart = %q, %v", v, err)
		}
		if n, err := tx.NextSequence("uidNumber"); err != nil || n != 2 {
			t.Errorf("sequence after restart = %d, %v; want 2", n, err)
		}
		n := 0
		err := tx.Search(directory.MustParseDN(testSuffix), directory.ScopeSub, mustFilter(t, "(uid=user00001)"),
			func(*directory.Entry) error { n++; return nil })
		if err != nil || n != 1 {
			t.Errorf("indexed search after restart = %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := populated(t, 0)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ldapd.db")
	openTest(t, path, Options{})
	start := time.Now()
	_, err := Open(path, Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), "locked by another process (is ldapd serve running?)") {
		t.Fatalf("second Open = %v, want the locked error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

func TestOpenNewerVersion(t *testing.T) {
	path := populated(t, 1)
	raw(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketInfo).Put(keyVersion, binary.BigEndian.AppendUint64(nil, layoutVersion+1))
	})
	_, err := Open(path, Options{})
	if !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), "newer ldapd") {
		t.Fatalf("Open of a newer layout = %v, want ErrUnsupportedVersion", err)
	}
	// The refusal changed nothing: the file still says the newer version.
	raw(t, path, func(tx *bolt.Tx) error {
		if v := binary.BigEndian.Uint64(tx.Bucket(bucketInfo).Get(keyVersion)); v != layoutVersion+1 {
			t.Errorf("version rewritten to %d", v)
		}
		return nil
	})
}

func TestOpenForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	raw(t, path, func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("widgets"))
		return err
	})
	if _, err := Open(path, Options{}); !errors.Is(err, ErrNotDirectory) {
		t.Fatalf("Open of a foreign bbolt file = %v, want ErrNotDirectory", err)
	}
	if _, err := Open(path, Options{Indexes: []string{"noSuchAttribute"}}); !errors.Is(err, directory.ErrUndefinedAttributeType) {
		t.Fatalf("Open with an unknown index = %v", err)
	}
}

// TestReindex: a changed index set is rebuilt on Open, and searches give
// the same answers with any index set.
func TestReindex(t *testing.T) {
	path := populated(t, 50)
	for _, indexes := range [][]string{{"uid"}, {}, nil} {
		s := openTest(t, path, Options{Indexes: indexes})
		if err := s.Verify(context.Background()); err != nil {
			t.Fatalf("indexes %q: %v", indexes, err)
		}
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := len(indexes)
		if indexes == nil {
			want = len(directory.DefaultIndexes())
		}
		if len(st.IndexKeys) != want || st.Entries != 52 {
			t.Fatalf("indexes %q: stats %+v", indexes, st)
		}
		for _, f := range []string{"(uid=user00007)", "(cn=user user00007)", "(&(objectClass=person)(mail=*7@example.com))"} {
			n := 0
			err := s.View(context.Background(), func(tx directory.ReadTx) error {
				return tx.Search(directory.DN{}, directory.ScopeSub, mustFilter(t, f), func(*directory.Entry) error { n++; return nil })
			})
			if err != nil || n == 0 {
				t.Fatalf("indexes %q: Search(%s) = %d, %v", indexes, f, n, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBackup(t *testing.T) {
	s := openTest(t, populated(t, 20), Options{})
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup = %d, %v (buffer %d)", n, err, buf.Len())
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := openTest(t, copyPath, Options{})
	if _, err := getIn(t, c, testAlice); err != nil {
		t.Fatalf("backup lacks an entry: %v", err)
	}
	if err := c.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUseAfterTransaction(t *testing.T) {
	s := openTest(t, populated(t, 1), Options{})
	var leaked directory.ReadTx
	if err := s.View(context.Background(), func(tx directory.ReadTx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := leaked.Get(directory.MustParseDN(testAlice)); !errors.Is(err, errTxDone) {
		t.Fatalf("Get on a finished transaction = %v", err)
	}
}

// TestVerifyDetectsCorruption injects one inconsistency at a time with raw
// bbolt writes and expects Verify to name it.
func TestVerifyDetectsCorruption(t *testing.T) {
	aliceKey, _ := entrycodec.DNKey(directory.MustParseDN(testAlice))
	peopleKey, _ := entrycodec.DNKey(directory.MustParseDN("ou=People,dc=example,dc=com"))
	idOf := func(tx *bolt.Tx, key []byte) uint64 {
		id, ok := getID(newBoltTx(tx), key)
		if !ok {
			t.Fatalf("no id for %q", key)
		}
		return id
	}
	uidIndex := func(tx *bolt.Tx) *bolt.Bucket { return tx.Bucket(bucketIndex).Bucket([]byte("uid")) }
	for _, tc := range []struct {
		name   string
		inject func(tx *bolt.Tx) error
		want   string
	}{
		{"stale index id", func(tx *bolt.Tx) error {
			return postingAdd(uidIndex(tx), indexdef.EqPrefix("mallory"), idOf(tx, aliceKey), indexdef.MaxChunk)
		}, "stale id"},
		{"missing index id", func(tx *bolt.Tx) error {
			return postingDelete(uidIndex(tx), indexdef.EqPrefix("user00001"), idOf(tx, aliceKey), indexdef.MaxChunk)
		}, "lacks the id"},
		{"missing presence id", func(tx *bolt.Tx) error {
			return postingDelete(uidIndex(tx), []byte{indexdef.PrefixPres}, idOf(tx, aliceKey), indexdef.MaxChunk)
		}, "lacks the id"},
		{"index id of a missing entry", func(tx *bolt.Tx) error {
			return postingAdd(uidIndex(tx), indexdef.EqPrefix("ghost"), 9999, indexdef.MaxChunk)
		}, "missing entry 9999"},
		{"malformed chunk", func(tx *bolt.Tx) error {
			return uidIndex(tx).Put(postingKey([]byte{indexdef.PrefixPres}, 1), []byte{0x80})
		}, "malformed posting chunk"},
		{"per-id key beside a chunk", func(tx *bolt.Tx) error {
			// A layout-1 key of alice's presence, inside the presence
			// chunk that already lists her.
			return uidIndex(tx).Put(indexdef.PresKey(idOf(tx, aliceKey)), nil)
		}, "starts at or below the end of chunk"},
		{"orphan dn2id key", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketDN2ID).Put(append(bytes.Clone(peopleKey), []byte("\x00uid=ghost")...), idKey(9999))
		}, "points to missing entry"},
		{"entry without dn2id key", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketDN2ID).Delete(aliceKey)
		}, "has no dn2id key"},
		{"entry whose parent is missing", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketDN2ID).Delete(peopleKey)
		}, "parent ou=People,dc=example,dc=com does not exist"},
		{"dn2id key naming another entry", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketDN2ID).Put(aliceKey, idKey(idOf(tx, peopleKey)))
		}, "more than one key"},
		{"undecodable entry", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketEntries).Put(idKey(idOf(tx, aliceKey)), []byte{entrycodec.Format, 0xff})
		}, "corrupt entry encoding"},
		{"unconfigured index bucket", func(tx *bolt.Tx) error {
			_, err := tx.Bucket(bucketIndex).CreateBucket([]byte("roomNumber"))
			return err
		}, "not configured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := populated(t, 3)
			raw(t, path, tc.inject)
			s := openTest(t, path, Options{})
			err := s.Verify(context.Background())
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Verify = %v\nwant ErrCorrupt mentioning %q", err, tc.want)
			}
		})
	}
}

func mustFilter(t testing.TB, s string) *directory.Filter {
	t.Helper()
	f, err := directory.ParseFilter(s, directory.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestCompactKeepsData(t *testing.T) {
	path := populated(t, 500)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Compact(path); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if after.Size() > before.Size() {
		t.Errorf("compacted file grew: %d -> %d bytes", before.Size(), after.Size())
	}
	s := openTest(t, path, Options{})
	if err := s.Verify(context.Background()); err != nil {
		t.Fatalf("verify after compact: %v", err)
	}
	if _, err := getIn(t, s, testAlice); err != nil {
		t.Fatalf("entry lost by compact: %v", err)
	}
	// The file is locked while open: Compact refuses rather than copy a
	// file in use.
	if err := Compact(path); err == nil {
		t.Fatal("Compact of an open store succeeded")
	}
}
