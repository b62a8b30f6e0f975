package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
)

// bulkEntries returns a suffix, ou=People and n people whose values
// exercise every kind of index key: several values, an attribute given
// under two names, a value too long to be inlined, an unindexed and an
// unknown attribute, a value the equality rule rejects.
func bulkEntries(n int) []*directory.Entry {
	suffix := directory.NewEntry(directory.MustParseDN(testSuffix))
	suffix.Set("objectClass", "top", "domain")
	suffix.Set("dc", "example")
	people := directory.NewEntry(directory.MustParseDN("ou=People," + testSuffix))
	people.Set("objectClass", "top", "organizationalUnit")
	people.Set("ou", "People")
	out := []*directory.Entry{suffix, people}
	for i := range n {
		e := directory.NewEntry(directory.MustParseDN(fmt.Sprintf("uid=u%d,ou=People,%s", i, testSuffix)))
		e.Set("objectClass", "top", "person", "inetOrgPerson")
		e.Set("uid", fmt.Sprintf("u%d", i))
		e.Set("cn", fmt.Sprintf("User %d", i), fmt.Sprintf("U%d", i%7))
		e.Set("commonName", fmt.Sprintf("Alias %d", i))
		e.Set("sn", fmt.Sprint(i%13))
		e.Set("mail", fmt.Sprintf("u%d@example.com", i))
		e.Set("description", "not indexed")
		e.Set("x-unknown", "kept")
		if i%5 == 0 {
			e.Set("displayName", strings.Repeat("long ", 200)+fmt.Sprint(i))
		}
		if i%11 == 0 {
			e.Set("uidNumber", "not a number")
		}
		out = append(out, e)
	}
	return out
}

