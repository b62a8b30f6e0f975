package etcdstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/writecheck"
)

// tx is both the ReadTx of View and the WriteTx of Update. Reads go to etcd
// at one revision (rev, fixed by the first read); an Update's writes go to
// an overlay (writes) that later reads see, and its point reads record the
// ModRevision they observed (reads) for the commit's compares.
type tx struct {
	s      *store
	ctx    context.Context
	rev    int64            // snapshot revision; 0 until the first read
	writes map[string]write // nil in a View
	reads  map[string]int64 // key -> ModRevision seen (0: absent)
	ranges []keyRange       // ranges read
	cache  map[string]read  // point reads from etcd, by key: the revision is fixed
	snap   *snapshot        // with a view, a View reads this instead of etcd
	done   bool
}

// read is one point read from etcd.
type read struct {
	val   []byte
	found bool
}

// keyRange is a range [start, end) an Update read.
type keyRange struct{ start, end string }

type write struct {
	val []byte
	del bool
}

// kv is one key of a range read.
type kv struct {
	key string
	val []byte
}

var _ directory.WriteTx = (*tx)(nil)

var errTxDone = errors.New("etcdstore: transaction used after its function returned")

var errReadOnly = errors.New("etcdstore: write in a read-only transaction")

func (t *tx) finish() { t.done = true }

func (t *tx) check() error {
	if t.done {
		return errTxDone
	}
	return nil
}

func (t *tx) checkWrite() error {
	if err := t.check(); err != nil {
		return err
	}
	if t.writes == nil {
		return errReadOnly
	}
	return nil
}

// fetch runs one etcd range read at the snapshot revision. After the first
// read the revision is fixed, so reads may be served by any member that has
// applied it (serializable); a member that has not yet gets the read again,
// linearizably, which waits for it.
func (t *tx) fetch(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if t.rev == 0 {
		resp, err := t.s.cli.Get(t.ctx, key, opts...)
		if err != nil {
			return nil, unavailable(err)
		}
		t.rev = resp.Header.Revision
		return resp, nil
	}
	opts = append(opts, clientv3.WithRev(t.rev))
	resp, err := t.s.cli.Get(t.ctx, key, append(opts, clientv3.WithSerializable())...)
	if errors.Is(err, rpctypes.ErrFutureRev) {
		resp, err = t.s.cli.Get(t.ctx, key, opts...)
	}
	if errors.Is(err, rpctypes.ErrCompacted) {
		return nil, fmt.Errorf("etcd compacted revision %d during the transaction (retention too short): %w: %w",
			t.rev, directory.ErrBusy, err)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	return resp, nil
}

// get reads one key through the overlay.
func (t *tx) get(key string) ([]byte, bool, error) {
	if t.snap != nil {
		v, ok := t.snap.get(key)
		return v, ok, nil
	}
	if w, ok := t.writes[key]; ok {
		return w.val, !w.del, nil
	}
	if r, ok := t.cache[key]; ok {
		return r.val, r.found, nil
	}
	resp, err := t.fetch(key)
	if err != nil {
		return nil, false, err
	}
	var mod int64
	var val []byte
	found := len(resp.Kvs) == 1
	if found {
		mod, val = resp.Kvs[0].ModRevision, resp.Kvs[0].Value
	}
	if t.reads != nil {
		if _, seen := t.reads[key]; !seen {
			t.reads[key] = mod
		}
	}
	if t.cache == nil {
		t.cache = map[string]read{}
	}
	t.cache[key] = read{val, found}
	return val, found, nil
}

// page is the number of keys one range request returns.
const page = 512

// scan returns the keys in [start, end) through the overlay, in order, at
// most limit of them (limit <= 0: all), and whether that is all of them.
func (t *tx) scan(start, end string, limit int, keysOnly bool) ([]kv, bool, error) {
	if t.snap != nil {
		out, complete := t.snap.scan(start, end, limit)
		return out, complete, nil
	}
	if t.reads != nil {
		t.ranges = append(t.ranges, keyRange{start, end})
	}
	var pending []kv // overlay puts in range
	shadow := 0
	for k, w := range t.writes {
		if k >= start && k < end {
			shadow++
			if !w.del {
				pending = append(pending, kv{k, w.val})
			}
		}
	}
	var out []kv
	from := start
	more := true
	want := -1
	if limit > 0 {
		want = limit + 1 + shadow
	}
	for more && (want < 0 || len(out) < want) {
		n := page
		if want >= 0 {
			n = min(page, want-len(out))
		}
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(int64(n))}
		if keysOnly {
			opts = append(opts, clientv3.WithKeysOnly())
		}
		resp, err := t.fetch(from, opts...)
		if err != nil {
			return nil, false, err
		}
		for _, x := range resp.Kvs {
			out = append(out, kv{string(x.Key), x.Value})
			if t.reads != nil {
				if _, seen := t.reads[string(x.Key)]; !seen {
					t.reads[string(x.Key)] = x.ModRevision
				}
			}
		}
		more = resp.More
		if len(resp.Kvs) > 0 {
			from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
		} else {
			more = false
		}
	}
	if len(t.writes) > 0 {
		merged := out[:0]
		for _, x := range out {
			if _, ok := t.writes[x.key]; !ok {
				merged = append(merged, x)
			}
		}
		out = merged
		for _, p := range pending {
			if !more || p.key < from {
				out = append(out, p)
			}
		}
		slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.key, b.key) })
	}
	if limit > 0 && len(out) > limit {
		return out[:limit], false, nil
	}
	return out, !more, nil
}

