package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/durable"
)

// AddBulk's build mode (Options.Exclusive). Bucket.Put costs a seek from
// the root per key, and bbolt grows one in-memory leaf per bucket to the
// whole batch before its commit splits and writes it: most of a bulk
// load's serial time. When the batch is large against what is stored,
// AddBulk instead runs the same bulk code (prepare, check, sort, the
// appender) against a read transaction of the stored file, with its
// writes going to recorders, one per bucket; then it writes a new file,
// each bucket the merge of its stored keys and the recorded ones, with
// fileBuilder (build.go), and puts it in place of the old one. The
// content is the same, key for key, as the Put path's; only the pages
// differ (full, as after Compact).
//
// A crash or an error before the rename leaves the old file as it was,
// and a leftover new file, which the next Open removes.

// bulkSuffix names the new file next to the old one while it is built.
const bulkSuffix = ".bulk"

// buildRatio is how many stored entries per entry of the batch build mode
// still takes: rewriting the stored content costs a cursor walk and a
// page write per stored page, much cheaper per key than a Put. At 100k
// people (four AddBulk calls: 32,768, 32,768, 32,768, 1,700 entries) a
// ratio of 4 and one of 64 cost the same CPU (3.2-3.4 s, against 3.9
// with 1); 64 also builds the last call (a file 9% smaller), but a 1M
// import would then rewrite the whole file at each of its 31 calls, where
// 4 builds the first five and stops at 131,072 stored.
const buildRatio = 4

// worthBuilding reports whether a batch of n entries is to be written
// as a new file. The entries' sequence (the last id given) bounds the
// number stored.
func (s *store) worthBuilding(n int) bool {
	var stored uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		stored = tx.Bucket(bucketEntries).Sequence()
		return nil
	})
	return err == nil && stored <= uint64(buildRatio)*uint64(n)
}

// buildBulk is AddBulk in build mode.
func (s *store) buildBulk(ctx context.Context, entries []*directory.Entry) error {
	rtx, err := s.db.Begin(false)
	if err != nil {
		return err
	}
	defer func() { _ = rtx.Rollback() }() // after rebuild's: harmless
	root := &recorder{}
	b := &bulk{s: s, btx: newBoltTx(rtx), entries: entries, bucket: root.bucketFunc(rtx)}
	if err := b.run(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.rebuild(rtx, root)
}

// rebuild writes a new file, the content of rtx (a read transaction of
// the store's file) merged with src, ends rtx and puts the new file in
// place of the old one. On an error before the rename, the old file is
// left as it was and the new one removed.
func (s *store) rebuild(rtx *bolt.Tx, src mergeSource) error {
	path := s.db.Path()
	tmp := path + bulkSuffix
	fb, err := newFileBuilder(tmp, s.db.Info().PageSize)
	if err != nil {
		return err
	}
	top, err := mergeRoot(fb, rtx, src)
	if err == nil {
		err = s.failBuild
	}
	if err != nil {
		fb.abort()
		return fmt.Errorf("build %s: %w", tmp, err)
	}
	if err := fb.finish(top); err != nil {
		return err
	}
	_ = rtx.Rollback() // replaceFile's Close waits for it
	return s.replaceFile(path, tmp)
}

// replaceFile closes the database, renames tmp over path and opens it
// again. If the rename fails, the old file is opened again.
func (s *store) replaceFile(path, tmp string) error {
	s.reads.pause()
	defer s.reads.resume()
	if err := s.db.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("close %s: %w", path, err)
	}
	renameErr := os.Rename(tmp, path)
	if renameErr == nil {
		renameErr = durable.SyncDir(filepath.Dir(path))
	} else {
		_ = os.Remove(tmp)
	}
	db, err := bolt.Open(path, fileMode, s.boltOpts)
	if err != nil {
		return fmt.Errorf("reopen %s: %w", path, err)
	}
	s.db = db
	s.reads.setDB(db)
	if renameErr != nil {
		return fmt.Errorf("replace %s: %w", path, renameErr)
	}
	return nil
}

// recorder keeps the writes of AddBulk in build mode to one bucket, and
// the recorders of its nested buckets.
type recorder struct {
	old *bolt.Bucket // the stored bucket (nil for the root)
	// puts holds the puts in blocks of recordBlock: a slice grown by
	// append would copy them, into fresh memory, at every doubling.
	puts [][]recordedPut
	n    int // the number of puts
	// segs holds the segments of puts: one per Add since the last reset
	// (a load's Adds that join the ones before start one each, freshen),
	// each in key order or sorted on its own, merged by stream.
	segs     []recordSeg
	newSeg   bool   // the next put starts a segment
	last     []byte // the last key put in the segment
	arena    []byte
	seq      uint64
	seqSet   bool
	children map[string]*recorder
	// fresh makes the appender start chunks of its own in this bucket
	// rather than extend the stored ones: set for the later Adds of a
	// load (load.go), whose first Add may have extended them already.
	fresh bool
	// size counts the bytes the recorder allocated for its puts: the
	// blocks of arena and of puts, and the segments.
	size int64
}

