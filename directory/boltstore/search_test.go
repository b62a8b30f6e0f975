package boltstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
)

// TestSearchPlan counts the entries a search reads, to pin the planner:
// indexes for selective filters, no whole-tree walks for scope one or base,
// and full scans only when nothing else answers.
func TestSearchPlan(t *testing.T) {
	const users = 1000
	s := openTest(t, populated(t, users), Options{})
	const people = "ou=People,dc=example,dc=com"
	for _, tc := range []struct {
		base   string
		scope  directory.Scope
		filter string
		rows   int // entries read
		found  int
	}{
		{testSuffix, directory.ScopeSub, "(uid=user00042)", 1, 1},
		{testSuffix, directory.ScopeSub, "(UID=USER00042)", 1, 1},
		{testSuffix, directory.ScopeSub, "(&(objectClass=person)(uid=user00042))", 1, 1},
		{testSuffix, directory.ScopeSub, "(&(objectClass=person)(description=*))", users, users},
		{testSuffix, directory.ScopeSub, "(|(uid=user00001)(mail=user00002@example.com))", 2, 2},
		{testSuffix, directory.ScopeSub, "(&(uid=*)(uidNumber=10042))", 1, 1},
		{testSuffix, directory.ScopeSub, "(fooBar=x)", 0, 0},
		{testSuffix, directory.ScopeSub, "(&(fooBar=x)(objectClass=*))", 0, 0},
		{testSuffix, directory.ScopeSub, "(cn=*42*)", users + 2, 20},
		{testSuffix, directory.ScopeSub, "(!(uid=user00042))", users + 2, users + 1},
		{people, directory.ScopeSub, "(cn=*42*)", users + 1, 20}, // not the whole store: no sweep
		{testSuffix, directory.ScopeOne, "(objectClass=*)", 1, 1},
		{testSuffix, directory.ScopeBase, "(objectClass=*)", 1, 1},
		{people, directory.ScopeOne, "(uid=user00042)", 1, 1},
		{people, directory.ScopeBase, "(uid=user00042)", 1, 0},
		{testAlice, directory.ScopeSub, "(objectClass=person)", 1, 1}, // small subtree beats the index
		{testAlice, directory.ScopeOne, "(objectClass=person)", 0, 0},
		{"", directory.ScopeOne, "(objectClass=*)", 0, 0}, // dc=example,dc=com is not depth 1
		{"", directory.ScopeSub, "(uid=user00042)", 1, 1},
	} {
		rows, found := 0, 0
		err := s.db.View(func(raw *bolt.Tx) error {
			btx := newBoltTx(raw)
			tx := &tx{s: s, btx: btx, ctx: t.Context()}
			base, f := directory.MustParseDN(tc.base), mustFilter(t, tc.filter)
			q := tx.newQuery(base, tc.scope, f, func(*directory.Entry) error { found++; return nil })
			err := s.planner.Search(t.Context(), q, base, tc.scope, f)
			rows = q.reads
			return err
		})
		if err != nil || rows != tc.rows || found != tc.found {
			t.Errorf("Search(%q, %s, %s) read %d entries and found %d (%v); want %d and %d",
				tc.base, tc.scope, tc.filter, rows, found, err, tc.rows, tc.found)
		}
	}
}

