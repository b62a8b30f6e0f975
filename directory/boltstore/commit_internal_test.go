package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// testEntry is a minimal entry named uid=name under testSuffix.
func testEntry(name string) *directory.Entry {
	e := &directory.Entry{DN: directory.MustParseDN("uid=" + name + "," + testSuffix)}
	e.Set("objectClass", "top", "account")
	e.Set("uid", name)
	return e
}

// newBatchStore opens an empty store holding testSuffix.
func newBatchStore(t *testing.T) *store {
	t.Helper()
	s := openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{})
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		e := &directory.Entry{DN: directory.MustParseDN(testSuffix)}
		e.Set("objectClass", "top", "domain")
		e.Set("dc", "example")
		return tx.Add(e)
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// holdLead starts an Update whose fn blocks until the returned release is
// called, and returns once that fn runs: the Updates queued meanwhile
// form the next batch. wait returns the held Update's result.
func holdLead(t *testing.T, s *store) (release func(), wait func() error) {
	t.Helper()
	running, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(tx directory.WriteTx) error {
			close(running)
			<-unblock
			return tx.SetMeta("held", []byte("x"))
		})
	}()
	<-running
	return func() { close(unblock) }, func() error { return <-done }
}

// queued is an Update queued by the test goroutine and awaited by its own
// goroutine.
type queued struct {
	err       error
	recovered any
	done      chan struct{}
}

// enqueue queues fn now, in order, and awaits it in a new goroutine; after
// a nil result, check runs there too (it sees what Update's caller sees).
func enqueue(s *store, ctx context.Context, fn func(directory.WriteTx) error, check func()) *queued {
	q := &queued{done: make(chan struct{})}
	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	lead := s.push(c)
	go func() {
		defer close(q.done)
		defer func() { q.recovered = recover() }()
		q.err = s.await(c, lead)
		if q.err == nil && check != nil {
			check()
		}
	}()
	return q
}

func exists(t *testing.T, s *store, name string) bool {
	t.Helper()
	err := s.View(context.Background(), func(tx directory.ReadTx) error {
		_, err := tx.Get(testEntry(name).DN)
		return err
	})
	if err != nil && !errors.Is(err, directory.ErrNoSuchObject) {
		t.Errorf("Get %s: %v", name, err)
	}
	return err == nil
}

// TestGroupCommit queues Updates behind a running one, so that they form
// one batch, among them fns that fail before and after writing, one whose
// context is cancelled and one that panics. The others are committed by
// one commit and see their writes when Update returns; each failing one
// gets its own error and leaves nothing behind.
func TestGroupCommit(t *testing.T) {
	s := newBatchStore(t)
	release, waitHeld := holdLead(t, s)
	v0 := s.Version()

	const n = 40
	errEarly, errLate := errors.New("fails before writing"), errors.New("fails after writing")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var runs [n]atomic.Int32
	qs := make([]*queued, n)
	for i := range n {
		name := fmt.Sprintf("u%02d", i)
		ctx := context.Background()
		if i == 12 {
			ctx = cancelled
		}
		fn := func(tx directory.WriteTx) error {
			runs[i].Add(1)
			if i == 3 {
				return errEarly
			}
			if err := tx.Add(testEntry(name)); err != nil {
				return err
			}
			switch i {
			case 7, 30:
				return fmt.Errorf("%s: %w", name, errLate)
			case 15:
				panic("boom")
			}
			return nil
		}
		check := func() {
			if s.Version() == v0 {
				t.Errorf("%s: Update returned before the version moved", name)
			}
			if !exists(t, s, name) {
				t.Errorf("%s: Update returned before its entry was visible", name)
			}
		}
		qs[i] = enqueue(s, ctx, fn, check)
	}
	release()
	if err := waitHeld(); err != nil {
		t.Fatalf("held Update: %v", err)
	}
	for i, q := range qs {
		<-q.done
		name := fmt.Sprintf("u%02d", i)
		var want error
		switch i {
		case 3:
			want = errEarly
		case 7, 30:
			want = errLate
		case 12:
			want = context.Canceled
		}
		switch {
		case i == 15:
			if q.recovered != "boom" {
				t.Errorf("%s: recovered %v, want the panic of fn", name, q.recovered)
			}
		case want == nil && q.err != nil:
			t.Errorf("%s: %v", name, q.err)
		case want != nil && !errors.Is(q.err, want):
			t.Errorf("%s: got %v, want %v", name, q.err, want)
		}
		if got := exists(t, s, name); got != (want == nil && i != 15) {
			t.Errorf("%s: entry exists = %v", name, got)
		}
	}
	if runs[12].Load() != 0 {
		t.Error("fn with a cancelled context ran")
	}
	if runs[15].Load() != 2 {
		t.Errorf("panicking fn ran %d times, want 2 (in the batch, then alone)", runs[15].Load())
	}
	// The held Update and the batch: two commits. The panicking fn, run
	// alone, commits nothing.
	if v := s.Version(); v != v0+2 {
		t.Errorf("Version moved by %d, want 2 (one commit for the whole batch)", v-v0)
	}
	if err := s.Verify(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestGroupCommitLeaderPanics: when the fn of the caller leading a batch
// panics, the panic reaches that caller and the rest of the batch is
// committed by the next leader.
func TestGroupCommitLeaderPanics(t *testing.T) {
	s := newBatchStore(t)
	release, waitHeld := holdLead(t, s)
	leader := enqueue(s, context.Background(), func(tx directory.WriteTx) error {
		if err := tx.Add(testEntry("leader")); err != nil {
			return err
		}
		panic("boom")
	}, nil)
	var others []*queued
	for i := range 5 {
		name := fmt.Sprintf("u%d", i)
		others = append(others, enqueue(s, context.Background(), func(tx directory.WriteTx) error {
			return tx.Add(testEntry(name))
		}, nil))
	}
	release()
	if err := waitHeld(); err != nil {
		t.Fatal(err)
	}
	<-leader.done
	if leader.recovered != "boom" {
		t.Fatalf("leader recovered %v, want the panic of its fn", leader.recovered)
	}
	if exists(t, s, "leader") {
		t.Error("the panicking fn's entry was committed")
	}
	for i, q := range others {
		<-q.done
		if q.err != nil || q.recovered != nil {
			t.Errorf("u%d: %v %v", i, q.err, q.recovered)
		}
		if !exists(t, s, fmt.Sprintf("u%d", i)) {
			t.Errorf("u%d is missing", i)
		}
	}
}

// TestGroupCommitConcurrent hammers Update from many goroutines (run it
// with -race), one in five failing after its write.
func TestGroupCommitConcurrent(t *testing.T) {
	s := newBatchStore(t)
	const writers, rounds = 64, 10
	errNo := errors.New("no")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				name := fmt.Sprintf("w%d-%d", w, i)
				fail := (w+i)%5 == 0
				err := s.Update(context.Background(), func(tx directory.WriteTx) error {
					if err := tx.Add(testEntry(name)); err != nil {
						return err
					}
					if fail {
						return errNo
					}
					return nil
				})
				if fail != errors.Is(err, errNo) || (!fail && err != nil) {
					t.Errorf("%s: %v", name, err)
				}
				if got := exists(t, s, name); got == fail {
					t.Errorf("%s: exists = %v after Update returned %v", name, got, err)
				}
			}
		})
	}
	wg.Wait()
	if err := s.Verify(context.Background()); err != nil {
		t.Error(err)
	}
}
