package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/plan"
)

// Search planning is directory/internal/plan's; query is its Source over
// one bbolt transaction. A one-level scope is found by seeking past each
// child's subtree in dn2id, a subtree by a prefix scan of dn2id.
//
// Unbounded subtree scans proceed in chunks that re-seek, so a callback
// may write through the same WriteTx: bbolt cursors must not run over a
// bucket while it changes.
const scanChunk = 256

// Search calls each for the entries in scope that match f.
func (t *tx) Search(base directory.DN, scope directory.Scope, f *directory.Filter, each func(*directory.Entry) error) error {
	if err := t.check(); err != nil {
		return err
	}
	if f == nil {
		return directory.Errorf(directory.ErrUnwillingToPerform, "search without a filter")
	}
	q := t.newQuery(base, scope, f, each)
	err := t.s.planner.Search(t.ctx, q, base, scope, f)
	if q.sequential {
		// A read transaction keeps the query (its scratch memory) for
		// the next search: the pool hands it to one View at a time.
		*q = query{cur: q.cur, scratch: directory.Entry{Attrs: q.scratch.Attrs[:0]}, scratchVals: q.scratchVals[:0]}
		t.btx.spare = q
	}
	return err
}

func (t *tx) newQuery(base directory.DN, scope directory.Scope, f *directory.Filter, each func(*directory.Entry) error) *query {
	q := t.btx.spare
	t.btx.spare = nil // a search from a callback gets a query of its own
	if q == nil {
		q = &query{}
	}
	q.t, q.btx, q.base, q.scope, q.f, q.each = t, t.btx, base, scope, f, each
	q.needDN, q.sequential = needsDN(f, 0), !t.btx.Writable()
	q.lent, t.lent = t.lent, nil // SearchLent's memory, for this query only
	return q
}

// scratchKeep returns what the scratch decoding of scan candidates keeps:
// only the attributes the filter reads (nil: everything). It is worked
// out at the first scan candidate: index candidates never need it.
func (q *query) scratchKeep() []string {
	if q.keepDone {
		return q.keep
	}
	q.keepDone = true
	if names, all := q.f.Reads(); !all {
		if names == nil {
			names = []string{} // a filter that reads no attribute keeps none
		}
		q.keep = names
	}
	return q.keep
}

// query is one search's plan.Source.
type query struct {
	t      *tx
	btx    *boltTx
	base   directory.DN
	scope  directory.Scope
	f      *directory.Filter
	each   func(*directory.Entry) error
	needDN bool // the filter reads the entry's DN (entryDN, extensible :dn)
	// cur reads the entries bucket: Seek on one cursor reuses its stack,
	// where Bucket.Get allocates a cursor per call; in a read transaction
	// it is the boltTx's own, reused from search to search. Every read
	// repositions it, so a callback that writes (or reads) in between does
	// not matter.
	cur *bolt.Cursor
	// scratch is where candidates are decoded for matching; only entries
	// that match are decoded again into memory handed to each.
	scratch     directory.Entry
	scratchVals []string
	keep        []string // what the scratch decoding keeps; nil: everything
	keepDone    bool     // keep is worked out (scratchKeep)
	// sequential: the transaction is read-only, so cur keeps its position
	// between visits and the id after lastID is one Next away.
	sequential bool
	lastID     uint64
	// lent, set by SearchLent, is where matching entries are decoded for
	// each: views of the stored bytes, no copy (visitLent).
	lent *lentEntry
	// reads counts the stored entries this query read (for tests of the
	// planner's work).
	reads int
}

var _ plan.Sweeper = (*query)(nil)

// Lookup finds the search base. A read transaction remembers the last base
// it found: the next search from it costs a string comparison instead of
// building its key and a descent of dn2id. Its key is never written to.
func (q *query) Lookup(dn directory.DN) (uint64, []byte, error) {
	if !q.sequential {
		return lookup(q.btx, dn)
	}
	if b := &q.btx.base; b.key != nil && b.norm == dn.Norm() {
		return b.id, b.key, nil
	}
	id, key, err := lookup(q.btx, dn)
	if err == nil {
		q.btx.base = baseLookup{norm: strings.Clone(dn.Norm()), id: id, key: key}
	}
	return id, key, err
}

func (q *query) IndexIDs(attr string, prefix []byte, ids []uint64, limit int) ([]uint64, bool, error) {
	return scanIndex(q.btx, attr, prefix, ids, limit)
}

func (q *query) ChildIDs(key []byte, max int) ([]uint64, bool, error) {
	ids, ok := childIDs(q.btx, key, max)
	return ids, ok, nil
}

