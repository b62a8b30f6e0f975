package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestAddBulkBuildSameAsPut checks that AddBulk in build mode (Exclusive)
// writes the same keys, values and sequences as AddBulk through bbolt's
// Puts: into an empty store and into stores holding entries whose posting
// lists the load extends, with long and with 3-id chunks; that the file
// verifies, stays usable, and needs no compaction; and that a batch
// small against what is stored takes the Put path.
func TestAddBulkBuildSameAsPut(t *testing.T) {
	ctx := context.Background()
	entries := bulkEntries(3000)
	for _, maxChunk := range []int{0, 3} {
		for _, before := range []int{0, 2, 500, 2950} {
			t.Run(fmt.Sprintf("chunk %d, %d stored before", maxChunk, before), func(t *testing.T) {
				dir := t.TempDir()
				byPut := openTest(t, filepath.Join(dir, "put.db"), Options{maxChunk: maxChunk})
				path := filepath.Join(dir, "build.db")
				byBuild := openTest(t, path, Options{maxChunk: maxChunk, Exclusive: true})
				addAll(t, byPut, entries[:before])
				addAll(t, byBuild, entries[:before])
				if err := byPut.AddBulk(ctx, entries[before:]); err != nil {
					t.Fatal(err)
				}
				db := byBuild.db
				if err := byBuild.AddBulk(ctx, entries[before:]); err != nil {
					t.Fatal(err)
				}
				built := byBuild.db != db
				if want := before <= buildRatio*(len(entries)-before); built != want {
					t.Fatalf("build mode used: %v, want %v", built, want)
				}
				if a, b := dump(t, byPut), dump(t, byBuild); a != b {
					t.Fatalf("build mode wrote a different content:\n%s", firstDiff(a, b))
				}
				if err := byBuild.Verify(ctx); err != nil {
					t.Fatal(err)
				}
				checkBoltFile(t, byBuild.db)
				// Still usable: an Add, a search through a built index.
				n, err := addLate(t, byBuild, "(cn=user 7)")
				if err != nil || n != 2 {
					t.Fatalf("search after the load: %d entries, %v", n, err)
				}
				if err := byBuild.Close(); err != nil {
					t.Fatal(err)
				}
				if built {
					if compacted, err := CompactIfSparse(path, 1<<20); err != nil || compacted {
						t.Fatalf("CompactIfSparse after a build: %v, %v", compacted, err)
					}
				}
			})
		}
	}
}

// checkBoltFile runs bbolt's own consistency check on db.
func checkBoltFile(t *testing.T, db *bolt.DB) {
	t.Helper()
	err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Error("bbolt check:", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAddBulkBuildFailureKeepsOld checks that a build failing before the
// new file is complete returns the error, removes the new file and leaves
// the store as it was, and usable.
func TestAddBulkBuildFailureKeepsOld(t *testing.T) {
	ctx := context.Background()
	injected := errors.New("injected failure")
	path := filepath.Join(t.TempDir(), "ldapd.db")
	s := openTest(t, path, Options{Exclusive: true, failBuild: injected})
	entries := bulkEntries(500)
	addAll(t, s, entries[:10])
	before := dump(t, s)
	if err := s.AddBulk(ctx, entries[10:]); !errors.Is(err, injected) {
		t.Fatalf("AddBulk: %v, want the injected failure", err)
	}
	if _, err := os.Stat(path + bulkSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the new file is left: %v", err)
	}
	if dump(t, s) != before {
		t.Fatal("a failed build changed the store")
	}
	s.failBuild = nil
	if err := s.AddBulk(ctx, entries[10:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOpenRemovesLeftoverBuild checks that the file of a build that did
// not finish (a crash) is removed by the next Open, which keeps the data.
func TestOpenRemovesLeftoverBuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ldapd.db")
	s := openTest(t, path, Options{})
	addAll(t, s, bulkEntries(20))
	before := dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+bulkSuffix, []byte("half a file"), fileMode); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, path, Options{Exclusive: true})
	if _, err := os.Stat(path + bulkSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the leftover is still there: %v", err)
	}
	if dump(t, s) != before {
		t.Fatal("the data changed")
	}
}

// TestRecorderSortsOutOfOrder checks that puts out of key order, and a
// key put twice, come out sorted, the last put of a key winning: within
// one segment, and across the segments of Adds that joined (freshen),
// including segments longer than a block.
func TestRecorderSortsOutOfOrder(t *testing.T) {
	put := func(r *recorder, kvs ...string) {
		for i := 0; i < len(kvs); i += 2 {
			if err := r.Put([]byte(kvs[i]), []byte(kvs[i+1])); err != nil {
				t.Fatal(err)
			}
		}
	}
	streamed := func(r *recorder) string {
		var b strings.Builder
		s := r.stream()
		for {
			k, v, err := s.next()
			if err != nil {
				t.Fatal(err)
			}
			if k == nil {
				return b.String()
			}
			fmt.Fprintf(&b, "%s=%s ", k, v)
		}
	}
	r := &recorder{}
	put(r, "b", "1", "a", "2", "b", "3", "c", "4")
	if got, want := streamed(r), "a=2 b=3 c=4 "; got != want {
		t.Fatalf("one segment: %q, want %q", got, want)
	}
	r.freshen()
	put(r, "a", "5", "d", "6")
	r.freshen()
	put(r, "e", "7", "b", "8", "b", "9")
	if got, want := streamed(r), "a=5 b=9 c=4 d=6 e=7 "; got != want {
		t.Fatalf("three segments: %q, want %q", got, want)
	}
	// Segments across blocks: keys in order within each, interleaved.
	r = &recorder{}
	var want strings.Builder
	for seg := range 3 {
		if seg > 0 {
			r.freshen()
		}
		for i := range recordBlock + 10 {
			put(r, fmt.Sprintf("%06d", 3*i+seg), fmt.Sprint(seg))
		}
	}
	for i := range 3 * (recordBlock + 10) {
		fmt.Fprintf(&want, "%06d=%d ", i, i%3)
	}
	if got := streamed(r); got != want.String() {
		t.Fatalf("segments over several blocks: %d bytes, want %d", len(got), want.Len())
	}
	if len(r.segs) != 3 || !r.segs[0].inOrder || !r.segs[2].inOrder {
		t.Fatalf("segments %+v", r.segs)
	}
}
