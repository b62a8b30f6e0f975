package boltstore

import (
	"context"
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
			q := &countingQuery{query: tx.newQuery(base, tc.scope, f, func(*directory.Entry) error { found++; return nil })}
			err := s.planner.Search(t.Context(), q, base, tc.scope, f)
			rows = q.rows
			return err
		})
		if err != nil || rows != tc.rows || found != tc.found {
			t.Errorf("Search(%q, %s, %s) read %d entries and found %d (%v); want %d and %d",
				tc.base, tc.scope, tc.filter, rows, found, err, tc.rows, tc.found)
		}
	}
}

// countingQuery counts the entries a search reads.
type countingQuery struct {
	*query
	rows int
}

func (q *countingQuery) Visit(id uint64, checkScope bool) error {
	q.rows++
	return q.query.Visit(id, checkScope)
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
