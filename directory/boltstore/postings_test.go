package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
	"github.com/ldapd/ldapd/directory/storetest"
)

// chunksOf returns the chunks of prefix in b, in key order.
func chunksOf(t *testing.T, b *bolt.Bucket, prefix []byte) [][]uint64 {
	t.Helper()
	var out [][]uint64
	c := b.Cursor()
	for k, v := c.Seek(prefix); isChunkOf(k, prefix) || (k != nil && len(k) > len(prefix)+idLen); k, v = c.Next() {
		if !isChunkOf(k, prefix) {
			continue
		}
		ids, err := decodeChunk(nil, k, len(prefix), v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ids)
	}
	return out
}

// postingBucket runs fn on an empty bucket of a write transaction that is
// rolled back afterwards.
func postingBucket(t *testing.T, fn func(b *bolt.Bucket)) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "p.db"), fileMode, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	b, err := tx.CreateBucket([]byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	fn(b)
}

// TestPostingChunks follows one posting list through adds and deletes at
// the ends and in the middle of its chunks: ids added in order fill their
// chunks, an id inside a full chunk splits it, an id past either end of a
// full chunk starts its own, deleting a chunk's first id re-keys it, its
// last id removes it, and a chunk under a quarter full merges into a
// neighbour when the two fill at most half a chunk.
func TestPostingChunks(t *testing.T) {
	prefix := indexdef.EqPrefix("shared")
	other := indexdef.EqPrefix("shared\x00x") // a longer value sharing the prefix
	postingBucket(t, func(b *bolt.Bucket) {
		step := func(name string, add bool, id uint64, maxChunk int, want string) {
			t.Helper()
			op := postingDelete
			if add {
				op = postingAdd
			}
			if err := op(b, prefix, id, maxChunk); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := fmt.Sprint(chunksOf(t, b, prefix)); got != want {
				t.Fatalf("%s: chunks %s, want %s", name, got, want)
			}
		}
		if err := postingAdd(b, other, 35, 4); err != nil {
			t.Fatal(err)
		}
		for id := uint64(10); id <= 100; id += 10 {
			if err := postingAdd(b, prefix, id, 4); err != nil {
				t.Fatal(err)
			}
		}
		if got := fmt.Sprint(chunksOf(t, b, prefix)); got != "[[10 20 30 40] [50 60 70 80] [90 100]]" {
			t.Fatalf("in-order adds: %s", got)
		}
		step("add present", true, 60, 4, "[[10 20 30 40] [50 60 70 80] [90 100]]")
		step("delete in middle chunk", false, 60, 4, "[[10 20 30 40] [50 70 80] [90 100]]")
		step("add in middle chunk", true, 60, 4, "[[10 20 30 40] [50 60 70 80] [90 100]]")
		step("add inside full chunk", true, 55, 4, "[[10 20 30 40] [50 55] [60 70 80] [90 100]]")
		step("add past end of full chunk", true, 45, 4, "[[10 20 30 40] [45] [50 55] [60 70 80] [90 100]]")
		step("add before first full chunk", true, 5, 4, "[[5] [10 20 30 40] [45] [50 55] [60 70 80] [90 100]]")
		step("delete last id of a chunk", false, 5, 4, "[[10 20 30 40] [45] [50 55] [60 70 80] [90 100]]")
		step("delete first id of a chunk", false, 10, 4, "[[20 30 40] [45] [50 55] [60 70 80] [90 100]]")
		step("delete absent id", false, 11, 4, "[[20 30 40] [45] [50 55] [60 70 80] [90 100]]")
		step("add before first chunk", true, 1, 4, "[[1 20 30 40] [45] [50 55] [60 70 80] [90 100]]")
		// With chunks of 8: a chunk of 1 (under 8/4) merges into the next
		// or the previous one if the two hold at most 4 ids.
		step("merge into next", false, 45, 8, "[[1 20 30 40] [50 55] [60 70 80] [90 100]]")
		step("merge into next", false, 50, 8, "[[1 20 30 40] [55 60 70 80] [90 100]]")
		step("merge into previous", false, 100, 8, "[[1 20 30 40] [55 60 70 80] [90]]")
		step("delete all of a chunk", false, 90, 8, "[[1 20 30 40] [55 60 70 80]]")
		if got := fmt.Sprint(chunksOf(t, b, other)); got != "[[35]]" {
			t.Errorf("the longer value's list: %s", got)
		}
		ids, ok, err := scanPostings(b.Cursor(), prefix, nil, 8)
		if err != nil || !ok || fmt.Sprint(ids) != "[1 20 30 40 55 60 70 80]" {
			t.Errorf("scan: %v %v %v", ids, ok, err)
		}
		if _, ok, _ := scanPostings(b.Cursor(), prefix, nil, 7); ok {
			t.Error("scan with limit 7 of 8 ids reported complete")
		}
	})
}

// TestStoreSmallChunks runs the conformance suite with chunks of 4 ids,
// so that its writes split, re-key, merge and delete chunks, and Verify
// checks the result after each subtest.
func TestStoreSmallChunks(t *testing.T) {
	storetest.Run(t, func(t *testing.T) directory.Store {
		return openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{maxChunk: 4})
	})
}

