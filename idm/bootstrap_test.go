package idm_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

// crashingStore fails its failAt-th write transaction (from 1) without
// running it, as a crash before that commit would leave the store, and
// unwraps to its store (so that boltstore's AddBulk is seen).
type crashingStore struct {
	directory.Store
	n, failAt int
}

var errCrash = errors.New("crash")

func (s *crashingStore) Update(ctx context.Context, fn func(directory.WriteTx) error) error {
	if s.n++; s.n == s.failAt {
		return errCrash
	}
	return s.Store.Update(ctx, fn)
}

func (s *crashingStore) Unwrap() directory.Store { return s.Store }

// bootstrapped returns a service on store with a fixed clock and
// randomness, and whether its Bootstrap was the first start.
func bootstrapped(t *testing.T, store directory.Store) (*idm.Service, bool, error) {
	t.Helper()
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	svc, err := idm.New(idm.Config{Store: store, Domain: "idm.example.com", Keys: keys, Logger: zerolog.Nop(),
		Hasher: password.NewHasher(password.TestParams(), nil, 0),
		Now:    func() time.Time { return now }, Rand: rand.NewChaCha8([32]byte{1})})
	if err != nil {
		t.Fatal(err)
	}
	first, err := svc.Bootstrap(context.Background())
	return svc, first, err
}

// TestBootstrapResumes checks that a first start interrupted at any of
// its write transactions leaves a store that is not served (no domain)
// and that the next start completes to the directory a first start
// gives: on boltstore, whose built-in entries are written in one
// transaction, and on a store without AddBulk (etcd's path: one
// transaction per entry).
func TestBootstrapResumes(t *testing.T) {
	for _, plain := range []bool{false, true} {
		open := func(t *testing.T) directory.Store {
			bolt, err := boltstore.Open(t.TempDir()+"/ldapd.db", boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { bolt.Close() })
			if plain {
				return plainStore{bolt}
			}
			return bolt
		}
		// The transactions of an uninterrupted first start.
		counting := &crashingStore{Store: open(t)}
		want, first, err := bootstrapped(t, counting)
		if err != nil || !first {
			t.Fatalf("plain %v: first start: %v, %v", plain, first, err)
		}
		if max := 5; !plain && counting.n > max {
			t.Errorf("boltstore: the first start took %d write transactions, want at most %d", counting.n, max)
		}
		wantExport := exportOf(t, want)
		for failAt := 1; failAt <= counting.n; failAt += max(1, counting.n/12) {
			t.Run(fmt.Sprintf("plain %v crash at %d of %d", plain, failAt, counting.n), func(t *testing.T) {
				store := open(t)
				if _, _, err := bootstrapped(t, &crashingStore{Store: store, failAt: failAt}); !errors.Is(err, errCrash) {
					t.Fatalf("interrupted first start: %v", err)
				}
				if d, err := idm.StoredDomain(context.Background(), store); err != nil || d != "" {
					t.Fatalf("after the crash the store has domain %q (%v)", d, err)
				}
				got, first, err := bootstrapped(t, store)
				if err != nil || !first {
					t.Fatalf("resumed start: %v, %v", first, err)
				}
				if g := exportOf(t, got); g != wantExport {
					t.Errorf("resumed:\n%s\nuninterrupted:\n%s", g, wantExport)
				}
			})
		}
	}
}
