package boltstore

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ldapd/ldapd/directory"
)

// holdViews runs n Views at once and returns when all of them have
// returned: their transactions are then idle in the pool (up to maxIdle).
func holdViews(t *testing.T, s *store, n int) {
	t.Helper()
	var in, wg sync.WaitGroup
	in.Add(n)
	release := make(chan struct{})
	for range n {
		wg.Go(func() {
			err := s.View(t.Context(), func(directory.ReadTx) error {
				in.Done()
				<-release
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	in.Wait()
	close(release)
	wg.Wait()
}

func idleReads(s *store) int {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	return len(s.reads.idle)
}

// within fails the test if fn does not return within d: a commit or a
// Close stalled by an idle read transaction never returns.
func within(t *testing.T, d time.Duration, what string, fn func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(d):
		t.Fatalf("%s: still running after %v (stalled by a pooled read transaction?)", what, d)
	}
}

func metaUint(tx directory.ReadTx, key string) (uint64, error) {
	v, err := tx.Meta(key)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

// A read that starts after a write was acknowledged sees it, whatever
// transactions other readers leave in the pool meanwhile.
func TestReadYourWritesWithPooledReads(t *testing.T) {
	s := newBatchStore(t)
	ctx := t.Context()
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = s.View(ctx, func(tx directory.ReadTx) error {
					_, err := tx.Meta("w0")
					return err
				})
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 4 {
		key := fmt.Sprintf("w%d", w)
		writers.Go(func() {
			for i := uint64(1); i <= 100; i++ {
				err := s.Update(ctx, func(tx directory.WriteTx) error {
					return tx.SetMeta(key, binary.BigEndian.AppendUint64(nil, i))
				})
				if err != nil {
					t.Error(err)
					return
				}
				var got uint64
				err = s.View(ctx, func(tx directory.ReadTx) (err error) {
					got, err = metaUint(tx, key)
					return err
				})
				if err != nil || got != i {
					t.Errorf("%s: read %d (%v) after writing %d", key, got, err, i)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	if n := s.db.Stats().OpenTxN; n > s.reads.maxIdle {
		t.Errorf("%d read transactions open after the run, want at most %d", n, s.reads.maxIdle)
	}
}

// A commit that grows the file makes bbolt remap it, which waits for every
// open read transaction: idle pooled ones must not stall it.
func TestCommitRemapsWithPooledReads(t *testing.T) {
	s := newBatchStore(t)
	holdViews(t, s, 4)
	if idleReads(s) == 0 {
		t.Fatal("no idle read transaction in the pool: the test proves nothing")
	}
	var before int64
	if err := s.View(t.Context(), func(rt directory.ReadTx) error {
		before = rt.(*tx).btx.Size()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 8<<20) // well past the first mapping
	within(t, 10*time.Second, "commit growing the file", func() error {
		return s.Update(t.Context(), func(tx directory.WriteTx) error { return tx.SetMeta("big", big) })
	})
	var after int64
	within(t, 10*time.Second, "view after the commit", func() error {
		return s.View(t.Context(), func(rt directory.ReadTx) error {
			after = rt.(*tx).btx.Size()
			_, err := rt.Meta("big")
			return err
		})
	})
	if after < before+int64(len(big)) {
		t.Fatalf("file grew from %d to %d bytes: no remap was needed", before, after)
	}
	// The same for AddBulk, which commits outside the group commit.
	holdViews(t, s, 4)
	var es []*directory.Entry
	for i := range 2000 {
		e := testEntry(fmt.Sprintf("bulk%d", i))
		e.Set("description", string(make([]byte, 4096)))
		es = append(es, e)
	}
	within(t, 20*time.Second, "bulk add growing the file", func() error { return s.AddBulk(t.Context(), es) })
}

// Close rolls back the idle transactions: bbolt's Close waits for every
// open one.
func TestCloseRollsBackPooledReads(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{})
	holdViews(t, s, 4)
	if idleReads(s) == 0 {
		t.Fatal("no idle read transaction in the pool: the test proves nothing")
	}
	within(t, 5*time.Second, "close", s.Close)
	if n := s.db.Stats().OpenTxN; n != 0 {
		t.Fatalf("%d read transactions open after Close", n)
	}
	if err := s.View(t.Context(), func(directory.ReadTx) error { return nil }); err == nil {
		t.Fatal("View after Close succeeded")
	}
}

// The pool keeps at most maxIdle transactions, each used by one View at
// a time, none older than maxReadAge.
func TestReadPoolBounds(t *testing.T) {
	s := newBatchStore(t)
	holdViews(t, s, 4*s.reads.maxIdle)
	if n := idleReads(s); n == 0 || n > s.reads.maxIdle {
		t.Fatalf("%d idle transactions, want 1..%d", n, s.reads.maxIdle)
	}
	if n := s.db.Stats().OpenTxN; n > s.reads.maxIdle {
		t.Fatalf("%d read transactions open, want at most %d", n, s.reads.maxIdle)
	}

	// Nested Views never share a transaction.
	err := s.View(t.Context(), func(outer directory.ReadTx) error {
		return s.View(t.Context(), func(inner directory.ReadTx) error {
			if outer.(*tx).btx == inner.(*tx).btx {
				t.Error("two Views at once share a transaction")
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}

	// An idle transaction past maxReadAge is rolled back, not reused.
	s.reads.mu.Lock()
	for _, pt := range s.reads.idle {
		pt.began = pt.began.Add(-2 * maxReadAge)
	}
	old := make(map[*boltTx]bool)
	for _, pt := range s.reads.idle {
		old[pt.btx] = true
	}
	s.reads.mu.Unlock()
	open := s.db.Stats().OpenTxN
	err = s.View(t.Context(), func(rt directory.ReadTx) error {
		if old[rt.(*tx).btx] {
			t.Error("View reused a transaction older than maxReadAge")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := s.db.Stats().OpenTxN; n != 1 {
		t.Fatalf("%d read transactions open after the old ones were dropped (%d before), want 1", n, open)
	}
}

// A View whose fn panics does not give its transaction back.
func TestReadPoolPanic(t *testing.T) {
	s := newBatchStore(t)
	func() {
		defer func() { _ = recover() }()
		_ = s.View(t.Context(), func(directory.ReadTx) error { panic("boom") })
	}()
	if n := s.db.Stats().OpenTxN; n != 0 {
		t.Fatalf("%d read transactions open after a panicking View", n)
	}
}

// An old idle transaction popped on the way to a fresh one is rolled back,
// not dropped: a dropped one would stay open for good, and bbolt's remap on
// file growth and Close both wait for every open read transaction
// (make test once hung in Close this way, TestHeldConnections).
func TestReadPoolMixedAges(t *testing.T) {
	s := newBatchStore(t)
	holdViews(t, s, 4*s.reads.maxIdle)
	s.reads.mu.Lock()
	n := len(s.reads.idle)
	if n < 2 {
		s.reads.mu.Unlock()
		t.Fatalf("%d idle transactions, want at least 2", n)
	}
	for _, pt := range s.reads.idle[n/2:] { // popped first
		pt.began = pt.began.Add(-2 * maxReadAge)
	}
	s.reads.mu.Unlock()
	if err := s.View(t.Context(), func(directory.ReadTx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if open, idle := s.db.Stats().OpenTxN, idleReads(s); open != idle {
		t.Fatalf("%d read transactions open, %d of them idle in the pool: the rest leaked", open, idle)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited 10 s for a read transaction nobody holds")
	}
}
