package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
	"github.com/ldapd/ldapd/directory/storetest"
)

// viewStats is how a caller reaches a store's view.
type viewStats interface {
	ViewStats() (etcdstore.ViewStats, bool)
}

func stats(t testing.TB, s directory.Store) etcdstore.ViewStats {
	t.Helper()
	st, ok := s.(viewStats).ViewStats()
	if !ok {
		t.Fatal("store has no view")
	}
	return st
}

// The conformance suite, reading from the local view (Local and
// Linearizable): every Update is followed by reads that must see it, so
// this also checks read-your-writes.
func TestStoreView(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{MaxTxnOps: suiteOps, MaxRequestBytes: 8 << 20, NoFsync: true})
	for _, cons := range []etcdstore.Consistency{etcdstore.Local, etcdstore.Linearizable} {
		t.Run(cons.String(), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) directory.Store {
				s := newStoreOn(t, c, etcdstore.Options{MaxTxnOps: suiteOps, MaxTxnBytes: 8 << 20, Consistency: cons,
					MaxStaleness: 15 * time.Second}) // the suite tests the contract, on a busy machine
				if _, ok := s.(directory.Versioned); ok != (cons == etcdstore.Local) {
					t.Fatalf("%v store: Versioned %v", cons, ok)
				}
				return s
			})
		})
	}
}

func addEntry(tb testing.TB, s directory.Store, dn string, attrs ...string) {
	tb.Helper()
	err := s.Update(context.Background(), func(tx directory.WriteTx) error {
		e := directory.NewEntry(directory.MustParseDN(dn))
		e.Set("objectClass", "top", "organizationalUnit")
		e.Set("ou", directory.MustParseDN(dn).RDN().AVAs()[0].Value)
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Set(attrs[i], attrs[i+1])
		}
		return tx.Add(e)
	})
	if err != nil {
		tb.Fatalf("add %s: %v", dn, err)
	}
}

func exists(s directory.Store, dn string) (bool, error) {
	err := s.View(context.Background(), func(tx directory.ReadTx) error {
		_, err := tx.Get(directory.MustParseDN(dn))
		return err
	})
	if errors.Is(err, directory.ErrNoSuchObject) {
		return false, nil
	}
	return err == nil, err
}

// Two nodes over one prefix: a write through A is in B's view within
// milliseconds, B's version moves after it, and a write through B is seen
// by B's next View (read your writes) and by A.
func TestViewTwoNodes(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	// A generous staleness bound: a loaded machine can delay the
	// heartbeats past the default second, and a stale view refuses reads,
	// which this test does not look at (TestViewPartitionFailsClosedAndReloads does).
	opts := etcdstore.Options{Prefix: "/two/", Consistency: etcdstore.Local, MaxStaleness: 15 * time.Second}
	a := openOn(t, c.Client(t), opts)
	b := openOn(t, c.Client(t), opts)
	addEntry(t, a, "dc=example")
	for i := range 20 {
		dn := fmt.Sprintf("ou=n%d,dc=example", i)
		before := b.(directory.Versioned).Version()
		acked := time.Now()
		addEntry(t, a, dn)
		if ok, err := exists(a, dn); !ok || err != nil {
			t.Fatalf("A does not see its own write %s: %v %v", dn, ok, err)
		}
		for {
			ok, err := exists(b, dn)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				break
			}
			if time.Since(acked) > 10*time.Second {
				t.Fatalf("B does not see %s %v after A acknowledged it", dn, time.Since(acked))
			}
			time.Sleep(time.Millisecond)
		}
		if after := b.(directory.Versioned).Version(); after <= before {
			t.Fatalf("B's version %d -> %d across a write it applied", before, after)
		}
	}
	addEntry(t, b, "ou=fromB,dc=example")
	if ok, err := exists(b, "ou=fromB,dc=example"); !ok || err != nil {
		t.Fatalf("B does not see its own write: %v %v", ok, err)
	}
	sa, sb := stats(t, a), stats(t, b)
	if sa.Stale || sb.Stale || sa.Keys == 0 {
		t.Fatalf("stats: A %+v, B %+v", sa, sb)
	}
}

