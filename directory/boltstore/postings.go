package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// The index buckets hold posting lists (indexdef's postings): the ids
// indexed under one prefix, in chunks of at most maxChunk ids, each chunk
// keyed by the prefix and its first id. The helpers below take a bucket
// (or cursor) of a transaction the caller holds; those that write need a
// write transaction.
//
// One Add, Modify or Delete touches, per index key of the entry, one
// chunk: the one whose range holds the id. A chunk that overflows is
// split (an id past its end starts a chunk of its own, so that ids added
// in order fill their chunks); a chunk that falls below a quarter full is
// merged into a neighbour when the two fit in half a chunk.

// postingKey returns prefix followed by id: the key of the chunk of
// prefix whose first id is id.
func postingKey(prefix []byte, id uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(prefix)+idLen), prefix...), id)
}

// isChunkOf reports whether k is a chunk key of prefix (not a key of a
// longer value sharing the prefix).
func isChunkOf(k, prefix []byte) bool {
	return len(k) == len(prefix)+idLen && bytes.HasPrefix(k, prefix)
}

// decodeChunk appends the ids of chunk k (a chunk key of a prefix of
// length n) with value v to ids.
func decodeChunk(ids []uint64, k []byte, n int, v []byte) ([]uint64, error) {
	ids, err := indexdef.DecodePosting(ids, binary.BigEndian.Uint64(k[n:]), v)
	if err != nil {
		return ids, fmt.Errorf("chunk %q: %w", k, err)
	}
	return ids, nil
}

// findChunk returns the key (a copy) and ids of the chunk of prefix whose
// range holds id or would: the last chunk whose first id is at most id,
// else the first chunk. found is false when prefix has no chunk.
func findChunk(c *bolt.Cursor, prefix []byte, id uint64) (key []byte, ids []uint64, found bool, err error) {
	want := postingKey(prefix, id)
	k, v := c.Seek(want)
	if !bytes.Equal(k, want) {
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for k != nil && bytes.HasPrefix(k, prefix) && len(k) != len(want) {
			k, v = c.Prev() // a longer value sharing the prefix
		}
		if !isChunkOf(k, prefix) { // no chunk starts at or before id
			for k, v = c.Seek(want); k != nil && bytes.HasPrefix(k, prefix) && len(k) != len(want); {
				k, v = c.Next()
			}
			if !isChunkOf(k, prefix) {
				return nil, nil, false, nil
			}
		}
	}
	ids, err = decodeChunk(nil, k, len(prefix), v)
	return bytes.Clone(k), ids, true, err
}

// neighbour returns the key (a copy) and ids of the chunk of prefix next
// to the one with key, after it (next) or before it.
func neighbour(c *bolt.Cursor, prefix, key []byte, next bool) ([]byte, []uint64, error) {
	step := c.Prev
	if next {
		step = c.Next
	}
	k, _ := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil, nil, nil
	}
	for k, v := step(); k != nil && bytes.HasPrefix(k, prefix); k, v = step() {
		if len(k) == len(key) {
			ids, err := decodeChunk(nil, k, len(prefix), v)
			return bytes.Clone(k), ids, err
		}
	}
	return nil, nil, nil
}

// putChunk stores ids (ascending, not empty) as a chunk of prefix,
// removing old, the chunk's previous key, if its first id changed.
func putChunk(b *bolt.Bucket, prefix, old []byte, ids []uint64) error {
	key := postingKey(prefix, ids[0])
	if old != nil && !bytes.Equal(old, key) {
		if err := b.Delete(old); err != nil {
			return err
		}
	}
	var val []byte
	if len(ids) > 1 {
		val = indexdef.AppendPosting(make([]byte, 0, len(ids)), ids)
	}
	return b.Put(key, val)
}

// postingAdd adds id to the posting list of prefix in b.
func postingAdd(b *bolt.Bucket, prefix []byte, id uint64, maxChunk int) error {
	key, ids, found, err := findChunk(b.Cursor(), prefix, id)
	if err != nil || !found {
		if err == nil {
			err = b.Put(postingKey(prefix, id), nil)
		}
		return err
	}
	i, present := slices.BinarySearch(ids, id)
	if present {
		return nil
	}
	ids = slices.Insert(ids, i, id)
	switch {
	case len(ids) <= maxChunk:
		return putChunk(b, prefix, key, ids)
	case i == len(ids)-1 || i == 0:
		// Past either end of a full chunk: a chunk of its own, so that
		// ids added in order fill their chunks.
		return putChunk(b, prefix, nil, ids[i:i+1])
	}
	h := len(ids) / 2
	if err := putChunk(b, prefix, key, ids[:h]); err != nil {
		return err
	}
	return putChunk(b, prefix, nil, ids[h:])
}

// postingDelete removes id from the posting list of prefix in b; an id
// it does not hold is no error.
func postingDelete(b *bolt.Bucket, prefix []byte, id uint64, maxChunk int) error {
	c := b.Cursor()
	key, ids, found, err := findChunk(c, prefix, id)
	if err != nil || !found {
		return err
	}
	i, present := slices.BinarySearch(ids, id)
	if !present {
		return nil
	}
	ids = slices.Delete(ids, i, i+1)
	if len(ids) == 0 {
		return b.Delete(key)
	}
	if len(ids) < maxChunk/4 {
		for _, next := range []bool{true, false} {
			nkey, nids, err := neighbour(c, prefix, key, next)
			if err != nil {
				return err
			}
			if nkey == nil || len(ids)+len(nids) > maxChunk/2 {
				continue
			}
			if err := b.Delete(nkey); err != nil {
				return err
			}
			if next {
				return putChunk(b, prefix, key, append(ids, nids...))
			}
			return putChunk(b, prefix, key, append(nids, ids...))
		}
	}
	return putChunk(b, prefix, key, ids)
}