// TestLargePostings shares one value (cn=shared) among more entries than a
// chunk holds, then adds, removes (by Modify and Delete) and re-adds it at
// random, checking the indexed search and Verify against a model.
func TestLargePostings(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "ldapd.db"), Options{maxChunk: 8})
	ctx := context.Background()
	storetest.Populate(t, s, 0)
	dn := func(i int) directory.DN {
		return directory.MustParseDN(fmt.Sprintf("uid=p%d,ou=People,dc=example,dc=com", i))
	}
	person := func(i int) *directory.Entry {
		e := directory.NewEntry(dn(i))
		e.Set("objectClass", "top", "person", "inetOrgPerson")
		e.Set("uid", fmt.Sprintf("p%d", i))
		e.Set("sn", "x")
		e.Set("cn", "shared", fmt.Sprintf("p%d", i))
		return e
	}
	const n = 100
	model := map[int]string{} // entries that exist -> "shared" or ""
	err := s.Update(ctx, func(tx directory.WriteTx) error {
		for i := range n {
			if err := tx.Add(person(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		model[i] = "shared"
	}
	check := func(step string) {
		t.Helper()
		var got []string
		err := s.View(ctx, func(tx directory.ReadTx) error {
			return tx.Search(directory.DN{}, directory.ScopeSub, mustFilter(t, "(cn=shared)"), func(e *directory.Entry) error {
				got = append(got, e.DN.String())
				return nil
			})
		})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var want []string
		for i, v := range model {
			if v == "shared" {
				want = append(want, dn(i).String())
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: (cn=shared) found %d entries, want %d", step, len(got), len(want))
		}
		if err := s.Verify(ctx); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	check("added")
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		i := rng.IntN(n)
		v, exists := model[i]
		// The next state is worked out before Update: fn may run again.
		op, next := "modify", "shared"
		switch {
		case !exists:
			op = "add"
		case rng.IntN(4) == 0:
			op = "delete"
		case v == "shared":
			next = ""
		}
		err := s.Update(ctx, func(tx directory.WriteTx) error {
			switch {
			case op == "add":
				return tx.Add(person(i))
			case op == "delete":
				return tx.Delete(dn(i))
			case next == "":
				return tx.Modify(dn(i), []directory.Change{{Op: directory.ChangeDelete, Attr: "cn", Values: []string{"shared"}}})
			default:
				return tx.Modify(dn(i), []directory.Change{{Op: directory.ChangeAdd, Attr: "cn", Values: []string{"shared"}}})
			}
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if op == "delete" {
			delete(model, i)
		} else {
			model[i] = next
		}
		if round%25 == 0 {
			check(fmt.Sprintf("round %d", round))
		}
	}
	check("end")
}

// TestAppenderSkipsSeeks: putPostings into a bucket holding some lists
// (every seventh value, and longer values sharing a prefix) gives the
// chunks one postingAdd per id gives, whichever lists the appender finds
// without seeking.
func TestAppenderSkipsSeeks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	values := make([]string, 400)
	for i := range values {
		values[i] = fmt.Sprintf("v%04d", rng.IntN(1000))
		if i%11 == 0 {
			values[i] += "\x00x" // a longer value sharing v????'s prefix
		}
	}
	build := func(b *bolt.Bucket, bulk bool) {
		for i, v := range values {
			if i%7 == 0 { // stored before the load, with ids below it
				if err := postingAdd(b, indexdef.EqPrefix(v), uint64(1+i%3), 4); err != nil {
					t.Fatal(err)
				}
			}
		}
		var keys [][]byte
		for i, v := range values {
			for id := uint64(10 + i); id < uint64(10+i+rng.IntN(6)); id++ {
				keys = append(keys, indexdef.EqKey(v, id))
			}
		}
		slices.SortFunc(keys, bytes.Compare)
		if bulk {
			if err := putPostings(b, 4, keys, nil); err != nil {
				t.Fatal(err)
			}
			return
		}
		for _, k := range keys {
			id, _ := indexdef.KeyID(k)
			if err := postingAdd(b, k[:len(k)-idLen], id, 4); err != nil {
				t.Fatal(err)
			}
		}
	}
	var want, got string
	seed := rng.Uint64()
	postingBucket(t, func(b *bolt.Bucket) {
		rng = rand.New(rand.NewPCG(seed, 1))
		build(b, false)
		want = dumpBucket(b)
	})
	postingBucket(t, func(b *bolt.Bucket) {
		rng = rand.New(rand.NewPCG(seed, 1))
		build(b, true)
		got = dumpBucket(b)
	})
	if got != want {
		t.Fatalf("bulk:\n%s\nwant:\n%s", got, want)
	}
}

func dumpBucket(b *bolt.Bucket) string {
	var sb strings.Builder
	_ = b.ForEach(func(k, v []byte) error {
		fmt.Fprintf(&sb, "%x %x\n", k, v)
		return nil
	})
	return sb.String()
}
