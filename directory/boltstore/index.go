package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// indexSet is the shared index definition (directory/internal/indexdef);
// bbolt keeps every attribute's posting lists (postings.go) in a nested
// bucket of idx, without a budget.
type indexSet struct {
	*indexdef.Plan
	// maxChunk is the most ids of a posting chunk: indexdef.MaxChunk,
	// smaller in tests (Options.maxChunk).
	maxChunk int
}

func newIndexSet(s *directory.Schema, attrs []string, maxChunk int) (*indexSet, error) {
	p, err := indexdef.New(s, attrs)
	if err != nil {
		return nil, err
	}
	if maxChunk <= 0 {
		maxChunk = indexdef.MaxChunk
	}
	return &indexSet{Plan: p, maxChunk: maxChunk}, nil
}

// indexKey is one key in the index of an attribute.
type indexKey = indexdef.Key

func compareIndexKeys(a, b indexKey) int { return indexdef.CompareKeys(a, b) }

// keys returns the index keys of entry e stored under id, sorted and
// without duplicates.
func (x *indexSet) keys(e *directory.Entry, id uint64) []indexKey {
	return x.Keys(e, id, indexdef.Budget{})
}

// putIndexKeys adds the ids of keys (indexdef's per-id keys: a prefix
// and an id) to their posting lists. The caller holds a write
// transaction.
func putIndexKeys(tx *boltTx, x *indexSet, keys []indexKey) error {
	return eachIndexBucket(tx, keys, func(b *bolt.Bucket, k []byte) error {
		return postingAdd(b, k[:len(k)-idLen], binary.BigEndian.Uint64(k[len(k)-idLen:]), x.maxChunk)
	})
}

// deleteIndexKeys removes the ids of keys from their posting lists. The
// caller holds a write transaction.
func deleteIndexKeys(tx *boltTx, x *indexSet, keys []indexKey) error {
	return eachIndexBucket(tx, keys, func(b *bolt.Bucket, k []byte) error {
		return postingDelete(b, k[:len(k)-idLen], binary.BigEndian.Uint64(k[len(k)-idLen:]), x.maxChunk)
	})
}

func eachIndexBucket(tx *boltTx, keys []indexKey, fn func(*bolt.Bucket, []byte) error) error {
	var b *bolt.Bucket
	cur := ""
	for _, k := range keys {
		if b == nil || k.Attr != cur {
			cur = k.Attr
			if b = tx.indexBucket(k.Attr); b == nil {
				return fmt.Errorf("index bucket %s is missing", k.Attr)
			}
		}
		if err := fn(b, k.Key); err != nil {
			return fmt.Errorf("index %s: %w", k.Attr, err)
		}
	}
	return nil
}

// updateIndex replaces the index keys of old with those of new, both
// stored under id, touching only the keys that differ. attrs names (as
// canonical names) every attribute type in which old and new may differ;
// the keys of other types are not even computed.
func updateIndex(tx *boltTx, x *indexSet, id uint64, old, new *directory.Entry, attrs []string) error {
	if len(attrs) == 0 {
		return nil
	}
	var del, add []indexKey
	for _, name := range attrs {
		at, ok := x.Schema.Attr(name)
		if !ok || !x.Indexed[at.Name()] {
			continue
		}
		before, after := old.Get(at.Name()), new.Get(at.Name())
		if len(before) > 0 && len(after) == 0 {
			del = append(del, indexKey{Attr: at.Name(), Key: indexdef.PresKey(id)})
		}
		if len(before) == 0 && len(after) > 0 {
			add = append(add, indexKey{Attr: at.Name(), Key: indexdef.PresKey(id)})
		}
		// A value present before and after (byte for byte) keeps its key:
		// only the values that differ are normalized, so a change to one
		// of an entry's 600 memberOf values costs one normalization, not
		// 1,200.
		kept := make(map[string]bool, len(before))
		for _, v := range before {
			kept[v] = true
		}
		for _, v := range after {
			if kept[v] {
				delete(kept, v)
				continue
			}
			if n, ok := at.Normalize(v); ok {
				add = append(add, indexKey{Attr: at.Name(), Key: indexdef.EqKey(n, id)})
			}
		}
		for _, v := range before {
			if !kept[v] {
				continue
			}
			if n, ok := at.Normalize(v); ok {
				del = append(del, indexKey{Attr: at.Name(), Key: indexdef.EqKey(n, id)})
			}
		}
	}
	// Two different values with one norm (a change of case) give the same
	// key on both sides: it stays.
	slices.SortFunc(del, compareIndexKeys)
	slices.SortFunc(add, compareIndexKeys)
	del = slices.CompactFunc(del, func(a, b indexKey) bool { return compareIndexKeys(a, b) == 0 })
	add = slices.CompactFunc(add, func(a, b indexKey) bool { return compareIndexKeys(a, b) == 0 })
	del = slices.DeleteFunc(del, func(k indexKey) bool {
		_, found := slices.BinarySearchFunc(add, k, compareIndexKeys)
		return found
	})
	if err := deleteIndexKeys(tx, x, del); err != nil {
		return err
	}
	return putIndexKeys(tx, x, add)
}

// scanIndex collects the ids of the posting list of prefix in the index
// of attr (see plan.Source.IndexIDs).
func scanIndex(tx *boltTx, attr string, prefix []byte, ids []uint64, limit int) ([]uint64, bool, error) {
	c := tx.indexCursor(attr)
	if c == nil {
		return nil, false, nil
	}
	return scanPostings(c, prefix, ids, limit)
}

// reindex drops every index bucket and rebuilds the configured ones from
// the entries, in one pass that collects every index key in memory, then
// writes each bucket's posting lists in key order. The caller holds a
// write transaction.
func reindex(tx *bolt.Tx, x *indexSet) error {
	idx := tx.Bucket(bucketIndex)
	var old [][]byte
	if err := idx.ForEachBucket(func(k []byte) error { old = append(old, bytes.Clone(k)); return nil }); err != nil {
		return err
	}
	for _, name := range old {
		if err := idx.DeleteBucket(name); err != nil {
			return err
		}
	}
	keys := make(map[string][][]byte, len(x.Names))
	var arena []byte
	err := tx.Bucket(bucketEntries).ForEach(func(k, v []byte) error {
		id, err := parseID(k)
		if err != nil {
			return err
		}
		e, err := entrycodec.Decode(v)
		if err != nil {
			return fmt.Errorf("entry %d: %w", id, err)
		}
		for _, ik := range x.keys(e, id) {
			if len(arena)+len(ik.Key) > cap(arena) {
				arena = make([]byte, 0, max(1<<20, len(ik.Key)))
			}
			arena = append(arena, ik.Key...)
			keys[ik.Attr] = append(keys[ik.Attr], arena[len(arena)-len(ik.Key):len(arena):len(arena)])
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range x.Names {
		b, err := idx.CreateBucket([]byte(name))
		if err != nil {
			return err
		}
		b.FillPercent = bulkFill
		ks := keys[name]
		slices.SortFunc(ks, bytes.Compare)
		a := newAppender(b, x.maxChunk)
		for _, k := range ks {
			if err := a.add(k); err != nil {
				return fmt.Errorf("index %s: %w", name, err)
			}
		}
		if err := a.flush(); err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
		delete(keys, name)
	}
	return nil
}
