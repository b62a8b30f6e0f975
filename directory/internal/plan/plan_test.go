package plan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// memSource is a Source over entries held in memory, with the index keys
// indexdef gives them. It records every read the planner asks for, so a
// test can tell which index (or scan) answered a search.
type memSource struct {
	idx     *indexdef.Plan
	budget  indexdef.Budget
	entries map[uint64]*directory.Entry
	order   []uint64 // ids in insertion order
	keys    map[string][][]byte
	reads   []string // "uid =user007", "uid *", "children", "subtree 64", "scan"
	// per search
	base    directory.DN
	scope   directory.Scope
	f       *directory.Filter
	visits  int
	scoped  int // visits with checkScope
	found   int
	stopAt  int // Visit returns ErrStop at this many matches (0: never)
	visited []uint64
}

func newMemSource(t *testing.T, budget indexdef.Budget, dns ...string) *memSource {
	t.Helper()
	idx, err := indexdef.New(directory.Builtin(), []string{"objectClass", "uid", "cn", "mail", "uidNumber"})
	if err != nil {
		t.Fatal(err)
	}
	m := &memSource{idx: idx, budget: budget, entries: map[uint64]*directory.Entry{}, keys: map[string][][]byte{}}
	for _, dn := range dns {
		m.add(directory.MustParseDN(dn))
	}
	return m
}

// add stores an entry for dn: a person for uid=..., an organizationalUnit
// otherwise.
func (m *memSource) add(dn directory.DN) *directory.Entry {
	e := directory.NewEntry(dn)
	if uid, ok := dn.RDN().Value("uid"); ok {
		e.Set("objectClass", "top", "person", "inetOrgPerson")
		e.Set("uid", uid)
		e.Set("cn", "User "+uid)
		e.Set("sn", uid)
		e.Set("mail", uid+"@example.com")
	} else {
		e.Set("objectClass", "top", "organizationalUnit")
	}
	id := uint64(len(m.order) + 1)
	m.entries[id] = e
	m.order = append(m.order, id)
	for _, k := range m.idx.Keys(e, id, m.budget) {
		m.keys[k.Attr] = append(m.keys[k.Attr], k.Key)
	}
	for _, ks := range m.keys {
		slices.SortFunc(ks, bytes.Compare)
	}
	return e
}

func (m *memSource) byKey(key []byte) (directory.DN, bool) {
	if key == nil {
		return directory.DN{}, true
	}
	for _, e := range m.entries {
		if e.DN.Norm() == string(key) {
			return e.DN, true
		}
	}
	return directory.DN{}, false
}

func (m *memSource) Lookup(dn directory.DN) (uint64, []byte, error) {
	for _, id := range m.order {
		if m.entries[id].DN.Equal(dn) {
			return id, []byte(dn.Norm()), nil
		}
	}
	return 0, nil, directory.NoSuchObject(dn, directory.DN{})
}

func (m *memSource) IndexIDs(attr string, prefix []byte, ids []uint64, limit int) ([]uint64, bool, error) {
	m.reads = append(m.reads, attr+" "+strings.TrimSuffix(string(prefix), "\x00"))
	for _, k := range m.keys[attr] {
		if !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+indexdef.IDLen {
			continue
		}
		if len(ids) >= limit {
			return nil, false, nil
		}
		id, _ := indexdef.KeyID(k)
		ids = append(ids, id)
	}
	return ids, true, nil
}

