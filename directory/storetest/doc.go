// Package storetest is the directory.Store contract written as tests: a
// conformance suite that every storage backend runs from its own _test.go
// file, in the manner of dex's storage/conformance and testing/fstest.
//
// # Basics
//
// A backend's test calls [Run] with a constructor of fresh, empty stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) directory.Store {
//			s, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Run runs one named subtest per behaviour and error of the Store, ReadTx
// and WriteTx doc comments, each on its own store, so a single failing
// behaviour can be rerun with -run 'TestStore/RenameNewParent'. Search
// results are checked against a brute-force evaluation of Filter.Match,
// so a backend's indexes can change speed, never answers. If the store
// implements [Verifier], its Verify runs after every subtest.
//
// [CheckWrapper] is the test of a Store wrapper: everything the wrapped
// store offers beside the Store methods (a version, bulk loading, ...)
// must stay reachable through the wrapper with directory.As.
//
// [BenchAdd], [BenchGet], [BenchSearchIndexedEq] and
// [BenchSearchScanSubstring] are shared benchmarks with the same shape.
//
// # Caveats
//
// This is an ordinary package so that backends can import it, but only
// _test.go files should: it imports "testing".
//
// Where the contract is silent the suite pins one answer, so that two
// backends cannot both pass and still differ (the gap dex's suite left for
// "update of a missing ID"). Each such test says so in its comment: a
// suffix is any entry with no stored ancestor (AddNamingContext), the root
// DN as a search base (SearchRootBase), HasChildren of a missing entry
// (ErrNoSuchObject), a case-only Rename (allowed; rewrites the stored DN),
// attribute and value order (kept as given).
//
// The suite uses directory.Builtin() to resolve filters, so a backend
// under test must normalize index keys with that schema.
package storetest
