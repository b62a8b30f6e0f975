package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
	"github.com/ldapd/ldapd/directory/storetest"
)

// suiteOps is the --max-txn-ops of the conformance suite's cluster: the
// suite seeds a dozen entries in one Update (about 250 operations), which
// a cluster with etcd's default 128 refuses (see TestLimits).
const suiteOps = 4096

var prefixes atomic.Int64

// newStoreOn returns a store under a fresh prefix of cluster c, so that
// every subtest gets an empty store without a new etcd.
func newStoreOn(tb testing.TB, c *etcdtest.Cluster, opts etcdstore.Options) directory.Store {
	tb.Helper()
	opts.Prefix = fmt.Sprintf("/test/%d/", prefixes.Add(1))
	s, err := etcdstore.Open(context.Background(), c.Client(tb), opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{MaxTxnOps: suiteOps, MaxRequestBytes: 8 << 20, NoFsync: true})
	storetest.Run(t, func(t *testing.T) directory.Store {
		return newStoreOn(t, c, etcdstore.Options{MaxTxnOps: suiteOps, MaxTxnBytes: 8 << 20})
	})
}

// Many writers updating one key at once all succeed: each conflict means
// another writer committed, and Update retries with a jittered backoff for
// its whole time budget rather than a fixed number of attempts (64 was not
// enough for a few dozen writers on a busy machine).
func TestUpdateConflictingWriters(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	s := newStoreOn(t, c, etcdstore.Options{})
	const writers, rounds = 48, 5
	var runs, most atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				var mine int64
				err := s.Update(context.Background(), func(tx directory.WriteTx) error {
					runs.Add(1)
					mine++
					n := 0
					if v, err := tx.Meta("counter"); err == nil {
						n, _ = strconv.Atoi(string(v))
					} else if !errors.Is(err, directory.ErrMetaNotFound) {
						return err
					}
					return tx.SetMeta("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				for m := most.Load(); mine > m && !most.CompareAndSwap(m, mine); m = most.Load() {
				}
			}
		})
	}
	wg.Wait()
	var got []byte
	if err := s.View(context.Background(), func(tx directory.ReadTx) (err error) {
		got, err = tx.Meta("counter")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if string(got) != strconv.Itoa(writers*rounds) {
		t.Fatalf("counter = %s after %d increments", got, writers*rounds)
	}
	if runs.Load() <= writers*rounds {
		t.Fatalf("fn ran %d times for %d increments: the writers never conflicted, the test shows nothing", runs.Load(), writers*rounds)
	}
	t.Logf("%d writers x %d increments of one key: fn ran %d times (%.1f per commit, at most %d for one Update)",
		writers, rounds, runs.Load(), float64(runs.Load())/float64(writers*rounds), most.Load())
}

// A write that conflicts at every attempt (another client changes what it
// read each time: a livelock) is refused busy once its budget is spent,
// and a caller's context ends the retries sooner.
func TestUpdateRetryBudget(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	cli := c.Client(t)
	const prefix = "/budget/"
	s, err := etcdstore.Open(context.Background(), cli, etcdstore.Options{Prefix: prefix, RetryBudget: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var runs atomic.Int64
	livelock := func(tx directory.WriteTx) error {
		runs.Add(1)
		if _, err := tx.Meta("hot"); err != nil && !errors.Is(err, directory.ErrMetaNotFound) {
			return err
		}
		// Another writer commits between this read and the commit.
		if _, err := cli.Put(context.Background(), prefix+"m/hot", fmt.Sprint(runs.Load())); err != nil {
			return err
		}
		return tx.SetMeta("hot", []byte("mine"))
	}
	start := time.Now()
	err = s.Update(context.Background(), livelock)
	took := time.Since(start)
	if !errors.Is(err, directory.ErrBusy) {
		t.Fatalf("Update under livelock: %v, want ErrBusy", err)
	}
	if took < 200*time.Millisecond || took > 5*time.Second {
		t.Fatalf("Update gave up after %v with a budget of 300ms", took)
	}
	if runs.Load() < 3 {
		t.Fatalf("fn ran %d times within the budget", runs.Load())
	}
	t.Logf("livelock: busy after %v and %d attempts (%v)", took.Round(time.Millisecond), runs.Load(), err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	s2, err := etcdstore.Open(context.Background(), cli, etcdstore.Options{Prefix: prefix, RetryBudget: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	start = time.Now()
	err = s2.Update(ctx, livelock)
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, directory.ErrBusy) {
		t.Fatalf("Update with a 50ms context under livelock: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Update with a 50ms context returned after %v (budget 1m)", took)
	}
}
