package etcdstore

import (
	"bytes"
	"errors"
	"math"
	"slices"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
)

// Search planning is boltstore's (see directory/boltstore/search.go): find
// candidate ids from the indexes or from the scope, whichever is smaller,
// asking both for at most limit ids with limit growing eightfold, then read
// each candidate and re-check scope and the whole filter with
// Filter.Match. An equality lookup also takes the attribute's overflow ids
// (index.go). Candidate ids are collected before any callback runs, so a
// callback may write through the same WriteTx.
//
// Every etcd read is a round trip, so the costs differ from bbolt's: a
// candidate costs one read, and a one-level scope is found by reading the
// whole subtree's dn keys (keys and 8-byte values, 512 per request).
const (
	firstLimit = 64
	ctxEvery   = 256
)

// Search calls each for the entries in scope that match f.
func (t *tx) Search(base directory.DN, scope directory.Scope, f *directory.Filter, each func(*directory.Entry) error) error {
	if err := t.check(); err != nil {
		return err
	}
	if f == nil {
		return directory.Errorf(directory.ErrUnwillingToPerform, "search without a filter")
	}
	q := &query{t: t, base: base, scope: scope, f: f, each: each}
	err := q.run()
	if errors.Is(err, directory.ErrStop) {
		return nil
	}
	return err
}

type query struct {
	t     *tx
	base  directory.DN
	scope directory.Scope
	f     *directory.Filter
	each  func(*directory.Entry) error
	rows  int
}

func (q *query) run() error {
	var baseID uint64
	var baseKey []byte
	if !q.base.IsRoot() {
		var err error
		if baseID, baseKey, err = q.t.lookup(q.base); err != nil {
			return err
		}
	}
	switch q.scope {
	case directory.ScopeBase:
		if q.base.IsRoot() {
			return nil
		}
		return q.visit(baseID, false)
	case directory.ScopeOne:
		return q.plan(func(limit int) ([]uint64, bool, error) { return q.t.childIDs(baseKey, limit) }, func() error {
			ids, _, err := q.t.childIDs(baseKey, math.MaxInt)
			if err != nil {
				return err
			}
			return q.visitAll(ids, false)
		})
	case directory.ScopeSub:
		scanAll := func() error {
			ids, _, err := q.t.subtreeIDs(baseKey, math.MaxInt)
			if err != nil {
				return err
			}
			if !q.base.IsRoot() {
				ids = append([]uint64{baseID}, ids...)
			}
			return q.visitAll(ids, false)
		}
		if q.base.IsRoot() {
			return q.plan(nil, scanAll)
		}
		return q.plan(func(limit int) ([]uint64, bool, error) {
			ids, ok, err := q.t.subtreeIDs(baseKey, limit-1)
			return append([]uint64{baseID}, ids...), ok, err
		}, scanAll)
	}
	return directory.Errorf(directory.ErrUnwillingToPerform, "invalid search scope "+q.scope.String())
}

// plan chooses between the indexes and the scope. scopeIDs lists up to
// limit ids of the scope and reports whether that is all of it; nil means
// the scope is the whole tree.
func (q *query) plan(scopeIDs func(limit int) ([]uint64, bool, error), scanAll func() error) error {
	for limit := firstLimit; ; limit = grow(limit) {
		if scopeIDs == nil {
			limit = math.MaxInt
		}
		ids, st, err := q.candidates(q.f, limit)
		if err != nil {
			return err
		}
		switch st {
		case answered:
			return q.visitAll(ids, scopeIDs != nil)
		case unindexed:
			return scanAll()
		}
		if scopeIDs == nil {
			return scanAll()
		}
		ids, complete, err := scopeIDs(limit)
		if err != nil {
			return err
		}
		if complete {
			return q.visitAll(ids, false)
		}
	}
}

func grow(limit int) int {
	if limit > math.MaxInt/8 {
		return math.MaxInt
	}
	return limit * 8
}

func (q *query) visitAll(ids []uint64, checkScope bool) error {
	for _, id := range ids {
		if err := q.visit(id, checkScope); err != nil {
			return err
		}
	}
	return nil
}

// visit reads one candidate and calls each if it is in scope and matches.
func (q *query) visit(id uint64, checkScope bool) error {
	q.rows++
	if q.rows%ctxEvery == 0 {
		if err := q.t.ctx.Err(); err != nil {
			return err
		}
	}
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
		ids = append(ids, uint64FromKey(x.key))
	}
	return ids, true, nil
}

