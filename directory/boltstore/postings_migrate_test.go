package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// writeLayout1 writes, with raw bbolt, a file as layout 1 stored it: the
// entries, their dn2id keys and one index key prefix id, with an empty
// value, per indexed value (and one presence key per attribute) of each
// entry.
func writeLayout1(t *testing.T, path string, entries []*directory.Entry) {
	t.Helper()
	x, err := newIndexSet(directory.Builtin(), directory.DefaultIndexes(), 0)
	if err != nil {
		t.Fatal(err)
	}
	raw(t, path, func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		info := tx.Bucket(bucketInfo)
		if err := info.Put(keyVersion, binary.BigEndian.AppendUint64(nil, 1)); err != nil {
			return err
		}
		if err := info.Put(keyIndexes, []byte(x.Signature())); err != nil {
			return err
		}
		idx := tx.Bucket(bucketIndex)
		for _, name := range x.Names {
			if _, err := idx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		for i, e := range entries {
			id := uint64(i + 1)
			key, err := entrycodec.DNKey(e.DN)
			if err != nil {
				return err
			}
			if err := tx.Bucket(bucketEntries).Put(idKey(id), entrycodec.Encode(e)); err != nil {
				return err
			}
			if err := tx.Bucket(bucketDN2ID).Put(key, idKey(id)); err != nil {
				return err
			}
			for _, k := range x.Plan.Keys(e, id, indexdef.Budget{}) {
				if err := idx.Bucket([]byte(k.Attr)).Put(k.Key, nil); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketEntries).SetSequence(uint64(len(entries)))
	})
}

// TestMigrateLayout1Postings opens a layout-1 file holding more people
// than a posting chunk: Open migrates it (keeping a backup), Verify finds
// the posting lists consistent, indexed searches find every entry, and
// writes after the migration keep the lists right.
func TestMigrateLayout1Postings(t *testing.T) {
	const n = 2*indexdef.MaxChunk + 50
	entries := []*directory.Entry{directory.NewEntry(directory.MustParseDN("dc=example,dc=com")),
		directory.NewEntry(directory.MustParseDN("ou=People,dc=example,dc=com"))}
	entries[0].Set("objectClass", "top", "domain")
	entries[0].Set("dc", "example")
	entries[1].Set("objectClass", "top", "organizationalUnit")
	entries[1].Set("ou", "People")
	for i := range n {
		e := directory.NewEntry(directory.MustParseDN(fmt.Sprintf("uid=u%d,ou=People,dc=example,dc=com", i)))
		e.Set("objectClass", "top", "person", "inetOrgPerson")
		e.Set("uid", fmt.Sprintf("u%d", i))
		e.Set("cn", fmt.Sprintf("User %d", i), "Everyone")
		e.Set("sn", fmt.Sprint(i%7))
		entries = append(entries, e)
	}
	path := filepath.Join(t.TempDir(), "ldapd.db")
	writeLayout1(t, path, entries)
	s := openTest(t, path, Options{})
	if v := fileVersionOf(t, s); v != layoutVersion {
		t.Fatalf("after Open: layout %d, want %d", v, layoutVersion)
	}
	if bak := backups(t, path); len(bak) != 1 {
		t.Errorf("backups = %v, want one", bak)
	}
	ctx := context.Background()
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(filter string) int {
		t.Helper()
		got := 0
		err := s.View(ctx, func(tx directory.ReadTx) error {
			return tx.Search(directory.DN{}, directory.ScopeSub, mustFilter(t, filter), func(*directory.Entry) error { got++; return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for filter, want := range map[string]int{
		"(cn=everyone)": n, "(objectClass=person)": n, "(uid=u300)": 1, "(sn=3)": n / 7,
		"(&(cn=Everyone)(sn=0))": (n + 6) / 7, "(cn=*)": n, "(uid=nobody)": 0,
	} {
		if got := count(filter); got != want {
			t.Errorf("%s: %d entries, want %d", filter, got, want)
		}
	}
	var chunks int
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIndex).Bucket([]byte("cn"))
		chunks = len(chunksOf(t, b, indexdef.EqPrefix("everyone")))
		return nil
	})
	if err != nil || chunks != 3 {
		t.Errorf("cn=everyone in %d chunks (%v), want 3 full-ish ones", chunks, err)
	}
	err = s.Update(ctx, func(tx directory.WriteTx) error {
		return tx.Delete(directory.MustParseDN("uid=u300,ou=People,dc=example,dc=com"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := count("(cn=everyone)"); got != n-1 {
		t.Errorf("after a delete: (cn=everyone) %d, want %d", got, n-1)
	}
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func fileVersionOf(t *testing.T, s *store) uint64 {
	t.Helper()
	var v uint64
	if err := s.db.View(func(tx *bolt.Tx) error { v = fileVersion(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	return v
}
