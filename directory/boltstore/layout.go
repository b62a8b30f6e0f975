package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
	"github.com/ldapd/ldapd/directory/internal/writecheck"
)

// The file holds six top-level buckets. Every key format is listed here
// and nowhere else; the helpers below, entrycodec.DNKey (the DN key form
// both stores share) and indexdef's index keys are the only code that
// builds or parses keys.
//
//	info     "version"  -> uint64 BE: the layout version (layoutVersion).
//	         "indexes"  -> the indexed attribute names, sorted, '\n'-joined.
//	                       Open rebuilds the indexes when the configured set
//	                       differs.
//	         "unordered" -> 0x01, present once some entry's id is smaller
//	                       than its parent's (a Rename moved it below a newer
//	                       entry). Without it ids are parents first, and a
//	                       search of the whole store walks the entries bucket
//	                       in id order (query.Sweep). Layout 3 added it.
//	entries  id         -> encoded entry (directory/internal/entrycodec). id is a uint64 BE drawn
//	                       from the bucket's own sequence; ids are never reused.
//	dn2id    entrycodec.DNKey(dn)  -> id. dnKey is the DN's RDN norms, rightmost
//	                       (suffix) first, joined by 0x00. A norm never holds
//	                       0x00 (directory escapes NUL as \00), so the subtree
//	                       of dn is exactly the keys with prefix entrycodec.DNKey(dn)+0x00,
//	                       and its children are those with one more component.
//	idx      one nested bucket per indexed attribute, named by the attribute's
//	         canonical schema name, holding posting lists (postings.go,
//	         indexdef's postings): for each equality prefix ('=' norm 0x00,
//	         or '#' sha256(norm) 0x00) and the presence prefix ('*'), the
//	         ids of the entries indexed under it, in chunks keyed prefix
//	         first-id whose values are the other ids as uvarint deltas. No
//	         overflow keys. Values of a subtype are indexed under the
//	         subtype's own name. (Layout 1 had one key prefix id, with an
//	         empty value, per indexed value of each entry.)
//	meta     key        -> value (ReadTx.Meta, WriteTx.SetMeta).
//	seq      name       -> uint64 BE: the last value drawn by NextSequence.
//
// Everything an operation writes goes in one bbolt transaction, so no write
// order within a transaction matters for crash safety: bbolt commits all of
// it or none of it.
var (
	bucketInfo    = []byte("info")
	bucketEntries = []byte("entries")
	bucketDN2ID   = []byte("dn2id")
	bucketIndex   = []byte("idx")
	bucketMeta    = []byte("meta")
	bucketSeq     = []byte("seq")

	allBuckets = [][]byte{bucketInfo, bucketEntries, bucketDN2ID, bucketIndex, bucketMeta, bucketSeq}

	keyVersion   = []byte("version")
	keyIndexes   = []byte("indexes")
	keyUnordered = []byte("unordered")
)

// layoutVersion is the version of the layout above that this code reads
// and writes. Bump it, and add a step to migrations, whenever a bucket or
// key format changes.
const layoutVersion = 3

// migrations[v] upgrades a file from layout version v to v+1.
var migrations = map[uint64]func(*bolt.Tx) error{
	1: migratePostings,
	2: migrateLayout3,
}

// idLen is the length of an encoded entry id.
const idLen = indexdef.IDLen

func idKey(id uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, idLen), id) }

func parseID(b []byte) (uint64, error) {
	if len(b) != idLen {
		return 0, fmt.Errorf("entry id of %d bytes, want %d", len(b), idLen)
	}
	return binary.BigEndian.Uint64(b), nil
}

// skipSubtree returns the smallest key greater than key and every key in
// its subtree: key followed by 0x01 (descendants continue with 0x00).
func skipSubtree(key []byte) []byte { return append(bytes.Clone(key), 1) }

// appendEqKey appends indexdef.EqKey(norm, id) to dst without
// allocating (for AddBulk, bulk.go).
func appendEqKey(dst []byte, norm string, id uint64) []byte {
	return indexdef.AppendEqKey(dst, norm, id)
}

// prefixPres starts a presence key (for AddBulk, bulk.go).
const prefixPres = indexdef.PrefixPres

