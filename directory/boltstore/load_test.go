package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
)

// logicalDump is dump with the posting lists of the index buckets listed
// as the ids of each prefix, whatever their chunks: a load's later Adds
// start chunks of their own where Puts extend the last one.
func logicalDump(t *testing.T, s *store) string {
	t.Helper()
	var b strings.Builder
	var walk func(path string, bk *bolt.Bucket, postings bool) error
	walk = func(path string, bk *bolt.Bucket, postings bool) error {
		fmt.Fprintf(&b, "bucket %s seq %d\n", path, bk.Sequence())
		var prefix []byte
		var ids []uint64
		flush := func() {
			if prefix != nil {
				fmt.Fprintf(&b, "%s %q=%v\n", path, prefix, ids)
			}
			prefix, ids = nil, nil
		}
		err := bk.ForEach(func(k, v []byte) error {
			if v == nil && bk.Bucket(k) != nil {
				flush()
				return walk(path+"/"+string(k), bk.Bucket(k), path == string(bucketIndex))
			}
			if !postings {
				fmt.Fprintf(&b, "%s %q=%q\n", path, k, v)
				return nil
			}
			p := k[:len(k)-idLen]
			if !bytes.Equal(p, prefix) {
				flush()
				prefix = bytes.Clone(p)
			}
			var err error
			ids, err = decodeChunk(ids, k, len(p), v)
			return err
		})
		flush()
		return err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error { return walk(string(name), bk, false) })
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// loadAll adds entries through one load, in Adds of batch entries, and
// commits it. It returns the number of run files the Adds wrote.
func loadAll(t *testing.T, s *store, entries []*directory.Entry, batch int) int {
	t.Helper()
	ctx := context.Background()
	l, err := s.BeginLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Abort()
	for len(entries) > 0 {
		n := min(batch, len(entries))
		if err := l.Add(ctx, entries[:n]); err != nil {
			t.Fatal(err)
		}
		entries = entries[n:]
	}
	runs := len(l.(*load).runs)
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	return runs
}

// onlyFile fails the test unless dir holds the database file alone: no
// run, no new file left.
func onlyFile(t *testing.T, path string) {
	t.Helper()
	des, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if de.Name() != filepath.Base(path) {
			t.Errorf("left in the data directory: %s", de.Name())
		}
	}
}

// TestLoadSameAsAddBulk checks that a load of several Adds gives the
// content of one AddBulk of the same entries through bbolt's Puts (every
// bucket's keys, values and sequences, the posting lists compared by
// their ids): into an empty store and into stores holding entries whose
// posting lists the load extends (stored chunks not full, which only the
// first Add may rewrite: a second rewrite would lose the first's ids),
// with long and with 3-id chunks; with every Add written to a run, with
// Adds joining the ones before them in memory (Options.LoadMemory) and
// with some of each; that the file verifies, passes bbolt's check and
// stays usable; and that no file is left beside it.
func TestLoadSameAsAddBulk(t *testing.T) {
	entries := bulkEntries(3000)
	for _, maxChunk := range []int{0, 3} {
		for _, before := range []int{0, 2, 500, 2950} {
			for _, mem := range []int64{0, 1 << 20, 1 << 30} {
				t.Run(fmt.Sprintf("chunk %d, %d stored before, memory %d", maxChunk, before, mem), func(t *testing.T) {
					testLoadSameAsAddBulk(t, entries, maxChunk, before, mem)
				})
			}
		}
	}
}

