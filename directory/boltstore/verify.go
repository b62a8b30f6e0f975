package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

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
//   - every index key of every entry is present, and every key in an index
//     belongs to a live entry that has that value (no stale keys);
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
			if b == nil || !hasKey(b, ik.Key) {
				v.Problem("entry %d (%s): index %s lacks key %q", id, e.DN, ik.Attr, ik.Key)
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

// indexes checks the index buckets against the expected key counts. When
// every expected key exists (checked by entries) and the counts agree,
// there is no stale key; otherwise each key is checked against its entry
// to name the stale ones.
func (v *verifier) indexes(want map[string]int) error {
	idx := v.btx.Bucket(bucketIndex)
	return idx.ForEachBucket(func(name []byte) error {
		attr := string(name)
		if !v.idx.Indexed[attr] {
			v.Problem("index bucket %s is not configured", attr)
			return nil
		}
		b := idx.Bucket(name)
		if n := b.Stats().KeyN; n == want[attr] {
			return nil
		}
		return v.staleKeys(attr, b)
	})
}

func (v *verifier) staleKeys(attr string, b *bolt.Bucket) error {
	var (
		lastID   uint64
		lastKeys map[string]bool
	)
	return b.ForEach(func(k, _ []byte) error {
		if err := v.ctx.Err(); err != nil {
			return err
		}
		id, ok := indexdef.KeyID(k)
		if !ok || k[0] == indexdef.PrefixOverflow { // overflow keys are etcdstore's
			v.Problem("index %s: malformed key %q", attr, k)
			return nil
		}
		if lastKeys == nil || id != lastID {
			lastID, lastKeys = id, nil
			raw := v.btx.Bucket(bucketEntries).Get(idKey(id))
			if raw == nil {
				v.Problem("index %s: key %q points to missing entry %d", attr, k, id)
				return nil
			}
			e, err := entrycodec.Decode(raw)
			if err != nil {
				return nil // reported by entries
			}
			lastKeys = map[string]bool{}
			for _, ik := range v.idx.keys(e, id) {
				if ik.Attr == attr {
					lastKeys[string(ik.Key)] = true
				}
			}
		}
		if !lastKeys[string(k)] {
			v.Problem("index %s: stale key %q: entry %d has no such value", attr, k, id)
		}
		return nil
	})
}

// hasKey reports whether b holds key. Index values are empty, and Get
// cannot tell an empty value from a missing key.
func hasKey(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return bytes.Equal(k, key)
}
