package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
)

// Search planning. A search first finds candidate ids, then reads each
// candidate, re-checks scope and the whole filter with Filter.Match, and
// hands matches to the callback. Candidates come from one of:
//
//   - scope base: the base entry alone;
//   - the indexes, when the filter can be answered from them (see
//     candidates);
//   - the scope itself: the children of the base (one level, found by
//     seeking past each child's subtree in dn2id) or the base's subtree (a
//     prefix scan of dn2id).
//
// When both the indexes and the scope can supply candidates, neither size
// is known in advance: an index on objectClass may return the whole tree
// for a search below an OU of ten entries, and an OU may hold a million
// children when the filter names one uid. So both are asked for at most
// limit ids, limit growing eightfold from firstLimit until one of them
// fits, and that one is used. The work is a small multiple of the smaller
// source, and a search below the root (whose scope is everything) uses any
// index answer directly.
//
// Candidate ids are collected before any callback runs, and unbounded
// subtree scans proceed in chunks that re-seek, so a callback may write
// through the same WriteTx: bbolt cursors must not run over a bucket while
// it changes. Entries the callback adds may or may not be visited, and an
// entry it renames within the scope may be visited again under its new DN.
const (
	firstLimit = 64
	scanChunk  = 256
	ctxEvery   = 256 // rows between context checks
)

// Search calls each for the entries in scope that match f.
func (t *tx) Search(base directory.DN, scope directory.Scope, f *directory.Filter, each func(*directory.Entry) error) error {
	if err := t.check(); err != nil {
		return err
	}
	if f == nil {
		return directory.Errorf(directory.ErrUnwillingToPerform, "search without a filter")
	}
	q := &query{t: t, btx: t.btx, entries: t.btx.Bucket(bucketEntries), base: base, scope: scope, f: f, each: each,
		needDN: needsDN(f, 0), sequential: !t.btx.Writable()}
	q.lent, t.lent = t.lent, nil // SearchLent's memory, for this query only
	if names, all := f.Reads(); !all {
		// Scan candidates are decoded for matching with only the
		// attributes the filter reads.
		q.keep = func(name string) bool {
			for _, n := range names {
				if len(n) == len(name) && (n == name || strings.EqualFold(n, name)) {
					return true
				}
			}
			return false
		}
	}
	err := q.run()
	if errors.Is(err, directory.ErrStop) {
		return nil
	}
	return err
}

type query struct {
	t       *tx
	btx     *boltTx
	entries *bolt.Bucket // a write tx hands out the same *Bucket for its whole life
	base    directory.DN
	scope   directory.Scope
	f       *directory.Filter
	each    func(*directory.Entry) error
	needDN  bool // the filter reads the entry's DN (entryDN, extensible :dn)
	rows    int
	// cur reads the entries bucket: Seek on one cursor reuses its stack,
	// where Bucket.Get allocates a cursor per call. Every read repositions
	// it, so a callback that writes in between does not matter.
	cur *bolt.Cursor
	// scratch is where candidates are decoded for matching; only entries
	// that match are decoded again into memory handed to each.
	scratch     directory.Entry
	scratchVals []string
	keep        func(attr string) bool // what the scratch decoding keeps; nil: everything
	// sequential: the transaction is read-only, so cur keeps its position
	// between visits and the id after lastID is one Next away.
	sequential bool
	lastID     uint64
	// lent, set by SearchLent, is where matching entries are decoded for
	// each: views of the stored bytes, no copy (visitLent).
	lent *lentEntry
}

