package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ldapd/ldapd/directory"
)

// The local view (docs/scale-out.md, "Reads from a local view").
//
// With Consistency Local or Linearizable a store keeps every key under its
// prefix in memory, in an ordered tree: loaded from a snapshot at revision
// R (one revision, paged), then kept current by a watch from R+1. View
// reads that tree through the same transaction code as the etcd reads
// (tx.get, tx.scan), so searches are planned and answered exactly as
// before, without a round trip. Update reads and commits through etcd as
// before, then waits until the view has applied its commit's revision
// (read your writes).
//
// Snapshots. The watch goroutine applies each watch response (every event
// of one or more whole revisions) to a mutable tree, then publishes a
// copy-on-write clone of it (btree.Clone is O(1); later writes copy the
// nodes they touch): a View takes the published clone and so reads one
// revision, whatever the watch applies meanwhile.
//
// Freshness. A heartbeat reads the commit fence (layout.go: every commit
// writes it) linearizably every MaxStaleness/4. If the read was sent at
// time p and returned the fence's ModRevision F, every write acknowledged
// before p has a revision <= F, so once the view has applied F it holds
// every write acknowledged before p: p becomes the view's fresh time. A
// View at time now is refused (ErrStale, which wraps directory.ErrBusy)
// when now - fresh > MaxStaleness. So a node answers from a view that may
// miss a write acknowledged elsewhere at most MaxStaleness ago, never an
// older one: this is the bound, whatever broke (watch, member, partition).
// Watch delivery itself takes milliseconds; the bound is what a broken
// node can cost before it fails closed.
//
// Recovery. A watch that fails is opened again from the applied revision
// + 1; one that fails because that revision was compacted, or a view that
// stays behind the heartbeat's fence for 2*MaxStaleness while etcd
// answers, is reloaded from a new snapshot (ViewStats.Reloads).
//
// Version. The view counts applied revisions (Versioned): the counter is
// bumped after the new snapshot is published, so a reader that saw
// version v reads a snapshot at least as new as v's. While the view is
// stale or disabled, every call returns a new value, so caches above the
// store never hit and every operation reaches View, which refuses.

// Consistency says what a store's read transactions (View) read.
type Consistency uint8

const (
	// Direct reads etcd in every View (its first read is linearizable)
	// and keeps no local state. It is the zero value: the tools that
	// read or write a whole directory once (verify, migrate, import,
	// export) use it.
	Direct Consistency = iota
	// Local reads the node's watch-fed view: no round trip, staleness
	// bounded by Options.MaxStaleness.
	Local
	// Linearizable reads the view after one linearizable read of the
	// commit fence and a wait until the view has applied it: a View sees
	// every write acknowledged before it began, at the cost of one round
	// trip per View. Caches above the store are off (no Versioned).
	Linearizable
)

func (c Consistency) String() string {
	switch c {
	case Direct:
		return "direct"
	case Local:
		return "view"
	case Linearizable:
		return "linearizable"
	}
	return fmt.Sprintf("Consistency(%d)", uint8(c))
}

// ParseConsistency parses the names String returns.
func ParseConsistency(s string) (Consistency, error) {
	for _, c := range []Consistency{Direct, Local, Linearizable} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("invalid etcd consistency %q: want view, linearizable or direct", s)
}

// DefaultMaxStaleness is Options.MaxStaleness when zero.
const DefaultMaxStaleness = time.Second

// ErrStale is wrapped (with directory.ErrBusy) by the error of a View on a
// view that could not confirm within Options.MaxStaleness that it holds
// every acknowledged write.
var ErrStale = errors.New("etcdstore: the local view is behind etcd")

// ViewStats describes a store's local view.
type ViewStats struct {
	Revision      int64         // the revision the published snapshot is at
	FenceRevision int64         // the commit fence's revision at the last heartbeat
	Staleness     time.Duration // since the view was last confirmed current
	Stale         bool          // Staleness > MaxStaleness: Views are refused
	Reloads       uint64        // snapshot loads after the first
	Keys          int           // keys held
	Bytes         int64         // estimated memory held (ViewMaxBytes counts this)
	Disabled      bool          // over ViewMaxBytes: Views read etcd directly
}

// Lag is how many revisions the view is behind the last fence it saw.
func (s ViewStats) Lag() int64 { return max(0, s.FenceRevision-s.Revision) }

