package etcdstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ldapd/ldapd/directory"
)

// Options configures Open. The zero value works against an etcd cluster
// with default limits.
type Options struct {
	// Prefix is the key prefix of the store; every key it reads or writes
	// starts with it. Empty means DefaultPrefix.
	Prefix string
	// Schema normalizes values for the indexes; nil means
	// directory.Builtin(). Filters passed to Search must be resolved
	// against it.
	Schema *directory.Schema
	// Indexes lists the indexed attributes; nil means
	// directory.DefaultIndexes(). Every node of a cluster must configure
	// the same set: Open refuses a store built with another one
	// (ErrIndexMismatch).
	Indexes []string
	// MaxTxnOps is the most operations one etcd Txn may hold: the etcd
	// cluster's --max-txn-ops. Zero means 128, etcd's default. A write of
	// one entry always fits in 128 (index.go); an Update touching many
	// entries may need more, and fails with ErrTxnTooLarge otherwise.
	MaxTxnOps int
	// MaxTxnBytes is the largest Txn request: the cluster's
	// --max-request-bytes. Zero means 1.5 MiB, etcd's default.
	MaxTxnBytes int
	// RetryBudget bounds how long an Update whose commit conflicted with
	// concurrent writers keeps running fn again once it holds the node's
	// retry turn (jittered exponential backoff between attempts; tx.go,
	// backoff); past it Update fails with ErrBusy. Zero means
	// DefaultRetryBudget.
	RetryBudget time.Duration
	// CloseClient makes Close close the client given to Open too.
	CloseClient bool
	// Consistency chooses where View reads: etcd (Direct, the zero
	// value), or a local view kept current by a watch (Local, or
	// Linearizable: see view.go). With a view, Open loads it before
	// returning.
	Consistency Consistency
	// MaxStaleness bounds how far behind etcd a view may answer: a View
	// at a time the view cannot show it holds every write acknowledged
	// MaxStaleness ago fails (ErrStale, busy). Zero means
	// DefaultMaxStaleness.
	MaxStaleness time.Duration
	// ViewMaxBytes caps the view's memory (ViewStats.Bytes). A view that
	// would grow past it is dropped and View reads etcd directly, as with
	// Direct. Zero means no cap.
	ViewMaxBytes int64
}

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "/ldapd/"

// Defaults of the etcd server (server/embed/config.go).
const (
	DefaultMaxTxnOps   = 128
	DefaultMaxTxnBytes = 3 << 19 // 1.5 MiB
)

// DefaultRetryBudget is Options.RetryBudget's default: far longer than
// contention needs (each conflict means another writer committed; 48
// writers on one key need at most a few attempts each, and the holder of
// the retry turn races only first attempts and other nodes), even on a
// starved machine where one attempt takes a second or two (8 writers on
// one key under -race: TestStoreView/view/Concurrent); as long as ldapd's
// default --write-timeout.
const DefaultRetryBudget = 30 * time.Second

// store is the etcd-backed directory.Store.
type store struct {
	cli    *clientv3.Client
	keys   keys
	schema *directory.Schema
	idx    *indexSet
	opts   Options
	view   *view // nil with Direct
	// retryTurn (capacity 1) is held by the one Update of this node that
	// is retrying after a conflict (tx.go, backoff).
	retryTurn chan struct{}

	mu     sync.RWMutex // held for reading by every transaction, for writing by Close
	closed bool
}

var _ directory.Store = (*store)(nil)

// ErrClosed is returned by View and Update after Close.
var ErrClosed = errors.New("etcdstore: store is closed")

// Open returns a directory.Store over the etcd cluster that cli talks to.
// It writes the layout version and index set on first use and refuses a
// store of a newer layout (ErrUnsupportedVersion) or another index set
// (ErrIndexMismatch). Close closes cli only with Options.CloseClient.
//
// The result also implements
//
//	Verify(ctx context.Context) error
//
// reachable through an interface assertion.
//
// With a view it also implements
//
//	ViewStats() (ViewStats, bool)
//
// and, with Local, directory.Versioned: the version counts the revisions
// the view applied, so idm's caches work over etcd too.
func Open(ctx context.Context, cli *clientv3.Client, opts Options) (directory.Store, error) {
	s, err := open(ctx, cli, opts)
	if err != nil {
		return nil, err
	}
	if s.opts.Consistency == Local {
		return versioned{s}, nil
	}
	return s, nil
}

// versioned is a store with a Local view: directory.Versioned.
type versioned struct{ *store }

var _ directory.Versioned = versioned{}

// Version implements directory.Versioned (view.go).
func (v versioned) Version() uint64 { return v.view.versionNow() }

// ViewStats returns the state of the local view, false without one.
func (s *store) ViewStats() (ViewStats, bool) {
	if s.view == nil {
		return ViewStats{}, false
	}
	return s.view.stats(), true
}