func (t *tx) put(key string, val []byte) { t.writes[key] = write{val: val} }
func (t *tx) del(key string)             { t.writes[key] = write{del: true} }

// commit writes the overlay in one Txn. It reports false, having written
// nothing, when a compare failed (a concurrent commit changed what fn read),
// and the revision of the commit (0 when there was nothing to write).
func (t *tx) commit() (bool, int64, error) {
	if len(t.writes) == 0 {
		return true, 0, nil
	}
	names := make([]string, 0, len(t.writes))
	for k := range t.writes {
		names = append(names, k)
	}
	slices.Sort(names)
	ops := make([]clientv3.Op, 0, len(names)+1)
	size := 0
	for _, k := range names {
		w := t.writes[k]
		if w.del {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.val)))
		}
		size += len(k) + len(w.val) + 16
	}
	ops = append(ops, clientv3.OpPut(t.s.keys.fence(), ""))
	cmps, size := t.guards(size)
	if len(ops) > t.s.opts.MaxTxnOps || size > t.s.opts.MaxTxnBytes-4096 {
		return false, 0, t.tooLarge(len(ops), size, nil)
	}
	resp, err := t.s.cli.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	if errors.Is(err, rpctypes.ErrTooManyOps) || errors.Is(err, rpctypes.ErrRequestTooLarge) {
		return false, 0, t.tooLarge(len(ops), size, err)
	}
	if err != nil {
		// The outcome is unknown (the Txn may have been applied), so fn is
		// not run again: the caller sees an error and may retry itself.
		return false, 0, unavailable(err)
	}
	return resp.Succeeded, resp.Header.Revision, nil
}

// guards returns the compares of the commit and adds their size to size.
// Every key read must still have the ModRevision it had (0: still absent),
// which catches changes and deletions; every range read must hold no key
// modified or created after the snapshot, which catches insertions. When
// that makes more compares than a Txn may hold, one compare replaces them
// all: the fence key, written by every commit, must not have changed since
// the snapshot.
func (t *tx) guards(size int) ([]clientv3.Cmp, int) {
	if t.rev == 0 {
		return nil, size // nothing was read: blind writes need no guard
	}
	if len(t.reads)+len(t.ranges) > t.s.opts.MaxTxnOps {
		return []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(t.s.keys.fence()), "<", t.rev+1)}, size
	}
	cmps := make([]clientv3.Cmp, 0, len(t.reads)+len(t.ranges))
	for k, mod := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(k), "=", mod))
		size += len(k) + 16
	}
	for _, r := range t.ranges {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(r.start), "<", t.rev+1).WithRange(r.end))
		size += len(r.start) + len(r.end) + 16
	}
	return cmps, size
}

