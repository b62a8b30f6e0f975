package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// Verifier is implemented by stores that can check their own invariants
// (boltstore's Verify). Run calls Verify when each subtest ends and fails
// the subtest on error, also through a wrapper (directory.As).
type Verifier = directory.Verifier

// Run runs the conformance suite: one named subtest per behaviour of the
// directory.Store contract, each on a fresh, empty store from newStore.
// newStore should register the store's Close with t.Cleanup; Run's own
// cleanup (Verify) is registered later and so runs before Close.
func Run(t *testing.T, newStore func(t *testing.T) directory.Store) {
	for _, tc := range suite() {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if v, ok := directory.As[Verifier](s); ok {
				t.Cleanup(func() {
					if err := v.Verify(context.Background()); err != nil {
						t.Errorf("store invariants broken after %s: %v", t.Name(), err)
					}
				})
			}
			tc.fn(t, s)
		})
	}
}

type test struct {
	name string
	fn   func(*testing.T, directory.Store)
}

func suite() []test {
	return []test{
		{"AddSuffix", testAddSuffix},
		{"AddNamingContext", testAddNamingContext},
		{"AddChildren", testAddChildren},
		{"AddMissingParent", testAddMissingParent},
		{"AddDuplicate", testAddDuplicate},
		{"AddRootDN", testAddRootDN},
		{"AddDoesNotRetain", testAddDoesNotRetain},
		{"GetMissing", testGetMissing},
		{"GetFoldedDN", testGetFoldedDN},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"HasChildren", testHasChildren},
		{"ModifyMissing", testModifyMissing},
		{"ModifyAdd", testModifyAdd},
		{"ModifyDelete", testModifyDelete},
		{"ModifyReplace", testModifyReplace},
		{"ModifyIncrement", testModifyIncrement},
		{"ModifyErrors", testModifyErrors},
		{"ModifyAtomic", testModifyAtomic},
		{"DeleteLeaf", testDeleteLeaf},
		{"DeleteNonLeaf", testDeleteNonLeaf},
		{"DeleteMissing", testDeleteMissing},
		{"RenameInPlace", testRenameInPlace},
		{"RenameCaseOnly", testRenameCaseOnly},
		{"RenameNewParent", testRenameNewParent},
		{"RenameToRoot", testRenameToRoot},
		{"RenameSuffix", testRenameSuffix},
		{"RenameTargetExists", testRenameTargetExists},
		{"RenameUnderItself", testRenameUnderItself},
		{"RenameMissingParent", testRenameMissingParent},
		{"RenameMissing", testRenameMissing},
		{"RenameKeepsMemberValues", testRenameKeepsMemberValues},
		{"SearchScopes", testSearchScopes},
		{"SearchMissingBase", testSearchMissingBase},
		{"SearchRootBase", testSearchRootBase},
		{"SearchFilters", testSearchFilters},
		{"SearchIndexAgreesWithScan", testSearchIndexAgreesWithScan},
		{"SearchStop", testSearchStop},
		{"SearchCallbackError", testSearchCallbackError},
		{"SearchReturnsCopies", testSearchReturnsCopies},
		{"SearchCallbackWrites", testSearchCallbackWrites},
		{"IndexMaintenance", testIndexMaintenance},
		{"Meta", testMeta},
		{"NextSequence", testNextSequence},
		{"UpdateRollback", testUpdateRollback},
		{"UpdatePanic", testUpdatePanic},
		{"UpdateReadsOwnWrites", testUpdateReadsOwnWrites},
		{"ViewSeesCommitted", testViewSeesCommitted},
		{"ContextCancelled", testContextCancelled},
		{"Concurrent", testConcurrent},
		{"Version", testVersion},
		{"SearchSubtreeParentsFirst", testSearchSubtreeParentsFirst},
	}
}

// dn parses a DN constant.
func dn(s string) directory.DN { return directory.MustParseDN(s) }

// entry builds an entry from LDIF-like "attr: value" lines, keeping their
// order.
func entry(dnStr string, lines ...string) *directory.Entry {
	e := directory.NewEntry(dn(dnStr))
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			panic("storetest: bad attribute line " + l)
		}
		e.Add(name, value)
	}
	return e
}