func open(ctx context.Context, cli *clientv3.Client, opts Options) (*store, error) {
	if cli == nil {
		return nil, errors.New("etcdstore: nil client")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Schema == nil {
		opts.Schema = directory.Builtin()
	}
	if opts.Indexes == nil {
		opts.Indexes = directory.DefaultIndexes()
	}
	if opts.MaxTxnOps <= 0 {
		opts.MaxTxnOps = DefaultMaxTxnOps
	}
	if opts.MaxTxnBytes <= 0 {
		opts.MaxTxnBytes = DefaultMaxTxnBytes
	}
	if opts.RetryBudget <= 0 {
		opts.RetryBudget = DefaultRetryBudget
	}
	if opts.MaxStaleness <= 0 {
		opts.MaxStaleness = DefaultMaxStaleness
	}
	if opts.Consistency > Linearizable {
		return nil, fmt.Errorf("etcdstore: invalid consistency %v", opts.Consistency)
	}
	idx, err := newIndexSet(opts.Schema, opts.Indexes)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: %w", err)
	}
	s := &store{cli: cli, keys: keys{opts.Prefix}, schema: opts.Schema, idx: idx, opts: opts, retryTurn: make(chan struct{}, 1)}
	if err := s.init(ctx); err != nil {
		return nil, fmt.Errorf("etcdstore: open %s: %w", opts.Prefix, err)
	}
	if opts.Consistency != Direct {
		if err := s.startView(ctx); err != nil {
			return nil, fmt.Errorf("etcdstore: open %s: %w", opts.Prefix, err)
		}
	}
	return s, nil
}

// init writes the layout version and index set if the prefix is new (one
// Txn, so two nodes starting at once agree) and checks them otherwise.
func (s *store) init(ctx context.Context) error {
	ver := binary.BigEndian.AppendUint64(nil, layoutVersion)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(s.keys.version()), "=", 0)).
		Then(clientv3.OpPut(s.keys.version(), string(ver)), clientv3.OpPut(s.keys.indexes(), s.idx.signature())).
		Else(clientv3.OpGet(s.keys.version()), clientv3.OpGet(s.keys.indexes())).
		Commit()
	if err != nil {
		return unavailable(err)
	}
	if resp.Succeeded {
		return nil
	}
	vr, ir := resp.Responses[0].GetResponseRange(), resp.Responses[1].GetResponseRange()
	if _, err := decodeVersion(vr.Kvs[0].Value); err != nil {
		return err
	}
	var got string
	if len(ir.Kvs) == 1 {
		got = string(ir.Kvs[0].Value)
	}
	if got != s.idx.signature() {
		return fmt.Errorf("%w: stored %q, configured %q", ErrIndexMismatch, got, s.idx.signature())
	}
	return nil
}

// begin registers a transaction; end must follow.
func (s *store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *store) end() { s.mu.RUnlock() }

// View runs fn against a snapshot. Without a view, the first read fixes an
// etcd revision (a linearizable read, so the snapshot includes every
// Update that returned before View began, on any node) and every later
// read is at that revision. With a view, fn reads the view's latest
// snapshot (view.go): no round trip, and refused with ErrStale when the
// view cannot show it is within MaxStaleness of etcd.
func (s *store) View(ctx context.Context, fn func(directory.ReadTx) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.end()
	t := &tx{s: s, ctx: ctx}
	if s.view != nil {
		snap, err := s.view.read(ctx, s.opts.Consistency == Linearizable)
		if err != nil {
			return err
		}
		t.snap = snap // nil: the view is disabled, read etcd
	}
	defer t.finish()
	return fn(t)
}

// Update runs fn against an overlay that records its writes and the
// revisions of what it read, then commits everything in one etcd Txn
// guarded by those revisions. When a concurrent commit changed something
// fn read, nothing is written and fn runs again on a fresh snapshot, as
// etcd's STM does, after a jittered backoff and holding this node's retry
// turn, for up to Options.RetryBudget (then ErrBusy).
func (s *store) Update(ctx context.Context, fn func(directory.WriteTx) error) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	defer s.end()
	retry := newBackoff(s.opts.RetryBudget, s.retryTurn)
	defer retry.release()
	for {
		t := &tx{s: s, ctx: ctx, writes: map[string]write{}, reads: map[string]int64{}}
		err := func() error {
			defer t.finish()
			return fn(t)
		}()
		if err != nil {
			return err
		}
		ok, rev, err := t.commit()
		if err != nil {
			return err
		}
		if ok {
			if s.view != nil && rev > 0 {
				// Read your writes: the next View on this node sees the
				// commit, or the view is stale by then and refuses.
				s.view.waitFor(ctx, rev)
			}
			return nil
		}
		if err := retry.wait(ctx); err != nil {
			return err
		}
	}
}

// Close waits for transactions in flight and makes later ones fail. It
// closes the etcd client only with Options.CloseClient. Closing twice is
// harmless.
func (s *store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.view != nil {
		s.view.stop()
	}
	if s.opts.CloseClient {
		return s.cli.Close()
	}
	return nil
}

// unavailable wraps an etcd client error as directory.ErrBusy, so that the
// front end answers "busy" (the client may retry) rather than "other".
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("etcd: %w: %w", directory.ErrBusy, err)
}