func (q *query) run() error {
	var baseID uint64
	var baseKey []byte
	if !q.base.IsRoot() {
		var err error
		if baseID, baseKey, err = lookup(q.btx, q.base); err != nil {
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
		return q.plan(func(limit int) ([]uint64, bool) { return childIDs(q.btx, baseKey, limit) }, func() error {
			ids, _ := childIDs(q.btx, baseKey, math.MaxInt)
			return q.visitAll(ids, false)
		})
	case directory.ScopeSub:
		prefix := entrycodec.SubtreePrefix(baseKey)
		scanAll := func() error {
			if !q.base.IsRoot() {
				if err := q.visit(baseID, false); err != nil {
					return err
				}
			}
			return q.scanSubtree(prefix)
		}
		if q.base.IsRoot() {
			return q.plan(nil, scanAll)
		}
		return q.plan(func(limit int) ([]uint64, bool) {
			ids, ok := subtreeIDs(q.btx, prefix, limit-1)
			return append([]uint64{baseID}, ids...), ok
		}, scanAll)
	}
	return directory.Errorf(directory.ErrUnwillingToPerform, "invalid search scope "+q.scope.String())
}

// plan chooses between the indexes and the scope (see Search planning).
// scopeIDs lists up to limit ids of the scope and reports whether that is
// all of it; nil means the scope is the whole tree. scanAll visits the
// scope without the indexes.
func (q *query) plan(scopeIDs func(limit int) ([]uint64, bool), scanAll func() error) error {
	for limit := firstLimit; ; limit = grow(limit) {
		if scopeIDs == nil {
			limit = math.MaxInt
		}
		ids, st := q.candidates(q.f, limit)
		switch st {
		case answered:
			return q.visitAll(ids, scopeIDs != nil)
		case unindexed:
			return scanAll()
		}
		if scopeIDs == nil {
			return scanAll() // unreachable: nothing exceeds math.MaxInt
		}
		if ids, complete := scopeIDs(limit); complete {
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

// visitAll visits ids; checkScope is set for index candidates, which may
// lie anywhere in the tree.
func (q *query) visitAll(ids []uint64, checkScope bool) error {
	for _, id := range ids {
		if err := q.visit(id, checkScope); err != nil {
			return err
		}
	}
	return nil
}

// visit reads one candidate and calls each if it is in scope and matches.
// The DN is decoded only when needed: before matching if the filter reads
// it or the scope must be checked, otherwise only for entries that match.
// Index candidates (checkScope) mostly match and are decoded once; the
// entries of a scope scan mostly do not, so they are decoded into reused
// scratch memory first and only a match is decoded again for each.
func (q *query) visit(id uint64, checkScope bool) error {
	q.rows++
	if q.rows%ctxEvery == 0 {
		if err := q.t.ctx.Err(); err != nil {
			return err
		}
	}
	var key [idLen]byte
	binary.BigEndian.PutUint64(key[:], id)
	if q.cur == nil {
		q.cur = q.entries.Cursor()
	}
	var k, raw []byte
	if q.sequential && id == q.lastID+1 {
		// The next id in a read transaction: one step, not a descent
		// from the root (a scan in DN order often meets consecutive ids:
		// entries imported or added in tree order).
		k, raw = q.cur.Next()
	}
	if k == nil || !bytes.Equal(k, key[:]) {
		k, raw = q.cur.Seek(key[:])
	}
	q.lastID = id
	if raw == nil || !bytes.Equal(k, key[:]) {
		return nil // deleted by an earlier callback in this transaction
	}
	if !checkScope && !q.needDN {
		// The scratch entry's strings view raw itself (no copy): raw is
		// valid until the transaction changes, and the scratch entry is
		// only matched here, never handed out (TestScanScratchNotRetained).
		_, vals, err := entrycodec.DecodeAttrsInto(unsafe.String(unsafe.SliceData(raw), len(raw)), &q.scratch, q.scratchVals, q.keep)
		q.scratchVals = vals
		if err != nil {
			return err
		}
		if !q.f.Match(&q.scratch) {
			return nil
		}
	}
	if q.lent != nil {
		return q.visitLent(raw, checkScope)
	}
	e, dn, err := entrycodec.DecodeAttrs(raw)
	if err != nil {
		return err
	}
	decoded := false
	if q.needDN || checkScope {
		if e.DN, err = entrycodec.DecodeDNCached(dn, &q.t.s.parents); err != nil {
			return err
		}
		decoded = true
		if checkScope && !q.scope.InScope(q.base, e.DN) {
			return nil
		}
	}
	if !q.f.Match(e) {
		return nil
	}
	if !decoded {
		if e.DN, err = entrycodec.DecodeDNCached(dn, &q.t.s.parents); err != nil {
			return err
		}
	}
	return q.each(e)
}

// visitLent is the rest of visit for SearchLent: the entry is decoded
// into q.lent, its strings viewing raw (valid for the read transaction),
// and only its DN is copied out of raw (a DN may be kept: it goes into
// ParentCache and to callers).
func (q *query) visitLent(raw []byte, checkScope bool) error {
	l := q.lent
	dn, vals, err := entrycodec.DecodeAttrsInto(unsafe.String(unsafe.SliceData(raw), len(raw)), &l.e, l.vals, nil)
	l.vals = vals
	if err != nil {
		return err
	}
	if checkScope || q.needDN {
		if l.e.DN, err = entrycodec.DecodeDNCached(strings.Clone(dn), &q.t.s.parents); err != nil {
			return err
		}
		if checkScope && !q.scope.InScope(q.base, l.e.DN) {
			return nil
		}
		if !q.f.Match(&l.e) {
			return nil
		}
	} else {
		if !q.f.Match(&l.e) {
			return nil
		}
		if l.e.DN, err = entrycodec.DecodeDNCached(strings.Clone(dn), &q.t.s.parents); err != nil {
			return err
		}
	}
	return q.each(&l.e)
}

// scanSubtree visits every entry whose dn2id key starts with prefix, in
// chunks: each chunk's ids are collected with a fresh cursor before any
// is visited.
func (q *query) scanSubtree(prefix []byte) error {
	from := prefix
	ids := make([]uint64, 0, scanChunk)
	for {
		ids = ids[:0]
		c := q.btx.Bucket(bucketDN2ID).Cursor()
		k, v := c.Seek(from)
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(ids) < scanChunk; k, v = c.Next() {
			if id, err := parseID(v); err == nil {
				ids = append(ids, id)
			}
		}
		more := k != nil && bytes.HasPrefix(k, prefix)
		if more {
			from = bytes.Clone(k)
		}
		if err := q.visitAll(ids, false); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// childIDs returns the ids of the children of the entry with dn2id key
// (the depth-1 suffixes for the root), seeking past each child's subtree,
// and whether there are at most max of them.
func childIDs(btx *boltTx, key []byte, max int) ([]uint64, bool) {
	prefix := entrycodec.SubtreePrefix(key)
	var ids []uint64
	c := btx.Bucket(bucketDN2ID).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); {
		if bytes.IndexByte(k[len(prefix):], 0) < 0 {
			if len(ids) == max {
				return nil, false
			}
			if id, err := parseID(v); err == nil {
				ids = append(ids, id)
			}
			k, v = c.Seek(skipSubtree(k))
			continue
		}
		// k lies below a child that is not stored: below the root, a
		// multi-RDN suffix such as dc=example,dc=com has no dc=com entry.
		// Skip that missing child's whole subtree.
		i := len(prefix) + bytes.IndexByte(k[len(prefix):], 0)
		k, v = c.Seek(skipSubtree(k[:i]))
	}
	return ids, true
}

// subtreeIDs returns the ids of the keys with prefix, and whether there
// are at most max of them.
func subtreeIDs(btx *boltTx, prefix []byte, max int) ([]uint64, bool) {
	var ids []uint64
	c := btx.Bucket(bucketDN2ID).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(ids) >= max {
			return nil, false
		}
		if id, err := parseID(v); err == nil {
			ids = append(ids, id)
		}
	}
	return ids, true
}

// answer is how far the indexes answer a filter.
type answer uint8

const (
	answered  answer = iota // ids is a superset of the matches
	tooMany                 // the answer would exceed the limit
	unindexed               // the indexes cannot answer the filter
)

// candidates returns, sorted and without duplicates, the ids of a superset
// of the entries that can match f, if the indexes can answer f with at most
// limit ids.
//
// A leaf on an attribute the schema does not know, or an equality whose
// assertion its rule rejects, is Undefined for every entry (RFC 4511
// section 4.5.1.7) and so yields no candidates. NOT is never answered
// from the indexes.
func (q *query) candidates(f *directory.Filter, limit int) ([]uint64, answer) {
	x := q.t.s.idx
	var names []string
	var lookup func(name string, ids []uint64) ([]uint64, bool)
	switch f.Kind {
	case directory.FilterEquality:
		attr, norm, ok := f.EqualityKey()
		if !ok {
			return nil, answered
		}
		if names, ok = x.EqQuery[attr]; !ok || synthesized(attr) {
			return nil, unindexed
		}
		lookup = func(name string, ids []uint64) ([]uint64, bool) { return lookupEq(q.btx, name, norm, ids, limit) }
	case directory.FilterPresent:
		at := f.Attribute()
		if at == nil {
			return nil, answered
		}
		var ok bool
		if names, ok = x.PresQuery[at.Name()]; !ok || synthesized(at.Name()) || at.Name() == "objectClass" {
			return nil, unindexed
		}
		lookup = func(name string, ids []uint64) ([]uint64, bool) { return lookupPresence(q.btx, name, ids, limit) }
	case directory.FilterSubstrings, directory.FilterGreaterOrEqual, directory.FilterLessOrEqual, directory.FilterApprox:
		if f.Attribute() == nil {
			return nil, answered
		}
		return nil, unindexed
	case directory.FilterAnd:
		return q.andCandidates(f, limit)
	case directory.FilterOr:
		return q.orCandidates(f, limit)
	default:
		return nil, unindexed
	}
	var ids []uint64
	for _, name := range names {
		var ok bool
		if ids, ok = lookup(name, ids); !ok {
			return nil, tooMany
		}
	}
	return sortUnique(ids), answered
}

// andCandidates uses the smallest answerable child of an AND. Equality
// children are tried first, and each later child only up to the size of
// the best so far, so a broad presence or objectClass term costs little
// once a selective term has been found.
func (q *query) andCandidates(f *directory.Filter, limit int) ([]uint64, answer) {
	var best []uint64
	res := unindexed
	try := func(c *directory.Filter) {
		lim := limit
		if res == answered {
			if lim = len(best) - 1; lim < 0 {
				return
			}
		}
		switch ids, st := q.candidates(c, lim); {
		case st == answered:
			best, res = ids, answered
		case st == tooMany && res == unindexed:
			res = tooMany
		}
	}
	for _, c := range f.Children {
		if c.Kind == directory.FilterEquality {
			try(c)
		}
	}
	for _, c := range f.Children {
		if c.Kind != directory.FilterEquality {
			try(c)
		}
	}
	return best, res
}

// orCandidates unites the answers of all children of an OR; one child the
// indexes cannot answer makes the whole OR unanswerable.
func (q *query) orCandidates(f *directory.Filter, limit int) ([]uint64, answer) {
	var ids []uint64
	res := answered
	for _, c := range f.Children {
		cids, st := q.candidates(c, limit)
		switch st {
		case unindexed:
			return nil, unindexed
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
		return nil, res
	}
	return ids, answered
}

// synthesized reports whether Filter.Match evaluates attr from something
// other than stored values (entryDN from the DN; hasSubordinates is always
// present), so that an index on it, if configured, would be wrong.
// Presence of objectClass is likewise always true.
func synthesized(attr string) bool { return attr == "entryDN" || attr == "hasSubordinates" }

// needsDN reports whether matching f reads the entry's DN.
func needsDN(f *directory.Filter, depth int) bool {
	if depth > 512 || f.Kind == directory.FilterExtensible {
		return true
	}
	if at := f.Attribute(); at != nil && at.Name() == "entryDN" {
		return true
	}
	for _, c := range f.Children {
		if needsDN(c, depth+1) {
			return true
		}
	}
	return false
}

func sortUnique(ids []uint64) []uint64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