func uint64FromKey(k string) uint64 {
	var id uint64
	for i := len(k) - idLen; i < len(k); i++ {
		id = id<<8 | uint64(k[i])
	}
	return id
}

type answer uint8

const (
	answered answer = iota
	tooMany
	unindexed
)

// candidates returns, sorted and without duplicates, the ids of a superset
// of the entries that can match f, if the indexes can answer f with at most
// limit ids (boltstore's rules, plus overflow ids for equality).
func (q *query) candidates(f *directory.Filter, limit int) ([]uint64, answer, error) {
	x := q.t.s.idx
	var names []string
	var lookup func(name string, ids []uint64) ([]uint64, bool, error)
	switch f.Kind {
	case directory.FilterEquality:
		attr, norm, ok := f.EqualityKey()
		if !ok {
			return nil, answered, nil
		}
		if names, ok = x.EqQuery[attr]; !ok || synthesized(attr) {
			return nil, unindexed, nil
		}
		lookup = func(name string, ids []uint64) ([]uint64, bool, error) {
			ids, ok, err := q.t.scanIndex(name, eqPrefix(norm), ids, limit)
			if err != nil || !ok {
				return nil, ok, err
			}
			return q.t.scanIndex(name, []byte{prefixOverflow}, ids, limit)
		}
	case directory.FilterPresent:
		at := f.Attribute()
		if at == nil {
			return nil, answered, nil
		}
		var ok bool
		if names, ok = x.PresQuery[at.Name()]; !ok || synthesized(at.Name()) || at.Name() == "objectClass" {
			return nil, unindexed, nil
		}
		lookup = func(name string, ids []uint64) ([]uint64, bool, error) {
			return q.t.scanIndex(name, []byte{prefixPres}, ids, limit)
		}
	case directory.FilterSubstrings, directory.FilterGreaterOrEqual, directory.FilterLessOrEqual, directory.FilterApprox:
		if f.Attribute() == nil {
			return nil, answered, nil
		}
		return nil, unindexed, nil
	case directory.FilterAnd:
		return q.andCandidates(f, limit)
	case directory.FilterOr:
		return q.orCandidates(f, limit)
	default:
		return nil, unindexed, nil
	}
	var ids []uint64
	for _, name := range names {
		var ok bool
		var err error
		if ids, ok, err = lookup(name, ids); err != nil {
			return nil, 0, err
		} else if !ok {
			return nil, tooMany, nil
		}
	}
	return sortUnique(ids), answered, nil
}

func (q *query) andCandidates(f *directory.Filter, limit int) ([]uint64, answer, error) {
	var best []uint64
	res := unindexed
	try := func(c *directory.Filter) error {
		lim := limit
		if res == answered {
			if lim = len(best) - 1; lim < 0 {
				return nil
			}
		}
		ids, st, err := q.candidates(c, lim)
		switch {
		case err != nil:
			return err
		case st == answered:
			best, res = ids, answered
		case st == tooMany && res == unindexed:
			res = tooMany
		}
		return nil
	}
	for _, c := range f.Children {
		if c.Kind == directory.FilterEquality {
			if err := try(c); err != nil {
				return nil, 0, err
			}
		}
	}
	for _, c := range f.Children {
		if c.Kind != directory.FilterEquality {
			if err := try(c); err != nil {
				return nil, 0, err
			}
		}
	}
	return best, res, nil
}

func (q *query) orCandidates(f *directory.Filter, limit int) ([]uint64, answer, error) {
	var ids []uint64
	res := answered
	for _, c := range f.Children {
		cids, st, err := q.candidates(c, limit)
		if err != nil {
			return nil, 0, err
		}
		switch st {
		case unindexed:
			return nil, unindexed, nil
		case tooMany:
			res = tooMany
		case answered:
			if res == answered {
				if ids = sortUnique(append(ids, cids...)); len(ids) > limit {
					res = tooMany
				}
			}
		}
	}
	if res != answered {
		return nil, res, nil
	}
	return ids, answered, nil
}

// synthesized reports whether Filter.Match evaluates attr from something
// other than stored values, so that an index on it would be wrong.
func synthesized(attr string) bool { return attr == "entryDN" || attr == "hasSubordinates" }

func sortUnique(ids []uint64) []uint64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
