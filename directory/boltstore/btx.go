package boltstore

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// boltTx is a bbolt transaction whose hot buckets are opened once and
// whose point lookups reuse one cursor per bucket. In a read-only bbolt
// transaction every Tx.Bucket and Bucket.Bucket call seeks from the root
// and allocates a new Bucket, and every Bucket.Get a new cursor and its
// stack: a search paid for that several times over. Handles stay valid
// for the transaction: nothing that goes through a tx deletes or
// recreates a bucket (only migrations and reindexing do, each on a
// boltTx of its own made after the change).
type boltTx struct {
	*bolt.Tx
	entries, dn2id, idx *bolt.Bucket
	indexes             []namedBucket // idx's nested buckets opened so far
	// Cursors for get, read-only transactions only: a cursor keeps
	// references into the B+tree that a write could invalidate.
	entriesCur, dn2idCur *bolt.Cursor
	// spare is a finished search's query, read-only transactions only
	// (search.go).
	spare *query
	// base is the last search base found, read-only transactions only:
	// a pooled transaction serves search after search, mostly from the
	// same base, and sees no change while it lasts (readpool.go).
	base baseLookup
}

// baseLookup is a DN found in dn2id: its normalized form, id and key.
type baseLookup struct {
	norm string
	id   uint64
	key  []byte
}

type namedBucket struct {
	name string
	b    *bolt.Bucket
	cur  *bolt.Cursor // read-only transactions: reused by indexCursor
}

func newBoltTx(btx *bolt.Tx) *boltTx { return &boltTx{Tx: btx} }

// Bucket is bolt.Tx.Bucket, remembered for the hot buckets.
func (b *boltTx) Bucket(name []byte) *bolt.Bucket {
	var slot **bolt.Bucket
	switch {
	case bytes.Equal(name, bucketEntries):
		slot = &b.entries
	case bytes.Equal(name, bucketDN2ID):
		slot = &b.dn2id
	case bytes.Equal(name, bucketIndex):
		slot = &b.idx
	default:
		return b.Tx.Bucket(name)
	}
	if *slot == nil {
		*slot = b.Tx.Bucket(name)
	}
	return *slot
}

// indexBucket is the idx bucket of attr (a canonical name), nil if there
// is none.
func (b *boltTx) indexBucket(attr string) *bolt.Bucket {
	for _, nb := range b.indexes {
		if nb.name == attr {
			return nb.b
		}
	}
	idx := b.Bucket(bucketIndex)
	if idx == nil {
		return nil
	}
	bk := idx.Bucket([]byte(attr))
	if bk != nil {
		b.indexes = append(b.indexes, namedBucket{name: attr, b: bk})
	}
	return bk
}

// indexCursor is a cursor over the idx bucket of attr, nil if there is
// none: in a read-only transaction the same one each time (its stack
// reused), in a write transaction a new one.
func (b *boltTx) indexCursor(attr string) *bolt.Cursor {
	bk := b.indexBucket(attr)
	if bk == nil {
		return nil
	}
	if b.Writable() {
		return bk.Cursor()
	}
	for i := range b.indexes {
		if nb := &b.indexes[i]; nb.name == attr {
			if nb.cur == nil {
				nb.cur = bk.Cursor()
			}
			return nb.cur
		}
	}
	return bk.Cursor()
}

// entriesCursor is a cursor over the entries bucket: in a read-only
// transaction the one get uses, so whoever uses it must Seek before
// reading (it may have moved since).
func (b *boltTx) entriesCursor() *bolt.Cursor {
	bk := b.Bucket(bucketEntries)
	if b.Writable() {
		return bk.Cursor()
	}
	if b.entriesCur == nil {
		b.entriesCur = bk.Cursor()
	}
	return b.entriesCur
}

// get is Bucket(name).Get(key) for entries and dn2id, through one cursor
// per bucket in a read-only transaction.
func (b *boltTx) get(name []byte, key []byte) []byte {
	bk := b.Bucket(name)
	if bk == nil {
		return nil
	}
	if b.Writable() {
		return bk.Get(key)
	}
	cur := &b.entriesCur
	if bytes.Equal(name, bucketDN2ID) {
		cur = &b.dn2idCur
	}
	if *cur == nil {
		*cur = bk.Cursor()
	}
	k, v := (*cur).Seek(key)
	if k == nil || !bytes.Equal(k, key) {
		return nil
	}
	return v
}