func openOn(tb testing.TB, cli *clientv3.Client, opts etcdstore.Options) directory.Store {
	tb.Helper()
	s, err := etcdstore.Open(context.Background(), cli, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// A node cut off from etcd fails closed once its view cannot be confirmed
// current within MaxStaleness: Views fail with ErrStale (busy), Version
// changes at every call (so no cache above the store answers), while a
// write committed elsewhere is not served stale. When the partition heals
// and the history it missed was compacted, the node reloads its view and
// answers again, with the write.
func TestViewPartitionFailsClosedAndReloads(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	const bound = 300 * time.Millisecond
	p := etcdtest.NewProxy(t, c.Members[0].ClientURL)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{p.URL()}, DialTimeout: time.Second, Logger: zap.NewNop(),
		DialKeepAliveTime: 200 * time.Millisecond, DialKeepAliveTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	opts := etcdstore.Options{Prefix: "/part/", Consistency: etcdstore.Local, MaxStaleness: bound}
	node := openOn(t, cli, opts)
	other := openOn(t, c.Client(t), etcdstore.Options{Prefix: "/part/"})
	addEntry(t, other, "dc=example")
	waitFor(t, 2*time.Second, func() bool { ok, _ := exists(node, "dc=example"); return ok })

	p.SetCut(true)
	cutAt := time.Now()
	addEntry(t, other, "ou=revoked,dc=example")
	acked := time.Now()
	for {
		asked := time.Now() // before the read: its staleness check is no earlier
		ok, err := exists(node, "ou=revoked,dc=example")
		if err != nil {
			if !errors.Is(err, etcdstore.ErrStale) || !errors.Is(err, directory.ErrBusy) {
				t.Fatalf("stale view: %v, want ErrStale and ErrBusy", err)
			}
			break
		}
		if ok {
			t.Fatal("the cut-off node saw a write: the proxy does not cut")
		}
		if since := asked.Sub(acked); since > bound+50*time.Millisecond {
			t.Fatalf("the cut-off node still answers without the write %v after it was acknowledged (bound %v)", since, bound)
		}
		time.Sleep(5 * time.Millisecond)
	}
	refusedAfter := time.Since(cutAt)
	v := node.(directory.Versioned)
	if v1, v2 := v.Version(), v.Version(); v1 == v2 {
		t.Fatalf("a stale view's version does not move (%d): caches above it would still answer", v1)
	}
	if st := stats(t, node); !st.Stale {
		t.Fatalf("stats of a stale view: %+v", st)
	}

	// While cut off, the cluster moves on and compacts the history.
	for i := range 20 {
		addEntry(t, other, fmt.Sprintf("ou=later%d,dc=example", i))
	}
	resp, err := c.Client(t).Get(context.Background(), "/part/g")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client(t).Compact(context.Background(), resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	p.SetCut(false)
	healed := time.Now()
	waitFor(t, 15*time.Second, func() bool { ok, _ := exists(node, "ou=later19,dc=example"); return ok })
	st := stats(t, node)
	t.Logf("refused %v after the cut (bound %v); answering again %v after healing; %+v", refusedAfter.Round(time.Millisecond),
		bound, time.Since(healed).Round(time.Millisecond), st)
	if ok, err := exists(node, "ou=revoked,dc=example"); !ok || err != nil {
		t.Fatalf("after healing: %v %v", ok, err)
	}
	if st.Reloads == 0 {
		t.Fatalf("the view resumed across a compaction without a reload: %+v", st)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A view over its memory cap is dropped: Views read etcd directly and
// still see everything.
func TestViewMaxBytes(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	other := openOn(t, c.Client(t), etcdstore.Options{Prefix: "/cap/"})
	addEntry(t, other, "dc=example")
	node := openOn(t, c.Client(t), etcdstore.Options{Prefix: "/cap/", Consistency: etcdstore.Local, ViewMaxBytes: 8 << 10, MaxStaleness: 15 * time.Second})
	for i := range 30 {
		addEntry(t, node, fmt.Sprintf("ou=n%d,dc=example", i), "description", fmt.Sprintf("%0400d", i))
		if ok, err := exists(node, fmt.Sprintf("ou=n%d,dc=example", i)); !ok || err != nil {
			t.Fatalf("entry %d: %v %v", i, ok, err)
		}
	}
	if st := stats(t, node); !st.Disabled {
		t.Fatalf("view over its cap not disabled: %+v", st)
	}
	v := node.(directory.Versioned)
	if v.Version() == v.Version() {
		t.Fatal("a disabled view's version does not move")
	}
}

var _ = runtime.GC

// A view whose load takes longer than its staleness bound (a large
// directory: 100,000 people took a minute) is current when Open returns:
// Open waits for the first heartbeat after the load, which confirms it.
// Without that wait, `ldapd serve` over 100,000 entries exited at start
// ("the local view is behind etcd ... 56.757s ago").
func TestViewOpenAfterSlowLoad(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	cli := c.Client(t)
	const prefix, bound = "/slow/", 200 * time.Millisecond
	openOn(t, cli, etcdstore.Options{Prefix: prefix}) // writes the layout
	blob := strings.Repeat("x", 1<<20)
	for i := range 96 {
		if _, err := cli.Put(context.Background(), fmt.Sprintf("%sm/blob%02d", prefix, i), blob); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	s := openOn(t, cli, etcdstore.Options{Prefix: prefix, Consistency: etcdstore.Local, MaxStaleness: bound})
	took := time.Since(start)
	if err := s.View(context.Background(), func(directory.ReadTx) error { return nil }); err != nil {
		t.Fatalf("first View after Open took %v (bound %v): %v", took, bound, err)
	}
	t.Logf("Open (96 MiB view) took %v; bound %v", took.Round(time.Millisecond), bound)
	if took < bound {
		t.Log("the load was faster than the bound: this run did not need the wait")
	}
}
