package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
	"github.com/ldapd/ldapd/directory/internal/writecheck"
)

// Bulk loading, for `ldapd import`. Adding entries one by one in random key
// order leaves bbolt's pages about half full, and a large transaction
// spends its time shifting ever larger in-memory nodes. AddBulk instead
// prepares everything first (encodings, dn2id keys, index keys), sorts the
// keys of each bucket, and writes every bucket in key order (the index
// keys as posting lists, postings.go) with
// FillPercent 1, so bbolt appends to its nodes and fills its pages. The
// result is the same file content, key for key, as Adds in the same order
// (only the page layout differs, as after Compact).

// bulkFill is the FillPercent of the buckets AddBulk writes: keys arrive in
// order, so full pages are never split again by this load. A later Add into
// a full page splits it, as after Compact.
const bulkFill = 1.0

// minBulkPerWorker is the fewest entries worth a goroutine of their own.
const minBulkPerWorker = 512

// AddBulk adds entries in one write transaction, as Add would in their
// order: each gets the next id, its dn2id key and its index keys. It
// writes nothing and returns Add's error (wrapped, naming the entry) if an
// entry exists already or is given twice (ErrEntryAlreadyExists), has an
// unstorable DN, or has no parent among the stored entries and those
// before it while one of its ancestors exists (ErrNoSuchObject, with that
// ancestor as matched DN). The entries are only read, and not retained.
//
// The work that needs no transaction (encoding, keys, sorting) runs on up
// to GOMAXPROCS goroutines that AddBulk joins before it returns. The whole
// batch, its keys and bbolt's nodes for them are in memory until the
// commit: callers split very large loads into several calls (each call's
// keys then interleave with earlier ones, and the pages they land in are
// split as by Add).
func (s *store) AddBulk(ctx context.Context, entries []*directory.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if s.loading.Load() != nil {
		return fmt.Errorf("bulk add: %w", errLoadOpen)
	}
	var err error
	if s.exclusive && s.worthBuilding(len(entries)) {
		err = s.buildBulk(ctx, entries)
	} else {
		err = s.update(func(btx *bolt.Tx) error {
			t := newBoltTx(btx)
			b := &bulk{s: s, btx: t, entries: entries, bucket: liveBuckets(t)}
			return b.run(ctx)
		})
	}
	if err != nil {
		return fmt.Errorf("bulk add: %w", err)
	}
	s.version.Add(1)
	return nil
}

// bulk is the state of one AddBulk.
type bulk struct {
	s       *store
	btx     *boltTx
	entries []*directory.Entry
	base    uint64 // the id of entries[i] is base+1+i
	// bucket returns the bucket at a path of names that the writes go
	// to (nil if there is none): btx's own (liveBuckets), or a
	// recorder in build mode (buildmode.go).
	bucket func(path ...[]byte) bulkBucket
	// seen holds the dn2id keys checked so far, each with the number of
	// the batch that gave it: this one's (gen), or an earlier Add of the
	// same load (load.go). Nil: check makes its own, for one batch.
	seen map[string]uint32
	gen  uint32

	dnKeys  [][]byte
	keyErrs []error
	values  [][]byte
	// index[a] holds the equality keys of the index of s.idx.Names[a],
	// pres[a] the ids of its presence keys (ascending, as they are made).
	index [][][]byte
	pres  [][]uint64
	// sorting counts the goroutines sorting index.
	sorting sync.WaitGroup
}

// bulkBucket is what AddBulk does with a bucket: a *bolt.Bucket of the
// write transaction, or a recorder of the writes in build mode. Cursor
// reads what is stored.
type bulkBucket interface {
	Put(key, value []byte) error
	Cursor() *bolt.Cursor
	Sequence() uint64
	SetSequence(uint64) error
}

// liveBuckets returns the buckets of btx, a write transaction, set to
// fill their pages (bulkFill).
func liveBuckets(btx *boltTx) func(path ...[]byte) bulkBucket {
	return func(path ...[]byte) bulkBucket {
		b := btx.Bucket(path[0])
		for _, name := range path[1:] {
			if b == nil {
				break
			}
			b = b.Bucket(name)
		}
		if b == nil {
			return nil
		}
		b.FillPercent = bulkFill
		return b
	}
}

