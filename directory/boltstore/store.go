package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/plan"
)

// Options configures Open. The zero value works.
type Options struct {
	// Schema normalizes values for the indexes. Filters passed to Search
	// must be resolved against the same schema. Nil means
	// directory.Builtin().
	Schema *directory.Schema
	// Indexes lists the attributes indexed for equality and presence. Nil
	// means directory.DefaultIndexes(); an empty non-nil slice indexes
	// nothing. When the set differs from the one the file was built with,
	// Open rebuilds the indexes (one write transaction over every entry).
	Indexes []string
	// Timeout bounds the wait for the file lock another process holds.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// InitialMmapSize is the size bbolt maps the file with at first (its
	// Options.InitialMmapSize); zero means the file's size. For a bulk
	// load (AddBulk), set it above the size the file will reach: bbolt
	// remaps as the file grows during a commit, and each remap copies
	// every key and value the transaction has written.
	InitialMmapSize int
	// Exclusive says that nothing else uses the store while AddBulk
	// runs (an offline import): no View, Update or other AddBulk. It
	// lets AddBulk write a batch that is large against what is stored
	// as a new file (the stored content merged with the batch, pages
	// written directly, buildmode.go) and put it in place of the old
	// one, instead of writing through bbolt's transactions; and it
	// lets BeginLoad start a load (load.go), for batches adding up to
	// more than the memory allows, written as one new file at Commit.
	Exclusive bool
	// LoadMemory is how many bytes of keys and values a load's Adds keep
	// in memory together before the next Add writes them to a run file
	// (load.go; it doubles every 64 runs, up to 16 times): with a
	// caller's small batches, the entries of one batch and the keys of
	// many are in memory at once. Zero: every Add writes the one before
	// it to a run.
	LoadMemory int64

	// plan replaces the layout this code writes, for tests of migrations
	// (nil: currentLayout()).
	plan *layoutPlan
	// maxChunk replaces indexdef.MaxChunk, for tests of long posting
	// lists (0: indexdef.MaxChunk).
	maxChunk int
	// failBuild, if set, makes AddBulk's build mode fail with it after
	// writing every page of the new file, before its metas (tests).
	failBuild error
}

// DefaultTimeout is the file-lock wait used when Options.Timeout is zero.
const DefaultTimeout = time.Second

// fileMode is the mode of a new database file: it holds password hashes.
const fileMode = 0o600

// store is the bbolt-backed directory.Store.
type store struct {
	db      *bolt.DB
	schema  *directory.Schema
	idx     *indexSet
	planner *plan.Planner
	// boltOpts are the options db was opened with, exclusive and
	// failBuild Options' (AddBulk's build mode reopens the file).
	boltOpts  *bolt.Options
	exclusive bool
	failBuild error
	// loadMemory is Options.LoadMemory.
	loadMemory int64
	// loading is the open load (BeginLoad), if any: Update and AddBulk
	// fail while it is open.
	loading atomic.Pointer[load]
	// version counts committed writes (directory.Versioned).
	version atomic.Uint64
	// parents memoizes decoded parent DNs for searches (a pure function
	// of the stored bytes: nothing to invalidate).
	parents entrycodec.ParentCache
	// reads holds idle read transactions for View (readpool.go).
	reads *readPool
	// lent holds the *lentEntry memory of SearchLent (tx.go) between
	// searches.
	lent sync.Pool

	// mu guards queue: the Updates not yet answered, the batch being
	// committed at the front (commit.go).
	mu    sync.Mutex
	queue []*call
}

var (
	_ directory.Store      = (*store)(nil)
	_ directory.Versioned  = (*store)(nil)
	_ directory.BulkAdder  = (*store)(nil)
	_ directory.BulkLoader = (*store)(nil)
	_ directory.Verifier   = (*store)(nil)
)

