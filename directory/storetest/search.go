package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

var scopes = []directory.Scope{directory.ScopeBase, directory.ScopeOne, directory.ScopeSub}

func testSearchScopes(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range []struct {
		base  string
		scope directory.Scope
		want  []string
	}{
		{people, directory.ScopeBase, []string{people}},
		{people, directory.ScopeOne, []string{alice, bob, carol, contractors}},
		{people, directory.ScopeSub, []string{people, alice, bob, carol, contractors, dave}},
		{suffix, directory.ScopeOne, []string{people, groups}},
		{suffix, directory.ScopeSub, exampleDNs},
		{carol, directory.ScopeOne, nil},
		{carol, directory.ScopeSub, []string{carol}},
		{other, directory.ScopeSub, []string{other, otherAlice}},
		{"OU=PEOPLE,dc=Example,DC=com", directory.ScopeOne, []string{alice, bob, carol, contractors}},
	} {
		what := fmt.Sprintf("Search(%s, %s)", tc.base, tc.scope)
		wantDNs(t, what, searchDNs(t, s, tc.base, tc.scope, "(objectClass=*)"), tc.want...)
	}
	wantDNs(t, "base scope, not matching", searchDNs(t, s, alice, directory.ScopeBase, "(uid=bob)"))
}

func testSearchMissingBase(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range []struct{ base, matched string }{
		{"ou=Nowhere,dc=example,dc=com", suffix},
		{"uid=x,ou=Nowhere,ou=People,dc=example,dc=com", people},
		{"uid=x,o=Nothing", ""},
	} {
		for _, scope := range scopes {
			for _, f := range []string{"(objectClass=*)", "(uid=alice)"} {
				what := fmt.Sprintf("Search(%s, %s, %s)", tc.base, scope, f)
				_, err := search(t, s, tc.base, scope, f)
				wantErr(t, what, err, directory.ErrNoSuchObject)
				wantMatched(t, what, err, tc.matched)
			}
		}
	}
}

// testSearchRootBase pins what the contract leaves open about the root DN
// (the root DSE is the front end's business, not a stored entry): it is
// never stored, Get fails without a matched DN, and as a search base it
// exists. Its one-level scope is Scope.InScope's: entries of depth 1, so
// not dc=example,dc=com.
func testSearchRootBase(t *testing.T, s directory.Store) {
	seed(t, s)
	all := append(slices.Clone(exampleDNs), other, otherAlice)
	wantDNs(t, "root, base scope", searchDNs(t, s, "", directory.ScopeBase, "(objectClass=*)"))
	wantDNs(t, "root, one level", searchDNs(t, s, "", directory.ScopeOne, "(objectClass=*)"), other)
	wantDNs(t, "root, subtree", searchDNs(t, s, "", directory.ScopeSub, "(objectClass=*)"), all...)
	wantDNs(t, "root, subtree, indexed", searchDNs(t, s, "", directory.ScopeSub, "(uid=alice)"), alice, otherAlice)
	_, err := get(t, s, "")
	wantErr(t, "Get of the root DN", err, directory.ErrNoSuchObject)
	wantMatched(t, "Get of the root DN", err, "")
}