// recordBlock is the number of puts per block of a recorder.
const recordBlock = 4096

// recordSeg is a segment of a recorder's puts: the index of its first put,
// and whether each key came above the one before.
type recordSeg struct {
	first   int
	inOrder bool
}

// recordedPut is a key and its value, copies in the recorder's arena.
type recordedPut struct{ key, value []byte }

// bucketFunc returns bulk.bucket for the recorders under r (the root)
// over the stored buckets of tx.
func (r *recorder) bucketFunc(tx *bolt.Tx) func(path ...[]byte) bulkBucket {
	return func(path ...[]byte) bulkBucket {
		cur := r
		for _, name := range path {
			child := cur.children[string(name)]
			if child == nil {
				var old *bolt.Bucket
				if cur.old == nil {
					old = tx.Bucket(name)
				} else {
					old = cur.old.Bucket(name)
				}
				if old == nil {
					return nil
				}
				child = &recorder{old: old, fresh: cur.fresh}
				if cur.children == nil {
					cur.children = map[string]*recorder{}
				}
				cur.children[string(name)] = child
			}
			cur = child
		}
		return cur
	}
}

func (r *recorder) Put(key, value []byte) error {
	if len(r.segs) == 0 || r.newSeg {
		r.segs = append(r.segs, recordSeg{first: r.n, inOrder: true})
		r.size += int64(unsafe.Sizeof(recordSeg{}))
		r.newSeg, r.last = false, nil
	}
	if r.last != nil && bytes.Compare(key, r.last) <= 0 {
		r.segs[len(r.segs)-1].inOrder = false
	}
	k := r.keep(key)
	if len(value) > 0 {
		value = r.keep(value)
	}
	r.last = k
	const putSize = int64(unsafe.Sizeof(recordedPut{}))
	n := len(r.puts)
	switch {
	case n == 0:
		// The first block grows to recordBlock: most buckets get few puts.
		r.puts = append(r.puts, make([]recordedPut, 0, 64))
		r.size += 64 * putSize
	case len(r.puts[n-1]) == recordBlock:
		r.puts = append(r.puts, make([]recordedPut, 0, recordBlock))
		r.size += recordBlock * putSize
	case len(r.puts[n-1]) == cap(r.puts[n-1]):
		b := make([]recordedPut, len(r.puts[n-1]), min(2*cap(r.puts[n-1]), recordBlock))
		copy(b, r.puts[n-1])
		r.size += int64(cap(b)-len(b)) * putSize
		r.puts[n-1] = b
	}
	r.puts[len(r.puts)-1] = append(r.puts[len(r.puts)-1], recordedPut{k, value})
	r.n++
	return nil
}

// recordArena is the size of the blocks a recorder copies keys and
// values into, once it has filled a few smaller ones (from 4 KiB,
// doubling: most buckets get few puts).
const recordArena = 64 << 10

// keep returns a copy of b in r's arena. The recorder owns copies of what
// it is given, so that what it holds is what its size counts: a load's
// Adds that join the ones before would otherwise keep alive the buffers
// their values were carved from (a megabyte or more per Add).
func (r *recorder) keep(b []byte) []byte {
	if len(r.arena)+len(b) > cap(r.arena) {
		size := min(recordArena, max(4<<10, 2*cap(r.arena)))
		r.arena = make([]byte, 0, max(size, len(b)))
		r.size += int64(cap(r.arena))
	}
	r.arena = append(r.arena, b...)
	return r.arena[len(r.arena)-len(b) : len(r.arena) : len(r.arena)]
}

// reset drops the puts of r and of its nested buckets, keeping their
// sequences, and makes them fresh: for a load's next Add.
func (r *recorder) reset() {
	r.puts, r.n, r.segs, r.newSeg, r.last, r.arena = nil, 0, nil, false, nil, nil
	r.fresh, r.size = true, 0
	for _, c := range r.children {
		c.reset()
	}
}

// freshen makes r and its nested buckets fresh, keeping their puts: for a
// load's next Add that joins the puts of the ones before (in a segment of
// its own).
func (r *recorder) freshen() {
	r.fresh, r.newSeg = true, true
	for _, c := range r.children {
		c.freshen()
	}
}

// memory returns the bytes of the puts of r and its nested buckets.
func (r *recorder) memory() int64 {
	n := r.size
	for _, c := range r.children {
		n += c.memory()
	}
	return n
}

// Cursor reads the stored bucket.
func (r *recorder) Cursor() *bolt.Cursor { return r.old.Cursor() }

func (r *recorder) Sequence() uint64 {
	if r.seqSet {
		return r.seq
	}
	return r.old.Sequence()
}

func (r *recorder) SetSequence(seq uint64) error {
	r.seq, r.seqSet = seq, true
	return nil
}

