package storetest

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func testAddSuffix(t *testing.T, s directory.Store) {
	want := entry(suffix, "objectClass: top", "objectClass: domain", "dc: example")
	update(t, s, func(tx directory.WriteTx) error { return tx.Add(want.Clone()) })
	sameEntry(t, mustGet(t, s, suffix), want)
}

// testAddNamingContext pins what store.go's "a suffix (its parent is the
// root)" leaves out: an entry none of whose ancestors is stored starts a
// new naming context, as dc=example,dc=com must in an empty store.
func testAddNamingContext(t *testing.T, s directory.Store) {
	update(t, s, func(tx directory.WriteTx) error { return tx.Add(byDN(fixture(), suffix)) })
	view(t, s, func(tx directory.ReadTx) error {
		// The root's children are what a one-level search of it finds:
		// entries of depth 1 (Scope.InScope), which dc=example,dc=com is not.
		if has, err := tx.HasChildren(directory.DN{}); err != nil || has {
			t.Errorf("HasChildren(root) with only %s = %v, %v; want false", suffix, has, err)
		}
		return nil
	})
	wantDNs(t, "root, one level", searchDNs(t, s, "", directory.ScopeOne, "(objectClass=*)"))
	update(t, s, func(tx directory.WriteTx) error {
		for _, e := range fixture()[1:] {
			if err := tx.Add(e); err != nil {
				return err
			}
		}
		return nil
	})
	for _, name := range []string{"dc=example,dc=org", "ou=x,dc=nowhere", "dc=com"} {
		want := entry(name, "objectClass: top", "objectClass: extensibleObject", "description: "+name)
		update(t, s, func(tx directory.WriteTx) error { return tx.Add(want.Clone()) })
		sameEntry(t, mustGet(t, s, name), want)
	}
	// dc=com now exists, so dc=example,dc=com is also its child.
	wantDNs(t, "children of a late parent", searchDNs(t, s, "dc=com", directory.ScopeOne, "(objectClass=*)"), suffix)
	wantDNs(t, "suffixes one level below the root", searchDNs(t, s, "", directory.ScopeOne, "(objectClass=*)"), "dc=com", other)
	wantDNs(t, "all", searchDNs(t, s, "", directory.ScopeSub, "(description=*)"),
		suffix, alice, dave, otherAlice, "dc=example,dc=org", "ou=x,dc=nowhere", "dc=com")
}

func testAddChildren(t *testing.T, s directory.Store) {
	want := seed(t, s)
	for _, e := range want {
		sameEntry(t, mustGet(t, s, e.DN.String()), e)
	}
}

func testAddMissingParent(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range []struct{ name, matched string }{
		{"uid=x,ou=Nowhere,dc=example,dc=com", suffix},
		{"uid=x,ou=a,ou=b,ou=People,dc=example,dc=com", people},
		{"uid=x,ou=Contractors,ou=People,dc=example,dc=com", contractors}, // parent exists: no error
	} {
		err := s.Update(t.Context(), func(tx directory.WriteTx) error {
			return tx.Add(entry(tc.name, "objectClass: top", "objectClass: account", "uid: x"))
		})
		if tc.matched == contractors {
			if err != nil {
				t.Fatalf("Add(%s) with an existing parent: %v", tc.name, err)
			}
			continue
		}
		wantErr(t, "Add "+tc.name, err, directory.ErrNoSuchObject)
		wantMatched(t, "Add "+tc.name, err, tc.matched)
		mustNotExist(t, s, tc.name)
	}
}

func testAddDuplicate(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, name := range []string{alice, "UID=Alice , ou=people,DC=Example, dc=COM", suffix} {
		err := s.Update(t.Context(), func(tx directory.WriteTx) error {
			return tx.Add(entry(name, "objectClass: top", "objectClass: account", "uid: alice", "description: dup"))
		})
		wantErr(t, "Add duplicate "+name, err, directory.ErrEntryAlreadyExists)
	}
	// The first entry is untouched.
	sameEntry(t, mustGet(t, s, alice), byDN(fixture(), alice))
}