// filterCases are searched below suffix; want lists the expected results.
// Each is also checked against a brute-force evaluation in
// testSearchIndexAgreesWithScan. The comments say whether the default
// indexes (directory.DefaultIndexes) can answer the filter.
var filterCases = []struct {
	filter string
	want   []string
}{
	{"(uid=alice)", []string{alice}},                                     // indexed
	{"(uid=ALICE)", []string{alice}},                                     // indexed, folded
	{"(mail=alice@example.com)", []string{alice}},                        // stored as Alice@Example.com
	{"(mail=ALICE@EXAMPLE.COM)", []string{alice}},                        //
	{"(sn=liddell)", []string{alice}},                                    //
	{"(description=likes rabbits)", []string{alice}},                     // unindexed
	{"(description=LIKES   Rabbits)", []string{alice}},                   // unindexed, spaces collapsed
	{"(title=engineer)", []string{bob}},                                  //
	{"(uidNumber>=1001)", []string{bob, carol, dave}},                    // ordering
	{"(uidNumber<=1001)", []string{alice, bob}},                          //
	{"(uidNumber=1000)", []string{alice}},                                // indexed integer
	{"(uidNumber=abc)", nil},                                             // invalid assertion: Undefined
	{"(gidNumber=1000)", []string{alice, bob}},                           //
	{"(uid=*)", []string{alice, bob, carol, dave}},                       // indexed presence
	{"(telephoneNumber=*)", []string{alice}},                             // unindexed presence
	{"(cn=al*)", []string{alice}},                                        // substrings
	{"(cn=*o*)", []string{bob, carol}},                                   //
	{"(cn=*SMITH)", []string{dave}},                                      //
	{"(|(uid=alice)(uid=bob))", []string{alice, bob}},                    // indexed OR
	{"(|(uid=alice)(description=temporary))", []string{alice, dave}},     // mixed OR
	{"(|(fooBar=x)(uid=bob))", []string{bob}},                            // unknown attribute in OR
	{"(&(objectClass=person)(uid=alice))", []string{alice}},              // indexed AND
	{"(&(uid=alice)(description=*))", []string{alice}},                   //
	{"(&(objectClass=inetOrgPerson)(cn=*smith*))", []string{dave}},       //
	{"(&(objectClass=groupOfNames)(!(member=*)))", []string{emptyGroup}}, //
	{"(&(objectClass=posixAccount)(!(uid=bob)))", []string{alice, carol, dave}},
	{"(!(uid=alice))", []string{suffix, people, contractors, groups, bob, carol, dave, admins, emptyGroup}},
	{"(fooBar=x)", nil},       // attribute unknown to the schema
	{"(fooBar=*)", nil},       //
	{"(roomNumber=101)", nil}, // known attribute no entry has
	{"(member=UID=ALICE,OU=PEOPLE,DC=EXAMPLE,DC=COM)", []string{admins}},
	{"(member=uid=bob , ou=people,dc=example, dc=com)", []string{admins}},
	{"(member=*)", []string{admins}},
	{"(objectClass=*)", exampleDNs},
	{"(objectClass=organizationalUnit)", []string{people, groups, contractors}},
	{"(objectClass=person)", []string{alice, bob, carol, dave}},
	{"(entryUUID=" + "5B4A3F2E-1C2D-4E5F-8A9B-0C1D2E3F4A5B" + ")", []string{alice}},
	{"(cn=admins)", []string{admins}},
	{"(name=alice liddell)", []string{alice}}, // supertype of cn and sn
	{"(displayName=captain)", []string{carol}},
	{"(entryDN=uid=bob,ou=people,dc=example,dc=com)", []string{bob}},
}

func testSearchFilters(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, tc := range filterCases {
		wantDNs(t, tc.filter, searchDNs(t, s, suffix, directory.ScopeSub, tc.filter), tc.want...)
	}
}

// searchBases are the bases the agreement check searches from.
var searchBases = []string{"", suffix, people, contractors, groups, alice, other}

// checkAgreement compares, for every filter case, base and scope, the
// store's answer with a brute-force evaluation of Filter.Match over want,
// the entries the store should hold.
func checkAgreement(t *testing.T, s directory.Store, want []*directory.Entry) {
	t.Helper()
	for _, tc := range filterCases {
		f := filter(t, tc.filter)
		for _, base := range searchBases {
			for _, scope := range scopes {
				var exp []string
				for _, e := range want {
					if scope.InScope(dn(base), e.DN) && f.Match(e) {
						exp = append(exp, e.DN.String())
					}
				}
				got, err := search(t, s, base, scope, tc.filter)
				if errors.Is(err, directory.ErrNoSuchObject) && byDN(want, base) == nil && base != "" {
					continue
				}
				if err != nil {
					t.Fatalf("Search(%q, %s, %s): %v", base, scope, tc.filter, err)
				}
				wantDNs(t, fmt.Sprintf("Search(%q, %s, %s)", base, scope, tc.filter), dnStrings(got), exp...)
			}
		}
	}
}