func (q *query) SubtreeIDs(key []byte, max int) ([]uint64, bool, error) {
	ids, ok := subtreeIDs(q.btx, entrycodec.SubtreePrefix(key), max)
	return ids, ok, nil
}

// Visit reads one candidate and calls each if it is in scope and matches.
// The DN is decoded only when needed: before matching if the filter reads
// it or the scope must be checked, otherwise only for entries that match.
// Index candidates (checkScope) mostly match and are decoded once; the
// entries of a scope scan mostly do not, so they are decoded into reused
// scratch memory first and only a match is decoded again for each.
func (q *query) Visit(id uint64, checkScope bool) error {
	var key [idLen]byte
	binary.BigEndian.PutUint64(key[:], id)
	if q.cur == nil {
		q.cur = q.btx.entriesCursor()
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
	return q.visitRaw(raw, checkScope)
}

// Sweep visits the whole entries bucket in id order, in a read
// transaction, when the subtree of the entry with dn2id key holds every
// entry (the first and the last dn2id keys both lie in it) and ids are
// parents first (no "unordered" key: a search visits parents before
// their children, which export relies on). Every stored entry is then in
// scope, and one cursor step per entry replaces the dn2id scan and the
// seek of each id.
func (q *query) Sweep(ctx context.Context, key []byte) (bool, error) {
	if !q.sequential {
		return false, nil // a writing callback may change the buckets
	}
	if q.btx.Bucket(bucketInfo).Get(keyUnordered) != nil {
		return false, nil // id order is not parents first
	}
	if len(key) > 0 {
		d := q.btx.Bucket(bucketDN2ID).Cursor()
		first, _ := d.First()
		last, _ := d.Last()
		inTree := func(k []byte) bool { return bytes.Equal(k, key) || below(k, key) }
		if !inTree(first) || !inTree(last) {
			return false, nil
		}
	}
	// A cursor of its own: the callback may read through the shared one.
	c := q.btx.Bucket(bucketEntries).Cursor()
	n := 0
	for k, raw := c.First(); k != nil; k, raw = c.Next() {
		if n++; n%plan.CtxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return true, err
			}
		}
		if err := q.visitRaw(raw, false); err != nil {
			return true, err
		}
	}
	return true, nil
}

// visitRaw is Visit for the stored entry raw.
func (q *query) visitRaw(raw []byte, checkScope bool) error {
	q.reads++
	if !checkScope && !q.needDN {
		// The scratch entry's strings view raw itself (no copy): raw is
		// valid until the transaction changes, and the scratch entry is
		// only matched here, never handed out (TestScanScratchNotRetained).
		_, vals, err := entrycodec.DecodeAttrsInto(unsafe.String(unsafe.SliceData(raw), len(raw)), &q.scratch, q.scratchVals, q.scratchKeep())
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
// ParentCache and to callers; DecodeDNCached copies).
func (q *query) visitLent(raw []byte, checkScope bool) error {
	l := q.lent
	dn, vals, err := entrycodec.DecodeAttrsInto(unsafe.String(unsafe.SliceData(raw), len(raw)), &l.e, l.vals, nil)
	l.vals = vals
	if err != nil {
		return err
	}
	if checkScope || q.needDN {
		if l.e.DN, err = entrycodec.DecodeDNCached(dn, &q.t.s.parents); err != nil {
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
		if l.e.DN, err = entrycodec.DecodeDNCached(dn, &q.t.s.parents); err != nil {
			return err
		}
	}
	return q.each(&l.e)
}

// ScanSubtree collects the next chunk of the ids below the entry with
// dn2id key with a fresh cursor, so that the chunk before may have been
// visited by a writing callback.
func (q *query) ScanSubtree(key, from []byte, ids []uint64) ([]uint64, []byte, error) {
	if from == nil {
		from = entrycodec.SubtreePrefix(key)
	}
	if ids == nil {
		ids = make([]uint64, 0, scanChunk)
	}
	c := q.btx.Bucket(bucketDN2ID).Cursor()
	k, v := c.Seek(from)
	for ; below(k, key) && len(ids) < scanChunk; k, v = c.Next() {
		if id, err := parseID(v); err == nil {
			ids = append(ids, id)
		}
	}
	if below(k, key) {
		return ids, bytes.Clone(k), nil
	}
	return ids, nil, nil
}

// below reports whether dn2id key k lies strictly below the entry with
// key (everything lies below the root, key nil): whether k has
// entrycodec.SubtreePrefix(key), without building it.
func below(k, key []byte) bool {
	if k == nil {
		return false
	}
	return len(key) == 0 || (len(k) > len(key) && k[len(key)] == 0 && bytes.HasPrefix(k, key))
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