func (m *memSource) under(key []byte, depth int, max int) ([]uint64, bool) {
	base, _ := m.byKey(key)
	var ids []uint64
	for _, id := range m.order {
		dn := m.entries[id].DN
		if !dn.IsDescendantOf(base) || (depth > 0 && dn.Depth() != base.Depth()+depth) {
			continue
		}
		if len(ids) == max {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

func (m *memSource) ChildIDs(key []byte, max int) ([]uint64, bool, error) {
	m.reads = append(m.reads, fmt.Sprintf("children %d", max))
	ids, ok := m.under(key, 1, max)
	return ids, ok, nil
}

func (m *memSource) SubtreeIDs(key []byte, max int) ([]uint64, bool, error) {
	m.reads = append(m.reads, fmt.Sprintf("subtree %d", max))
	ids, ok := m.under(key, 0, max)
	return ids, ok, nil
}

// ScanSubtree hands out the subtree in chunks of two.
func (m *memSource) ScanSubtree(key, from []byte, ids []uint64) ([]uint64, []byte, error) {
	if from == nil {
		m.reads = append(m.reads, "scan")
	}
	all, _ := m.under(key, 0, -1)
	i, _ := strconv.Atoi(string(from))
	ids = append(ids, all[i:min(i+2, len(all))]...)
	if i+2 >= len(all) {
		return ids, nil, nil
	}
	return ids, []byte(strconv.Itoa(i + 2)), nil
}

func (m *memSource) Visit(id uint64, checkScope bool) error {
	m.visits++
	m.visited = append(m.visited, id)
	if checkScope {
		m.scoped++
	}
	e, ok := m.entries[id]
	if !ok || (checkScope && !m.scope.InScope(m.base, e.DN)) || !m.f.Match(e) {
		return nil
	}
	m.found++
	if m.found == m.stopAt {
		return directory.ErrStop
	}
	return nil
}

// search runs one search and returns the reads it made.
func (m *memSource) search(t *testing.T, p *Planner, base string, scope directory.Scope, filter string) []string {
	t.Helper()
	f, err := directory.ParseFilter(filter, directory.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	m.base, m.scope, m.f = directory.MustParseDN(base), scope, f
	m.reads, m.visits, m.scoped, m.found, m.visited = nil, 0, 0, 0, nil
	if err := p.Search(t.Context(), m, m.base, scope, f); err != nil {
		t.Fatalf("Search(%q, %s, %s): %v", base, scope, filter, err)
	}
	return m.reads
}

const (
	suffix = "dc=example,dc=com"
	people = "ou=People," + suffix
	small  = "ou=Small," + suffix
)

// tree is the suffix, ou=People with users users, and ou=Small with 3.
func tree(t *testing.T, budget indexdef.Budget, users int) *memSource {
	dns := []string{suffix, people, small}
	for i := range users {
		dns = append(dns, fmt.Sprintf("uid=user%03d,%s", i, people))
	}
	for i := range 3 {
		dns = append(dns, fmt.Sprintf("uid=small%d,%s", i, small))
	}
	return newMemSource(t, budget, dns...)
}

// TestIndexChoice pins which index answers each kind of filter, and when
// the planner falls back to scanning the scope.
func TestIndexChoice(t *testing.T) {
	m := tree(t, indexdef.Budget{}, 100)
	p := &Planner{Index: m.idx}
	for _, tc := range []struct {
		filter string
		reads  []string
		visits int
		found  int
	}{
		// Equality and presence read their index; the root's subtree is
		// everything, so the index answer is used as it is.
		{"(uid=user007)", []string{"uid =user007"}, 1, 1},
		{"(UID=USER007)", []string{"uid =user007"}, 1, 1},
		{"(mail=*)", []string{"mail *"}, 103, 103},
		// AND: equality children first, each later child only up to the
		// size of the best answer so far (cn=* is asked for 0 ids here:
		// uid answered with one).
		{"(&(cn=*)(uid=user007))", []string{"uid =user007", "cn *"}, 1, 1},
		{"(&(mail=*)(uid=nobody))", []string{"uid =nobody"}, 0, 0},
		{"(&(description=x)(uid=user007))", []string{"uid =user007"}, 1, 0},
		// OR: the union of its children; one unindexed child scans.
		{"(|(uid=user001)(mail=user002@example.com))", []string{"uid =user001", "mail =user002@example.com"}, 2, 2},
		{"(|(uid=user001)(description=x))", []string{"uid =user001", "scan"}, 106, 1},
		// Never from the indexes: NOT, substrings, ordering, presence of
		// objectClass, unindexed attributes.
		{"(!(uid=user007))", []string{"scan"}, 106, 105},
		{"(cn=*user00*)", []string{"scan"}, 106, 10},
		{"(uidNumber>=5)", []string{"scan"}, 106, 0},
		{"(objectClass=*)", []string{"scan"}, 106, 106},
		{"(description=x)", []string{"scan"}, 106, 0},
		// An attribute the schema does not know is Undefined: no
		// candidates, no reads.
		{"(fooBar=x)", nil, 0, 0},
		{"(&(fooBar=x)(objectClass=*))", nil, 0, 0},
	} {
		reads := m.search(t, p, "", directory.ScopeSub, tc.filter)
		if !slices.Equal(reads, tc.reads) || m.visits != tc.visits || m.found != tc.found {
			t.Errorf("%s: reads %q, %d visits, %d found; want %q, %d, %d",
				tc.filter, reads, m.visits, m.found, tc.reads, tc.visits, tc.found)
		}
	}
}

// TestLimits: below a base, the indexes and the scope are both asked for
// at most limit ids (64, then 512, ...) and the first that fits is used.
func TestLimits(t *testing.T) {
	m := tree(t, indexdef.Budget{}, 100)
	p := &Planner{Index: m.idx}
	for _, tc := range []struct {
		base   string
		scope  directory.Scope
		filter string
		reads  []string
		scoped bool // the index answered (candidates' scope re-checked)
		visits int
		found  int
	}{
		// One uid: the index fits at once.
		{people, directory.ScopeOne, "(uid=user042)", []string{"uid =user042"}, true, 1, 1},
		// ou=Small is smaller than the objectClass=person index.
		{small, directory.ScopeSub, "(objectClass=person)", []string{"objectClass =person", "subtree 63"}, false, 4, 3},
		{small, directory.ScopeOne, "(objectClass=person)", []string{"objectClass =person", "children 64"}, false, 3, 3},
		// ou=People is not: neither fits in 64, the index fits in 512 first.
		{people, directory.ScopeOne, "(objectClass=person)",
			[]string{"objectClass =person", "children 64", "objectClass =person"}, true, 103, 100},
		// Unindexed below a base: the scope, in full.
		{people, directory.ScopeOne, "(description=x)", []string{"children " + fmt.Sprint(maxInt)}, false, 100, 0},
		{small, directory.ScopeSub, "(description=x)", []string{"scan"}, false, 4, 0},
		// Scope base reads the base alone.
		{people, directory.ScopeBase, "(uid=user042)", nil, false, 1, 0},
		{"", directory.ScopeBase, "(objectClass=*)", nil, false, 0, 0},
	} {
		reads := m.search(t, p, tc.base, tc.scope, tc.filter)
		if !slices.Equal(reads, tc.reads) || (m.scoped > 0) != tc.scoped || m.visits != tc.visits || m.found != tc.found {
			t.Errorf("%s %s %s: reads %q, %d visits (%d scope-checked), %d found; want %q, %d (checked: %v), %d",
				tc.base, tc.scope, tc.filter, reads, m.visits, m.scoped, m.found, tc.reads, tc.visits, tc.scoped, tc.found)
		}
	}
}

const maxInt = int(^uint(0) >> 1)

// TestOverflow: with overflow keys (etcdstore's budget), an equality
// lookup also reads the attribute's overflow ids, and finds an entry
// whose values are not indexed one by one.
func TestOverflow(t *testing.T) {
	m := tree(t, indexdef.Budget{MaxValues: 2, MaxKeys: 56}, 3)
	e := m.add(directory.MustParseDN("uid=many," + people))
	e.Set("cn", "a", "b", "c") // only the budget saw the keys: re-add below
	m.keys = map[string][][]byte{}
	for id, e := range m.entries {
		for _, k := range m.idx.Keys(e, id, m.budget) {
			m.keys[k.Attr] = append(m.keys[k.Attr], k.Key)
		}
	}
	for _, ks := range m.keys {
		slices.SortFunc(ks, bytes.Compare)
	}
	p := &Planner{Index: m.idx, Overflow: true}
	reads := m.search(t, p, "", directory.ScopeSub, "(cn=b)")
	if want := []string{"cn =b", "cn !"}; !slices.Equal(reads, want) || m.found != 1 {
		t.Errorf("(cn=b): reads %q, found %d; want %q and 1", reads, m.found, want)
	}
	if reads := m.search(t, &Planner{Index: m.idx}, "", directory.ScopeSub, "(cn=b)"); len(reads) != 1 || m.found != 0 {
		t.Errorf("without Overflow, (cn=b) read %q and found %d; want one read and nothing", reads, m.found)
	}
}

// TestStopAndCancel: ErrStop from Visit ends the search quietly; a
// cancelled context ends a long one with its error.
func TestStopAndCancel(t *testing.T) {
	m := tree(t, indexdef.Budget{}, 300)
	p := &Planner{Index: m.idx}
	m.stopAt = 5
	m.search(t, p, "", directory.ScopeSub, "(objectClass=*)")
	if m.found != 5 {
		t.Errorf("ErrStop at 5 matches: %d found", m.found)
	}
	m.stopAt = 0
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f, _ := directory.ParseFilter("(objectClass=*)", directory.Builtin())
	m.f, m.base, m.scope, m.visits = f, directory.DN{}, directory.ScopeSub, 0
	if err := p.Search(ctx, m, directory.DN{}, directory.ScopeSub, f); !errors.Is(err, context.Canceled) || m.visits >= 300 {
		t.Errorf("cancelled search: %v after %d visits; want context.Canceled within %d", err, m.visits, CtxEvery)
	}
	var nso *directory.Error
	if err := p.Search(t.Context(), m, directory.MustParseDN("ou=missing,"+suffix), directory.ScopeSub, f); !errors.As(err, &nso) {
		t.Errorf("search below a missing base: %v, want a directory.Error", err)
	}
}

// sweepSource is a memSource that can sweep when able is set: when the
// subtree of key is every entry it visits them all in id order, as
// boltstore's read transactions do.
type sweepSource struct {
	*memSource
	able   bool
	sweeps []string // the DN keys Sweep was asked about
	swept  bool
}

func (s *sweepSource) Sweep(ctx context.Context, key []byte) (bool, error) {
	s.sweeps = append(s.sweeps, string(key))
	below, _ := s.under(key, 0, -1) // strictly below
	if key != nil {
		below = append(below, 0) // and the base
	}
	if !s.able || len(below) != len(s.order) {
		return false, nil
	}
	s.swept = true
	for _, id := range s.order {
		if err := ctx.Err(); err != nil {
			return true, err
		}
		if err := s.Visit(id, false); err != nil {
			return true, err
		}
	}
	return true, nil
}

// TestSweep: an unindexed subtree scan asks a Sweeper first and takes its
// pass when it gives one, the chunked scan when it declines (same
// matches either way); index answers and other scopes never sweep.
func TestSweep(t *testing.T) {
	m := tree(t, indexdef.Budget{}, 20)
	p := &Planner{Index: m.idx}
	for _, tc := range []struct {
		base, filter string
		scope        directory.Scope
		asked, whole bool // Sweep is asked; the subtree is the whole store
	}{
		{suffix, "(cn=*1*)", directory.ScopeSub, true, true},
		{"", "(cn=*1*)", directory.ScopeSub, true, true},
		{people, "(cn=*1*)", directory.ScopeSub, true, false},
		{suffix, "(uid=user001)", directory.ScopeSub, false, true},
		{people, "(cn=*1*)", directory.ScopeOne, false, false},
	} {
		want := -1
		for _, able := range []bool{false, true} {
			s := &sweepSource{memSource: m, able: able}
			f, err := directory.ParseFilter(tc.filter, directory.Builtin())
			if err != nil {
				t.Fatal(err)
			}
			m.base, m.scope, m.f = directory.MustParseDN(tc.base), tc.scope, f
			m.reads, m.visits, m.found = nil, 0, 0
			if err := p.Search(t.Context(), s, m.base, tc.scope, f); err != nil {
				t.Fatal(err)
			}
			if asked := len(s.sweeps) > 0; asked != tc.asked {
				t.Errorf("%s %s %s: Sweep asked %v, want %v", tc.base, tc.scope, tc.filter, asked, tc.asked)
			}
			swept := tc.asked && tc.whole && able
			if s.swept != swept {
				t.Errorf("%s %s: swept %v, want %v", tc.base, tc.filter, s.swept, swept)
			}
			if scanned := slices.Contains(m.reads, "scan"); scanned == swept && tc.asked {
				t.Errorf("%s %s: swept %v and scanned in chunks %v", tc.base, tc.filter, swept, scanned)
			}
			if swept && m.visits != len(m.order) {
				t.Errorf("%s %s: the sweep visited %d of %d entries", tc.base, tc.filter, m.visits, len(m.order))
			}
			if want >= 0 && m.found != want {
				t.Errorf("%s %s %s: %d found when swept, %d when not", tc.base, tc.scope, tc.filter, m.found, want)
			}
			want = m.found
		}
	}
}
