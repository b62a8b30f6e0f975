package etcdstore

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// Index budget. etcd refuses a Txn of more than 128 operations by default
// (--max-txn-ops), and every index key is one operation. So that a write
// of one entry always fits, the index keys of an entry are bounded:
//
//   - an attribute with more than maxValuesPerAttr indexable values (a large
//     group's member, a busy account's memberOf) gets one overflow key
//     ('!' id) instead of one equality key per value;
//   - if an entry still has more than maxKeysPerEntry index keys, its
//     attributes with the most values overflow too, largest first.
//
// An equality lookup on attr reads the equality keys of the value and the
// overflow ids of attr, and Filter.Match re-checks every candidate, so an
// overflowed entry is still found: it only costs a read per lookup. With
// maxKeysPerEntry = 56, the worst single-entry writes are
//
//	Add     1 entry + 1 dn + 56 index + 1 fence                      =  59 ops
//	Delete  the same                                                 =  59 ops
//	Modify  1 entry + 56 deleted + 56 added index keys + 1 fence    = 114 ops
//	Rename  (leaf) 1 entry + 2 dn + 1 fence                          =   4 ops
//
// all within 128, whatever the entry's size. A large group's Modify that
// adds or removes members touches only the entry (already overflowed) or
// the changed values' keys. What stays unbounded is the entry value itself:
// an entry must encode to less than Options.MaxTxnBytes (1.5 MiB by
// default, some 20,000 member DNs); a larger one fails with ErrTxnTooLarge
// and nothing is written.
const (
	maxValuesPerAttr = 32
	maxKeysPerEntry  = 56
)

// indexSet is the shared index definition (directory/internal/indexdef)
// with this backend's keys.
type indexSet struct{ *indexdef.Plan }

func newIndexSet(s *directory.Schema, attrs []string) (*indexSet, error) {
	p, err := indexdef.New(s, attrs)
	if err != nil {
		return nil, err
	}
	return &indexSet{p}, nil
}

func (x *indexSet) signature() string { return x.Signature() }

// indexKey is one key in the index of an attribute.
type indexKey = indexdef.Key

func compareIndexKeys(a, b indexKey) int { return indexdef.CompareKeys(a, b) }

// keys returns the index keys of entry e stored under id, sorted and
// without duplicates, within the budget above.
func (x *indexSet) keys(e *directory.Entry, id uint64) []indexKey {
	type attrKeys struct {
		name string
		eq   [][]byte
	}
	var per []*attrKeys
	byName := map[string]*attrKeys{}
	for _, a := range e.Attrs {
		at, ok := x.Schema.Attr(a.Name)
		if !ok || !x.Indexed[at.Name()] || len(a.Values) == 0 {
			continue
		}
		ak := byName[at.Name()]
		if ak == nil {
			ak = &attrKeys{name: at.Name()}
			byName[at.Name()] = ak
			per = append(per, ak)
		}
		for _, v := range a.Values {
			if n, ok := at.Normalize(v); ok {
				ak.eq = append(ak.eq, eqKey(n, id))
			}
		}
	}
	total := 0
	for _, ak := range per {
		slices.SortFunc(ak.eq, bytes.Compare)
		ak.eq = slices.CompactFunc(ak.eq, bytes.Equal)
		total += 1 + len(ak.eq)
	}
	overflow := map[string]bool{}
	for _, ak := range per {
		if len(ak.eq) > maxValuesPerAttr {
			overflow[ak.name] = true
			total -= len(ak.eq) - 1
		}
	}
	if total > maxKeysPerEntry {
		bySize := slices.Clone(per)
		slices.SortFunc(bySize, func(a, b *attrKeys) int {
			return cmp.Or(cmp.Compare(len(b.eq), len(a.eq)), strings.Compare(a.name, b.name))
		})
		for _, ak := range bySize {
			if total <= maxKeysPerEntry || len(ak.eq) <= 1 {
				break
			}
			if !overflow[ak.name] {
				overflow[ak.name] = true
				total -= len(ak.eq) - 1
			}
		}
	}
	var out []indexKey
	for _, ak := range per {
		out = append(out, indexKey{Attr: ak.name, Key: presKey(id)})
		if overflow[ak.name] {
			out = append(out, indexKey{Attr: ak.name, Key: overflowKey(id)})
			continue
		}
		for _, k := range ak.eq {
			out = append(out, indexKey{Attr: ak.name, Key: k})
		}
	}
	slices.SortFunc(out, compareIndexKeys)
	return slices.CompactFunc(out, func(a, b indexKey) bool { return compareIndexKeys(a, b) == 0 })
}

// diffKeys returns the keys of before that are not in after (del) and
// those of after not in before (add); both inputs are sorted.
func diffKeys(before, after []indexKey) (del, add []indexKey) {
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case j == len(after) || (i < len(before) && compareIndexKeys(before[i], after[j]) < 0):
			del = append(del, before[i])
			i++
		case i == len(before) || compareIndexKeys(before[i], after[j]) > 0:
			add = append(add, after[j])
			j++
		default:
			i++
			j++
		}
	}
	return del, add
}