func testLoadSameAsAddBulk(t *testing.T, entries []*directory.Entry, maxChunk, before int, mem int64) {
	t.Helper()
	ctx := context.Background()
	byPut := openTest(t, filepath.Join(t.TempDir(), "put.db"), Options{maxChunk: maxChunk})
	path := filepath.Join(t.TempDir(), "load.db")
	byLoad := openTest(t, path, Options{maxChunk: maxChunk, Exclusive: true, LoadMemory: mem})
	addAll(t, byPut, entries[:before])
	addAll(t, byLoad, entries[:before])
	if err := byPut.AddBulk(ctx, entries[before:]); err != nil {
		t.Fatal(err)
	}
	const batch = 300
	adds := (len(entries) - before + batch - 1) / batch
	runs := loadAll(t, byLoad, entries[before:], batch)
	switch {
	case mem == 0 && runs != adds-1:
		t.Errorf("%d Adds wrote %d runs, want one for each but the last", adds, runs)
	case mem == 1<<30 && runs != 0:
		t.Errorf("%d Adds wrote %d runs, want none: they fit in LoadMemory", adds, runs)
	case mem == 1<<20 && adds > 4 && (runs == 0 || runs >= adds-1):
		t.Errorf("%d Adds wrote %d runs, want some Adds joined", adds, runs)
	}
	if a, b := logicalDump(t, byPut), logicalDump(t, byLoad); a != b {
		t.Fatalf("the load wrote a different content:\n%s", firstDiff(a, b))
	}
	if err := byLoad.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	checkBoltFile(t, byLoad.db)
	onlyFile(t, path)
	n, err := addLate(t, byLoad, "(sn=5)")
	if want := 3000/13 + 1 + 1; err != nil || n != want {
		t.Fatalf("search after the load: %d entries (want %d), %v", n, want, err)
	}
	if err := byLoad.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLoadInvisibleUntilCommit checks that Views see none of a load's
// entries before its Commit and all of them after, and that Update and
// AddBulk are refused while the load is open (its Commit would write over
// them).
func TestLoadInvisibleUntilCommit(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{Exclusive: true})
	entries := bulkEntries(100)
	addAll(t, s, entries[:2])
	l, err := s.BeginLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Abort()
	if _, err := s.BeginLoad(ctx); err == nil {
		t.Fatal("a second load began while one is open")
	}
	if err := l.Add(ctx, entries[2:50]); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, entries[50:]); err != nil {
		t.Fatal(err)
	}
	v := s.Version()
	last := entries[len(entries)-1].DN.String()
	if _, err := getIn(t, s, last); !errors.Is(err, directory.ErrNoSuchObject) {
		t.Fatalf("an entry of an open load is visible: %v", err)
	}
	if err := s.Update(ctx, func(tx directory.WriteTx) error { return tx.SetMeta("x", []byte("1")) }); !errors.Is(err, errLoadOpen) {
		t.Fatalf("Update during a load: %v", err)
	}
	if err := s.AddBulk(ctx, bulkEntries(1)[:0:0]); err != nil {
		t.Fatalf("an empty AddBulk: %v", err)
	}
	late := directory.NewEntry(directory.MustParseDN("uid=late,ou=People," + testSuffix))
	late.Set("objectClass", "top", "person")
	late.Set("cn", "late")
	late.Set("sn", "late")
	if err := s.AddBulk(ctx, []*directory.Entry{late}); !errors.Is(err, errLoadOpen) {
		t.Fatalf("AddBulk during a load: %v", err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Version() == v {
		t.Fatal("Commit did not change the version")
	}
	for _, e := range entries {
		if _, err := getIn(t, s, e.DN.String()); err != nil {
			t.Fatalf("after Commit: %v", err)
		}
	}
	if err := l.Add(ctx, []*directory.Entry{late}); !errors.Is(err, errLoadOver) {
		t.Fatalf("Add after Commit: %v", err)
	}
	if err := l.Commit(ctx); !errors.Is(err, errLoadOver) {
		t.Fatalf("Commit after Commit: %v", err)
	}
	addAll(t, s, []*directory.Entry{late}) // Updates work again
}

// TestLoadAbortAndFailureKeepOld checks that Abort, a failing Add and a
// Commit failing after the new file's pages are written leave the old
// file as it was, usable, and nothing beside it; and that the load is
// over after each.
func TestLoadAbortAndFailureKeepOld(t *testing.T) {
	ctx := context.Background()
	injected := errors.New("injected failure")
	path := filepath.Join(t.TempDir(), "ldapd.db")
	s := openTest(t, path, Options{Exclusive: true})
	entries := bulkEntries(600)
	addAll(t, s, entries[:10])
	before := dump(t, s)
	stored := entries[5]
	orphan := directory.NewEntry(directory.MustParseDN("uid=x,ou=Nowhere," + testSuffix))
	orphan.Set("objectClass", "top", "person")
	orphan.Set("cn", "x")
	orphan.Set("sn", "x")
	cases := []struct {
		name string
		end  func(l directory.Load) error
		want error // of end; nil: none expected
	}{
		{"abort", func(l directory.Load) error { l.Abort(); return nil }, nil},
		{"add of a stored entry", func(l directory.Load) error {
			return l.Add(ctx, []*directory.Entry{stored})
		}, directory.ErrEntryAlreadyExists},
		{"add of an entry of an earlier Add", func(l directory.Load) error {
			return l.Add(ctx, entries[300:301])
		}, directory.ErrEntryAlreadyExists},
		{"add of an entry without its parent", func(l directory.Load) error {
			return l.Add(ctx, []*directory.Entry{orphan})
		}, directory.ErrNoSuchObject},
		{"failing commit", func(l directory.Load) error {
			s.failBuild = injected
			defer func() { s.failBuild = nil }()
			return l.Commit(ctx)
		}, injected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := s.BeginLoad(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Add(ctx, entries[10:300]); err != nil {
				t.Fatal(err)
			}
			if err := l.Add(ctx, entries[300:400]); err != nil {
				t.Fatal(err)
			}
			if err := c.end(l); c.want != nil && !errors.Is(err, c.want) || c.want == nil && err != nil {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err := l.Add(ctx, entries[400:]); !errors.Is(err, errLoadOver) {
				t.Fatalf("Add after the load ended: %v", err)
			}
			l.Abort() // harmless
			if dump(t, s) != before {
				t.Fatal("the store changed")
			}
			onlyFile(t, path)
		})
	}
	loadAll(t, s, entries[10:], 250)
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	onlyFile(t, path)
}

// TestLoadNeedsExclusive checks that a store not opened Exclusive offers
// no load, with an error callers can tell (they use AddBulk instead), and
// that Close ends a load left open.
func TestLoadNeedsExclusive(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{})
	if _, err := s.BeginLoad(ctx); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("BeginLoad on a shared store: %v", err)
	}
	x := openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{Exclusive: true})
	l, err := x.BeginLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Add(ctx, bulkEntries(10)); err != nil {
		t.Fatal(err)
	}
	within(t, 10*time.Second, "Close with a load open", x.Close)
}