func (t *tx) tooLarge(ops, size int, cause error) error {
	msg := fmt.Sprintf("the transaction needs %d etcd operations and about %d bytes; the limits are %d operations (etcd --max-txn-ops) and %d bytes (--max-request-bytes): write fewer entries per transaction, or raise both limits on the etcd cluster and in ldapd",
		ops, size, t.s.opts.MaxTxnOps, t.s.opts.MaxTxnBytes)
	if cause != nil {
		return fmt.Errorf("%w: %w: %s: %w", ErrTxnTooLarge, directory.ErrAdminLimitExceeded, msg, cause)
	}
	return fmt.Errorf("%w: %w: %s", ErrTxnTooLarge, directory.ErrAdminLimitExceeded, msg)
}

// Get returns a decoded copy of the entry named dn.
func (t *tx) Get(dn directory.DN) (*directory.Entry, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	id, _, err := t.lookup(dn)
	if err != nil {
		return nil, err
	}
	return t.getEntry(id)
}

// HasChildren reports whether dn has a child; for the root DN, whether a
// depth-1 entry exists. A missing dn is ErrNoSuchObject.
func (t *tx) HasChildren(dn directory.DN) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	if dn.IsRoot() {
		_, complete, err := t.childIDs(nil, 0)
		return !complete, err
	}
	_, key, err := t.lookup(dn)
	if err != nil {
		return false, err
	}
	return t.hasChildren(key)
}

// Meta returns a copy of the value stored under key.
func (t *tx) Meta(key string) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	v, ok, err := t.get(t.s.keys.meta(key))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("meta %q: %w", key, directory.ErrMetaNotFound)
	}
	return append([]byte{}, v...), nil
}

// Add stores a new entry under a fresh random id with its dn key and index
// keys.
func (t *tx) Add(e *directory.Entry) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	key, err := writecheck.Add(dnKeys{t}, e)
	if err != nil {
		return err
	}
	id, err := t.newID()
	if err != nil {
		return fmt.Errorf("add %s: %w", e.DN, err)
	}
	t.put(t.s.keys.entry(id), entrycodec.Encode(e))
	t.put(t.s.keys.dn(key), idBytes(id))
	t.putIndexKeys(t.s.idx.keys(e, id))
	return nil
}

// newID draws a random id no stored entry has. The absence is a recorded
// read, so two transactions drawing the same id conflict.
func (t *tx) newID() (uint64, error) {
	for range 8 {
		var b [idLen]byte
		if _, err := rand.Read(b[:]); err != nil {
			return 0, err
		}
		id := binary.BigEndian.Uint64(b[:])
		if id == 0 {
			continue
		}
		_, taken, err := t.get(t.s.keys.entry(id))
		if err != nil {
			return 0, err
		}
		if !taken {
			return id, nil
		}
	}
	return 0, errors.New("repeated entry id collisions; is the random source broken?")
}

// Modify applies changes to a clone of the stored entry, so a failed
// Modify leaves the entry as it was even if fn goes on and commits.
func (t *tx) Modify(dn directory.DN, changes []directory.Change) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	id, _, err := t.lookup(dn)
	if err != nil {
		return err
	}
	old, err := t.getEntry(id)
	if err != nil {
		return err
	}
	e := old.Clone()
	if err := directory.ApplyChanges(t.s.schema, e, changes); err != nil {
		return err
	}
	t.put(t.s.keys.entry(id), entrycodec.Encode(e))
	del, add := diffKeys(t.s.idx.keys(old, id), t.s.idx.keys(e, id))
	t.deleteIndexKeys(del)
	t.putIndexKeys(add)
	return nil
}

// Delete removes a leaf entry, its dn key and its index keys.
func (t *tx) Delete(dn directory.DN) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	id, key, err := writecheck.Delete(dnKeys{t}, dn)
	if err != nil {
		return err
	}
	e, err := t.getEntry(id)
	if err != nil {
		return err
	}
	t.deleteIndexKeys(t.s.idx.keys(e, id))
	t.del(t.s.keys.dn(key))
	t.del(t.s.keys.entry(id))
	return nil
}