// item is one key of the view. val is never modified once stored.
type item struct {
	key string
	val []byte
}

func lessItem(a, b item) bool { return a.key < b.key }

// itemOverhead estimates the memory of one key beyond its bytes: its slot
// in a btree node (40 bytes, nodes about 3/4 full), the string and slice
// allocations' headers and rounding. Calibrated against the Go heap in
// TestViewMemory.
const itemOverhead = 96

func itemSize(it item) int64 { return int64(len(it.key) + len(it.val) + itemOverhead) }

// snapshot is one published, immutable state of the view.
type snapshot struct {
	tree *btree.BTreeG[item]
	rev  int64
}

// get returns the value of key.
func (s *snapshot) get(key string) ([]byte, bool) {
	it, ok := s.tree.Get(item{key: key})
	return it.val, ok
}

// scan returns the keys in [start, end), in order, at most limit of them
// (limit <= 0: all), and whether that is all of them.
func (s *snapshot) scan(start, end string, limit int) ([]kv, bool) {
	var out []kv
	complete := true
	s.tree.AscendRange(item{key: start}, item{key: end}, func(it item) bool {
		if limit > 0 && len(out) == limit {
			complete = false
			return false
		}
		out = append(out, kv{it.key, it.val})
		return true
	})
	return out, complete
}

// beat is a heartbeat whose fence revision the view had not applied yet.
// Heartbeats overlap, so pending beats are in no particular order.
type beat struct {
	sent  time.Time
	fence int64
}

// maxPending bounds the heartbeats waiting for the view to catch up.
const maxPending = 256

// loadPage is the number of keys one snapshot read returns. etcd counts
// every key left in the range at each limited read, so a load costs
// O(keys^2 / loadPage) on the server: pages are large (a few MiB).
const loadPage = 1 << 16

