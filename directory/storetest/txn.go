package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func getMeta(t *testing.T, s directory.Store, key string) ([]byte, error) {
	var v []byte
	err := s.View(t.Context(), func(tx directory.ReadTx) (err error) {
		v, err = tx.Meta(key)
		return err
	})
	return v, err
}

func wantMeta(t *testing.T, s directory.Store, key string, want []byte) {
	t.Helper()
	got, err := getMeta(t, s, key)
	if err != nil || !bytes.Equal(got, want) || got == nil {
		t.Fatalf("Meta(%q) = %q, %v; want %q", key, got, err, want)
	}
}

func testMeta(t *testing.T, s directory.Store) {
	_, err := getMeta(t, s, "domain")
	wantErr(t, "Meta of an unset key", err, directory.ErrMetaNotFound)

	update(t, s, func(tx directory.WriteTx) error {
		value := []byte("example.com")
		if err := tx.SetMeta("domain", value); err != nil {
			return err
		}
		copy(value, "XXXXXXX") // the store must not keep the caller's slice
		got, err := tx.Meta("domain")
		if err != nil || string(got) != "example.com" {
			t.Errorf("Meta in the same transaction = %q, %v", got, err)
		}
		got[0] = 'X' // nor hand out its own
		return nil
	})
	wantMeta(t, s, "domain", []byte("example.com"))

	update(t, s, func(tx directory.WriteTx) error {
		return errors.Join(tx.SetMeta("domain", []byte("example.org")), tx.SetMeta("domainx", []byte{0, 1, 0}),
			tx.SetMeta("empty", []byte{}))
	})
	wantMeta(t, s, "domain", []byte("example.org"))
	wantMeta(t, s, "domainx", []byte{0, 1, 0})
	wantMeta(t, s, "empty", []byte{})
	_, err = getMeta(t, s, "domai")
	wantErr(t, "Meta of a prefix of a set key", err, directory.ErrMetaNotFound)
}

func nextSequence(t *testing.T, s directory.Store, names ...string) []uint64 {
	t.Helper()
	var out []uint64
	update(t, s, func(tx directory.WriteTx) error {
		out = out[:0]
		for _, n := range names {
			v, err := tx.NextSequence(n)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out
}

func testNextSequence(t *testing.T, s directory.Store) {
	if got := nextSequence(t, s, "uid", "uid", "gid", "uid"); !slices.Equal(got, []uint64{1, 2, 1, 3}) {
		t.Fatalf("first draws = %v, want [1 2 1 3]", got)
	}
	if got := nextSequence(t, s, "uid", "gid"); !slices.Equal(got, []uint64{4, 2}) {
		t.Fatalf("second draws = %v, want [4 2]", got)
	}
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		if _, err := tx.NextSequence("uid"); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("Update did not return fn's error")
	}
	// A rolled-back draw may be drawn again, but never a committed one.
	if got := nextSequence(t, s, "uid"); got[0] <= 4 {
		t.Fatalf("draw after rollback = %d, want > 4", got[0])
	}
}

// changeEverything makes one change of every kind to the fixture.
func changeEverything(tx directory.WriteTx) error {
	return errors.Join(
		tx.Add(entry("uid=erin,ou=People,dc=example,dc=com", "objectClass: top", "objectClass: account", "uid: erin")),
		tx.Modify(dn(alice), []directory.Change{change(directory.ChangeReplace, "mail", "alice@new.example")}),
		tx.Delete(dn(carol)),
		tx.Rename(dn(bob), rdn("uid=robert"), nil),
		tx.Rename(dn(contractors), rdn("ou=Contractors"), ptr(dn(groups))),
		tx.SetMeta("domain", []byte("example.com")),
	)
}

// wantFixture checks that the store holds exactly the fixture, indexes
// and meta included.
func wantFixture(t *testing.T, s directory.Store) {
	t.Helper()
	for _, e := range fixture() {
		sameEntry(t, mustGet(t, s, e.DN.String()), e)
	}
	mustNotExist(t, s, "uid=erin,ou=People,dc=example,dc=com")
	mustNotExist(t, s, "uid=robert,ou=People,dc=example,dc=com")
	_, err := getMeta(t, s, "domain")
	wantErr(t, "Meta after rollback", err, directory.ErrMetaNotFound)
	checkAgreement(t, s, fixture())
}

func testUpdateRollback(t *testing.T, s directory.Store) {
	seed(t, s)
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(tx directory.WriteTx) error {
		if err := changeEverything(tx); err != nil {
			t.Errorf("changes: %v", err)
		}
		return fmt.Errorf("giving up: %w", boom)
	})
	wantErr(t, "Update returning an error", err, boom)
	wantFixture(t, s)
}

func testUpdatePanic(t *testing.T, s directory.Store) {
	seed(t, s)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic of fn", r)
			}
		}()
		_ = s.Update(t.Context(), func(tx directory.WriteTx) error {
			if err := changeEverything(tx); err != nil {
				t.Errorf("changes: %v", err)
			}
			panic("boom")
		})
	}()
	wantFixture(t, s)
	// The store is still usable.
	update(t, s, changeEverything)
	mustGet(t, s, "uid=erin,ou=People,dc=example,dc=com")
}

