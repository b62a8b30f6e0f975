package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/storetest"
)

// newStore opens a store in a fresh directory and closes it when the test
// ends.
func newStore(tb testing.TB) directory.Store {
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "ldapd.db"), boltstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) directory.Store { return newStore(t) })
}

// TestStoreExclusive runs the suite on stores opened for an offline
// import (Options.Exclusive): every AddBulk into an empty or small store
// takes the build mode.
func TestStoreExclusive(t *testing.T) {
	storetest.Run(t, func(t *testing.T) directory.Store {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "ldapd.db"), boltstore.Options{Exclusive: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func BenchmarkAdd(b *testing.B)                 { storetest.BenchAdd(b, newStore) }
func BenchmarkGet(b *testing.B)                 { storetest.BenchGet(b, newStore) }
func BenchmarkSearchIndexedEq(b *testing.B)     { storetest.BenchSearchIndexedEq(b, newStore) }
func BenchmarkSearchScanSubstring(b *testing.B) { storetest.BenchSearchScanSubstring(b, newStore) }
