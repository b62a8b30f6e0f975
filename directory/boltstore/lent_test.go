package boltstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// ownCopy copies e, strings included, out of whatever memory it views.
func ownCopy(e *directory.Entry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", e.DN.String())
	for _, a := range e.Attrs {
		fmt.Fprintf(&b, "%s: %s\n", a.Name, strings.Join(a.Values, " | "))
	}
	return strings.Clone(b.String())
}

// TestSearchLent checks that SearchLent finds what Search finds, entry for
// entry and value for value, for index answers, scans, and every scope;
// that a lent entry's memory is reused (what makes it cheap); and that a
// write transaction, whose callback may move the stored bytes, lends
// nothing.
func TestSearchLent(t *testing.T) {
	s := openTest(t, populated(t, 200), Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		base   string
		scope  directory.Scope
		filter string
	}{
		{testSuffix, directory.ScopeSub, "(uid=user00042)"},
		{testSuffix, directory.ScopeSub, "(|(uid=user00001)(mail=user00002@example.com))"},
		{testSuffix, directory.ScopeSub, "(cn=*4*)"},
		{testSuffix, directory.ScopeSub, "(!(uid=user00042))"},
		{testSuffix, directory.ScopeSub, "(entryDN=" + testAlice + ")"},
		{"ou=People," + testSuffix, directory.ScopeOne, "(objectClass=*)"},
		{testAlice, directory.ScopeBase, "(objectClass=*)"},
	} {
		var want, got []string
		var lent []*directory.Entry
		err := s.View(ctx, func(tx directory.ReadTx) error {
			f := mustFilter(t, tc.filter)
			base := directory.MustParseDN(tc.base)
			if err := tx.Search(base, tc.scope, f, func(e *directory.Entry) error {
				want = append(want, ownCopy(e))
				return nil
			}); err != nil {
				return err
			}
			return tx.(directory.LendingTx).SearchLent(base, tc.scope, f, func(e *directory.Entry) error {
				got = append(got, ownCopy(e))
				lent = append(lent, e)
				return nil
			})
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("%s below %s: SearchLent found\n%v\nSearch found\n%v", tc.filter, tc.base, got, want)
		}
		if len(lent) > 1 && lent[0] != lent[1] {
			t.Errorf("%s: SearchLent handed out a new entry for each match", tc.filter)
		}
	}

	// In a write transaction the entries are the caller's.
	var kept []*directory.Entry
	err := s.Update(ctx, func(tx directory.WriteTx) error {
		return tx.(directory.LendingTx).SearchLent(directory.MustParseDN(testSuffix), directory.ScopeSub, mustFilter(t, "(cn=*4*)"),
			func(e *directory.Entry) error {
				kept = append(kept, e)
				return nil
			})
	})
	if err != nil || len(kept) < 2 || kept[0] == kept[1] {
		t.Errorf("SearchLent in a write transaction: %d entries, %v; want distinct entries", len(kept), err)
	}
}

// TestSearchLentAllocs pins what lending saves: an index answer decodes
// its entry without allocating for it, only for its DN.
func TestSearchLentAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector")
	}
	s := openTest(t, populated(t, 200), Options{})
	f := mustFilter(t, "(uid=user00042)")
	base := directory.MustParseDN(testSuffix)
	count := func(lend bool) float64 {
		return testing.AllocsPerRun(100, func() {
			_ = s.View(context.Background(), func(tx directory.ReadTx) error {
				each := func(*directory.Entry) error { return nil }
				if lend {
					return tx.(directory.LendingTx).SearchLent(base, directory.ScopeSub, f, each)
				}
				return tx.Search(base, directory.ScopeSub, f, each)
			})
		})
	}
	owned, lent := count(false), count(true)
	t.Logf("allocations per indexed search: %v with Search, %v with SearchLent", owned, lent)
	// Search makes four for the entry (the copy of its bytes, the Entry,
	// its attributes, their values); SearchLent one, the copy of the DN
	// section that the DN keeps.
	if owned-lent < 3 {
		t.Errorf("SearchLent saves %v allocations per entry, want 3", owned-lent)
	}
}