func testUpdateReadsOwnWrites(t *testing.T, s directory.Store) {
	seed(t, s)
	const erin, erin2 = "uid=erin,ou=People,dc=example,dc=com", "uid=erin2,ou=Groups,dc=example,dc=com"
	find := func(tx directory.ReadTx, base, f string) []string {
		var out []*directory.Entry
		err := tx.Search(dn(base), directory.ScopeSub, filter(t, f), func(e *directory.Entry) error {
			out = append(out, e)
			return nil
		})
		if err != nil {
			t.Fatalf("Search(%s): %v", f, err)
		}
		return dnStrings(out)
	}
	update(t, s, func(tx directory.WriteTx) error {
		if err := tx.Add(entry(erin, "objectClass: top", "objectClass: account", "uid: erin", "description: new hire")); err != nil {
			return err
		}
		if _, err := tx.Get(dn(erin)); err != nil {
			t.Fatalf("Get after Add: %v", err)
		}
		wantDNs(t, "indexed, after Add", find(tx, suffix, "(uid=erin)"), erin)
		wantDNs(t, "unindexed, after Add", find(tx, people, "(description=new hire)"), erin)
		if err := tx.Modify(dn(erin), []directory.Change{change(directory.ChangeReplace, "uid", "erin", "e")}); err != nil {
			return err
		}
		wantDNs(t, "after Modify", find(tx, suffix, "(uid=e)"), erin)
		if err := tx.Rename(dn(erin), rdn("uid=erin2"), ptr(dn(groups))); err != nil {
			return err
		}
		wantDNs(t, "after Rename", find(tx, suffix, "(uid=e)"), erin2)
		wantDNs(t, "old parent after Rename", find(tx, people, "(uid=e)"))
		if err := tx.Delete(dn(erin2)); err != nil {
			return err
		}
		if _, err := tx.Get(dn(erin2)); !errors.Is(err, directory.ErrNoSuchObject) {
			t.Fatalf("Get after Delete: %v", err)
		}
		wantDNs(t, "after Delete", find(tx, suffix, "(uid=e)"))
		if err := tx.SetMeta("k", []byte("v")); err != nil {
			return err
		}
		if v, err := tx.Meta("k"); err != nil || string(v) != "v" {
			t.Fatalf("Meta after SetMeta = %q, %v", v, err)
		}
		return nil
	})
}

func testViewSeesCommitted(t *testing.T, s directory.Store) {
	seed(t, s)
	update(t, s, changeEverything)
	view(t, s, func(tx directory.ReadTx) error {
		for _, name := range []string{"uid=erin,ou=People,dc=example,dc=com", "uid=robert,ou=People,dc=example,dc=com",
			"uid=dave,ou=Contractors,ou=Groups,dc=example,dc=com"} {
			if _, err := tx.Get(dn(name)); err != nil {
				t.Errorf("Get(%s) after commit: %v", name, err)
			}
		}
		if _, err := tx.Get(dn(carol)); !errors.Is(err, directory.ErrNoSuchObject) {
			t.Errorf("Get of a deleted entry after commit: %v", err)
		}
		if v, err := tx.Meta("domain"); err != nil || string(v) != "example.com" {
			t.Errorf("Meta after commit = %q, %v", v, err)
		}
		return nil
	})
	wantDNs(t, "committed mail", searchDNs(t, s, suffix, directory.ScopeSub, "(mail=alice@new.example)"), alice)
}

