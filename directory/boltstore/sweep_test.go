package boltstore

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/writecheck"
	"github.com/ldapd/ldapd/directory/storetest"
)

// sweepOrder returns the DNs a search of the whole store for every entry
// visits, in order, and whether the store holds the unordered key.
func sweepOrder(t *testing.T, s *store) ([]string, bool) {
	t.Helper()
	var dns []string
	all := &directory.Filter{Kind: directory.FilterAnd}
	err := s.View(t.Context(), func(tx directory.ReadTx) error {
		return tx.Search(directory.MustParseDN(testSuffix), directory.ScopeSub, all, func(e *directory.Entry) error {
			dns = append(dns, e.DN.String())
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	unordered := false
	err = s.db.View(func(tx *bolt.Tx) error {
		unordered = tx.Bucket(bucketInfo).Get(keyUnordered) != nil
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dns, unordered
}

// TestSweepKeepsParentsFirst: a search of the whole store walks the
// entries in id order (ou=People, added first, before ou=Later, though
// DN order has them the other way round) until a Rename moves an entry
// below a newer parent; from then on (and after a reopen) the search
// goes in DN order, parents first. A file of layout 2 gets the key from
// its migration when, and only when, its ids are out of order.
func TestSweepKeepsParentsFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ldapd.db")
	s := openTest(t, path, Options{})
	storetest.Populate(t, s, 3)
	later := "ou=Later," + testSuffix
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		e := directory.NewEntry(directory.MustParseDN(later))
		e.Set("objectClass", "top", "organizationalUnit")
		e.Set("ou", "Later")
		return tx.Add(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	dns, unordered := sweepOrder(t, s)
	people := slices.Index(dns, "ou=People,"+testSuffix)
	if unordered || people < 0 || people > slices.Index(dns, later) {
		t.Fatalf("before any rename (unordered %v): %q; want id order (ou=People before ou=Later)", unordered, dns)
	}
	// A rename below an older parent keeps the ids parents first.
	err = s.Update(t.Context(), func(tx directory.WriteTx) error {
		under := directory.MustParseDN("ou=People," + testSuffix)
		return tx.Rename(directory.MustParseDN(later), mustRDN(t, "ou=Later"), &under)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, unordered := sweepOrder(t, s); unordered {
		t.Fatal("a move below an older parent marked the ids unordered")
	}
	err = s.Update(t.Context(), func(tx directory.WriteTx) error {
		if err := tx.Rename(directory.MustParseDN("ou=Later,ou=People,"+testSuffix), mustRDN(t, "ou=Later"), new(directory.MustParseDN(testSuffix))); err != nil {
			return err
		}
		under := directory.MustParseDN(later)
		return tx.Rename(directory.MustParseDN("ou=People,"+testSuffix), mustRDN(t, "ou=People"), &under)
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		dns, unordered := sweepOrder(t, s)
		if !unordered || len(dns) != 6 || slices.Index(dns, later) > slices.Index(dns, "ou=People,"+later) {
			t.Fatalf("%s (unordered %v): %q; want ou=Later before ou=People below it", when, unordered, dns)
		}
	}
	check("after the move below a newer parent")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, Options{})
	check("after a reopen")

	// Layout 2 had no key: the migration to 3 finds the misordered ids.
	for _, misordered := range []bool{true, false} {
		path := path
		if !misordered {
			path = populated(t, 3)
		}
		_ = s.Close()
		raw(t, path, func(tx *bolt.Tx) error {
			info := tx.Bucket(bucketInfo)
			if err := info.Delete(keyUnordered); err != nil {
				return err
			}
			return info.Put(keyVersion, []byte{0, 0, 0, 0, 0, 0, 0, 2})
		})
		s = openTest(t, path, Options{})
		if _, unordered := sweepOrder(t, s); unordered != misordered {
			t.Errorf("layout 2 file migrated: unordered %v, want %v", unordered, misordered)
		}
	}
}

func mustRDN(t *testing.T, s string) directory.RDN {
	t.Helper()
	r, err := directory.ParseRDN(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMigrateMergesRepeatedNames: an entry stored with cn twice (as an
// Add of cn and commonName could before layout 3) is merged by the
// migration, so a scan that stops at the first cn still sees every value.
func TestMigrateMergesRepeatedNames(t *testing.T) {
	path := populated(t, 3)
	raw(t, path, func(tx *bolt.Tx) error {
		id, ok := getID(newBoltTx(tx), mustKey(t, testAlice))
		if !ok {
			t.Fatal("alice not stored")
		}
		b := tx.Bucket(bucketEntries)
		e, err := entrycodec.Decode(b.Get(idKey(id)))
		if err != nil {
			return err
		}
		e.Attrs = append(e.Attrs, directory.Attr{Name: "sn", Values: []string{"x"}}, directory.Attr{Name: "CN", Values: []string{"Second Name", e.Get("cn")[0]}})
		if err := b.Put(idKey(id), entrycodec.Encode(e)); err != nil {
			return err
		}
		return tx.Bucket(bucketInfo).Put(keyVersion, []byte{0, 0, 0, 0, 0, 0, 0, 2})
	})
	s := openTest(t, path, Options{})
	e, err := getIn(t, s, testAlice)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Attrs); writecheck.Names(e) != nil || !slices.Contains(e.Get("cn"), "Second Name") || len(e.Get("cn")) != 2 || !slices.Contains(e.Get("sn"), "x") {
		t.Fatalf("after the migration (%d attributes): cn %q, sn %q", n, e.Get("cn"), e.Get("sn"))
	}
	found := 0
	err = s.View(t.Context(), func(tx directory.ReadTx) error {
		return tx.Search(directory.MustParseDN(testSuffix), directory.ScopeSub, mustFilter(t, "(cn=*second*)"), func(*directory.Entry) error { found++; return nil })
	})
	if err != nil || found != 1 {
		t.Fatalf("(cn=*second*) found %d (%v), want alice", found, err)
	}
	err = s.Update(t.Context(), func(tx directory.WriteTx) error {
		e := directory.NewEntry(directory.MustParseDN("ou=Twice," + testSuffix))
		e.Attrs = []directory.Attr{{Name: "objectClass", Values: []string{"organizationalUnit"}}, {Name: "ou", Values: []string{"Twice"}}, {Name: "OU", Values: []string{"Again"}}}
		return tx.Add(e)
	})
	if !errors.Is(err, directory.ErrAttributeOrValueExists) {
		t.Fatalf("Add with ou twice: %v, want attributeOrValueExists", err)
	}
}

func mustKey(t *testing.T, dn string) []byte {
	t.Helper()
	k, err := entrycodec.DNKey(directory.MustParseDN(dn))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