func (b *bulk) run(ctx context.Context) error {
	entriesB := b.bucket(bucketEntries)
	b.base = entriesB.Sequence()
	b.prepare()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	order, sorted := b.sortIndexes()
	defer b.sorting.Wait()
	for i, v := range b.values {
		if err := entriesB.Put(idKey(b.base+1+uint64(i)), v); err != nil {
			return fmt.Errorf("add %s: %w", b.entries[i].DN, err)
		}
	}
	if err := entriesB.SetSequence(b.base + uint64(len(b.entries))); err != nil {
		return err
	}
	if err := b.putDN2ID(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.putIndexes(order, sorted)
}

// prepare computes, in parallel, every entry's dn2id key, encoding and
// index keys.
func (b *bulk) prepare() {
	n := len(b.entries)
	b.dnKeys = make([][]byte, n)
	b.keyErrs = make([]error, n)
	b.values = make([][]byte, n)
	names := b.s.idx.Names
	workers := min(runtime.GOMAXPROCS(0), max(1, n/minBulkPerWorker))
	perWorker := make([]rangeKeys, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			perWorker[w] = b.prepareRange(lo, hi)
		}()
	}
	wg.Wait()
	// Concatenated in worker order, the presence ids stay ascending.
	b.index = make([][][]byte, len(names))
	b.pres = make([][]uint64, len(names))
	for a := range names {
		eq, pres := 0, 0
		for _, pw := range perWorker {
			eq += len(pw.eq[a])
			pres += len(pw.pres[a])
		}
		b.index[a] = make([][]byte, 0, eq)
		b.pres[a] = make([]uint64, 0, pres)
		for _, pw := range perWorker {
			b.index[a] = append(b.index[a], pw.eq[a]...)
			b.pres[a] = append(b.pres[a], pw.pres[a]...)
		}
	}
}

// sortIndexes sorts the equality keys of each index, the largest first,
// on GOMAXPROCS goroutines, while the caller goes on writing the other
// buckets. It returns the indexes in the order they are sorted in and,
// for each, a channel closed once its keys are sorted; the caller waits
// for b.sorting before it returns.
func (b *bulk) sortIndexes() ([]int, []chan struct{}) {
	order := make([]int, len(b.index))
	sorted := make([]chan struct{}, len(b.index))
	for a := range order {
		order[a] = a
		sorted[a] = make(chan struct{})
	}
	slices.SortFunc(order, func(x, y int) int { return len(b.index[y]) - len(b.index[x]) })
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		b.sorting.Add(1)
		go func() {
			defer b.sorting.Done()
			for i := int(next.Add(1)) - 1; i < len(order); i = int(next.Add(1)) - 1 {
				slices.SortFunc(b.index[order[i]], bytes.Compare)
				close(sorted[order[i]])
			}
		}()
	}
	return order, sorted
}

// rangeKeys holds the index keys of a range of entries by attribute: the
// equality keys, and the ids of the presence keys.
type rangeKeys struct {
	eq   [][][]byte
	pres [][]uint64
}

// sampleEntries is the number of entries prepareRange looks at before it
// sizes its key lists for the rest of its range.
const sampleEntries = 64

// prepareRange prepares entries[lo:hi] and returns their index keys.
// Keys and values are carved from large shared buffers: bbolt copies the
// keys it is given, and values must only outlive the commit.
func (b *bulk) prepareRange(lo, hi int) rangeKeys {
	x := b.s.idx
	slot := make(map[string]int, len(x.Names))
	for a, name := range x.Names {
		slot[name] = a
	}
	out := rangeKeys{eq: make([][][]byte, len(x.Names)), pres: make([][]uint64, len(x.Names))}
	var keyArena, valueArena []byte
	carve := func(arena *[]byte, k []byte) []byte {
		if len(*arena)+len(k) > cap(*arena) {
			*arena = make([]byte, 0, max(1<<20, len(k)))
		}
		*arena = append(*arena, k...)
		return (*arena)[len(*arena)-len(k) : len(*arena) : len(*arena)]
	}
	var scratch []byte
	for i := lo; i < hi; i++ {
		if i == lo+sampleEntries {
			for a := range out.eq {
				want := len(out.eq[a]) * (hi - lo) / sampleEntries * 9 / 8
				out.eq[a] = slices.Grow(out.eq[a], want-len(out.eq[a]))
				want = len(out.pres[a]) * (hi - lo) / sampleEntries * 9 / 8
				out.pres[a] = slices.Grow(out.pres[a], want-len(out.pres[a]))
			}
		}
		e := b.entries[i]
		if e == nil || e.DN.IsRoot() {
			b.keyErrs[i] = directory.Errorf(directory.ErrUnwillingToPerform, "cannot add an entry with the empty DN")
			continue
		}
		if err := writecheck.Names(e); err != nil {
			b.keyErrs[i] = err
			continue
		}
		key, err := entrycodec.DNKey(e.DN)
		if err != nil {
			b.keyErrs[i] = err
			continue
		}
		b.dnKeys[i] = key
		// bbolt keeps the values until the commit: encoded in place.
		if size := entrycodec.Size(e); len(valueArena)+size > cap(valueArena) {
			valueArena = make([]byte, 0, max(1<<20, size))
		}
		start := len(valueArena)
		valueArena = entrycodec.AppendEncode(valueArena, e)
		b.values[i] = valueArena[start:len(valueArena):len(valueArena)]
		id := b.base + 1 + uint64(i)
		for _, at := range e.Attrs {
			t, ok := x.Schema.Attr(at.Name)
			if !ok || !x.Indexed[t.Name()] || len(at.Values) == 0 {
				continue
			}
			a := slot[t.Name()]
			out.pres[a] = append(out.pres[a], id)
			for _, v := range at.Values {
				if norm, ok := t.Normalize(v); ok {
					scratch = appendEqKey(scratch[:0], norm, id)
					out.eq[a] = append(out.eq[a], carve(&keyArena, scratch))
				}
			}
		}
	}
	return out
}

