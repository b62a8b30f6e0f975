package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
	"github.com/ldapd/ldapd/directory/internal/problems"
)

// ErrCorrupt is wrapped by the error Verify returns when an invariant of
// the layout does not hold.
var ErrCorrupt = errors.New("directory database is inconsistent")

// Verify checks the invariants of the layout (layout.go) and bbolt's own
// page-level consistency:
//
//   - every entry decodes, has exactly one dn2id key, equal to the key of
//     its DN, and its parent exists unless it is a suffix (no ancestor is
//     stored);
//   - every dn2id key points to a live entry (no orphan ids);
//   - every index key of every entry has its id in the posting list of
//     its prefix, and every id in a posting list belongs to a live entry
//     that has that value (no stale ids); every chunk is well formed (its
//     key ends in its first id, its ids ascend, at most indexdef.MaxChunk
//     of them, and lie above those of the chunk before);
//   - the layout version and the index set match this code.
//
// It runs in a write transaction that it rolls back, because bbolt's page
// check is only safe with writers excluded; readers are not blocked. It
// reads the whole file, so it is for tests and the offline `ldapd verify`,
// not for request paths.
func (s *store) Verify(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	btx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer func() { _ = btx.Rollback() }()
	v := &verifier{ctx: ctx, btx: newBoltTx(btx), idx: s.idx}
	if err := v.run(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for err := range btx.Check() {
		v.Problem("bbolt: %v", err)
	}
	return v.Err(ErrCorrupt, "")
}

type verifier struct {
	ctx context.Context
	btx *boltTx
	idx *indexSet
	problems.List
	// cached holds, by attribute and prefix, the last chunk of more than
	// one id that chunkOf read: entries are checked in id order, so the
	// next entries with that value find their ids in it.
	cached     map[string]map[string][]uint64
	chunkCount int
}

// maxCachedChunks bounds verifier.cached.
const maxCachedChunks = 4096

// chunkOf returns the ids of the chunk of prefix in b (the index of attr)
// whose range holds id, or would.
func (v *verifier) chunkOf(attr string, b *bolt.Bucket, prefix []byte, id uint64) ([]uint64, error) {
	byPrefix := v.cached[attr]
	if ids := byPrefix[string(prefix)]; len(ids) > 0 && ids[0] <= id && id <= ids[len(ids)-1] {
		return ids, nil
	}
	_, ids, _, err := findChunk(b.Cursor(), prefix, id)
	if err != nil || len(ids) < 2 {
		return ids, err
	}
	if v.cached == nil || v.chunkCount >= maxCachedChunks {
		v.cached, v.chunkCount = map[string]map[string][]uint64{}, 0
		byPrefix = nil
	}
	if byPrefix == nil {
		byPrefix = map[string][]uint64{}
		v.cached[attr] = byPrefix
	}
	if _, ok := byPrefix[string(prefix)]; !ok {
		v.chunkCount++
	}
	byPrefix[string(prefix)] = ids
	return ids, nil
}

func (v *verifier) run() error {
	for _, name := range allBuckets {
		if v.btx.Bucket(name) == nil {
			v.Problem("bucket %s is missing", name)
			return nil
		}
	}
	info := v.btx.Bucket(bucketInfo)
	if _, err := readVersion(info); err != nil {
		v.Problem("%v", err)
	}
	if got := string(info.Get(keyIndexes)); got != v.idx.Signature() {
		v.Problem("index set is %q, configured %q", got, v.idx.Signature())
	}
	want, err := v.entries()
	if err != nil {
		return err
	}
	v.dn2id()
	return v.indexes(want)
}

// entries checks each entry's DN key and parent and that its index keys
// exist, and returns the number of index keys expected per attribute.
func (v *verifier) entries() (map[string]int, error) {
	want := map[string]int{}
	idx := v.btx.Bucket(bucketIndex)
	n := 0
	err := v.btx.Bucket(bucketEntries).ForEach(func(k, raw []byte) error {
		if n++; n%1024 == 0 {
			if err := v.ctx.Err(); err != nil {
				return err
			}
		}
		id, err := parseID(k)
		if err != nil {
			v.Problem("entries key %x: %v", k, err)
			return nil
		}
		e, err := entrycodec.Decode(raw)
		if err != nil {
			v.Problem("entry %d: %v", id, err)
			return nil
		}
		key, err := entrycodec.DNKey(e.DN)
		if err != nil {
			v.Problem("entry %d (%s): %v", id, e.DN, err)
			return nil
		}
		if got, ok := getID(v.btx, key); !ok {
			v.Problem("entry %d (%s) has no dn2id key", id, e.DN)
		} else if got != id {
			v.Problem("entry %d (%s): dn2id key points to entry %d", id, e.DN, got)
		}
		if err := checkParent(v.btx, e.DN, key); err != nil {
			v.Problem("entry %d (%s): parent %s does not exist", id, e.DN, e.DN.Parent())
		}
		for _, ik := range v.idx.keys(e, id) {
			want[ik.Attr]++
			b := idx.Bucket([]byte(ik.Attr))
			if b == nil {
				v.Problem("entry %d (%s): index %s is missing", id, e.DN, ik.Attr)
				continue
			}
			prefix := ik.Key[:len(ik.Key)-idLen]
			ids, err := v.chunkOf(ik.Attr, b, prefix, id)
			if err != nil {
				continue // reported by indexes
			}
			if _, ok := slices.BinarySearch(ids, id); !ok {
				v.Problem("entry %d (%s): index %s lacks the id under %q", id, e.DN, ik.Attr, prefix)
			}
		}
		return nil
	})
	return want, err
}

// dn2id checks that every key points to an entry whose DN has that key.
func (v *verifier) dn2id() {
	entries := v.btx.Bucket(bucketEntries)
	seen := map[uint64]bool{}
	_ = v.btx.Bucket(bucketDN2ID).ForEach(func(k, val []byte) error {
		id, err := parseID(val)
		if err != nil {
			v.Problem("dn2id key %q: %v", k, err)
			return nil
		}
		if seen[id] {
			v.Problem("dn2id key %q: entry %d has more than one key", k, id)
		}
		seen[id] = true
		raw := entries.Get(idKey(id))
		if raw == nil {
			v.Problem("dn2id key %q points to missing entry %d", k, id)
			return nil
		}
		if e, err := entrycodec.Decode(raw); err == nil {
			if want, err := entrycodec.DNKey(e.DN); err == nil && !bytes.Equal(want, k) {
				v.Problem("dn2id key %q points to entry %d named %s", k, id, e.DN)
			}
		}
		return nil
	})
}

// indexes checks the posting lists of the index buckets and their id
// counts against the expected ones. When every expected id is listed
// (checked by entries) and the counts agree, there is no stale id;
// otherwise each id is checked against its entry to name the stale ones.
func (v *verifier) indexes(want map[string]int) error {
	idx := v.btx.Bucket(bucketIndex)
	return idx.ForEachBucket(func(name []byte) error {
		attr := string(name)
		if !v.idx.Indexed[attr] {
			v.Problem("index bucket %s is not configured", attr)
			return nil
		}
		b := idx.Bucket(name)
		n, err := v.chunks(attr, b, nil)
		if err != nil || n == want[attr] {
			return err
		}
		_, err = v.chunks(attr, b, v.staleIDs(attr))
		return err
	})
}

// chunks checks the form of every chunk of b and returns the number of
// ids they hold, calling each (if not nil) for every id and its prefix.
func (v *verifier) chunks(attr string, b *bolt.Bucket, each func(prefix []byte, id uint64)) (int, error) {
	var (
		n        int
		ids      []uint64
		last     []byte // the key of the chunk before
		lastHigh uint64 // its highest id
	)
	maxChunk := max(v.idx.maxChunk, indexdef.MaxChunk)
	err := b.ForEach(func(k, val []byte) error {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		if _, ok := indexdef.KeyID(k); !ok || k[0] == indexdef.PrefixOverflow { // overflow keys are etcdstore's
			v.Problem("index %s: malformed key %q", attr, k)
			return nil
		}
		prefix := k[:len(k)-idLen]
		var err error
		if ids, err = decodeChunk(ids[:0], k, len(prefix), val); err != nil {
			v.Problem("index %s: %v", attr, err)
			return nil
		}
		if len(ids) > maxChunk {
			v.Problem("index %s: chunk %q holds %d ids, more than %d", attr, k, len(ids), maxChunk)
		}
		if last != nil && isChunkOf(last, prefix) && lastHigh >= ids[0] {
			v.Problem("index %s: chunk %q starts at or below the end of chunk %q", attr, k, last)
		}
		last, lastHigh = append(last[:0], k...), ids[len(ids)-1]
		n += len(ids)
		if each != nil {
			for _, id := range ids {
				each(prefix, id)
			}
		}
		return nil
	})
	return n, err
}

// staleIDs returns a check that the entry with id has a value indexed
// under prefix in the index of attr.
func (v *verifier) staleIDs(attr string) func(prefix []byte, id uint64) {
	var (
		lastID   uint64
		lastKeys map[string]bool
	)
	return func(prefix []byte, id uint64) {
		if lastKeys == nil || id != lastID {
			lastID, lastKeys = id, map[string]bool{}
			raw := v.btx.Bucket(bucketEntries).Get(idKey(id))
			if raw == nil {
				v.Problem("index %s: id under %q points to missing entry %d", attr, prefix, id)
				return
			}
			e, err := entrycodec.Decode(raw)
			if err != nil {
				return // reported by entries
			}
			for _, ik := range v.idx.keys(e, id) {
				if ik.Attr == attr {
					lastKeys[string(ik.Key[:len(ik.Key)-idLen])] = true
				}
			}
		}
		if !lastKeys[string(prefix)] {
			v.Problem("index %s: stale id %d under %q: the entry has no such value", attr, id, prefix)
		}
	}
}