type view struct {
	s        *store
	maxStale time.Duration
	maxBytes int64

	mu      sync.Mutex // guards the fields below and the publication order
	tree    *btree.BTreeG[item]
	bytes   int64
	pending []beat
	changed chan struct{} // closed and replaced whenever a snapshot is published

	snap     atomic.Pointer[snapshot]
	version  atomic.Uint64
	fresh    atomic.Int64 // unix nanoseconds: every write acknowledged before is in snap
	fence    atomic.Int64
	reloads  atomic.Uint64
	disabled atomic.Bool

	reload chan struct{} // asks the watch loop to reload (buffered)
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startView loads the view and starts its watch and heartbeat.
func (s *store) startView(ctx context.Context) error {
	v := &view{s: s, maxStale: s.opts.MaxStaleness, maxBytes: s.opts.ViewMaxBytes,
		changed: make(chan struct{}), reload: make(chan struct{}, 1)}
	if err := v.load(ctx); err != nil && !errors.Is(err, errTooLarge) {
		return fmt.Errorf("load the local view: %w", err)
	}
	s.view = v
	if v.disabled.Load() {
		return nil
	}
	bg, cancel := context.WithCancel(context.Background())
	v.cancel = cancel
	v.wg.Add(2)
	go func() { defer v.wg.Done(); v.watchLoop(bg) }()
	go func() { defer v.wg.Done(); v.heartbeat(bg) }()
	v.waitFresh(ctx, startFreshWait)
	return nil
}

// startFreshWait bounds how long Open waits for the first heartbeat after
// the load. A load only confirms the time its first read was sent, which
// for a large directory is longer ago than the bound (100,000 people: 2
// million keys, a minute here): without the wait such a node started
// stale and `ldapd serve` exited on its first View. Past the wait (etcd
// unreachable since the load) Open returns anyway; Views then refuse
// (ErrStale) until a heartbeat lands.
const startFreshWait = 30 * time.Second

// waitFresh waits until the view is confirmed current within its bound,
// for at most d or until ctx ends.
func (v *view) waitFresh(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for v.staleness() > v.maxStale && !v.disabled.Load() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stop ends the view's goroutines.
func (v *view) stop() {
	if v.cancel != nil {
		v.cancel()
	}
	v.wg.Wait()
}

var errTooLarge = errors.New("the local view would exceed its memory cap")

// load reads every key at one revision into a new tree and publishes it.
func (v *view) load(ctx context.Context) error {
	sent := time.Now()
	tree := btree.NewG(32, lessItem)
	var size int64
	var rev int64
	from, end := v.s.keys.all(), prefixEnd(v.s.keys.all())
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(loadPage)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		// The first read is linearizable and fixes rev; the others read
		// at rev (linearizable too: a serializable read may reach a member
		// behind rev).
		resp, err := v.s.cli.Get(ctx, from, opts...)
		if err != nil {
			return unavailable(err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, x := range resp.Kvs {
			it := item{key: string(x.Key), val: x.Value}
			tree.ReplaceOrInsert(it)
			size += itemSize(it)
		}
		if v.maxBytes > 0 && size > v.maxBytes {
			v.disable()
			return fmt.Errorf("%w: more than %d bytes", errTooLarge, v.maxBytes)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if old := v.snap.Load(); old != nil && old.rev > rev {
		return nil // cannot happen with one etcd cluster: revisions only grow
	}
	v.tree, v.bytes, v.pending = tree, size, nil
	v.publish(rev)
	v.confirm(sent)
	return nil
}

// publish makes the tree, at rev, the snapshot Views read, then bumps the
// version (in that order: see Version). v.mu is held.
func (v *view) publish(rev int64) {
	v.snap.Store(&snapshot{tree: v.tree.Clone(), rev: rev})
	v.version.Add(1)
	kept := v.pending[:0]
	for _, b := range v.pending {
		if b.fence <= rev {
			v.confirm(b.sent)
		} else {
			kept = append(kept, b)
		}
	}
	v.pending = kept
	close(v.changed)
	v.changed = make(chan struct{})
}

// confirm records that the view holds every write acknowledged before t.
func (v *view) confirm(t time.Time) {
	n := t.UnixNano()
	for {
		old := v.fresh.Load()
		if old >= n || v.fresh.CompareAndSwap(old, n) {
			return
		}
	}
}

// disable drops the view: Views read etcd directly from now on.
func (v *view) disable() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.disableLocked()
}

func (v *view) disableLocked() {
	v.disabled.Store(true)
	v.tree, v.bytes = nil, 0
	v.snap.Store(nil)
	v.version.Add(1)
	close(v.changed)
	v.changed = make(chan struct{})
}

// watchLoop keeps the view current until ctx ends.
func (v *view) watchLoop(ctx context.Context) {
	for ctx.Err() == nil && !v.disabled.Load() {
		var reload bool
		if snap := v.snap.Load(); snap != nil {
			reload = v.watch(ctx, snap.rev)
		}
		if ctx.Err() != nil {
			return
		}
		if reload {
			err := v.load(ctx)
			if errors.Is(err, errTooLarge) {
				return
			}
			if err == nil {
				v.reloads.Add(1)
				continue
			}
			v.requestReload()
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(v.maxStale/4, 100*time.Millisecond)):
		}
	}
}

// watch applies the events after rev until the watch fails; it reports
// whether the view must be reloaded.
func (v *view) watch(ctx context.Context, rev int64) bool {
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := v.s.cli.Watch(wctx, v.s.keys.all(), clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		select {
		case <-v.reload:
			return true
		case resp, ok := <-wch:
			if !ok {
				return false
			}
			if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
				return true
			}
			if resp.Err() != nil || resp.Canceled {
				return false
			}
			if len(resp.Events) > 0 {
				if err := v.apply(resp.Events); err != nil {
					return false
				}
			}
		}
	}
}

// apply applies the events of one watch response (whole revisions) and
// publishes the result.
func (v *view) apply(events []*clientv3.Event) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	var rev int64
	for _, ev := range events {
		k := string(ev.Kv.Key)
		switch ev.Type {
		case mvccpb.PUT:
			it := item{key: k, val: ev.Kv.Value}
			if old, had := v.tree.ReplaceOrInsert(it); had {
				v.bytes -= itemSize(old)
			}
			v.bytes += itemSize(it)
		case mvccpb.DELETE:
			if old, had := v.tree.Delete(item{key: k}); had {
				v.bytes -= itemSize(old)
			}
		}
		rev = max(rev, ev.Kv.ModRevision)
	}
	if v.maxBytes > 0 && v.bytes > v.maxBytes {
		v.disableLocked()
		return errTooLarge
	}
	v.publish(rev)
	return nil
}

func (v *view) requestReload() {
	select {
	case v.reload <- struct{}{}:
	default:
	}
}

// heartbeat confirms the view current every MaxStaleness/4 (see the top
// of this file) and asks for a reload when it stays behind. Heartbeats
// overlap (up to maxBeats in flight), so one slow read does not delay the
// next confirmation.
func (v *view) heartbeat(ctx context.Context) {
	tick := time.NewTicker(max(v.maxStale/4, time.Millisecond))
	defer tick.Stop()
	sem := make(chan struct{}, maxBeats)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if v.disabled.Load() {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			continue // maxBeats in flight already
		}
		wg.Go(func() {
			defer func() { <-sem }()
			sent := time.Now()
			fence, err := v.readFence(ctx)
			if err != nil {
				return // no confirmation: the view goes stale after MaxStaleness
			}
			if v.noteBeat(sent, fence) > 2*v.maxStale {
				v.requestReload()
			}
		})
	}
}