func update(t testing.TB, s directory.Store, fn func(directory.WriteTx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func view(t testing.TB, s directory.Store, fn func(directory.ReadTx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

// get reads one entry in its own View.
func get(t testing.TB, s directory.Store, name string) (*directory.Entry, error) {
	t.Helper()
	var e *directory.Entry
	err := s.View(context.Background(), func(tx directory.ReadTx) (err error) {
		e, err = tx.Get(dn(name))
		return err
	})
	return e, err
}

func mustGet(t testing.TB, s directory.Store, name string) *directory.Entry {
	t.Helper()
	e, err := get(t, s, name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	return e
}

// mustNotExist checks that name is gone with ErrNoSuchObject.
func mustNotExist(t testing.TB, s directory.Store, name string) {
	t.Helper()
	if e, err := get(t, s, name); !errors.Is(err, directory.ErrNoSuchObject) {
		t.Fatalf("Get(%s) = %v, %v; want ErrNoSuchObject", name, e, err)
	}
}

// wantErr checks errors.Is(err, sentinel).
func wantErr(t testing.TB, what string, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: err = %v, want %v", what, err, sentinel)
	}
}

// wantMatched checks that err carries matched as its matched DN; "" means
// none (the root).
func wantMatched(t testing.TB, what string, err error, matched string) {
	t.Helper()
	got, ok := directory.MatchedDN(err)
	switch {
	case matched == "" && ok:
		t.Fatalf("%s: matched DN = %s, want none", what, got)
	case matched != "" && !ok:
		t.Fatalf("%s: no matched DN in %v, want %s", what, err, matched)
	case matched != "" && !got.Equal(dn(matched)):
		t.Fatalf("%s: matched DN = %s, want %s", what, got, matched)
	}
}

// filter parses and resolves an RFC 4515 filter against the built-in
// schema.
func filter(t testing.TB, s string) *directory.Filter {
	t.Helper()
	f, err := directory.ParseFilter(s, directory.Builtin())
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", s, err)
	}
	return f
}

// search collects the results of one Search in its own View.
func search(t testing.TB, s directory.Store, base string, scope directory.Scope, f string) ([]*directory.Entry, error) {
	t.Helper()
	flt := filter(t, f)
	var out []*directory.Entry
	err := s.View(context.Background(), func(tx directory.ReadTx) error {
		return tx.Search(dn(base), scope, flt, func(e *directory.Entry) error {
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// searchDNs returns the sorted DN strings of a Search's results.
func searchDNs(t testing.TB, s directory.Store, base string, scope directory.Scope, f string) []string {
	t.Helper()
	es, err := search(t, s, base, scope, f)
	if err != nil {
		t.Fatalf("Search(%q, %s, %s): %v", base, scope, f, err)
	}
	return dnStrings(es)
}

func dnStrings(es []*directory.Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.DN.String())
	}
	slices.Sort(out)
	return out
}

// sorted returns a sorted copy of DN strings, for expectations.
func sorted(dns ...string) []string {
	out := slices.Clone(dns)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func wantDNs(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if w := sorted(want...); !slices.Equal(got, w) {
		t.Fatalf("%s:\n got  %q\n want %q", what, got, w)
	}
}

// sameEntry checks that got has want's DN (as a string, so the case and
// form given at Add are kept) and the same attributes and values in order.
func sameEntry(t testing.TB, got, want *directory.Entry) {
	t.Helper()
	if got.DN.String() != want.DN.String() || !got.DN.Equal(want.DN) {
		t.Fatalf("DN = %q, want %q", got.DN, want.DN)
	}
	if g, w := formatAttrs(got), formatAttrs(want); g != w {
		t.Fatalf("entry %s attributes:\n got  %s\n want %s", want.DN, g, w)
	}
}

func formatAttrs(e *directory.Entry) string {
	var b strings.Builder
	for _, a := range e.Attrs {
		fmt.Fprintf(&b, "%s=%q ", a.Name, a.Values)
	}
	return b.String()
}