// dump lists every bucket, key, value and sequence of the file of s.
func dump(t *testing.T, s *store) string {
	t.Helper()
	var b strings.Builder
	var walk func(path string, bk *bolt.Bucket) error
	walk = func(path string, bk *bolt.Bucket) error {
		fmt.Fprintf(&b, "bucket %s seq %d\n", path, bk.Sequence())
		return bk.ForEach(func(k, v []byte) error {
			if v == nil && bk.Bucket(k) != nil {
				return walk(path+"/"+string(k), bk.Bucket(k))
			}
			fmt.Fprintf(&b, "%s %q=%q\n", path, k, v)
			return nil
		})
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error { return walk(string(name), bk) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func addAll(t *testing.T, s *store, entries []*directory.Entry) {
	t.Helper()
	err := s.Update(context.Background(), func(tx directory.WriteTx) error {
		for _, e := range entries {
			if err := tx.Add(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAddBulkSameAsAdd checks that AddBulk writes exactly the keys and
// values Adds in the same order write, into an empty store and into one
// that already has entries, and that the result verifies.
func TestAddBulkSameAsAdd(t *testing.T) {
	ctx := context.Background()
	entries := bulkEntries(3000)
	for _, before := range []int{0, 2, 500} {
		t.Run(fmt.Sprint(before, " stored before"), func(t *testing.T) {
			byAdd := openTest(t, filepath.Join(t.TempDir(), "add.db"), Options{})
			byBulk := openTest(t, filepath.Join(t.TempDir(), "bulk.db"), Options{})
			addAll(t, byAdd, entries[:before])
			addAll(t, byBulk, entries[:before])
			addAll(t, byAdd, entries[before:])
			if err := byBulk.AddBulk(ctx, entries[before:]); err != nil {
				t.Fatal(err)
			}
			if a, b := dump(t, byAdd), dump(t, byBulk); a != b {
				t.Fatalf("AddBulk wrote a different file content:\n%s", firstDiff(a, b))
			}
			if err := byBulk.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			// The store goes on working: an Add after the load, a search
			// through an index written by it.
			n, err := addLate(t, byBulk, "(cn=user 7)")
			if err != nil || n != 2 {
				t.Fatalf("search after the load: %d entries, %v", n, err)
			}
			if err := byBulk.Verify(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n  add:  %s\n  bulk: %s", i, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(al), len(bl))
}

// TestAddBulkFills checks that a bulk load leaves the pages of its buckets
// nearly full, where Adds leave them about half full.
func TestAddBulkFills(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "bulk.db"), Options{})
	if err := s.AddBulk(context.Background(), bulkEntries(5000)); err != nil {
		t.Fatal(err)
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEntries, bucketDN2ID, bucketIndex} {
			st := tx.Bucket(name).Stats()
			if fill := float64(st.LeafInuse) / float64(st.LeafAlloc); fill < 0.85 {
				t.Errorf("bucket %s: leaf pages %.0f%% full", name, 100*fill)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAddBulkRefuses checks Add's errors, and that a refused load writes
// nothing.
func TestAddBulkRefuses(t *testing.T) {
	ctx := context.Background()
	entries := bulkEntries(10)
	orphan := directory.NewEntry(directory.MustParseDN("uid=x,ou=Nowhere," + testSuffix))
	orphan.Set("objectClass", "top", "person")
	newContext := directory.NewEntry(directory.MustParseDN("dc=other,dc=org"))
	newContext.Set("objectClass", "top", "domain")
	for _, tc := range []struct {
		name    string
		stored  []*directory.Entry
		load    []*directory.Entry
		want    error
		matched string
	}{
		{"exists", entries[:3], entries[2:], directory.ErrEntryAlreadyExists, ""},
		{"given twice", nil, append(entries[:5:5], entries[3]), directory.ErrEntryAlreadyExists, ""},
		{"missing parent", entries[:2], append(entries[2:5:5], orphan), directory.ErrNoSuchObject, testSuffix},
		{"child before its parent", entries[:1], []*directory.Entry{entries[2], entries[1]}, directory.ErrNoSuchObject, testSuffix},
		{"root DN", nil, []*directory.Entry{directory.NewEntry(directory.DN{})}, directory.ErrUnwillingToPerform, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, filepath.Join(t.TempDir(), "bulk.db"), Options{})
			addAll(t, s, tc.stored)
			before := dump(t, s)
			v := s.Version()
			err := s.AddBulk(ctx, tc.load)
			if !errors.Is(err, tc.want) {
				t.Fatalf("AddBulk: %v, want %v", err, tc.want)
			}
			var de *directory.Error
			if tc.matched != "" && (!errors.As(err, &de) || !de.MatchedDN.Equal(directory.MustParseDN(tc.matched))) {
				t.Errorf("matched DN of %v, want %s", err, tc.matched)
			}
			if after := dump(t, s); after != before || s.Version() != v {
				t.Fatal("a refused load changed the store")
			}
		})
	}
	t.Run("new naming context", func(t *testing.T) {
		s := openTest(t, filepath.Join(t.TempDir(), "bulk.db"), Options{})
		addAll(t, s, entries[:2])
		if err := s.AddBulk(ctx, []*directory.Entry{newContext}); err != nil {
			t.Fatal(err)
		}
		if _, err := getIn(t, s, "dc=other,dc=org"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		s := openTest(t, filepath.Join(t.TempDir(), "bulk.db"), Options{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.AddBulk(cctx, entries); !errors.Is(err, context.Canceled) {
			t.Fatalf("AddBulk: %v", err)
		}
	})
}

// TestCompactIfSparse checks that a file filled by Adds is compacted and
// one written by a single AddBulk is left alone.
func TestCompactIfSparse(t *testing.T) {
	ctx := context.Background()
	entries := bulkEntries(3000)
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprint("bulk ", bulk), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ldapd.db")
			s := openTest(t, path, Options{})
			if bulk {
				if err := s.AddBulk(ctx, entries); err != nil {
					t.Fatal(err)
				}
			} else {
				addAll(t, s, entries) // bbolt splits at FillPercent 0.5
			}
			before := dump(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			compacted, err := CompactIfSparse(path, 1<<20)
			if err != nil || compacted == bulk {
				t.Fatalf("CompactIfSparse: %v, %v", compacted, err)
			}
			s = openTest(t, path, Options{})
			if dump(t, s) != before {
				t.Fatal("compaction changed the content")
			}
			if err := s.Verify(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
