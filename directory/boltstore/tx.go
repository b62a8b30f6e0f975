package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/writecheck"
)

// tx is both the ReadTx of View and the WriteTx of Update; in a View the
// writes fail with bbolt's ErrTxNotWritable.
type tx struct {
	s    *store
	btx  *boltTx
	ctx  context.Context
	done bool
	// wrote is set before the first change to btx: a fn that fails
	// before it left a shared transaction as it was (commit.go).
	wrote bool
	// lent is set during SearchLent: the memory its entries are decoded
	// into (search.go, visit).
	lent *lentEntry
}

var (
	_ directory.WriteTx   = (*tx)(nil)
	_ directory.LendingTx = (*tx)(nil)
)

// maxLentValues bounds the values memory SearchLent keeps for the next
// search.
const maxLentValues = 4096

// lentEntry is the memory SearchLent decodes each entry into, reused from
// entry to entry and, through store.lent, from search to search.
type lentEntry struct {
	e    directory.Entry
	vals []string
}

// SearchLent implements directory.LendingTx. In a read transaction the
// entry handed to each views the stored bytes (bbolt's memory map, valid
// until the transaction ends) and its attribute slices are reused for the
// next entry; only the DN is decoded into memory of its own. A write
// transaction runs Search: a callback that writes could move the bytes.
func (t *tx) SearchLent(base directory.DN, scope directory.Scope, f *directory.Filter, each func(*directory.Entry) error) error {
	if err := t.check(); err != nil {
		return err
	}
	if t.btx.Writable() {
		return t.Search(base, scope, f, each)
	}
	l, _ := t.s.lent.Get().(*lentEntry)
	if l == nil {
		l = &lentEntry{}
	}
	t.lent = l
	defer func() {
		t.lent = nil
		if cap(l.vals) > maxLentValues {
			return // a huge group's values: not worth keeping
		}
		// No view of this transaction's memory outlives it.
		clear(l.vals[:cap(l.vals)])
		clear(l.e.Attrs[:cap(l.e.Attrs)])
		*l = lentEntry{e: directory.Entry{Attrs: l.e.Attrs[:0]}, vals: l.vals[:0]}
		t.s.lent.Put(l)
	}()
	return t.Search(base, scope, f, each)
}

// errTxDone is returned when a tx is used after its function returned:
// bbolt memory and locks are gone by then.
var errTxDone = errors.New("boltstore: transaction used after its function returned")

func (t *tx) finish() { t.done = true }

func (t *tx) check() error {
	if t.done {
		return errTxDone
	}
	return nil
}

// Get returns a decoded copy of the entry named dn.
func (t *tx) Get(dn directory.DN) (*directory.Entry, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	id, _, err := lookup(t.btx, dn)
	if err != nil {
		return nil, err
	}
	raw := t.btx.get(bucketEntries, idKey(id))
	if raw == nil {
		return nil, fmt.Errorf("entry id %d is missing (run verify)", id)
	}
	e, dnSection, err := entrycodec.DecodeAttrs(raw)
	if err == nil {
		if entrycodec.DNSectionIs(dnSection, dn) {
			e.DN = dn // as stored: skip decoding an equal DN
		} else {
			e.DN, err = entrycodec.DecodeDN(dnSection)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("entry id %d: %w", id, err)
	}
	return e, nil
}

// HasChildren reports whether dn has a child, that is whether a one-level
// search of dn finds anything: for the root DN, whether a depth-1 entry
// exists. A missing dn is ErrNoSuchObject.
func (t *tx) HasChildren(dn directory.DN) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	if dn.IsRoot() {
		_, complete := childIDs(t.btx, nil, 0)
		return !complete, nil
	}
	_, key, err := lookup(t.btx, dn)
	if err != nil {
		return false, err
	}
	return hasChildren(t.btx, key), nil
}

// Meta returns a copy of the value stored under key.
func (t *tx) Meta(key string) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	// A cursor, not Get: Get cannot tell an empty value from a missing key.
	k, v := t.btx.Bucket(bucketMeta).Cursor().Seek([]byte(key))
	if k == nil || string(k) != key {
		return nil, fmt.Errorf("meta %q: %w", key, directory.ErrMetaNotFound)
	}
	return append([]byte{}, v...), nil
}

