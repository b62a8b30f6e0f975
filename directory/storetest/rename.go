package storetest

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func rdn(s string) directory.RDN {
	r, err := directory.ParseRDN(s)
	if err != nil {
		panic(err)
	}
	return r
}

// rename runs one Rename; newParent "" means nil (keep the parent).
func rename(t *testing.T, s directory.Store, name, newRDN, newParent string) error {
	var np *directory.DN
	if newParent != "" {
		p := dn(newParent)
		np = &p
	}
	return s.Update(t.Context(), func(tx directory.WriteTx) error { return tx.Rename(dn(name), rdn(newRDN), np) })
}

func mustRename(t *testing.T, s directory.Store, name, newRDN, newParent string) {
	t.Helper()
	if err := rename(t, s, name, newRDN, newParent); err != nil {
		t.Fatalf("Rename(%s, %s, %q): %v", name, newRDN, newParent, err)
	}
}

func testRenameInPlace(t *testing.T, s directory.Store) {
	seed(t, s)
	const alicia = "uid=alicia,ou=People,dc=example,dc=com"
	mustRename(t, s, alice, "uid=alicia", "")
	mustNotExist(t, s, alice)
	got := mustGet(t, s, alicia)
	want := byDN(fixture(), alice)
	want.DN = dn(alicia)
	sameEntry(t, got, want) // attribute values unchanged: uid is still alice
	wantDNs(t, "indexed search finds the new DN", searchDNs(t, s, suffix, directory.ScopeSub, "(uid=alice)"), alicia)
	wantDNs(t, "scan finds the new DN", searchDNs(t, s, people, directory.ScopeOne, "(description=likes rabbits)"), alicia)
}

func testRenameCaseOnly(t *testing.T, s directory.Store) {
	seed(t, s)
	mustRename(t, s, alice, "UID=Alice", "")
	if got := mustGet(t, s, alice).DN.String(); got != "uid=Alice,ou=People,dc=example,dc=com" {
		t.Fatalf("DN after a case-only rename = %q", got)
	}
	mustRename(t, s, people, "ou=PEOPLE", "")
	if got := mustGet(t, s, dave).DN.String(); got != "uid=dave,ou=Contractors,ou=PEOPLE,dc=example,dc=com" {
		t.Fatalf("descendant DN after a case-only rename of its ancestor = %q", got)
	}
}

func testRenameNewParent(t *testing.T, s directory.Store) {
	seed(t, s)
	const (
		archive       = "ou=Archive,dc=example,dc=com"
		former        = "ou=Former,ou=Archive,dc=example,dc=com"
		newAlice      = "uid=alice,ou=Former,ou=Archive,dc=example,dc=com"
		newContractor = "ou=Contractors,ou=Former,ou=Archive,dc=example,dc=com"
		newDave       = "uid=dave,ou=Contractors,ou=Former,ou=Archive,dc=example,dc=com"
	)
	update(t, s, func(tx directory.WriteTx) error {
		return tx.Add(entry(archive, "objectClass: top", "objectClass: organizationalUnit", "ou: Archive"))
	})
	mustRename(t, s, people, "ou=Former", archive)

	for _, old := range []string{people, alice, contractors, dave} {
		_, err := get(t, s, old)
		wantErr(t, "Get old "+old, err, directory.ErrNoSuchObject)
		wantMatched(t, "Get old "+old, err, suffix)
	}
	if got := mustGet(t, s, newDave).DN.String(); got != newDave {
		t.Fatalf("moved descendant DN = %q, want %q", got, newDave)
	}
	sub := []string{former, newAlice, "uid=bob,ou=Former,ou=Archive,dc=example,dc=com",
		"uid=carol,ou=Former,ou=Archive,dc=example,dc=com", newContractor, newDave}
	wantDNs(t, "subtree under the new DN", searchDNs(t, s, former, directory.ScopeSub, "(objectClass=*)"), sub...)
	wantDNs(t, "children under the new DN", searchDNs(t, s, former, directory.ScopeOne, "(objectClass=*)"), sub[1:5]...)
	wantDNs(t, "new parent's children", searchDNs(t, s, archive, directory.ScopeOne, "(objectClass=*)"), former)
	wantDNs(t, "old parent's children", searchDNs(t, s, suffix, directory.ScopeOne, "(objectClass=*)"), groups, archive)
	_, err := search(t, s, people, directory.ScopeSub, "(objectClass=*)")
	wantErr(t, "Search under the old DN", err, directory.ErrNoSuchObject)
	wantDNs(t, "indexed search", searchDNs(t, s, suffix, directory.ScopeSub, "(uid=dave)"), newDave)
	wantDNs(t, "unindexed search", searchDNs(t, s, suffix, directory.ScopeSub, "(description=temporary)"), newDave)
	wantDNs(t, "indexed search in the new scope", searchDNs(t, s, newContractor, directory.ScopeOne, "(uid=*)"), newDave)
	has := false
	view(t, s, func(tx directory.ReadTx) (err error) {
		has, err = tx.HasChildren(dn(archive))
		return err
	})
	if !has {
		t.Fatal("the new parent has no children")
	}
}