func testSearchIndexAgreesWithScan(t *testing.T, s directory.Store) {
	want := seed(t, s)
	checkAgreement(t, s, want)
	// The store's own full scan, filtered here, agrees too.
	all, err := search(t, s, "", directory.ScopeSub, "(objectClass=*)")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range filterCases {
		f := filter(t, tc.filter)
		var exp []*directory.Entry
		for _, e := range all {
			if e.DN.IsWithin(dn(suffix)) && f.Match(e) {
				exp = append(exp, e)
			}
		}
		wantDNs(t, tc.filter+" against a full scan", searchDNs(t, s, suffix, directory.ScopeSub, tc.filter), dnStrings(exp)...)
	}
}

func testSearchStop(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, f := range []string{"(objectClass=*)", "(objectClass=person)", "(description=*)"} {
		for _, scope := range []directory.Scope{directory.ScopeOne, directory.ScopeSub} {
			calls := 0
			err := s.View(t.Context(), func(tx directory.ReadTx) error {
				return tx.Search(dn(people), scope, filter(t, f), func(*directory.Entry) error {
					calls++
					return directory.ErrStop
				})
			})
			if err != nil || calls != 1 {
				t.Fatalf("Search(%s, %s) stopped by ErrStop = %v after %d calls, want nil after 1", scope, f, err, calls)
			}
		}
	}
}

func testSearchCallbackError(t *testing.T, s directory.Store) {
	seed(t, s)
	boom := errors.New("boom")
	for _, f := range []string{"(objectClass=*)", "(uid=*)", "(cn=*o*)"} {
		calls := 0
		err := s.View(t.Context(), func(tx directory.ReadTx) error {
			return tx.Search(dn(suffix), directory.ScopeSub, filter(t, f), func(*directory.Entry) error {
				calls++
				return fmt.Errorf("wrapped: %w", boom)
			})
		})
		if !errors.Is(err, boom) || calls != 1 {
			t.Fatalf("Search(%s) with a failing callback = %v after %d calls, want boom after 1", f, err, calls)
		}
	}
}

func testSearchReturnsCopies(t *testing.T, s directory.Store) {
	seed(t, s)
	var kept []*directory.Entry
	view(t, s, func(tx directory.ReadTx) error {
		return tx.Search(dn(suffix), directory.ScopeSub, filter(t, "(uid=*)"), func(e *directory.Entry) error {
			kept = append(kept, e)
			e.Set("uid", "mallory")
			return nil
		})
	})
	// Entries stay valid after the transaction and changes to them do not
	// reach the store.
	if len(kept) != 4 || kept[0].First("uid") != "mallory" {
		t.Fatalf("kept entries changed after the transaction: %d", len(kept))
	}
	wantDNs(t, "after mutating results", searchDNs(t, s, suffix, directory.ScopeSub, "(uid=mallory)"))
	sameEntry(t, mustGet(t, s, alice), byDN(fixture(), alice))
}