// maxBeats is the number of heartbeats in flight at most.
const maxBeats = 4

// readFence returns the commit fence's ModRevision, read linearizably (0
// if nothing was ever committed).
func (v *view) readFence(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, v.maxStale)
	defer cancel()
	resp, err := v.s.cli.Get(ctx, v.s.keys.fence())
	if err != nil {
		return 0, unavailable(err)
	}
	if len(resp.Kvs) == 0 {
		return 0, nil
	}
	return resp.Kvs[0].ModRevision, nil
}

// noteBeat records a heartbeat and returns how long the oldest heartbeat
// not yet applied has waited.
func (v *view) noteBeat(sent time.Time, fence int64) time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	for {
		old := v.fence.Load()
		if old >= fence || v.fence.CompareAndSwap(old, fence) {
			break
		}
	}
	snap := v.snap.Load()
	if snap == nil {
		return 0
	}
	if snap.rev >= fence {
		v.confirm(sent)
	} else if len(v.pending) < maxPending {
		v.pending = append(v.pending, beat{sent, fence})
	}
	var oldest time.Duration
	for _, b := range v.pending {
		oldest = max(oldest, time.Since(b.sent))
	}
	return oldest
}

// staleness is the time since the view was last confirmed current.
func (v *view) staleness() time.Duration {
	return time.Duration(time.Now().UnixNano() - v.fresh.Load())
}

// read returns the snapshot a View reads, or nil when the view is
// disabled (read etcd directly).
func (v *view) read(ctx context.Context, linearizable bool) (*snapshot, error) {
	if v.disabled.Load() {
		return nil, nil
	}
	if linearizable {
		fence, err := v.readFence(ctx)
		if err != nil {
			return nil, err
		}
		if !v.waitFor(ctx, fence) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w: it has not applied revision %d within %v", ErrStale, directory.ErrBusy, fence, v.maxStale)
		}
	} else if st := v.staleness(); st > v.maxStale {
		return nil, fmt.Errorf("%w: %w: last confirmed current %v ago (bound %v)",
			ErrStale, directory.ErrBusy, st.Round(time.Millisecond), v.maxStale)
	}
	return v.snap.Load(), nil
}

// waitFor waits until the view has applied rev, at most MaxStaleness; it
// reports whether it has.
func (v *view) waitFor(ctx context.Context, rev int64) bool {
	timer := time.NewTimer(v.maxStale)
	defer timer.Stop()
	for {
		v.mu.Lock()
		snap, ch := v.snap.Load(), v.changed
		v.mu.Unlock()
		if snap == nil {
			return v.disabled.Load()
		}
		if snap.rev >= rev {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// versionNow is Version of a Local store.
func (v *view) versionNow() uint64 {
	if v.disabled.Load() || v.staleness() > v.maxStale {
		return v.version.Add(1)
	}
	return v.version.Load()
}

func (v *view) stats() ViewStats {
	v.mu.Lock()
	st := ViewStats{Bytes: v.bytes, Reloads: v.reloads.Load(), Disabled: v.disabled.Load(), FenceRevision: v.fence.Load()}
	if snap := v.snap.Load(); snap != nil {
		st.Revision, st.Keys = snap.rev, snap.tree.Len()
	}
	v.mu.Unlock()
	st.Staleness = v.staleness()
	st.Stale = st.Staleness > v.maxStale
	return st
}