func testRenameToRoot(t *testing.T, s directory.Store) {
	seed(t, s)
	root := directory.DN{}
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		return tx.Rename(dn(contractors), rdn("ou=Contractors"), &root)
	})
	if err != nil {
		t.Fatalf("Rename to a new suffix: %v", err)
	}
	mustNotExist(t, s, contractors)
	mustGet(t, s, "ou=Contractors")
	if got := mustGet(t, s, "uid=dave,ou=Contractors").DN.String(); got != "uid=dave,ou=Contractors" {
		t.Fatalf("DN = %q", got)
	}
	wantDNs(t, "depth-1 suffixes", searchDNs(t, s, "", directory.ScopeOne, "(objectClass=*)"), other, "ou=Contractors")
}

func testRenameSuffix(t *testing.T, s directory.Store) {
	seed(t, s)
	mustRename(t, s, other, "o=Another", "")
	mustNotExist(t, s, otherAlice)
	if got := mustGet(t, s, "uid=alice,o=Another").DN.String(); got != "uid=alice,o=Another" {
		t.Fatalf("DN = %q", got)
	}
	wantDNs(t, "uid=alice", searchDNs(t, s, "", directory.ScopeSub, "(uid=alice)"), alice, "uid=alice,o=Another")
}

func testRenameTargetExists(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range []struct{ name, newRDN, newParent string }{
		{alice, "uid=bob", ""},
		{alice, "UID=BOB ", ""},
		{dave, "uid=alice", people},
		{contractors, "ou=People", suffix},
	} {
		err := rename(t, s, tc.name, tc.newRDN, tc.newParent)
		wantErr(t, "Rename onto an existing entry", err, directory.ErrEntryAlreadyExists)
		sameEntry(t, mustGet(t, s, tc.name), byDN(fixture(), tc.name))
	}
	// A suffix renamed onto another suffix.
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		root := directory.DN{}
		return tx.Rename(dn(otherAlice), rdn("o=Other"), &root)
	})
	wantErr(t, "Rename onto an existing suffix", err, directory.ErrEntryAlreadyExists)
}

func testRenameUnderItself(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, np := range []string{people, contractors, dave} {
		err := rename(t, s, people, "ou=Moved", np)
		wantErr(t, "Rename below itself", err, directory.ErrUnwillingToPerform)
	}
	wantDNs(t, "tree unchanged", searchDNs(t, s, suffix, directory.ScopeSub, "(objectClass=*)"), exampleDNs...)
}

func testRenameMissingParent(t *testing.T, s directory.Store) {
	seed(t, s)
	err := rename(t, s, alice, "uid=alice", "ou=Nowhere,dc=example,dc=com")
	wantErr(t, "Rename to a missing parent", err, directory.ErrNoSuchObject)
	wantMatched(t, "Rename to a missing parent", err, suffix)
	mustGet(t, s, alice)
	mustNotExist(t, s, "uid=alice,ou=Nowhere,dc=example,dc=com")
}

func testRenameMissing(t *testing.T, s directory.Store) {
	seed(t, s)
	err := rename(t, s, "uid=zed,ou=People,dc=example,dc=com", "uid=zed2", "")
	wantErr(t, "Rename of a missing entry", err, directory.ErrNoSuchObject)
	wantMatched(t, "Rename of a missing entry", err, people)
	mustNotExist(t, s, "uid=zed2,ou=People,dc=example,dc=com")
}

// testRenameKeepsMemberValues: the store does not rewrite DN-valued
// attributes that name a renamed entry; that is the caller's job.
func testRenameKeepsMemberValues(t *testing.T, s directory.Store) {
	seed(t, s)
	mustRename(t, s, alice, "uid=alicia", "")
	wantAttr(t, s, admins, "member", alice, bob)
	wantDNs(t, "old member value", searchDNs(t, s, suffix, directory.ScopeSub, "(member="+alice+")"), admins)
	wantDNs(t, "new member value", searchDNs(t, s, suffix, directory.ScopeSub, "(member=uid=alicia,ou=People,dc=example,dc=com)"))
}

// testSearchSubtreeParentsFirst: a subtree search without an index answer
// (the absolute true filter) visits every entry after its parent, even an
// entry moved under a parent created after it (export relies on this to
// write LDIF that import can read back).
func testSearchSubtreeParentsFirst(t *testing.T, s directory.Store) {
	seed(t, s)
	update(t, s, func(tx directory.WriteTx) error {
		return tx.Add(entry("ou=Later,"+suffix, "objectClass: top", "objectClass: organizationalUnit", "ou: Later"))
	})
	mustRename(t, s, people, "ou=People", "ou=Later,"+suffix)
	seen := map[string]bool{}
	all := &directory.Filter{Kind: directory.FilterAnd}
	err := s.View(t.Context(), func(tx directory.ReadTx) error {
		return tx.Search(dn(suffix), directory.ScopeSub, all, func(e *directory.Entry) error {
			if !e.DN.Equal(dn(suffix)) && !seen[e.DN.Parent().Norm()] {
				t.Errorf("%s visited before its parent", e.DN)
			}
			seen[e.DN.Norm()] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(fixture())-2+1 { // other and otherAlice lie outside suffix; ou=Later added
		t.Errorf("visited %d entries", len(seen))
	}
}