func testAddRootDN(t *testing.T, s directory.Store) {
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		return tx.Add(entry("", "objectClass: top"))
	})
	if err == nil {
		t.Fatal("Add of the root DN succeeded")
	}
}

func testAddDoesNotRetain(t *testing.T, s directory.Store) {
	e := entry(suffix, "objectClass: top", "objectClass: domain", "dc: example")
	want := e.Clone()
	update(t, s, func(tx directory.WriteTx) error {
		if err := tx.Add(e); err != nil {
			return err
		}
		e.Attrs[0].Values[0] = "changed"
		e.Set("description", "added later")
		return nil
	})
	sameEntry(t, mustGet(t, s, suffix), want)
}

func testGetMissing(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range []struct{ name, matched string }{
		{"uid=zed,ou=People,dc=example,dc=com", people},
		{"uid=zed,ou=Nowhere,ou=People,dc=example,dc=com", people},
		{"uid=zed,ou=Contractors,ou=People,dc=example,dc=com", contractors},
		{"dc=nowhere", ""},
		{"uid=x,dc=nowhere", ""},
	} {
		_, err := get(t, s, tc.name)
		wantErr(t, "Get "+tc.name, err, directory.ErrNoSuchObject)
		wantMatched(t, "Get "+tc.name, err, tc.matched)
	}
}

func testGetFoldedDN(t *testing.T, s directory.Store) {
	seed(t, s)
	got := mustGet(t, s, "UID=ALICE,  OU=people , DC=Example,dc=COM")
	sameEntry(t, got, byDN(fixture(), alice)) // the DN as added, not as asked
}

func testGetReturnsCopy(t *testing.T, s directory.Store) {
	seed(t, s)
	view(t, s, func(tx directory.ReadTx) error {
		e, err := tx.Get(dn(alice))
		if err != nil {
			return err
		}
		e.Attrs[0].Values[0] = "changed"
		e.Set("cn", "Mallory")
		e.Add("mail", "mallory@example.com")
		e.DN = dn(bob)
		again, err := tx.Get(dn(alice))
		if err != nil {
			return err
		}
		sameEntry(t, again, byDN(fixture(), alice))
		return nil
	})
	sameEntry(t, mustGet(t, s, alice), byDN(fixture(), alice))
}

func testHasChildren(t *testing.T, s directory.Store) {
	seed(t, s)
	view(t, s, func(tx directory.ReadTx) error {
		for _, tc := range []struct {
			name string
			want bool
		}{{suffix, true}, {people, true}, {contractors, true}, {carol, false}, {emptyGroup, false}, {other, true}, {"", true}} {
			got, err := tx.HasChildren(dn(tc.name))
			if err != nil || got != tc.want {
				t.Errorf("HasChildren(%q) = %v, %v; want %v", tc.name, got, err, tc.want)
			}
		}
		_, err := tx.HasChildren(dn("uid=zed,ou=People,dc=example,dc=com"))
		wantErr(t, "HasChildren of a missing entry", err, directory.ErrNoSuchObject)
		wantMatched(t, "HasChildren of a missing entry", err, people)
		return nil
	})
}

func modify(t *testing.T, s directory.Store, name string, changes ...directory.Change) error {
	return s.Update(t.Context(), func(tx directory.WriteTx) error { return tx.Modify(dn(name), changes) })
}

func mustModify(t *testing.T, s directory.Store, name string, changes ...directory.Change) {
	t.Helper()
	if err := modify(t, s, name, changes...); err != nil {
		t.Fatalf("Modify(%s): %v", name, err)
	}
}

func change(op directory.ChangeOp, attr string, values ...string) directory.Change {
	return directory.Change{Op: op, Attr: attr, Values: values}
}

// wantAttr checks the values of one attribute of a stored entry.
func wantAttr(t *testing.T, s directory.Store, name, attr string, values ...string) {
	t.Helper()
	got := mustGet(t, s, name).Get(attr)
	if len(got) != len(values) {
		t.Fatalf("%s %s = %q, want %q", name, attr, got, values)
	}
	for i := range got {
		if got[i] != values[i] {
			t.Fatalf("%s %s = %q, want %q", name, attr, got, values)
		}
	}
}

