package boltstore

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"os"
)

// fileBuilder writes a complete bbolt file (format version 2, as bbolt
// v1.5 reads and writes it) from keys given in ascending order, page by
// page and front to back, without bbolt: a bulk load into a fresh file
// (AddBulk's build mode, buildmode.go) that Bucket.Put would slow down
// with a seek from the root per key and one in-memory leaf per bucket
// grown to the whole load.
//
// Pages 0 and 1 are the meta pages, written last; the others follow in
// the order their content is complete: a bucket's leaves filled to the
// page (a key and value larger than a page get a leaf of their own
// spanning overflow pages), each branch page after its children, a
// nested bucket's pages before the leaf of its parent that holds it, the
// root bucket last. Every bucket, even an empty one, has a root page of
// its own (bbolt's inline buckets are an optimization, not a need). Every
// page is in use, so the freelist, the last page, is empty. (A meta
// without a freelist, PgidNoFreelist, would do too, but then bbolt's Open
// rebuilds it by walking every page, and a writable Open commits it,
// growing the file to the mapped size.) bbolt lays its structures out in the machine's byte order, and so
// does the builder.
type fileBuilder struct {
	f        *os.File
	w        *bufio.Writer
	pageSize int
	next     uint64 // id of the next page written
	page     []byte // the page being written (pages, with overflow)
	err      error  // the first write error
	// flushed is the length of the file up to which startWriteback was
	// asked to write it to disk.
	flushed int64
}

// writebackEvery is how many bytes the builder writes before it asks the
// kernel to start writing them to disk: the final fsync then waits for
// the last of them only (10k people, 8.4 MB: that fsync took 13 ms).
const writebackEvery = 1 << 20

// Page layout of bbolt (internal/common/page.go, meta.go, bucket.go).
const (
	pageHeaderSize  = 16 // id uint64, flags uint16, count uint16, overflow uint32
	leafElemSize    = 16 // flags, pos, ksize, vsize uint32
	branchElemSize  = 16 // pos, ksize uint32, pgid uint64
	inBucketSize    = 16 // root pgid, sequence uint64
	branchPageFlag  = 0x01
	leafPageFlag    = 0x02
	metaPageFlag    = 0x04
	freelistFlag    = 0x10
	bucketLeafFlag  = 0x01
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	metaChecksumOff = 56 // the checksum covers the meta's fields before it
)

// buildBufferSize is the write buffer of a fileBuilder: one page. Written
// a megabyte at a time, the file's page cache came in large folios, and
// the server then paid about 20% more per 1M-entry indexed search in
// make bench (ldapd 29.8-31.4 us against 25.0 on a file bbolt wrote page
// by page; 25.3-25.5 with page-sized writes, the import as fast:
// docs/performance-import.md).
const buildBufferSize = 4096

// newFileBuilder creates path (mode 0600, truncating it) for a file of
// pages of pageSize bytes.
func newFileBuilder(path string, pageSize int) (*fileBuilder, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, fileMode)
	if err != nil {
		return nil, fmt.Errorf("build %s: %w", path, err)
	}
	fb := &fileBuilder{f: f, w: bufio.NewWriterSize(f, buildBufferSize), pageSize: pageSize, next: 2}
	// The meta pages are written at the end; their room comes first.
	_, fb.err = fb.w.Write(make([]byte, 2*pageSize))
	return fb, nil
}

// writePage writes a page of flags holding count elements, whose body
// (after the header) fb.page[pageHeaderSize:size] holds, and returns its id.
func (fb *fileBuilder) writePage(flags uint16, count int, size int) uint64 {
	n := (size + fb.pageSize - 1) / fb.pageSize
	n = max(n, 1)
	id := fb.next
	p := fb.page[:n*fb.pageSize]
	clear(p[size:])
	binary.NativeEndian.PutUint64(p[0:], id)
	binary.NativeEndian.PutUint16(p[8:], flags)
	binary.NativeEndian.PutUint16(p[10:], uint16(count))
	binary.NativeEndian.PutUint32(p[12:], uint32(n-1))
	if fb.err == nil {
		_, fb.err = fb.w.Write(p)
	}
	fb.next += uint64(n)
	if end := int64(fb.next) * int64(fb.pageSize); end-fb.flushed >= writebackEvery && fb.err == nil {
		if fb.err = fb.w.Flush(); fb.err == nil {
			startWriteback(fb.f, fb.flushed, end-fb.flushed)
			fb.flushed = end
		}
	}
	return id
}

// grow makes fb.page hold at least size bytes, in whole pages.
func (fb *fileBuilder) grow(size int) {
	if size > len(fb.page) {
		fb.page = make([]byte, (size+fb.pageSize-1)/fb.pageSize*fb.pageSize)
	}
}

// abort closes and removes the file being built.
func (fb *fileBuilder) abort() {
	_ = fb.f.Close()
	_ = os.Remove(fb.f.Name())
}