// Rename moves the entry dn and its subtree to newRDN under newParent (or
// dn's parent). Ids do not change, so index keys stay valid; the dn keys
// and the DNs stored in the entries of the subtree are rewritten: three
// operations per moved entry, so a subtree of more than about 40 entries
// needs a raised --max-txn-ops (ErrTxnTooLarge otherwise).
func (t *tx) Rename(dn directory.DN, newRDN directory.RDN, newParent *directory.DN) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	m, err := writecheck.Rename(dnKeys{t}, dn, newRDN, newParent)
	if err != nil {
		return err
	}
	return t.moveSubtree(m.From, m.To, dn, m.Target)
}

// moveSubtree rewrites the dn keys under oldKey to live under newKey and
// the stored DNs from below oldDN to below newDN.
func (t *tx) moveSubtree(oldKey, newKey []byte, oldDN, newDN directory.DN) error {
	type move struct {
		key []byte
		id  uint64
	}
	id, _, err := t.getID(oldKey)
	if err != nil {
		return err
	}
	moves := []move{{oldKey, id}}
	prefix := t.s.keys.dn(entrycodec.SubtreePrefix(oldKey))
	below, _, err := t.scan(prefix, prefixEnd(prefix), 0, false)
	if err != nil {
		return err
	}
	space := len(t.s.keys.dnSpace())
	for _, x := range below {
		id, err := parseID(x.val)
		if err != nil {
			return fmt.Errorf("dn key %q: %w", x.key, err)
		}
		moves = append(moves, move{[]byte(x.key[space:]), id})
	}
	for _, m := range moves {
		t.del(t.s.keys.dn(m.key))
	}
	for _, m := range moves {
		e, err := t.getEntry(m.id)
		if err != nil {
			return err
		}
		e.DN = writecheck.Rebase(e.DN, oldDN, newDN)
		t.put(t.s.keys.entry(m.id), entrycodec.Encode(e))
		k := append(bytes.Clone(newKey), m.key[len(oldKey):]...)
		t.put(t.s.keys.dn(k), idBytes(m.id))
	}
	return nil
}

// SetMeta stores a copy of value under key.
func (t *tx) SetMeta(key string, value []byte) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	t.put(t.s.keys.meta(key), append([]byte{}, value...))
	return nil
}

// NextSequence increments the counter name. Its key is a recorded read, so
// two transactions drawing from one counter conflict and one runs again.
func (t *tx) NextSequence(name string) (uint64, error) {
	if err := t.checkWrite(); err != nil {
		return 0, err
	}
	key := t.s.keys.seq(name)
	v, _, err := t.get(key)
	if err != nil {
		return 0, err
	}
	var n uint64
	if len(v) == 8 {
		n = binary.BigEndian.Uint64(v)
	}
	n++
	t.put(key, binary.BigEndian.AppendUint64(nil, n))
	return n, nil
}

// lookup returns the id and dn key of dn, or ErrNoSuchObject with the
// deepest existing ancestor as matched DN (writecheck.Lookup).
func (t *tx) lookup(dn directory.DN) (uint64, []byte, error) { return writecheck.Lookup(dnKeys{t}, dn) }

// dnKeys is a transaction's dn keys as writecheck's Reader.
type dnKeys struct{ t *tx }

func (k dnKeys) ID(key []byte) (uint64, bool, error)  { return k.t.getID(key) }
func (k dnKeys) HasChildren(key []byte) (bool, error) { return k.t.hasChildren(key) }

func (t *tx) getID(key []byte) (uint64, bool, error) {
	v, ok, err := t.get(t.s.keys.dn(key))
	if err != nil || !ok {
		return 0, false, err
	}
	id, err := parseID(v)
	if err != nil {
		return 0, false, fmt.Errorf("dn key %q: %w (run verify)", key, err)
	}
	return id, true, nil
}