// scanPostings appends to ids the ids of the posting list of prefix,
// reporting false as soon as ids would hold more than limit values.
func scanPostings(c *bolt.Cursor, prefix []byte, ids []uint64, limit int) ([]uint64, bool, error) {
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(k) != len(prefix)+idLen {
			continue
		}
		if len(ids)+indexdef.PostingLen(v) > limit {
			return nil, false, nil
		}
		var err error
		if ids, err = decodeChunk(ids, k, len(prefix), v); err != nil {
			return nil, false, err
		}
	}
	return ids, true, nil
}

// appender adds ids to the ends of posting lists of one bucket, taking
// the keys prefix+id in key order (for AddBulk and reindex, whose ids are
// larger than those stored): each list's last chunk is filled up, then
// full chunks follow. It writes each list when the next begins, and in
// flush. Values are carved from an arena: bbolt keeps them until the
// commit.
type appender struct {
	b        bulkBucket
	c        *bolt.Cursor
	maxChunk int
	empty    bool // the bucket had no keys (or is fresh): no chunk to extend
	prefix   []byte
	ids      []uint64
	arena    []byte
	key      []byte
	// seekFrom is the prefix stored sought last (valid if sought), and
	// seekNext a copy of the key it found (nil: none).
	sought   bool
	seekFrom []byte
	seekNext []byte
}

func newAppender(b bulkBucket, maxChunk int) *appender {
	c := b.Cursor()
	k, _ := c.First()
	// A later Add of a load starts chunks of its own rather than extend
	// stored ones, which the load's first Add may have extended (load.go).
	r, fresh := b.(*recorder)
	fresh = fresh && r.fresh
	return &appender{b: b, c: c, maxChunk: maxChunk, empty: k == nil || fresh}
}

// add adds the id at the end of key (a prefix and an id) to its list;
// a repeated key is added once.
func (a *appender) add(key []byte) error {
	prefix, id := key[:len(key)-idLen], binary.BigEndian.Uint64(key[len(key)-idLen:])
	if !bytes.Equal(prefix, a.prefix) || len(a.ids) == 0 {
		if err := a.flush(); err != nil {
			return err
		}
		a.prefix = append(a.prefix[:0], prefix...)
	} else if a.ids[len(a.ids)-1] == id {
		return nil
	}
	a.ids = append(a.ids, id)
	return nil
}

// addList writes the ids (ascending) of prefix, after the list being
// collected.
func (a *appender) addList(prefix []byte, ids []uint64) error {
	if err := a.flush(); err != nil {
		return err
	}
	a.prefix, a.ids = append(a.prefix[:0], prefix...), ids
	err := a.flush()
	a.ids = nil
	return err
}

// flush writes the list being collected.
func (a *appender) flush() error {
	ids := a.ids
	a.ids = a.ids[:0]
	if len(ids) == 0 {
		return nil
	}
	if !a.empty && a.stored(a.prefix) {
		key, last, found, err := findChunk(a.c, a.prefix, ids[0])
		if err != nil {
			return err
		}
		if found && last[len(last)-1] >= ids[0] {
			// Not past the end after all: the general path, which
			// needs a bucket of a write transaction (AddBulk's ids
			// are past every stored one).
			live, ok := a.b.(*bolt.Bucket)
			if !ok {
				return fmt.Errorf("posting list %q: id %d not past its end in a bulk build", a.prefix, ids[0])
			}
			for _, id := range ids {
				if err := postingAdd(live, a.prefix, id, a.maxChunk); err != nil {
					return err
				}
			}
			return nil
		}
		if found && len(last) < a.maxChunk {
			n := min(a.maxChunk-len(last), len(ids))
			if err := a.put(key, append(last, ids[:n]...)); err != nil {
				return err
			}
			ids = ids[n:]
		}
	}
	for len(ids) > 0 {
		n := min(a.maxChunk, len(ids))
		// bbolt copies keys (not values): one buffer serves.
		a.key = binary.BigEndian.AppendUint64(append(a.key[:0], a.prefix...), ids[0])
		if err := a.put(a.key, ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// stored reports whether any key of b starts with prefix: one seek tells
// most new values from those with a list to extend. A prefix above the one
// sought last and below the key that seek found, not a prefix of it, needs
// no seek: a stored key starting with prefix would lie between the two.
// (Keys put since then are of lists before prefix, as the appender takes
// its keys in order.) A bulk load into a bucket of a few keys seeks about
// once for each of them, not once for every value.
func (a *appender) stored(prefix []byte) bool {
	if a.sought && bytes.Compare(prefix, a.seekFrom) > 0 &&
		(a.seekNext == nil || bytes.Compare(a.seekNext, prefix) > 0 && !bytes.HasPrefix(a.seekNext, prefix)) {
		return false
	}
	k, _ := a.c.Seek(prefix)
	a.sought = true
	a.seekFrom = append(a.seekFrom[:0], prefix...)
	if k == nil {
		a.seekNext = nil
	} else {
		a.seekNext = append(a.seekNext[:0], k...)
	}
	return k != nil && bytes.HasPrefix(k, prefix)
}

func (a *appender) put(key []byte, ids []uint64) error {
	var val []byte
	if len(ids) > 1 {
		if len(a.arena)+len(ids)*binary.MaxVarintLen64 > cap(a.arena) {
			a.arena = make([]byte, 0, max(1<<16, len(ids)*binary.MaxVarintLen64))
		}
		start := len(a.arena)
		a.arena = indexdef.AppendPosting(a.arena, ids)
		val = a.arena[start:len(a.arena):len(a.arena)]
	}
	return a.b.Put(key, val)
}