// finish writes an empty freelist and the meta pages with root as the
// root bucket's page, so that the file is complete: the pages are synced
// to disk before the metas that point to them, then the metas. It closes
// the file, and removes it if anything failed.
func (fb *fileBuilder) finish(root uint64) error {
	fb.grow(pageHeaderSize)
	freelist := fb.writePage(freelistFlag, 0, pageHeaderSize)
	err := fb.err
	if err == nil {
		err = fb.w.Flush()
	}
	if err == nil {
		err = fb.f.Sync()
	}
	if err == nil {
		metas := make([]byte, 2*fb.pageSize)
		for txid := range uint64(2) { // meta page i holds an even or odd txid, as bbolt's
			m := metas[int(txid)*fb.pageSize:]
			binary.NativeEndian.PutUint64(m[0:], txid)
			binary.NativeEndian.PutUint16(m[8:], metaPageFlag)
			m = m[pageHeaderSize:]
			binary.NativeEndian.PutUint32(m[0:], boltMagic)
			binary.NativeEndian.PutUint32(m[4:], boltVersion)
			binary.NativeEndian.PutUint32(m[8:], uint32(fb.pageSize))
			binary.NativeEndian.PutUint64(m[16:], root) // root bucket: page, sequence 0
			binary.NativeEndian.PutUint64(m[32:], freelist)
			binary.NativeEndian.PutUint64(m[40:], fb.next) // high water mark
			binary.NativeEndian.PutUint64(m[48:], txid)
			h := fnv.New64a()
			h.Write(m[:metaChecksumOff])
			binary.NativeEndian.PutUint64(m[metaChecksumOff:], h.Sum64())
		}
		_, err = fb.f.WriteAt(metas, 0)
	}
	if err == nil {
		err = fb.f.Sync()
	}
	if cerr := fb.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(fb.f.Name())
		return fmt.Errorf("build %s: %w", fb.f.Name(), err)
	}
	return nil
}

// bucketWriter writes one bucket's B+tree: keys in ascending order, each
// with a value or a nested bucket (written before, by a bucketWriter of
// its own). The keys and values it is given must stay unchanged until
// finish: a page is assembled when it is full.
type bucketWriter struct {
	fb     *fileBuilder
	levels []*treeLevel // 0: leaves, then branches
}

// treeLevel holds the elements of a level's page being filled, and
// whether the level has written a page.
type treeLevel struct {
	keys, vals [][]byte // vals: leaves only
	flags      []uint32 // leaves only
	pgids      []uint64 // branches only
	size       int      // of the page being filled, header included
	written    bool
}

func (fb *fileBuilder) bucket() *bucketWriter {
	return &bucketWriter{fb: fb, levels: []*treeLevel{{size: pageHeaderSize}}}
}

// put adds key with value v (not nil for an empty value: any slice).
func (bw *bucketWriter) put(key, v []byte) { bw.add(0, key, v, 0, 0) }

// putBucket adds key holding the nested bucket whose root page is root.
func (bw *bucketWriter) putBucket(key []byte, root, sequence uint64) {
	v := make([]byte, inBucketSize)
	binary.NativeEndian.PutUint64(v, root)
	binary.NativeEndian.PutUint64(v[8:], sequence)
	bw.add(0, key, v, bucketLeafFlag, 0)
}

// add adds an element to level i: a leaf's key, value and flags, or a
// branch's first key of child page pgid.
func (bw *bucketWriter) add(i int, key, v []byte, flags uint32, pgid uint64) {
	lv := bw.levels[i]
	size := leafElemSize + len(key) + len(v)
	if i > 0 {
		size = branchElemSize + len(key)
	}
	if len(lv.keys) > 0 && lv.size+size > bw.fb.pageSize {
		bw.flush(i)
	}
	lv.keys = append(lv.keys, key)
	if i == 0 {
		lv.vals = append(lv.vals, v)
		lv.flags = append(lv.flags, flags)
	} else {
		lv.pgids = append(lv.pgids, pgid)
	}
	lv.size += size
}

// flush writes level i's page and adds it to level i+1.
func (bw *bucketWriter) flush(i int) {
	lv := bw.levels[i]
	fb := bw.fb
	fb.grow(lv.size)
	p := fb.page
	n := len(lv.keys)
	data := pageHeaderSize + n*leafElemSize // both element kinds are 16 bytes
	for j, k := range lv.keys {
		e := p[pageHeaderSize+j*leafElemSize:]
		pos := uint32(data - (pageHeaderSize + j*leafElemSize))
		if i == 0 {
			binary.NativeEndian.PutUint32(e[0:], lv.flags[j])
			binary.NativeEndian.PutUint32(e[4:], pos)
			binary.NativeEndian.PutUint32(e[8:], uint32(len(k)))
			binary.NativeEndian.PutUint32(e[12:], uint32(len(lv.vals[j])))
			data += copy(p[data:], k)
			data += copy(p[data:], lv.vals[j])
		} else {
			binary.NativeEndian.PutUint32(e[0:], pos)
			binary.NativeEndian.PutUint32(e[4:], uint32(len(k)))
			binary.NativeEndian.PutUint64(e[8:], lv.pgids[j])
			data += copy(p[data:], k)
		}
	}
	flags := uint16(leafPageFlag)
	if i > 0 {
		flags = branchPageFlag
	}
	id := fb.writePage(flags, n, data)
	first := []byte(nil)
	if n > 0 {
		// A copy: the parent level keeps it until its own page is
		// written, and the key may lie in a large block of a load's
		// run (load.go) that would stay alive with it.
		first = bytes.Clone(lv.keys[0])
	}
	clear(lv.keys)
	clear(lv.vals)
	lv.keys, lv.vals, lv.flags, lv.pgids = lv.keys[:0], lv.vals[:0], lv.flags[:0], lv.pgids[:0]
	lv.size = pageHeaderSize
	lv.written = true
	if i+1 == len(bw.levels) {
		bw.levels = append(bw.levels, &treeLevel{size: pageHeaderSize})
	}
	bw.add(i+1, first, nil, 0, id)
}

// finish writes the pages still being filled and returns the id of the
// bucket's root page.
func (bw *bucketWriter) finish() uint64 {
	for i := 0; ; i++ {
		lv := bw.levels[i]
		if i > 0 && !lv.written && len(lv.keys) == 1 {
			return lv.pgids[0]
		}
		bw.flush(i)
	}
}