// TestMergedStream checks the k-way merge: keys in order, each once, the
// latest stream's value of a key winning.
func TestMergedStream(t *testing.T) {
	streams := [][]string{{"a=0", "c=0", "e=0"}, {"b=1", "c=1"}, {}, {"a=3", "f=3"}}
	var in []putStream
	for _, s := range streams {
		var puts []recordedPut
		for _, kv := range s {
			k, v, _ := strings.Cut(kv, "=")
			puts = append(puts, recordedPut{[]byte(k), []byte(v)})
		}
		in = append(in, &blockStream{blocks: [][]recordedPut{puts}})
	}
	m := newMergedStream(in)
	var got []string
	for {
		k, v, err := m.next()
		if err != nil {
			t.Fatal(err)
		}
		if k == nil {
			break
		}
		got = append(got, string(k)+"="+string(v))
	}
	if want := []string{"a=3", "b=1", "c=1", "e=0", "f=3"}; !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
}

// addLate adds uid=late (cn "User 7", sn 5) to s by Add, after a load,
// and returns the number of entries a subtree search for filter finds.
func addLate(t *testing.T, s *store, filter string) (int, error) {
	t.Helper()
	e := directory.NewEntry(directory.MustParseDN("uid=late,ou=People," + testSuffix))
	e.Set("objectClass", "top", "person")
	e.Set("cn", "User 7")
	e.Set("sn", "5")
	addAll(t, s, []*directory.Entry{e})
	n := 0
	err := s.View(context.Background(), func(tx directory.ReadTx) error {
		return tx.Search(directory.MustParseDN(testSuffix), directory.ScopeSub, mustFilter(t, filter),
			func(*directory.Entry) error { n++; return nil })
	})
	return n, err
}

// TestLoadRunMemoryDoubles checks the bytes a load's Adds keep in memory
// before a run: Options.LoadMemory for the first 64 runs, then twice as
// much every 64 runs, and never more than 16 times as much.
func TestLoadRunMemoryDoubles(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "load.db"), Options{Exclusive: true, LoadMemory: 1000})
	l, err := s.BeginLoad(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Abort()
	ld := l.(*load)
	for _, c := range []struct {
		runs int
		want int64
	}{{0, 1000}, {63, 1000}, {64, 2000}, {128, 4000}, {255, 8000}, {256, 16000}, {5000, 16000}} {
		ld.runs = make([]*run, c.runs)
		if got := ld.runMemory(); got != c.want {
			t.Errorf("after %d runs: %d bytes, want %d", c.runs, got, c.want)
		}
	}
	ld.runs = nil
}

// TestLoadJoinedAddsHoldWhatTheyCount checks that Adds joining the ones
// before in memory hold about what runMemory counts: with Adds of two
// entries each, a recorder that kept the caller's values (each Add's
// megabyte-sized buffers) held hundreds of MiB against a LoadMemory of 2
// MiB (found in review: 1974 MiB for 1,500 Adds at 4 MiB).
func TestLoadJoinedAddsHoldWhatTheyCount(t *testing.T) {
	ctx := context.Background()
	const loadMemory = 2 << 20
	heap := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	entries := bulkEntries(600)
	s := openTest(t, filepath.Join(t.TempDir(), "load.db"), Options{Exclusive: true, LoadMemory: loadMemory})
	l, err := s.BeginLoad(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Abort()
	base, peak := heap(), int64(0)
	for i := 0; i < len(entries); i += 2 {
		if err := l.Add(ctx, entries[i:i+2]); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			peak = max(peak, heap()-base)
		}
	}
	if limit := int64(3*loadMemory + 8<<20); peak > limit {
		t.Errorf("joined Adds held %d MiB of heap with a LoadMemory of %d MiB (want under %d MiB); the recorders count %d KiB",
			peak>>20, loadMemory>>20, limit>>20, l.(*load).root.memory()>>10)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