// TestChildIDsSkipsMissingLevels: one level below the root, the suffix
// dc=example,dc=com lies below the unstored dc=com; listing the root's
// children must skip that subtree with a seek, not walk it.
func TestChildIDsSkipsMissingLevels(t *testing.T) {
	s := openTest(t, populated(t, 100), Options{})
	err := s.db.View(func(btx *bolt.Tx) error {
		if ids, _ := childIDs(newBoltTx(btx), nil, math.MaxInt); len(ids) != 0 {
			t.Errorf("children of the root = %v, want none", ids)
		}
		key, _ := entrycodec.DNKey(directory.MustParseDN(testSuffix))
		if ids, _ := childIDs(newBoltTx(btx), key, math.MaxInt); len(ids) != 1 {
			t.Errorf("children of the suffix = %v, want ou=People", ids)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSynthesizedIndexIgnored: entryDN and hasSubordinates are not stored
// values, so an index configured on them must not answer filters.
func TestSynthesizedIndexIgnored(t *testing.T) {
	path := populated(t, 3)
	s := openTest(t, path, Options{Indexes: []string{"entryDN", "hasSubordinates", "uid"}})
	for _, f := range []string{"(entryDN=" + testAlice + ")", "(&(hasSubordinates=*)(uid=user00001))"} {
		n := 0
		err := s.View(t.Context(), func(tx directory.ReadTx) error {
			return tx.Search(directory.MustParseDN(testSuffix), directory.ScopeSub, mustFilter(t, f),
				func(*directory.Entry) error { n++; return nil })
		})
		if err != nil || n != 1 {
			t.Errorf("Search(%s) = %d entries, %v; want 1", f, n, err)
		}
	}
}

// TestScanScratchNotRetained: a scan matches candidates on a scratch entry
// whose strings view bbolt's memory; what each receives must be its own
// copy, intact after the transaction and the store are gone.
func TestScanScratchNotRetained(t *testing.T) {
	path := populated(t, 300)
	s := openTest(t, path, Options{})
	f, err := directory.ParseFilter("(cn=*1*)", directory.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var got []*directory.Entry
	var want []string
	err = s.View(context.Background(), func(tx directory.ReadTx) error {
		return tx.Search(directory.DN{}, directory.ScopeSub, f, func(e *directory.Entry) error {
			got = append(got, e)
			want = append(want, strings.Clone(e.DN.String()+" "+strings.Join(e.Get("cn"), "|")))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 10 {
		t.Fatalf("only %d matches", len(got))
	}
	// Rewrite every matched entry, then close the store and its mapping.
	err = s.Update(context.Background(), func(tx directory.WriteTx) error {
		for _, e := range got {
			if err := tx.Modify(e.DN, []directory.Change{{Op: directory.ChangeReplace, Attr: "cn", Values: []string{"zzzz"}}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		if g := e.DN.String() + " " + strings.Join(e.Get("cn"), "|"); g != want[i] || !strings.Contains(g, "1") {
			t.Fatalf("entry %d changed after the transaction: %q, was %q", i, g, want[i])
		}
	}
}

// TestSearchBaseRemembered: a pooled read transaction remembers the last
// search base it found, and the next searches still find exactly what
// they would without it: from another base, from a missing one, and
// after a write removed the remembered base.
func TestSearchBaseRemembered(t *testing.T) {
	s := openTest(t, populated(t, 10), Options{})
	people := directory.MustParseDN("ou=People,dc=example,dc=com")
	alice := directory.MustParseDN(testAlice)
	count := func(tx directory.ReadTx, base directory.DN, scope directory.Scope, filter string) (int, error) {
		n := 0
		err := tx.Search(base, scope, mustFilter(t, filter), func(*directory.Entry) error { n++; return nil })
		return n, err
	}
	err := s.View(t.Context(), func(rt directory.ReadTx) error {
		for _, tc := range []struct {
			base  directory.DN
			scope directory.Scope
			want  int
		}{
			{people, directory.ScopeSub, 1}, {people, directory.ScopeSub, 1}, {alice, directory.ScopeSub, 0},
			{directory.MustParseDN(testSuffix), directory.ScopeOne, 0}, {people, directory.ScopeOne, 1},
		} {
			if n, err := count(rt, tc.base, tc.scope, "(uid=user00003)"); err != nil || n != tc.want {
				return fmt.Errorf("search of %s found %d (%v), want %d", tc.base, n, err, tc.want)
			}
		}
		if got := rt.(*tx).btx.base.norm; got != people.Norm() {
			return fmt.Errorf("remembered base %q, want %q", got, people.Norm())
		}
		_, err := count(rt, directory.MustParseDN("uid=nobody,ou=People,dc=example,dc=com"), directory.ScopeBase, "(objectClass=*)")
		if !errors.Is(err, directory.ErrNoSuchObject) {
			return fmt.Errorf("search of a missing base: %v, want no such object", err)
		}
		if n, err := count(rt, alice, directory.ScopeBase, "(objectClass=*)"); err != nil || n != 1 {
			return fmt.Errorf("search of %s found %d (%v), want 1", alice, n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(t.Context(), func(tx directory.WriteTx) error { return tx.Delete(alice) }); err != nil {
		t.Fatal(err)
	}
	err = s.View(t.Context(), func(rt directory.ReadTx) error {
		_, err := count(rt, alice, directory.ScopeBase, "(objectClass=*)")
		return err
	})
	if !errors.Is(err, directory.ErrNoSuchObject) {
		t.Fatalf("search of %s after its deletion: %v, want no such object", alice, err)
	}
}