func testModifyMissing(t *testing.T, s directory.Store) {
	seed(t, s)
	missing := "uid=zed,ou=People,dc=example,dc=com"
	err := modify(t, s, missing, change(directory.ChangeReplace, "description", "x"))
	wantErr(t, "Modify of a missing entry", err, directory.ErrNoSuchObject)
	wantMatched(t, "Modify of a missing entry", err, people)
	mustNotExist(t, s, missing) // never an upsert
}

func testModifyAdd(t *testing.T, s directory.Store) {
	seed(t, s)
	mustModify(t, s, bob, change(directory.ChangeAdd, "mail", "robert@example.com"),
		change(directory.ChangeAdd, "roomNumber", "101"))
	wantAttr(t, s, bob, "mail", "bob@example.com", "robert@example.com")
	wantAttr(t, s, bob, "roomNumber", "101")
	wantDNs(t, "new value indexed", searchDNs(t, s, suffix, directory.ScopeSub, "(mail=Robert@example.com)"), bob)
	wantDNs(t, "old value kept", searchDNs(t, s, suffix, directory.ScopeSub, "(mail=bob@example.com)"), bob)
	wantDNs(t, "new attribute", searchDNs(t, s, suffix, directory.ScopeSub, "(roomNumber=101)"), bob)
}

func testModifyDelete(t *testing.T, s directory.Store) {
	seed(t, s)
	mustModify(t, s, admins, change(directory.ChangeDelete, "member", "UID=Alice,ou=people,dc=example,dc=com"))
	wantAttr(t, s, admins, "member", bob)
	wantDNs(t, "deleted value unindexed", searchDNs(t, s, suffix, directory.ScopeSub, "(member="+alice+")"))
	mustModify(t, s, alice, change(directory.ChangeDelete, "description"), change(directory.ChangeDelete, "mail"))
	e := mustGet(t, s, alice)
	if e.Has("description") || e.Has("mail") {
		t.Fatalf("attributes not deleted: %v", formatAttrs(e))
	}
	wantDNs(t, "deleted attribute unindexed", searchDNs(t, s, suffix, directory.ScopeSub, "(mail=*)"), bob)
}

func testModifyReplace(t *testing.T, s directory.Store) {
	seed(t, s)
	mustModify(t, s, carol, change(directory.ChangeReplace, "cn", "Carol D", "Captain Marvel"),
		change(directory.ChangeReplace, "roomNumber", "7"), change(directory.ChangeReplace, "displayName"))
	wantAttr(t, s, carol, "cn", "Carol D", "Captain Marvel")
	wantAttr(t, s, carol, "roomNumber", "7")
	wantAttr(t, s, carol, "displayName")
	wantDNs(t, "old cn", searchDNs(t, s, suffix, directory.ScopeSub, "(cn=Carol Danvers)"))
	wantDNs(t, "new cn", searchDNs(t, s, suffix, directory.ScopeSub, "(cn=captain marvel)"), carol)
	wantDNs(t, "removed displayName", searchDNs(t, s, suffix, directory.ScopeSub, "(displayName=*)"))
	// Replacing an absent attribute with no values is a no-op, not an error.
	mustModify(t, s, carol, change(directory.ChangeReplace, "title"))
}

func testModifyIncrement(t *testing.T, s directory.Store) {
	seed(t, s)
	mustModify(t, s, alice, change(directory.ChangeIncrement, "uidNumber", "5"))
	wantAttr(t, s, alice, "uidNumber", "1005")
	wantDNs(t, "old number", searchDNs(t, s, suffix, directory.ScopeSub, "(uidNumber=1000)"))
	wantDNs(t, "new number", searchDNs(t, s, suffix, directory.ScopeSub, "(uidNumber=1005)"), alice)
	mustModify(t, s, alice, change(directory.ChangeIncrement, "uidNumber", "-1006"))
	wantAttr(t, s, alice, "uidNumber", "-1")
}