// segment returns the puts of segment i in key order, the last put of a
// key only, in blocks. AddBulk puts its keys in order; a put out of order
// is sorted in.
func (r *recorder) segment(i int) [][]recordedPut {
	from, to := r.segs[i].first, r.n
	if i+1 < len(r.segs) {
		to = r.segs[i+1].first
	}
	var blocks [][]recordedPut
	for from < to {
		b, at := from/recordBlock, from%recordBlock
		end := min(recordBlock, at+to-from)
		blocks = append(blocks, r.puts[b][at:end])
		from += end - at
	}
	if r.segs[i].inOrder {
		return blocks
	}
	all := slices.Concat(blocks...)
	slices.SortStableFunc(all, func(a, b recordedPut) int { return bytes.Compare(a.key, b.key) })
	out := all[:0]
	for i, p := range all {
		if i+1 < len(all) && bytes.Equal(p.key, all[i+1].key) {
			continue // a later put of the key wins
		}
		out = append(out, p)
	}
	return [][]recordedPut{out}
}

// mergeSource is what the build merges into the stored buckets: a
// recorder (AddBulk's build mode) or a load's runs (load.go).
type mergeSource interface {
	// stream returns the bucket's puts in ascending key order, one per key.
	stream() putStream
	// child returns the source of the nested bucket name.
	child(name []byte) mergeSource
	// sequence returns the bucket's sequence, if it was set.
	sequence() (uint64, bool)
}

// putStream yields puts in ascending key order: next returns a nil key
// after the last. The keys and values it returns stay unchanged until the
// build is written (bucketWriter keeps them).
type putStream interface {
	next() (key, value []byte, err error)
}

// stream returns the puts in key order, the last put of a key winning:
// the segments' merged.
func (r *recorder) stream() putStream {
	if r == nil || len(r.segs) == 0 {
		return &blockStream{}
	}
	if len(r.segs) == 1 {
		return &blockStream{blocks: r.segment(0)}
	}
	streams := make([]putStream, len(r.segs))
	for i := range r.segs {
		streams[i] = &blockStream{blocks: r.segment(i)}
	}
	return newMergedStream(streams)
}

func (r *recorder) child(name []byte) mergeSource {
	if r == nil {
		return (*recorder)(nil)
	}
	return r.children[string(name)] // a nil *recorder: no puts
}

func (r *recorder) sequence() (uint64, bool) {
	if r == nil {
		return 0, false
	}
	return r.seq, r.seqSet
}

// blockStream yields a recorder's sorted blocks of puts.
type blockStream struct {
	blocks [][]recordedPut
	i      int
}

func (s *blockStream) next() ([]byte, []byte, error) {
	for len(s.blocks) > 0 && s.i == len(s.blocks[0]) {
		s.blocks, s.i = s.blocks[1:], 0
	}
	if len(s.blocks) == 0 {
		return nil, nil, nil
	}
	p := s.blocks[0][s.i]
	s.i++
	return p.key, p.value, nil
}

// mergeRoot writes every stored top-level bucket merged with its source,
// and the root bucket, and returns the root's page.
func mergeRoot(fb *fileBuilder, tx *bolt.Tx, root mergeSource) (uint64, error) {
	bw := fb.bucket()
	c := tx.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		pg, seq, err := mergeBucket(fb, tx.Bucket(k), root.child(k))
		if err != nil {
			return 0, fmt.Errorf("bucket %s: %w", k, err)
		}
		bw.putBucket(k, pg, seq)
	}
	return bw.finish(), nil
}

// mergeBucket writes bucket old with the puts of src, a put replacing the
// stored value of its key, and returns its root page and sequence.
func mergeBucket(fb *fileBuilder, old *bolt.Bucket, src mergeSource) (root, seq uint64, err error) {
	bw := fb.bucket()
	puts := src.stream()
	pk, pv, err := puts.next()
	if err != nil {
		return 0, 0, err
	}
	c := old.Cursor()
	k, v := c.First()
	for k != nil || pk != nil {
		cmp := -1
		if k == nil {
			cmp = 1
		} else if pk != nil {
			cmp = bytes.Compare(k, pk)
		}
		if cmp == 0 && v == nil {
			return 0, 0, fmt.Errorf("a value put over nested bucket %q", k)
		}
		switch {
		case cmp < 0 && v == nil: // a nested bucket (a value is never nil here)
			pg, s, err := mergeBucket(fb, old.Bucket(k), src.child(k))
			if err != nil {
				return 0, 0, fmt.Errorf("bucket %q: %w", k, err)
			}
			bw.putBucket(k, pg, s)
		case cmp < 0:
			bw.put(k, v)
		default:
			bw.put(pk, pv)
			if pk, pv, err = puts.next(); err != nil {
				return 0, 0, err
			}
		}
		if cmp <= 0 {
			k, v = c.Next()
		}
	}
	seq = old.Sequence()
	if s, ok := src.sequence(); ok {
		seq = s
	}
	return bw.finish(), seq, nil
}
