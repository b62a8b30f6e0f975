package boltstore

import (
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Read transactions are reused. Beginning a bbolt read transaction, and
// opening the buckets and cursors a search needs in it, cost about half the
// allocations of an indexed search and a tenth of its CPU, so View takes an
// idle transaction from readPool and gives it back after fn returns, for
// as long as no write has committed since it began.
//
// A commit drains the pool first (pause): bbolt remaps the file when a
// commit grows it, and the remap waits for every open read transaction, so
// an idle one would stall the writer for good. Transactions in use during
// the commit finish as they do without the pool, and are rolled back when
// they are given back. Each transaction is tagged with the pool's
// generation read before it began; pause and resume each bump the
// generation, and only a transaction of the current generation, given back
// outside a commit, is kept. So a transaction in the pool always began
// after the last commit finished: a read that starts after a write was
// acknowledged (resume comes before the answer) sees it.
//
// Because every commit empties the pool, an idle transaction never holds
// back pages a later commit frees. Its age is bounded anyway (maxReadAge),
// and the pool's size (maxIdle), so that a quiet store does not keep
// transactions open indefinitely. A checkout has one user: the pool hands
// a transaction to one View at a time.
const maxReadAge = time.Second

// readPool holds idle read transactions.
type readPool struct {
	db      *bolt.DB
	maxIdle int

	mu         sync.Mutex
	idle       []*pooledTx
	gen        uint64
	committing int  // commits in progress (pause without resume)
	closed     bool // no more checkouts keep their transaction
}

// pooledTx is a read transaction with its buckets and cursors, the
// generation it was begun in and when.
type pooledTx struct {
	btx   *boltTx
	gen   uint64
	began time.Time
}

func newReadPool(db *bolt.DB, maxIdle int) *readPool {
	return &readPool{db: db, maxIdle: maxIdle}
}

// get returns a read transaction for one user: an idle one of the current
// generation not older than maxReadAge, or a new one.
func (p *readPool) get() (*pooledTx, error) {
	p.mu.Lock()
	gen, db := p.gen, p.db
	var stale []*pooledTx
	for n := len(p.idle); n > 0; n = len(p.idle) {
		pt := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		if pt.gen == gen && time.Since(pt.began) <= maxReadAge {
			p.mu.Unlock()
			rollbackAll(stale) // every popped transaction is either returned or rolled back
			return pt, nil
		}
		stale = append(stale, pt)
	}
	p.mu.Unlock()
	rollbackAll(stale)
	btx, err := db.Begin(false)
	if err != nil {
		return nil, err
	}
	return &pooledTx{btx: newBoltTx(btx), gen: gen, began: time.Now()}, nil
}

// put gives back a transaction from get: kept if the store has not
// changed since it began and the pool has room, rolled back otherwise.
func (p *readPool) put(pt *pooledTx) {
	p.mu.Lock()
	if p.closed || p.committing > 0 || pt.gen != p.gen || len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		_ = pt.btx.Rollback()
		return
	}
	p.idle = append(p.idle, pt)
	p.mu.Unlock()
}

// discard rolls back a transaction from get that is not to be reused (its
// user panicked).
func (p *readPool) discard(pt *pooledTx) { _ = pt.btx.Rollback() }

// pause is called before a write commits: it rolls back the idle
// transactions, and none is kept until resume. The generation changes, so
// transactions begun before the commit ends are not kept either.
func (p *readPool) pause() {
	p.mu.Lock()
	p.committing++
	p.gen++
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	rollbackAll(idle)
}

// resume is called after the commit (or its failure), before the writer
// is answered.
func (p *readPool) resume() {
	p.mu.Lock()
	p.committing--
	p.gen++
	p.mu.Unlock()
}

// close rolls back the idle transactions and keeps no more: bbolt's Close
// waits for every open read transaction.
func (p *readPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	rollbackAll(idle)
}

func rollbackAll(txs []*pooledTx) {
	for _, pt := range txs {
		_ = pt.btx.Rollback()
	}
}

// setDB makes the pool begin its transactions on db, which replaces the
// one it had (AddBulk's build mode, between pause and resume).
func (p *readPool) setDB(db *bolt.DB) {
	p.mu.Lock()
	p.db = db
	p.mu.Unlock()
}