// hasChildren reports whether the entry with dn key has a child: the first
// key below it is one, since an entry whose parent is missing below a
// stored ancestor is never added.
func (t *tx) hasChildren(key []byte) (bool, error) {
	prefix := t.s.keys.dn(entrycodec.SubtreePrefix(key))
	kvs, _, err := t.scan(prefix, prefixEnd(prefix), 1, true)
	return len(kvs) > 0, err
}

// getEntry reads and decodes entry id.
func (t *tx) getEntry(id uint64) (*directory.Entry, error) {
	raw, ok, err := t.get(t.s.keys.entry(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("entry id %d is missing (run verify)", id)
	}
	e, err := entrycodec.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("entry id %d: %w", id, err)
	}
	return e, nil
}

func (t *tx) putIndexKeys(ks []indexKey) {
	for _, k := range ks {
		t.put(t.s.keys.index(k.Attr)+string(k.Key), nil)
	}
}

func (t *tx) deleteIndexKeys(ks []indexKey) {
	for _, k := range ks {
		t.del(t.s.keys.index(k.Attr) + string(k.Key))
	}
}

// prefixEnd returns the end of the range of keys starting with prefix.
func prefixEnd(prefix string) string { return clientv3.GetPrefixRangeEnd(prefix) }

// Backoff between the attempts of an Update whose commit conflicted. A
// conflict means another writer committed, so contention ends by itself;
// what must not happen is that N writers keep re-reading and colliding in
// lockstep, or that an unlucky writer gives up while others make progress
// (a fixed count of 64 attempts did, with 8 writers on one key under -race
// on a busy machine, where one attempt takes a second). So:
//
//   - a writer that conflicted retries holding its node's retry turn: the
//     writers of one node that collide queue behind each other instead of
//     colliding again (the holder still races other nodes and first
//     attempts). Waiting for the turn is a queue, not a livelock: only the
//     caller's context bounds it (each holder is bounded by its budget);
//   - each wait is drawn uniformly from [0, ceiling) ("full jitter"), the
//     ceiling doubling from backoffFirst up to backoffMax;
//   - the holder gives up (ErrBusy) after a conflicted attempt that started
//     at or after the budget's end (counted from when it took the turn; the
//     last wait is cut short to end there): its attempts kept conflicting
//     with other nodes' writes for that long.
const (
	backoffFirst = time.Millisecond
	backoffMax   = 128 * time.Millisecond
)

// backoff paces the attempts of one Update.
type backoff struct {
	budget   time.Duration
	deadline time.Time // set when the turn is taken
	ceiling  time.Duration
	attempts int
	turn     chan struct{} // the store's retry turn
	held     bool
}

func newBackoff(budget time.Duration, turn chan struct{}) *backoff {
	return &backoff{budget: budget, ceiling: backoffFirst, turn: turn}
}

// wait is called after a conflicted attempt: it takes the retry turn,
// sleeps, and returns nil for the next attempt; or ErrBusy once the budget
// is spent, or ctx's error when it ends first.
func (b *backoff) wait(ctx context.Context) error {
	b.attempts++
	if !b.held {
		select {
		case b.turn <- struct{}{}:
			b.held = true
			b.deadline = time.Now().Add(b.budget)
		case <-ctx.Done():
			return fmt.Errorf("etcdstore: waiting to retry a conflicted write: %w", ctx.Err())
		}
	}
	left := time.Until(b.deadline)
	if left <= 0 {
		return fmt.Errorf("etcdstore: %d attempts conflicted with concurrent writers: %w", b.attempts, directory.ErrBusy)
	}
	// The last wait ends at the deadline, so that the budget is spent in
	// full (a draw past it used to give up up to backoffMax early).
	d := min(mrand.N(b.ceiling)+1, left)
	b.ceiling = min(2*b.ceiling, backoffMax)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("etcdstore: waiting to retry a conflicted write: %w", ctx.Err())
	case <-timer.C:
		return nil
	}
}

// release gives the retry turn back, if held.
func (b *backoff) release() {
	if b.held {
		<-b.turn
		b.held = false
	}
}