// migratePostings (layout 1 to 2) rewrites each index bucket's per-id
// keys (prefix id, empty values) as posting lists. The keys of one prefix
// come in id order; one bucket's lists are collected in memory (about 8
// bytes an id), then the bucket is dropped and written again. (bbolt's
// MoveBucket cannot move a bucket written in the same transaction, so the
// new bucket is not built beside the old one.)
func migratePostings(tx *bolt.Tx) error {
	idx := tx.Bucket(bucketIndex)
	if idx == nil {
		return nil // created empty by migrate
	}
	var names [][]byte
	if err := idx.ForEachBucket(func(k []byte) error { names = append(names, bytes.Clone(k)); return nil }); err != nil {
		return err
	}
	type list struct {
		prefix []byte
		ids    []uint64
	}
	for _, name := range names {
		var lists []list
		err := idx.Bucket(name).ForEach(func(k, _ []byte) error {
			id, ok := indexdef.KeyID(k)
			if !ok || k[0] == indexdef.PrefixOverflow {
				return fmt.Errorf("malformed key %q", k)
			}
			prefix := k[:len(k)-idLen]
			if n := len(lists); n == 0 || !bytes.Equal(lists[n-1].prefix, prefix) {
				lists = append(lists, list{prefix: bytes.Clone(prefix)})
			}
			l := &lists[len(lists)-1]
			l.ids = append(l.ids, id)
			return nil
		})
		if err == nil {
			err = idx.DeleteBucket(name)
		}
		var nb *bolt.Bucket
		if err == nil {
			nb, err = idx.CreateBucket(name)
		}
		if err == nil {
			nb.FillPercent = bulkFill
			a := newAppender(nb, indexdef.MaxChunk)
			for _, l := range lists {
				if err = a.addList(l.prefix, l.ids); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
	}
	return nil
}

// migrateLayout3 (layout 2 to 3) records whether ids are parents first
// and merges the attributes an entry holds more than once.
func migrateLayout3(tx *bolt.Tx) error {
	if err := migrateOrder(tx); err != nil {
		return err
	}
	return mergeRepeatedNames(tx)
}

// mergeRepeatedNames rewrites the entries that hold an attribute more
// than once (before layout 3, an Add or an import could store cn and its
// alias commonName apart, both named cn): the values go to the first,
// exact repeats dropped. The index keys stay right: they are per
// attribute, value and entry. Layout 3 files hold each attribute once
// (writecheck.Names), which entrycodec.DecodeAttrsInto relies on.
func mergeRepeatedNames(tx *bolt.Tx) error {
	b := tx.Bucket(bucketEntries)
	type fix struct {
		key []byte
		e   *directory.Entry
	}
	var fixes []fix
	var scratch directory.Entry
	var vals []string
	err := b.ForEach(func(k, v []byte) error {
		var err error
		// A view of v, valid in tx: only entries to fix are copied.
		if _, vals, err = entrycodec.DecodeAttrsInto(unsafe.String(unsafe.SliceData(v), len(v)), &scratch, vals, nil); err != nil {
			return fmt.Errorf("entry %x: %w", k, err)
		}
		if writecheck.Names(&scratch) == nil {
			return nil
		}
		e, err := entrycodec.Decode(v)
		if err != nil {
			return fmt.Errorf("entry %x: %w", k, err)
		}
		fixes = append(fixes, fix{bytes.Clone(k), mergeNames(e)})
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range fixes {
		if err := b.Put(f.key, entrycodec.Encode(f.e)); err != nil {
			return err
		}
	}
	return nil
}

// mergeNames returns e with each attribute once (Entry.Add merges by
// name), exact repeats of a value dropped.
func mergeNames(e *directory.Entry) *directory.Entry {
	out := directory.NewEntry(e.DN)
	for _, a := range e.Attrs {
		for _, v := range a.Values {
			if !slices.Contains(out.Get(a.Name), v) {
				out.Add(a.Name, v)
			}
		}
	}
	return out
}

// migrateOrder sets the unordered key when some stored
// entry's id is smaller than its parent's. dn2id lists a subtree right
// after its root, so the stored ancestors of the key at hand are a stack
// of the keys before it.
func migrateOrder(tx *bolt.Tx) error {
	type stored struct {
		key []byte
		id  uint64
	}
	var stack []stored
	c := tx.Bucket(bucketDN2ID).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id, err := parseID(v)
		if err != nil {
			return fmt.Errorf("dn2id key %q: %w", k, err)
		}
		for len(stack) > 0 && !below(k, stack[len(stack)-1].key) {
			stack = stack[:len(stack)-1]
		}
		if n := len(stack); n > 0 && bytes.Equal(stack[n-1].key, entrycodec.ParentKey(k)) && stack[n-1].id > id {
			return markUnordered(tx)
		}
		stack = append(stack, stored{bytes.Clone(k), id})
	}
	return nil
}

// markUnordered records that ids are no longer parents first.
func markUnordered(tx *bolt.Tx) error {
	return tx.Bucket(bucketInfo).Put(keyUnordered, []byte{1})
}

// ErrUnsupportedVersion is returned by Open for a file written by a newer
// ldapd, whose layout this code does not know.
var ErrUnsupportedVersion = errors.New("unsupported database layout version")

// ErrNotDirectory is returned by Open for a bbolt file that is not an
// ldapd directory.
var ErrNotDirectory = errors.New("not an ldapd directory database")

// needsMigration reports whether Open must run migrate in a write
// transaction: a new file, an older layout, or a changed index set.
func needsMigration(tx *bolt.Tx, idx *indexSet, plan layoutPlan) (bool, error) {
	info := tx.Bucket(bucketInfo)
	if info == nil {
		return true, nil
	}
	v, err := plan.readVersion(info)
	if err != nil {
		return false, err
	}
	if v != plan.version {
		return true, nil
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return true, nil
		}
	}
	return string(info.Get(keyIndexes)) != idx.Signature(), nil
}

// migrate brings the file to layoutVersion and the configured index set.
// The caller holds a write transaction.
func migrate(tx *bolt.Tx, idx *indexSet, plan layoutPlan) error {
	info := tx.Bucket(bucketInfo)
	if info == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if !empty {
			return fmt.Errorf("%w: the file has buckets but no %q bucket", ErrNotDirectory, bucketInfo)
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucket(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		info = tx.Bucket(bucketInfo)
		if err := info.Put(keyVersion, binary.BigEndian.AppendUint64(nil, plan.version)); err != nil {
			return err
		}
	}
	v, err := plan.readVersion(info)
	if err != nil {
		return err
	}
	for ; v < plan.version; v++ {
		step, ok := plan.steps[v]
		if !ok {
			return fmt.Errorf("no migration from layout version %d", v)
		}
		if err := step(tx); err != nil {
			return fmt.Errorf("migrate layout %d to %d: %w", v, v+1, err)
		}
		if err := info.Put(keyVersion, binary.BigEndian.AppendUint64(nil, v+1)); err != nil {
			return err
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	if string(info.Get(keyIndexes)) != idx.Signature() {
		if err := reindex(tx, idx); err != nil {
			return fmt.Errorf("rebuild indexes: %w", err)
		}
		if err := info.Put(keyIndexes, []byte(idx.Signature())); err != nil {
			return err
		}
	}
	return nil
}

// readVersion reads the layout version and refuses one newer than this
// code.
func readVersion(info *bolt.Bucket) (uint64, error) { return currentLayout().readVersion(info) }

// readVersion reads the layout version and refuses one newer than p.
func (p layoutPlan) readVersion(info *bolt.Bucket) (uint64, error) {
	raw := info.Get(keyVersion)
	if len(raw) != 8 {
		return 0, fmt.Errorf("%w: layout version key is %d bytes", ErrNotDirectory, len(raw))
	}
	v := binary.BigEndian.Uint64(raw)
	if v > p.version {
		return 0, fmt.Errorf("%w: the database has layout version %d but this ldapd supports up to %d; "+
			"run a newer ldapd or restore a backup", ErrUnsupportedVersion, v, p.version)
	}
	if v == 0 {
		return 0, fmt.Errorf("%w: layout version 0", ErrNotDirectory)
	}
	return v, nil
}
