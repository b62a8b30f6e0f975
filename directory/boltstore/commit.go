package boltstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
)

// Group commit. Every Update is durable when it returns, and the fsync of
// a bbolt commit costs far more than the work of a typical fn, so Updates
// that arrive while a commit is in progress are queued and the next
// transaction runs all of them, in arrival order, and commits once. There
// is no timer: an Update that finds the queue empty starts its
// transaction at once (after one runtime.Gosched, see lead), so a lone
// writer pays no extra latency.
//
// The queue holds every Update not yet answered, the batch in progress at
// its front. The caller of the first queued call is the leader: it takes
// the batch (every queued call, up to maxBatch, stopping at a solo call),
// runs the fns in one write transaction, commits, bumps the version,
// removes the batch from the queue, hands the lead to the caller of the
// next queued call and only then answers the batch. No goroutine is
// started: the leader is always one of the waiting callers.
//
// bbolt has no savepoints, so a fn that fails after writing to the
// transaction spoils it for the others: the transaction is rolled back and
// the batch runs again without that fn, which gets its error. The result
// is the serial execution of the batch in order, failed fns changing
// nothing. A fn that fails before writing anything leaves the transaction
// as it was, and the others simply go on.
//
// A fn runs in the leader's goroutine. If the leader's own fn panics (or
// calls runtime.Goexit), the panic goes on up to its caller as with
// db.Update, after the leader rolls back and hands the lead, with the rest
// of its batch still queued, to the next caller. If another caller's fn
// panics, the leader recovers, leaves it out of the batch and tells its
// caller to run it again alone (errRunAlone), as the leader of a batch of
// one, so the panic surfaces in the goroutine that called Update.

// maxBatch bounds the calls in one transaction: the cost of re-running a
// batch after a failure grows with it.
const maxBatch = 128

// call is one Update in the queue.
type call struct {
	ctx context.Context
	fn  func(directory.WriteTx) error
	// solo makes the call a batch of its own, run by its caller.
	solo bool
	// done receives errLead when the caller is to lead, or the result.
	// Its buffer of one means the sender never blocks: a call is sent at
	// most one value per trip through the queue.
	done chan error
}

var (
	// errLead tells a waiting caller that its call is at the front of the
	// queue and that it leads the next batch.
	errLead = errors.New("boltstore: lead the next batch")
	// errRunAlone tells a caller whose fn panicked in another caller's
	// goroutine to run it again as a batch of its own.
	errRunAlone = errors.New("boltstore: run alone")
)

// Update runs fn in a write transaction, possibly shared with concurrent
// Updates (group commit, above), and returns once that transaction is
// committed and fsync'd, or rolled back for fn. fn may run more than once,
// and when it fails (or panics) after writing, the batch it was in runs
// again without it. A ctx that is done before fn runs keeps it from
// running.
func (s *store) Update(ctx context.Context, fn func(directory.WriteTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.loading.Load() != nil {
		return errLoadOpen
	}
	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	return s.await(c, s.push(c))
}

// push queues c and reports whether its caller leads, that is whether the
// queue was empty.
func (s *store) push(c *call) (lead bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, c)
	return len(s.queue) == 1
}

// await returns the result of the queued call c, leading a batch when
// lead is set or the lead is handed to c. A call told to run alone goes
// round again as a batch of its own.
func (s *store) await(c *call, lead bool) error {
	for {
		var err error
		if !lead {
			err = <-c.done
		}
		if lead || err == errLead {
			err = s.lead() // c is at the front of the queue
		}
		if err != errRunAlone {
			return err
		}
		c.solo = true
		lead = s.push(c)
	}
}

// batch is the state of one leader's transaction.
type batch struct {
	calls   []*call
	results []error
	out     []bool // calls whose result is settled: not run again
	running int    // index of the call whose fn is running; -1 if none
}

// lead runs the batch at the front of the queue, whose first call is the
// caller's own, and returns that call's result.
func (s *store) lead() error {
	// Yield once before taking the batch: goroutines whose requests have
	// arrived are runnable but may not have reached Update yet, and with
	// few Ps (a server pinned to one CPU) they run only when this one
	// lets them. This is no timer: with nothing else runnable it returns
	// at once. Measured with ldapload at 64 connections on one CPU, it
	// grows batches from about 1.3 calls to about 30.
	runtime.Gosched()
	b := s.takeBatch()
	answered := false
	defer func() {
		if !answered { // a fn panicked or called runtime.Goexit in this goroutine
			s.abandon(b)
		}
	}()
	s.run(b)
	answered = true
	next := s.dequeue(len(b.calls))
	if next != nil {
		next.done <- errLead
	}
	for i, o := range b.calls[1:] {
		o.done <- b.results[i+1]
	}
	return b.results[0]
}