// Add stores a new entry under a fresh id with its dn2id key and index
// keys.
func (t *tx) Add(e *directory.Entry) error {
	if err := t.check(); err != nil {
		return err
	}
	key, err := writecheck.Add(t.keys(), e)
	if err != nil {
		return err
	}
	t.wrote = true
	id, err := t.btx.Bucket(bucketEntries).NextSequence()
	if err != nil {
		return fmt.Errorf("add %s: %w", e.DN, err)
	}
	if err := putEntry(t.btx, id, e); err != nil {
		return fmt.Errorf("add %s: %w", e.DN, err)
	}
	if err := t.btx.Bucket(bucketDN2ID).Put(key, idKey(id)); err != nil {
		return fmt.Errorf("add %s: %w", e.DN, err)
	}
	return putIndexKeys(t.btx, t.s.idx, t.s.idx.keys(e, id))
}

// Modify applies changes to a clone of the stored entry, so a failed
// Modify leaves the entry as it was even if fn goes on and commits.
func (t *tx) Modify(dn directory.DN, changes []directory.Change) error {
	if err := t.check(); err != nil {
		return err
	}
	id, _, err := lookup(t.btx, dn)
	if err != nil {
		return err
	}
	old, err := getEntry(t.btx, id)
	if err != nil {
		return err
	}
	e := old.Clone()
	if err := directory.ApplyChanges(t.s.schema, e, changes); err != nil {
		return err
	}
	t.wrote = true
	if err := putEntry(t.btx, id, e); err != nil {
		return fmt.Errorf("modify %s: %w", dn, err)
	}
	return updateIndex(t.btx, t.s.idx, id, old, e, t.indexedTypes(changes))
}

// indexedTypes returns the canonical names of the indexed attribute types
// that changes touch. ApplyChanges changes nothing else, so the index keys
// of every other type stay as they are.
func (t *tx) indexedTypes(changes []directory.Change) []string {
	var out []string
	for _, ch := range changes {
		if at, ok := t.s.schema.Attr(ch.Attr); ok && t.s.idx.Indexed[at.Name()] && !slices.Contains(out, at.Name()) {
			out = append(out, at.Name())
		}
	}
	return out
}

// Delete removes a leaf entry, its dn2id key and its index keys.
func (t *tx) Delete(dn directory.DN) error {
	if err := t.check(); err != nil {
		return err
	}
	id, key, err := writecheck.Delete(t.keys(), dn)
	if err != nil {
		return err
	}
	e, err := getEntry(t.btx, id)
	if err != nil {
		return err
	}
	t.wrote = true
	if err := deleteIndexKeys(t.btx, t.s.idx, t.s.idx.keys(e, id)); err != nil {
		return err
	}
	if err := t.btx.Bucket(bucketDN2ID).Delete(key); err != nil {
		return fmt.Errorf("delete %s: %w", dn, err)
	}
	if err := t.btx.Bucket(bucketEntries).Delete(idKey(id)); err != nil {
		return fmt.Errorf("delete %s: %w", dn, err)
	}
	return nil
}

// Rename moves the entry dn and its subtree to newRDN under newParent (or
// dn's parent). Ids do not change, so index keys stay valid and only the
// dn2id keys and the DNs stored in the entries are rewritten. A target
// equal to dn (a change of case or spacing only) is allowed: it rewrites
// the stored DNs.
func (t *tx) Rename(dn directory.DN, newRDN directory.RDN, newParent *directory.DN) error {
	if err := t.check(); err != nil {
		return err
	}
	m, err := writecheck.Rename(t.keys(), dn, newRDN, newParent)
	if err != nil {
		return err
	}
	t.wrote = true
	if err := moveSubtree(t.btx, m.From, m.To, dn, m.Target); err != nil {
		return err
	}
	// Below a newer parent, the entry's id no longer follows its
	// parent's: a sweep would visit it first (layout.go, "unordered").
	id, _ := getID(t.btx, m.To)
	if pid, ok := getID(t.btx, entrycodec.ParentKey(m.To)); ok && pid > id {
		return markUnordered(t.btx.Tx)
	}
	return nil
}

