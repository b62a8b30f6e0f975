package etcdstore

import (
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

// indexSet is the shared index definition (directory/internal/indexdef);
// etcd keeps an attribute's keys under P "i/" attr "/", within the budget
// above.
type indexSet struct{ *indexdef.Plan }

// indexKey is one key in the index of an attribute.
type indexKey = indexdef.Key

func compareIndexKeys(a, b indexKey) int { return indexdef.CompareKeys(a, b) }

// keys returns the index keys of entry e stored under id, sorted and
// without duplicates, within the budget above.
func (x *indexSet) keys(e *directory.Entry, id uint64) []indexKey {
	return x.Keys(e, id, indexdef.Budget{MaxValues: maxValuesPerAttr, MaxKeys: maxKeysPerEntry})
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