func testContextCancelled(t *testing.T, s directory.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.View(ctx, func(directory.ReadTx) error { called = true; return nil })
	wantErr(t, "View with a cancelled context", err, context.Canceled)
	err = s.Update(ctx, func(tx directory.WriteTx) error {
		called = true
		return tx.SetMeta("k", []byte("v"))
	})
	wantErr(t, "Update with a cancelled context", err, context.Canceled)
	if called {
		t.Fatal("fn ran despite the cancelled context")
	}
	_, err = getMeta(t, s, "k")
	wantErr(t, "Meta after a cancelled Update", err, directory.ErrMetaNotFound)
}

// testConcurrent runs writers and readers at once (run it with -race).
// Every committed sequence value is unique and every write is visible.
func testConcurrent(t *testing.T, s directory.Store) {
	seed(t, s)
	const writers, readers, rounds = 8, 4, 10
	var (
		mu   sync.Mutex
		seqs []uint64
		wg   sync.WaitGroup
		stop = make(chan struct{})
		rwg  sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			for i := range rounds {
				var v uint64
				name := fmt.Sprintf("uid=w%d-%d,ou=People,dc=example,dc=com", w, i)
				err := s.Update(context.Background(), func(tx directory.WriteTx) (err error) {
					if v, err = tx.NextSequence("concurrent"); err != nil {
						return err
					}
					return tx.Add(entry(name, "objectClass: top", "objectClass: account", fmt.Sprintf("uid: w%d-%d", w, i)))
				})
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				seqs = append(seqs, v)
				mu.Unlock()
			}
		})
	}
	for range readers {
		rwg.Go(func() {
			accounts, err := directory.ParseFilter("(objectClass=account)", directory.Builtin())
			if err != nil {
				t.Errorf("reader: %v", err)
				return
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.View(context.Background(), func(tx directory.ReadTx) error {
					n := 0
					err := tx.Search(dn(people), directory.ScopeSub, accounts, func(*directory.Entry) error {
						n++
						return nil
					})
					if _, err := tx.Get(dn(alice)); err != nil {
						return err
					}
					if n > writers*rounds {
						return fmt.Errorf("saw %d accounts", n)
					}
					return err
				})
				if err != nil {
					t.Errorf("reader: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	slices.Sort(seqs)
	for i, v := range seqs {
		if v != uint64(i+1) {
			t.Fatalf("committed sequence values %v are not 1..%d", seqs, writers*rounds)
		}
	}
	if got := searchDNs(t, s, people, directory.ScopeOne, "(objectClass=account)"); len(got) != writers*rounds {
		t.Fatalf("found %d accounts, want %d", len(got), writers*rounds)
	}
}

// testVersion: a store that implements directory.Versioned changes its
// version with every committed Update, before Update returns, and with
// nothing else (reads, failed and rolled-back updates). Caches above the
// store rely on exactly this; stores without a version are skipped.
func testVersion(t *testing.T, s directory.Store) {
	vs, ok := directory.As[directory.Versioned](s)
	if !ok {
		t.Skip("the store has no version (no cache may sit above it)")
	}
	ctx := context.Background()
	v0 := vs.Version()
	seed(t, s)
	v1 := vs.Version()
	if v1 == v0 {
		t.Fatal("Version unchanged by committed Adds")
	}
	if err := s.View(ctx, func(tx directory.ReadTx) error { _, err := tx.Get(dn("dc=example,dc=com")); return err }); err != nil {
		t.Fatal(err)
	}
	errNo := errors.New("no")
	if err := s.Update(ctx, func(tx directory.WriteTx) error {
		if err := tx.SetMeta("k", []byte("v")); err != nil {
			return err
		}
		return errNo
	}); !errors.Is(err, errNo) {
		t.Fatalf("failing Update: %v", err)
	}
	if v := vs.Version(); v != v1 {
		t.Fatalf("Version moved from %d to %d without a commit", v1, v)
	}
	seen := make(map[uint64]bool)
	for i := range 5 {
		if err := s.Update(ctx, func(tx directory.WriteTx) error { return tx.SetMeta("k", []byte{byte(i)}) }); err != nil {
			t.Fatal(err)
		}
		v := vs.Version()
		if v == v1 || seen[v] {
			t.Fatalf("commit %d: Version %d seen before", i, v)
		}
		seen[v] = true
	}
}