// moveSubtree rewrites the dn2id keys under oldKey to live under newKey
// and the stored DNs from below oldDN to below newDN. Keys are collected
// before any is written: a bbolt cursor must not run over a bucket that is
// being changed. The caller holds a write transaction.
func moveSubtree(btx *boltTx, oldKey, newKey []byte, oldDN, newDN directory.DN) error {
	dn2id := btx.Bucket(bucketDN2ID)
	type move struct {
		key []byte
		id  uint64
	}
	id, _ := getID(btx, oldKey)
	moves := []move{{oldKey, id}}
	prefix := entrycodec.SubtreePrefix(oldKey)
	c := dn2id.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		id, err := parseID(v)
		if err != nil {
			return fmt.Errorf("dn2id key %q: %w", k, err)
		}
		moves = append(moves, move{bytes.Clone(k), id})
	}
	for _, m := range moves {
		if err := dn2id.Delete(m.key); err != nil {
			return err
		}
	}
	for _, m := range moves {
		e, err := getEntry(btx, m.id)
		if err != nil {
			return err
		}
		e.DN = writecheck.Rebase(e.DN, oldDN, newDN)
		if err := putEntry(btx, m.id, e); err != nil {
			return err
		}
		k := append(bytes.Clone(newKey), m.key[len(oldKey):]...)
		if err := dn2id.Put(k, idKey(m.id)); err != nil {
			return fmt.Errorf("rename to %s: %w", e.DN, err)
		}
	}
	return nil
}

// SetMeta stores a copy of value under key.
func (t *tx) SetMeta(key string, value []byte) error {
	if err := t.check(); err != nil {
		return err
	}
	t.wrote = true
	if err := t.btx.Bucket(bucketMeta).Put([]byte(key), append([]byte{}, value...)); err != nil {
		return fmt.Errorf("set meta %q: %w", key, err)
	}
	return nil
}

// NextSequence increments the counter name in the seq bucket.
func (t *tx) NextSequence(name string) (uint64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	b := t.btx.Bucket(bucketSeq)
	var n uint64
	if v := b.Get([]byte(name)); len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	t.wrote = true
	if err := b.Put([]byte(name), binary.BigEndian.AppendUint64(nil, n)); err != nil {
		return 0, fmt.Errorf("sequence %q: %w", name, err)
	}
	return n, nil
}

// lookup returns the id and dn2id key of dn, or ErrNoSuchObject with the
// deepest existing ancestor as matched DN (writecheck.Lookup).
func lookup(btx *boltTx, dn directory.DN) (uint64, []byte, error) {
	return writecheck.Lookup(dnKeys{btx}, dn)
}

// dnKeys is a transaction's dn2id bucket as writecheck's Reader.
type dnKeys struct{ btx *boltTx }

func (k dnKeys) ID(key []byte) (uint64, bool, error) {
	id, ok := getID(k.btx, key)
	return id, ok, nil
}

func (k dnKeys) HasChildren(key []byte) (bool, error) { return hasChildren(k.btx, key), nil }

// checkParent is writecheck.Parent in btx (for Verify).
func checkParent(btx *boltTx, dn directory.DN, key []byte) error {
	return writecheck.Parent(dnKeys{btx}, dn, key)
}

// keys is the transaction as writecheck's Reader.
func (t *tx) keys() writecheck.Reader { return dnKeys{t.btx} }

func getID(btx *boltTx, key []byte) (uint64, bool) {
	v := btx.get(bucketDN2ID, key)
	if len(v) != idLen {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

// hasChildren reports whether the stored entry with dn2id key has a child.
// The first key below it is a child: an entry whose parent is missing
// below a stored ancestor is never added.
func hasChildren(btx *boltTx, key []byte) bool {
	prefix := entrycodec.SubtreePrefix(key)
	k, _ := btx.Bucket(bucketDN2ID).Cursor().Seek(prefix)
	return k != nil && bytes.HasPrefix(k, prefix)
}

func getEntry(btx *boltTx, id uint64) (*directory.Entry, error) {
	raw := btx.get(bucketEntries, idKey(id))
	if raw == nil {
		return nil, fmt.Errorf("entry id %d is missing (run verify)", id)
	}
	e, err := entrycodec.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("entry id %d: %w", id, err)
	}
	return e, nil
}

func putEntry(btx *boltTx, id uint64, e *directory.Entry) error {
	return btx.Bucket(bucketEntries).Put(idKey(id), entrycodec.Encode(e))
}