// Open opens the directory database at path, creating it (mode 0600) if it
// does not exist, and runs any pending layout migration. Only one process
// can hold the file open: if another does, Open fails after
// Options.Timeout with an error wrapping bbolt's ErrTimeout. A file written
// by a newer ldapd is refused with ErrUnsupportedVersion.
//
// The result also implements
//
//	Verify(ctx context.Context) error
//	Backup(w io.Writer) (int64, error)
//	Stats(ctx context.Context) (Stats, error)
//	AddBulk(ctx context.Context, entries []*directory.Entry) error
//	BeginLoad(ctx context.Context) (directory.Load, error)
//
// reachable through an interface assertion.
func Open(path string, opts Options) (directory.Store, error) {
	s, err := open(path, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func open(path string, opts Options) (*store, error) {
	schema := opts.Schema
	if schema == nil {
		schema = directory.Builtin()
	}
	attrs := opts.Indexes
	if attrs == nil {
		attrs = directory.DefaultIndexes()
	}
	idx, err := newIndexSet(schema, attrs, opts.maxChunk)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	boltOpts := &bolt.Options{Timeout: timeout, InitialMmapSize: opts.InitialMmapSize}
	db, err := bolt.Open(path, fileMode, boltOpts)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: database file is locked by another process (is ldapd serve running?): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// A build that did not finish (buildmode.go) left its file: the
	// lock is ours, so no AddBulk is writing it.
	if err := os.Remove(path + bulkSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	layout := currentLayout()
	if opts.plan != nil {
		layout = *opts.plan
	}
	// A migration is a write (and an fsync); most opens need none.
	var needed bool
	var from uint64
	err = db.View(func(tx *bolt.Tx) (err error) {
		from = fileVersion(tx)
		needed, err = needsMigration(tx, idx, layout)
		return err
	})
	if err == nil && needed && from != 0 && from < layout.version {
		err = backupBeforeMigrate(db, path, from, time.Now())
	}
	if err == nil && needed {
		err = db.Update(func(tx *bolt.Tx) error { return migrate(tx, idx, layout) })
	}
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &store{db: db, schema: schema, idx: idx, planner: &plan.Planner{Index: idx.Plan},
		boltOpts: boltOpts, exclusive: opts.Exclusive, failBuild: opts.failBuild,
		loadMemory: opts.LoadMemory,
		reads:      newReadPool(db, maxIdleReads())}, nil
}

// maxIdleReads bounds the idle read transactions: about as many as can
// run at once, with room for Views that wait on their connection.
func maxIdleReads() int { return 2 * runtime.GOMAXPROCS(0) }

// View runs fn in a bbolt read transaction, one that earlier Views may
// have used if nothing was written since (readpool.go).
func (s *store) View(ctx context.Context, fn func(directory.ReadTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pt, err := s.reads.get()
	if err != nil {
		return err
	}
	t := &tx{s: s, btx: pt.btx, ctx: ctx}
	ok := false
	defer func() {
		t.finish()
		if ok {
			s.reads.put(pt)
		} else { // fn panicked or called runtime.Goexit
			s.reads.discard(pt)
		}
	}()
	err = fn(t)
	ok = true
	return err
}

// Version implements directory.Versioned: it changes after every
// committed Update, before Update returns. The file is locked by this
// process, so no write can bypass the counter.
func (s *store) Version() uint64 { return s.version.Load() }

// Close rolls back the idle read transactions, waits for those in use and
// closes the file. Closing twice is harmless.
func (s *store) Close() error {
	if l := s.loading.Load(); l != nil {
		l.Abort()
	}
	s.reads.close()
	return s.db.Close()
}

// Backup writes a consistent copy of the database file to w while the
// store stays in use, and returns the number of bytes written. The copy is
// itself a database that Open accepts.
func (s *store) Backup(w io.Writer) (n int64, err error) {
	err = s.db.View(func(btx *bolt.Tx) error {
		n, err = btx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// Stats describes the size of a store.
type Stats struct {
	Entries   int            // number of entries
	IndexKeys map[string]int // keys (posting chunks) per indexed attribute
	FileBytes int64          // size of the database file
}

// Stats counts entries and index keys. It reads every page of the indexes,
// so it is meant for status reports, not hot paths.
func (s *store) Stats(ctx context.Context) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, err
	}
	st := Stats{IndexKeys: map[string]int{}}
	err := s.db.View(func(btx *bolt.Tx) error {
		st.FileBytes = btx.Size()
		st.Entries = btx.Bucket(bucketEntries).Stats().KeyN
		return btx.Bucket(bucketIndex).ForEachBucket(func(name []byte) error {
			st.IndexKeys[string(name)] = btx.Bucket(bucketIndex).Bucket(name).Stats().KeyN
			return nil
		})
	})
	return st, err
}

// Compact rewrites the database file at path with its pages filled
// completely (bbolt's Compact), which a bulk load leaves half empty: page
// splits in random key order fill pages to about 50%. The store must not be
// open; another process holding the file makes Compact fail after
// DefaultTimeout. The compacted copy is synced and then renamed over path,
// so a crash leaves either the old file or the new one.
func Compact(path string) error { return compact(path, 64<<20) }

// compact is Compact committing every txMaxSize bytes: each transaction's
// pages are in memory until its commit.
func compact(path string, txMaxSize int64) error {
	src, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: DefaultTimeout, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("compact %s: %w", path, err)
	}
	defer src.Close()
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, fileMode, &bolt.Options{Timeout: DefaultTimeout})
	if err != nil {
		return fmt.Errorf("compact %s: %w", path, err)
	}
	if err := bolt.Compact(dst, src, txMaxSize); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Close(); err != nil { // each Compact transaction was fsync'd at commit
		os.Remove(tmp)
		return fmt.Errorf("compact %s: %w", path, err)
	}
	src.Close()
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("compact %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the rename durable
		d.Close()
	}
	return nil
}