// check applies Add's checks to every entry, in order, against the stored
// entries and those before it (b.seen).
func (b *bulk) check() error {
	if b.seen == nil {
		b.seen = make(map[string]uint32, len(b.entries))
	}
	exists := func(k []byte) bool {
		if _, ok := b.seen[string(k)]; ok {
			return true
		}
		_, ok := getID(b.btx, k)
		return ok
	}
	for i, e := range b.entries {
		if err := b.keyErrs[i]; err != nil {
			return b.fail(i, err)
		}
		key := b.dnKeys[i]
		if gen, dup := b.seen[string(key)]; dup && gen == b.gen {
			return b.fail(i, directory.Errorf(directory.ErrEntryAlreadyExists, "entry "+e.DN.String()+" is given twice"))
		}
		if exists(key) {
			return b.fail(i, directory.Errorf(directory.ErrEntryAlreadyExists, "entry "+e.DN.String()+" already exists"))
		}
		if pk := entrycodec.ParentKey(key); pk != nil && !exists(pk) {
			// As checkParent: a missing parent is an error only below an
			// existing ancestor (else e is the root of a naming context).
			parent := e.DN.Parent()
			dn := parent
			for k := entrycodec.ParentKey(pk); k != nil; k = entrycodec.ParentKey(k) {
				dn = dn.Parent()
				if exists(k) {
					return b.fail(i, directory.NoSuchObject(parent, dn))
				}
			}
		}
		b.seen[string(key)] = b.gen
	}
	return nil
}

func (b *bulk) fail(i int, err error) error {
	if e := b.entries[i]; e != nil {
		return fmt.Errorf("add %s: %w", e.DN, err)
	}
	return err
}

// putDN2ID writes the dn2id keys in key order.
func (b *bulk) putDN2ID() error {
	order := make([]int32, len(b.dnKeys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return bytes.Compare(b.dnKeys[x], b.dnKeys[y]) })
	ids := make([]byte, 0, idLen*len(order))
	dn2id := b.bucket(bucketDN2ID)
	for _, i := range order {
		ids = binary.BigEndian.AppendUint64(ids, b.base+1+uint64(i))
		if err := dn2id.Put(b.dnKeys[i], ids[len(ids)-idLen:]); err != nil {
			return b.fail(int(i), err)
		}
	}
	return nil
}

// putIndexes writes each index's posting lists in key order: those of
// the hashed equality keys ('#'), the presence list ('*'), those of the
// other equality keys ('='). It takes the indexes in order, each once
// sorted.
func (b *bulk) putIndexes(order []int, sorted []chan struct{}) error {
	for _, a := range order {
		<-sorted[a]
		name := b.s.idx.Names[a]
		keys, pres := b.index[a], b.pres[a]
		if len(keys) == 0 && len(pres) == 0 {
			continue
		}
		ib := b.bucket(bucketIndex, []byte(name))
		if ib == nil {
			return fmt.Errorf("index bucket %s is missing", name)
		}
		if err := putPostings(ib, b.s.idx.maxChunk, keys, pres); err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
	}
	return nil
}

// putPostings appends to the posting lists of b the ids of keys (sorted
// equality keys, a prefix and an id each) and pres (ascending presence
// ids), in key order.
func putPostings(b bulkBucket, maxChunk int, keys [][]byte, pres []uint64) error {
	app := newAppender(b, maxChunk)
	h, _ := slices.BinarySearchFunc(keys, prefixPres, func(k []byte, p byte) int { return int(k[0]) - int(p) })
	for _, k := range keys[:h] {
		if err := app.add(k); err != nil {
			return err
		}
	}
	key := make([]byte, 1+idLen)
	key[0] = prefixPres
	for _, id := range pres {
		binary.BigEndian.PutUint64(key[1:], id)
		if err := app.add(key); err != nil {
			return err
		}
	}
	for _, k := range keys[h:] {
		if err := app.add(k); err != nil {
			return err
		}
	}
	return app.flush()
}

// CompactIfSparse compacts the database file at path (see Compact) when
// that would shrink it by a fifth or more: after Adds in random key order
// or a load split into several AddBulk calls, whose pages are partly
// filled, but not after a single AddBulk, which wrote them full. It
// commits every txMaxSize bytes (0: 64 MiB, as Compact), which bounds the
// memory it holds (about three times that, in bbolt's nodes). It reports
// whether it compacted. Like Compact, it needs the store closed.
func CompactIfSparse(path string, txMaxSize int64) (bool, error) {
	db, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: DefaultTimeout, ReadOnly: true})
	if err != nil {
		return false, fmt.Errorf("compact %s: %w", path, err)
	}
	var size, need int64
	err = db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		need = 4 * int64(db.Info().PageSize) // meta pages, freelist, root
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			st := b.Stats()
			need += int64(st.BranchInuse + st.LeafInuse)
			return nil
		})
	})
	db.Close()
	if err != nil {
		return false, fmt.Errorf("compact %s: %w", path, err)
	}
	if size*4 < need*5 {
		return false, nil
	}
	if txMaxSize <= 0 {
		txMaxSize = 64 << 20
	}
	return true, compact(path, txMaxSize)
}