// testSearchCallbackWrites: a callback may write through the same WriteTx;
// each originally matching entry is still visited exactly once.
func testSearchCallbackWrites(t *testing.T, s directory.Store) {
	seed(t, s)
	for _, f := range []string{"(objectClass=person)", "(cn=*a*)", "(objectClass=*)"} {
		seen := map[string]int{}
		update(t, s, func(tx directory.WriteTx) error {
			return tx.Search(dn(suffix), directory.ScopeSub, filter(t, f), func(e *directory.Entry) error {
				seen[e.DN.Norm()]++
				return tx.Modify(e.DN, []directory.Change{change(directory.ChangeAdd, "seeAlso", "cn=seen"+fmt.Sprint(len(seen))+",dc=example,dc=com")})
			})
		})
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("%s: entry %s visited %d times", f, k, n)
			}
		}
		update(t, s, func(tx directory.WriteTx) error {
			for k := range seen {
				if err := tx.Modify(dn(k), []directory.Change{change(directory.ChangeDelete, "seeAlso")}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// Deleting visited leaves during a search.
	var deleted []string
	update(t, s, func(tx directory.WriteTx) error {
		return tx.Search(dn(people), directory.ScopeSub, filter(t, "(uid=*)"), func(e *directory.Entry) error {
			deleted = append(deleted, e.DN.String())
			return tx.Delete(e.DN)
		})
	})
	wantDNs(t, "deleted during search", sorted(deleted...), alice, bob, carol, dave)
	wantDNs(t, "left", searchDNs(t, s, people, directory.ScopeSub, "(objectClass=*)"), people, contractors)
}

// testIndexMaintenance changes entries in every way and checks that every
// search still agrees with brute force over the expected entries.
func testIndexMaintenance(t *testing.T, s directory.Store) {
	seed(t, s)
	const archive = "ou=Archive,dc=example,dc=com"
	update(t, s, func(tx directory.WriteTx) error {
		steps := []error{
			tx.Modify(dn(alice), []directory.Change{
				change(directory.ChangeReplace, "mail", "alice@wonderland.example"),
				change(directory.ChangeAdd, "uid", "ally"),
				change(directory.ChangeDelete, "entryUUID"),
			}),
			tx.Modify(dn(carol), []directory.Change{change(directory.ChangeReplace, "cn", "Carol D")}),
			tx.Modify(dn(admins), []directory.Change{change(directory.ChangeAdd, "member", carol)}),
			tx.Delete(dn(emptyGroup)),
			tx.Add(entry(archive, "objectClass: top", "objectClass: organizationalUnit", "ou: Archive")),
			tx.Rename(dn(contractors), rdn("ou=Old Contractors"), ptr(dn(archive))),
			tx.Add(entry("uid=erin,ou=People,dc=example,dc=com", "objectClass: top", "objectClass: account", "uid: erin",
				"description: temporary")),
		}
		return errors.Join(steps...)
	})
	wantDNs(t, "old mail", searchDNs(t, s, suffix, directory.ScopeSub, "(mail=alice@example.com)"))
	wantDNs(t, "new mail", searchDNs(t, s, suffix, directory.ScopeSub, "(mail=ALICE@wonderland.example)"), alice)
	wantDNs(t, "added uid", searchDNs(t, s, suffix, directory.ScopeSub, "(uid=ally)"), alice)
	wantDNs(t, "deleted", searchDNs(t, s, suffix, directory.ScopeSub, "(cn=empty)"))
	wantDNs(t, "moved", searchDNs(t, s, suffix, directory.ScopeSub, "(uid=dave)"), "uid=dave,ou=Old Contractors,ou=Archive,dc=example,dc=com")

	// The expected entries, read one by one with Get (no index involved).
	var want []*directory.Entry
	for _, name := range []string{suffix, people, groups, alice, bob, carol, admins, other, otherAlice, archive,
		"ou=Old Contractors,ou=Archive,dc=example,dc=com", "uid=dave,ou=Old Contractors,ou=Archive,dc=example,dc=com",
		"uid=erin,ou=People,dc=example,dc=com"} {
		want = append(want, mustGet(t, s, name))
	}
	all := searchDNs(t, s, "", directory.ScopeSub, "(objectClass=*)")
	if len(all) != len(want) {
		t.Fatalf("store holds %d entries, want %d: %q", len(all), len(want), all)
	}
	checkAgreement(t, s, want)
}

func ptr[T any](v T) *T { return &v }