func testModifyErrors(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range []struct {
		name    string
		target  string
		changes []directory.Change
		want    error
	}{
		{"add present value", alice, []directory.Change{change(directory.ChangeAdd, "mail", "ALICE@example.COM")}, directory.ErrAttributeOrValueExists},
		{"add duplicate values", bob, []directory.Change{change(directory.ChangeAdd, "roomNumber", "1", "1")}, directory.ErrAttributeOrValueExists},
		{"delete missing value", alice, []directory.Change{change(directory.ChangeDelete, "mail", "nobody@example.com")}, directory.ErrNoSuchAttribute},
		{"delete missing attribute", alice, []directory.Change{change(directory.ChangeDelete, "roomNumber")}, directory.ErrNoSuchAttribute},
		{"increment missing attribute", admins, []directory.Change{change(directory.ChangeIncrement, "uidNumber", "1")}, directory.ErrNoSuchAttribute},
		{"unknown attribute", alice, []directory.Change{change(directory.ChangeAdd, "fooBar", "x")}, directory.ErrUndefinedAttributeType},
	} {
		err := modify(t, s, tc.target, tc.changes...)
		wantErr(t, tc.name, err, tc.want)
		sameEntry(t, mustGet(t, s, tc.target), byDN(fixture(), tc.target))
	}
}

// testModifyAtomic: a Modify that fails part-way changes nothing, even when
// fn ignores the error and the transaction commits.
func testModifyAtomic(t *testing.T, s directory.Store) {
	seed(t, s)
	update(t, s, func(tx directory.WriteTx) error {
		err := tx.Modify(dn(alice), []directory.Change{
			change(directory.ChangeReplace, "description", "changed"),
			change(directory.ChangeAdd, "mail", "alice@example.com"),
		})
		wantErr(t, "failing Modify", err, directory.ErrAttributeOrValueExists)
		return nil
	})
	sameEntry(t, mustGet(t, s, alice), byDN(fixture(), alice))
	wantDNs(t, "half-applied change indexed", searchDNs(t, s, suffix, directory.ScopeSub, "(description=changed)"))
}

func deleteDN(t *testing.T, s directory.Store, name string) error {
	return s.Update(t.Context(), func(tx directory.WriteTx) error { return tx.Delete(dn(name)) })
}

func testDeleteLeaf(t *testing.T, s directory.Store) {
	seed(t, s)
	if err := deleteDN(t, s, carol); err != nil {
		t.Fatalf("Delete(%s): %v", carol, err)
	}
	mustNotExist(t, s, carol)
	wantDNs(t, "deleted entry unindexed", searchDNs(t, s, suffix, directory.ScopeSub, "(uid=carol)"))
	wantDNs(t, "deleted entry not scanned", searchDNs(t, s, people, directory.ScopeOne, "(objectClass=*)"), alice, bob, contractors)
	// Emptying a subtree leaf by leaf makes its root a leaf.
	for _, name := range []string{dave, contractors} {
		if err := deleteDN(t, s, name); err != nil {
			t.Fatalf("Delete(%s): %v", name, err)
		}
	}
	mustNotExist(t, s, dave)
	mustGet(t, s, people)
}

func testDeleteNonLeaf(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, name := range []string{people, contractors, suffix, other} {
		wantErr(t, "Delete "+name, deleteDN(t, s, name), directory.ErrNotAllowedOnNonLeaf)
		mustGet(t, s, name)
	}
	mustGet(t, s, dave)
}

func testDeleteMissing(t *testing.T, s directory.Store) {
	seed(t, s)
	err := deleteDN(t, s, "uid=zed,ou=People,dc=example,dc=com")
	wantErr(t, "Delete of a missing entry", err, directory.ErrNoSuchObject)
	wantMatched(t, "Delete of a missing entry", err, people)
	// Deleting twice in one transaction: the second sees the first.
	err = s.Update(t.Context(), func(tx directory.WriteTx) error {
		if err := tx.Delete(dn(carol)); err != nil {
			return err
		}
		return tx.Delete(dn(carol))
	})
	wantErr(t, "second Delete", err, directory.ErrNoSuchObject)
	mustGet(t, s, carol)
}