// takeBatch copies the calls of the next batch from the front of the
// queue, where they stay until answered.
func (s *store) takeBatch() *batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 1
	if !s.queue[0].solo {
		for n < len(s.queue) && n < maxBatch && !s.queue[n].solo {
			n++
		}
	}
	return &batch{
		calls:   slices.Clone(s.queue[:n]),
		results: make([]error, n),
		out:     make([]bool, n),
		running: -1,
	}
}

// dequeue removes the first n calls from the queue and returns the call
// that leads next, if any.
func (s *store) dequeue(n int) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.queue[:n]) // let the answered calls be collected
	s.queue = s.queue[n:]
	if len(s.queue) == 0 {
		return nil
	}
	return s.queue[0]
}

// abandon cleans up after a leader whose goroutine is unwinding: its
// own call leaves the queue unanswered (the panic is its answer), a
// foreign fn that was running (runtime.Goexit) is told to run alone, and
// the rest of the batch stays queued for the next leader, who runs it
// again. bbolt's transaction was rolled back on the way up.
func (s *store) abandon(b *batch) {
	var alone *call
	if b.running > 0 {
		alone = b.calls[b.running]
	}
	s.mu.Lock()
	s.queue = slices.DeleteFunc(s.queue, func(q *call) bool { return q == b.calls[0] || q == alone })
	var next *call
	if len(s.queue) > 0 {
		next = s.queue[0]
	}
	s.mu.Unlock()
	if alone != nil {
		alone.done <- errRunAlone
	}
	if next != nil {
		next.done <- errLead
	}
}

// run executes the batch until one transaction holds every fn still in
// it, then commits that transaction, and fills in b.results.
func (s *store) run(b *batch) {
	for {
		retry, err := s.runOnce(b)
		if err != nil {
			for i := range b.calls {
				if !b.out[i] {
					b.results[i] = err
				}
			}
			return
		}
		if !retry {
			return
		}
	}
}

// runOnce runs every call of b that is not out in one write transaction.
// A call that fails is out, with its error; if it wrote before failing
// the transaction is rolled back and runOnce reports retry. Otherwise it
// commits, unless no fn succeeded (then nothing was written), and bumps
// the version before anyone is answered.
func (s *store) runOnce(b *batch) (retry bool, err error) {
	btx, err := s.db.Begin(true)
	if err != nil {
		return false, fmt.Errorf("update: %w", err)
	}
	defer func() { _ = btx.Rollback() }() // after Commit: ErrTxClosed, harmless
	ok := 0
	for i, c := range b.calls {
		if b.out[i] {
			continue
		}
		if err := c.ctx.Err(); err != nil {
			b.results[i], b.out[i] = err, true
			continue
		}
		b.running = i
		wrote, err := s.runCall(btx, c, i == 0)
		b.running = -1
		if err == nil {
			ok++
			continue
		}
		b.results[i], b.out[i] = err, true
		if wrote {
			return true, nil
		}
	}
	if ok == 0 {
		return false, nil
	}
	if err := s.commit(btx); err != nil {
		return false, fmt.Errorf("update: commit: %w", err)
	}
	return false, nil
}

// commit commits a write transaction with the read pool paused (an idle
// read transaction would stall bbolt's remap) and bumps the version, both
// before the writer is answered.
func (s *store) commit(btx *bolt.Tx) error {
	s.reads.pause()
	defer s.reads.resume()
	if err := btx.Commit(); err != nil {
		return err
	}
	s.version.Add(1)
	return nil
}

// update is bbolt's db.Update for writes outside the group commit
// (AddBulk), committed through commit.
func (s *store) update(fn func(*bolt.Tx) error) error {
	btx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer func() { _ = btx.Rollback() }() // after Commit: ErrTxClosed, harmless
	if err := fn(btx); err != nil {
		return err
	}
	return s.commit(btx)
}

// runCall runs c.fn on btx and reports whether it wrote. The leader's own
// fn (own) may panic through; a foreign panic is recovered and answered
// with errRunAlone.
func (s *store) runCall(btx *bolt.Tx, c *call, own bool) (wrote bool, err error) {
	t := &tx{s: s, btx: newBoltTx(btx), ctx: c.ctx}
	defer t.finish()
	if !own {
		defer func() {
			if r := recover(); r != nil {
				wrote, err = t.wrote, errRunAlone
			}
		}()
	}
	err = c.fn(t)
	return t.wrote, err
}
