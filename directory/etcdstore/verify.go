package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
	"github.com/ldapd/ldapd/directory/internal/problems"
)

// ErrCorrupt is wrapped by the error Verify returns when an invariant of
// the layout does not hold.
var ErrCorrupt = errors.New("etcd directory store is inconsistent")

// Verify checks the invariants of the layout (layout.go) at one etcd
// revision, the same as boltstore's Verify:
//
//   - every entry decodes, has exactly one dn key, equal to the key of its
//     DN, and its parent exists unless it is a suffix;
//   - every dn key points to a live entry whose DN has that key;
//   - every index key of every entry is present (with index.go's overflow
//     rule), and every key in an index belongs to a live entry that has it;
//   - the layout version and the index set match this code.
//
// It reads the whole store into memory, so it is for tests and
// `ldapd verify`, not for request paths.
func (s *store) Verify(ctx context.Context) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.end()
	t := &tx{s: s, ctx: ctx}
	defer t.finish()
	v := &verifier{t: t, s: s}
	if err := v.run(); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	return v.Err(ErrCorrupt, fmt.Sprintf(" at revision %d", t.rev))
}

type verifier struct {
	t *tx
	s *store
	problems.List
}

func (v *verifier) all(prefix string, keysOnly bool) (map[string][]byte, error) {
	kvs, _, err := v.t.scan(prefix, prefixEnd(prefix), 0, keysOnly)
	if err != nil {
		return nil, err
	}
	m := make(map[string][]byte, len(kvs))
	for _, x := range kvs {
		m[x.key[len(prefix):]] = x.val
	}
	return m, nil
}

func (v *verifier) run() error {
	raw, ok, err := v.t.get(v.s.keys.version())
	if err != nil {
		return err
	}
	if !ok {
		v.Problem("layout version key is missing")
	} else if _, err := decodeVersion(raw); err != nil {
		v.Problem("%v", err)
	}
	raw, _, err = v.t.get(v.s.keys.indexes())
	if err != nil {
		return err
	}
	if string(raw) != v.s.idx.Signature() {
		v.Problem("index set is %q, configured %q", raw, v.s.idx.Signature())
	}
	entries, err := v.all(v.s.keys.entries(), false)
	if err != nil {
		return err
	}
	dns, err := v.all(v.s.keys.dnSpace(), false)
	if err != nil {
		return err
	}
	index, err := v.all(v.s.keys.indexSpace(), true)
	if err != nil {
		return err
	}
	want := map[string]bool{} // expected index keys, below P "i/"
	decoded := map[uint64]*directory.Entry{}
	for k, raw := range entries {
		if err := v.t.ctx.Err(); err != nil {
			return err
		}
		id, err := parseID([]byte(k))
		if err != nil {
			v.Problem("entry key %x: %v", k, err)
			continue
		}
		e, err := entrycodec.Decode(raw)
		if err != nil {
			v.Problem("entry %d: %v", id, err)
			continue
		}
		decoded[id] = e
		key, err := entrycodec.DNKey(e.DN)
		if err != nil {
			v.Problem("entry %d (%s): %v", id, e.DN, err)
			continue
		}
		if got, ok := dns[string(key)]; !ok {
			v.Problem("entry %d (%s) has no dn key", id, e.DN)
		} else if gid, err := parseID(got); err != nil || gid != id {
			v.Problem("entry %d (%s): dn key points to entry %x", id, e.DN, got)
		}
		if pk := entrycodec.ParentKey(key); pk != nil {
			if _, ok := dns[string(pk)]; !ok && v.hasStoredAncestor(dns, pk) {
				v.Problem("entry %d (%s): parent %s does not exist", id, e.DN, e.DN.Parent())
			}
		}
		for _, ik := range v.s.idx.keys(e, id) {
			k := ik.Attr + "/" + string(ik.Key)
			want[k] = true
			if _, ok := index[k]; !ok {
				v.Problem("entry %d (%s): index %s lacks key %q", id, e.DN, ik.Attr, ik.Key)
			}
		}
	}
	seen := map[uint64]bool{}
	for k, val := range dns {
		id, err := parseID(val)
		if err != nil {
			v.Problem("dn key %q: %v", k, err)
			continue
		}
		if seen[id] {
			v.Problem("dn key %q: entry %d has more than one key", k, id)
		}
		seen[id] = true
		e, ok := decoded[id]
		if !ok {
			if _, present := entries[string(idBytes(id))]; !present {
				v.Problem("dn key %q points to missing entry %d", k, id)
			}
			continue
		}
		if want, err := entrycodec.DNKey(e.DN); err == nil && string(want) != k {
			v.Problem("dn key %q points to entry %d named %s", k, id, e.DN)
		}
	}
	for k := range index {
		if want[k] {
			continue
		}
		attr, rest, ok := strings.Cut(k, "/")
		if !ok || !v.s.idx.Indexed[attr] {
			v.Problem("index key %q: attribute is not indexed", k)
			continue
		}
		id, ok := indexdef.KeyID([]byte(rest))
		if !ok {
			v.Problem("index %s: malformed key %q", attr, rest)
			continue
		}
		if _, live := entries[string(idBytes(id))]; !live {
			v.Problem("index %s: key %q points to missing entry %d", attr, rest, id)
		} else {
			v.Problem("index %s: stale key %q: entry %d has no such value", attr, rest, id)
		}
	}
	return nil
}

// hasStoredAncestor reports whether some ancestor key of key (key itself
// included) is stored.
func (v *verifier) hasStoredAncestor(dns map[string][]byte, key []byte) bool {
	for ; key != nil; key = entrycodec.ParentKey(key) {
		if _, ok := dns[string(key)]; ok {
			return true
		}
	}
	return false
}
