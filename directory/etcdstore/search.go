package etcdstore

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/plan"
)

// Search planning is directory/internal/plan's (boltstore's too); query
// is its Source over one etcd transaction, and an equality lookup also
// takes the attribute's overflow ids (index.go).
//
// Every etcd read is a round trip, so the costs differ from bbolt's: a
// candidate costs one read, and a one-level scope is found by reading the
// whole subtree's dn keys (keys and 8-byte values, 512 per request).

// Search calls each for the entries in scope that match f.
func (t *tx) Search(base directory.DN, scope directory.Scope, f *directory.Filter, each func(*directory.Entry) error) error {
	if err := t.check(); err != nil {
		return err
	}
	if f == nil {
		return directory.Errorf(directory.ErrUnwillingToPerform, "search without a filter")
	}
	return t.s.planner.Search(t.ctx, &query{t: t, base: base, scope: scope, f: f, each: each}, base, scope, f)
}

// query is one search's plan.Source.
type query struct {
	t     *tx
	base  directory.DN
	scope directory.Scope
	f     *directory.Filter
	each  func(*directory.Entry) error
}

var _ plan.Source = (*query)(nil)

func (q *query) Lookup(dn directory.DN) (uint64, []byte, error) { return q.t.lookup(dn) }

func (q *query) IndexIDs(attr string, prefix []byte, ids []uint64, limit int) ([]uint64, bool, error) {
	return q.t.scanIndex(attr, prefix, ids, limit)
}

func (q *query) ChildIDs(key []byte, max int) ([]uint64, bool, error) { return q.t.childIDs(key, max) }

func (q *query) SubtreeIDs(key []byte, max int) ([]uint64, bool, error) {
	return q.t.subtreeIDs(key, max)
}

// ScanSubtree reads the ids of the whole subtree in one chunk.
func (q *query) ScanSubtree(key, _ []byte, _ []uint64) ([]uint64, []byte, error) {
	ids, _, err := q.t.subtreeIDs(key, math.MaxInt)
	return ids, nil, err
}

// Visit reads one candidate and calls each if it is in scope and matches.
func (q *query) Visit(id uint64, checkScope bool) error {
	raw, ok, err := q.t.get(q.t.s.keys.entry(id))
	if err != nil {
		return err
	}
	if !ok {
		return nil // deleted by an earlier callback in this transaction
	}
	e, err := entrycodec.Decode(raw)
	if err != nil {
		return err
	}
	if checkScope && !q.scope.InScope(q.base, e.DN) {
		return nil
	}
	if !q.f.Match(e) {
		return nil
	}
	return q.each(e)
}

// childIDs returns the ids of the children of the entry with dn key (the
// depth-1 entries for the root) and whether there are at most max of them.
// It reads the dn keys of the whole subtree.
func (t *tx) childIDs(key []byte, max int) ([]uint64, bool, error) {
	prefix := t.s.keys.dn(entrycodec.SubtreePrefix(key))
	kvs, _, err := t.scan(prefix, prefixEnd(prefix), 0, false)
	if err != nil {
		return nil, false, err
	}
	var ids []uint64
	for _, x := range kvs {
		if bytes.IndexByte([]byte(x.key[len(prefix):]), 0) >= 0 {
			continue
		}
		if len(ids) == max {
			return nil, false, nil
		}
		if id, err := parseID(x.val); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, true, nil
}

// subtreeIDs returns the ids of the entries strictly below the entry with
// dn key (every entry for the root), and whether there are at most max.
func (t *tx) subtreeIDs(key []byte, max int) ([]uint64, bool, error) {
	prefix := t.s.keys.dn(entrycodec.SubtreePrefix(key))
	kvs, complete, err := t.scan(prefix, prefixEnd(prefix), scanLimit(max), false)
	if err != nil || !complete {
		return nil, false, err
	}
	ids := make([]uint64, 0, len(kvs))
	for _, x := range kvs {
		if id, err := parseID(x.val); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, true, nil
}

// scanLimit turns a "at most max" bound into scan's limit (0: all).
func scanLimit(max int) int {
	switch {
	case max == math.MaxInt:
		return 0
	case max < 1:
		return 1 // scan needs a positive limit; callers re-check the count
	}
	return max
}

// scanIndex appends to ids the ids of the index keys of attr made of rest
// and an id (longer keys sharing the prefix belong to other values). It
// reports false when ids would hold more than limit values.
func (t *tx) scanIndex(attr string, rest []byte, ids []uint64, limit int) ([]uint64, bool, error) {
	prefix := t.s.keys.index(attr) + string(rest)
	room := math.MaxInt
	if limit != math.MaxInt {
		room = limit - len(ids)
	}
	kvs, complete, err := t.scan(prefix, prefixEnd(prefix), scanLimit(room), true)
	if err != nil || !complete || len(kvs) > room {
		return nil, false, err
	}
	for _, x := range kvs {
		if len(x.key) != len(prefix)+idLen {
			continue
		}
		ids = append(ids, binary.BigEndian.Uint64([]byte(x.key[len(prefix):])))
	}
	return ids, true, nil
}
