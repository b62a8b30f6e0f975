package boltstore

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/directory"
)

// A load (directory.BulkLoader, Options.Exclusive only) is AddBulk's
// build mode spread over many batches, with one new file at the end.
// Each Add runs the bulk code (prepare, check, sort, the appender)
// against a read transaction of the file as it was at BeginLoad, its
// writes going to recorders (buildmode.go). The puts of consecutive Adds
// share the recorders until they hold runMemory bytes (Options.LoadMemory):
// then the next Add first writes them, sorted, to a run file and drops
// them from memory. Commit merges,
// per bucket, the stored keys and every run's (a k-way merge, a later
// source's key replacing an earlier one's) into a new file written by
// fileBuilder, and puts it in place of the old one. So the file is
// written once however many batches there are, and the memory an Add
// holds is that of its batch, as with AddBulk.
//
// What a later Add needs of the earlier ones stays in memory: the
// sequences of the buckets (in the recorders, which keep them across
// Adds) and the set of the load's dn2id keys, for Add's checks (already
// exists, given twice, parent among the stored entries and those before
// it): a Go map of strings, about 100 bytes per entry for people under
// one ou (their keys are 40-60 bytes), 0.1 GB at 1M entries.
//
// Posting lists: the appender extends a stored chunk that is not full
// (reading the old file). Two runs both extending the same stored chunk
// would each rewrite it, and the merge would keep one and lose the other's
// ids. So only the load's first Add extends stored chunks; a later Add's
// recorders are fresh (recorder.fresh, set by reset or freshen), and its
// appender starts chunks of its own (not extending an earlier Add's
// either), keyed by their first ids: those ascend from Add to Add, so the
// keys differ and the chunks of a prefix stay in id order, as the layout
// wants; they may be shorter than maxChunk, as after Deletes.
//
// Run files are created in the data file's directory and unlinked at
// once (an import that ends in any way leaves none), and read back at
// Commit through buffers of runReadBuffer bytes per bucket being merged.

// runWriteBuffer is the write buffer of a run file.
const runWriteBuffer = 4 << 20

// runReadBuffer is the read buffer of a run's section during the merge:
// with the nested index buckets, two sections per run are read at once.
const runReadBuffer = 64 << 10

// runArena is the size of the blocks a run's keys and values are read
// into: bucketWriter keeps them until their page is written.
const runArena = 64 << 10

// errLoadOver is the error of a load's Add or Commit after its Commit,
// its Abort or an error.
var errLoadOver = errors.New("the load is over (committed, aborted or failed)")

// errLoadOpen is the error of Update and AddBulk while a load is open.
var errLoadOpen = errors.New("a load is open (BeginLoad): its Commit would write over this write")

// load is a directory.Load of a store opened Exclusive.
type load struct {
	s    *store
	rtx  *bolt.Tx // the file as it was at BeginLoad
	btx  *boltTx
	root *recorder
	runs []*run
	// pending: root holds the puts of the last Add, not yet in a run
	// (the next Add writes them to one; Commit merges them from memory).
	pending bool
	// seen holds the load's dn2id keys, by the number of the Add that
	// gave them (bulk.seen).
	seen map[string]uint32
	adds uint32
	over bool
}

// BeginLoad starts a load (directory.BulkLoader). It needs the store
// opened with Options.Exclusive (else its error wraps
// errors.ErrUnsupported), and one load at a time. While the load is open,
// Update and AddBulk fail (the load's Commit would write over what they
// wrote) and Views see the store as it was; Close aborts the load.
func (s *store) BeginLoad(ctx context.Context) (directory.Load, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !s.exclusive {
		return nil, fmt.Errorf("begin load: the store is not opened exclusive: %w", errors.ErrUnsupported)
	}
	l := &load{s: s, root: &recorder{}, seen: map[string]uint32{}}
	if !s.loading.CompareAndSwap(nil, l) {
		return nil, errors.New("begin load: another load is open")
	}
	rtx, err := s.db.Begin(false)
	if err != nil {
		s.loading.Store(nil)
		return nil, fmt.Errorf("begin load: %w", err)
	}
	l.rtx, l.btx = rtx, newBoltTx(rtx)
	return l, nil
}

// Add prepares and checks entries (directory.Load). Their keys and values
// stay in memory with those of the Adds before, until these hold
// runMemory bytes: then Add first writes them to a run file.
func (l *load) Add(ctx context.Context, entries []*directory.Entry) error {
	if l.over {
		return fmt.Errorf("load add: %w", errLoadOver)
	}
	if len(entries) == 0 {
		return nil
	}
	switch {
	case l.pending && l.root.memory() < l.runMemory():
		// This Add joins the puts of the ones before (its appender
		// starts chunks of its own, as after a run).
		l.root.freshen()
	case l.pending:
		r, err := writeRun(filepath.Dir(l.s.db.Path()), l.root)
		l.root.reset()
		if err != nil {
			l.end()
			return fmt.Errorf("load add: %w", err)
		}
		l.runs, l.pending = append(l.runs, r), false
	}
	l.adds++
	b := &bulk{s: l.s, btx: l.btx, entries: entries, bucket: l.root.bucketFunc(l.rtx), seen: l.seen, gen: l.adds}
	err := b.run(ctx)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		l.end()
		return fmt.Errorf("load add: %w", err)
	}
	l.pending = true
	return nil
}

// runMemory is how many bytes of puts the Adds since the last run keep in
// memory before the next Add writes them to a run: Options.LoadMemory,
// doubled every runsPerDoubling runs (up to 16 times), so that a very
// large load is merged from a few hundred runs at most.
func (l *load) runMemory() int64 {
	return l.s.loadMemory << min(len(l.runs)/runsPerDoubling, 4)
}

// runsPerDoubling is the number of runs after which runMemory doubles.
const runsPerDoubling = 64

// Commit writes the new file, the stored content merged with every run,
// and puts it in place of the old one (directory.Load). On an error the
// old file is left as it was.
func (l *load) Commit(ctx context.Context) error {
	if l.over {
		return fmt.Errorf("load commit: %w", errLoadOver)
	}
	defer l.end()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(l.runs) == 0 && !l.pending {
		return nil
	}
	src := loadSource{runs: l.runs}
	if l.pending {
		src.last = l.root
	}
	if err := l.s.rebuild(l.rtx, src); err != nil {
		return fmt.Errorf("load commit: %w", err)
	}
	l.s.version.Add(1)
	return nil
}

// Abort ends the load without changing the store (directory.Load).
func (l *load) Abort() {
	if !l.over {
		l.end()
	}
}

// end closes the runs and the read transaction, and lets another load
// (or an Update) begin.
func (l *load) end() {
	l.over = true
	for _, r := range l.runs {
		_ = r.f.Close()
	}
	l.runs, l.root, l.seen, l.btx = nil, nil, nil, nil
	_ = l.rtx.Rollback() // an error: rolled back already (rebuild)
	l.s.loading.CompareAndSwap(l, nil)
}

// run is the puts of one Add of a load, in a file of its own: for each
// bucket that has puts or a new sequence, a section of records (key
// length, key, value length, value; lengths as uvarints) in key order.
type run struct {
	f *os.File
	// sections holds the table of contents, by bucket path (pathKey).
	sections map[string]runSection
}

// runSection is where a bucket's puts are in a run, and its sequence.
type runSection struct {
	off, size int64
	seq       uint64
	seqSet    bool
}

// pathKey appends the name of a nested bucket to the key of its parent's
// path (the root's is empty).
func pathKey(parent []byte, name []byte) []byte {
	k := make([]byte, 0, len(parent)+binary.MaxVarintLen64+len(name))
	k = append(k, parent...)
	k = binary.AppendUvarint(k, uint64(len(name)))
	return append(k, name...)
}

// writeRun writes the puts of the recorders under root to a new run file
// in dir.
func writeRun(dir string, root *recorder) (*run, error) {
	f, err := os.CreateTemp(dir, ".ldapd-load-*.run")
	if err != nil {
		return nil, fmt.Errorf("run file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("run file: %w", err)
	}
	r := &run{f: f, sections: map[string]runSection{}}
	w := bufio.NewWriterSize(f, runWriteBuffer)
	var off int64
	var hdr []byte
	var walk func(path []byte, rec *recorder) error
	walk = func(path []byte, rec *recorder) error {
		if rec.n > 0 || rec.seqSet {
			sec := runSection{off: off, seq: rec.seq, seqSet: rec.seqSet}
			puts := rec.stream()
			for {
				k, v, err := puts.next()
				if err != nil {
					return err
				}
				if k == nil {
					break
				}
				hdr = binary.AppendUvarint(hdr[:0], uint64(len(k)))
				w.Write(hdr)
				w.Write(k)
				n := len(hdr) + len(k)
				hdr = binary.AppendUvarint(hdr[:0], uint64(len(v)))
				w.Write(hdr)
				w.Write(v) // a bufio.Writer keeps its first error for Flush
				off += int64(n + len(hdr) + len(v))
			}
			sec.size = off - sec.off
			r.sections[string(path)] = sec
		}
		for name, c := range rec.children {
			if err := walk(pathKey(path, []byte(name)), c); err != nil {
				return err
			}
		}
		return nil
	}
	err = walk(nil, root)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("run file: %w", err)
	}
	return r, nil
}

// loadSource is the merge source (mergeSource) of the bucket at path: the
// sections of every run, then the last Add's puts still in memory (last:
// its recorder of the bucket, or nil), the later ones replacing the
// earlier ones' keys.
type loadSource struct {
	runs []*run
	path []byte
	last *recorder
}

func (ls loadSource) stream() putStream {
	var streams []putStream
	for _, r := range ls.runs {
		if sec, ok := r.sections[string(ls.path)]; ok && sec.size > 0 {
			rd := bufio.NewReaderSize(io.NewSectionReader(r.f, sec.off, sec.size), runReadBuffer)
			streams = append(streams, &runStream{r: rd})
		}
	}
	if ls.last != nil && ls.last.n > 0 {
		streams = append(streams, ls.last.stream())
	}
	switch len(streams) {
	case 0:
		return (*recorder)(nil).stream()
	case 1:
		return streams[0]
	}
	return newMergedStream(streams)
}

func (ls loadSource) child(name []byte) mergeSource {
	var last *recorder
	if ls.last != nil {
		last = ls.last.children[string(name)]
	}
	return loadSource{runs: ls.runs, path: pathKey(ls.path, name), last: last}
}

func (ls loadSource) sequence() (uint64, bool) {
	if seq, ok := ls.last.sequence(); ok {
		return seq, true
	}
	for i := len(ls.runs) - 1; i >= 0; i-- {
		if sec, ok := ls.runs[i].sections[string(ls.path)]; ok && sec.seqSet {
			return sec.seq, true
		}
	}
	return 0, false
}

// runStream reads the records of a run's section.
type runStream struct {
	r     *bufio.Reader
	arena []byte
}

func (s *runStream) next() ([]byte, []byte, error) {
	key, err := s.read(true)
	if key == nil || err != nil {
		return nil, nil, err
	}
	value, err := s.read(false)
	return key, value, err
}

// read reads a length and as many bytes; at the end of the section
// (first only), it returns nil.
func (s *runStream) read(first bool) ([]byte, error) {
	n, err := binary.ReadUvarint(s.r)
	if err == io.EOF && first {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	if len(s.arena)+int(n) > cap(s.arena) {
		s.arena = make([]byte, 0, max(runArena, int(n)))
	}
	start := len(s.arena)
	s.arena = s.arena[:start+int(n)]
	b := s.arena[start : start+int(n) : start+int(n)]
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	return b, nil
}

// mergedStream merges streams (each in key order, one put per key) in
// key order; of equal keys, the one of the latest stream wins.
type mergedStream struct {
	heads   []streamHead // a min-heap by key, then stream
	started bool         // the first put of every stream is read
}

type streamHead struct {
	key, value []byte
	src        int // the stream's index: later wins
	s          putStream
}

func newMergedStream(streams []putStream) *mergedStream {
	m := &mergedStream{heads: make([]streamHead, 0, len(streams))}
	for i, s := range streams {
		m.heads = append(m.heads, streamHead{src: i, s: s})
	}
	return m
}

func (m *mergedStream) less(i, j int) bool {
	a, b := &m.heads[i], &m.heads[j]
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	return a.src < b.src
}

func (m *mergedStream) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(m.heads) {
			return
		}
		if r := l + 1; r < len(m.heads) && m.less(r, l) {
			l = r
		}
		if !m.less(l, i) {
			return
		}
		m.heads[i], m.heads[l] = m.heads[l], m.heads[i]
		i = l
	}
}

// advance reads the next put of the stream at the top of the heap.
func (m *mergedStream) advance() error {
	h := &m.heads[0]
	k, v, err := h.s.next()
	if err != nil {
		return err
	}
	if k == nil {
		last := len(m.heads) - 1
		m.heads[0] = m.heads[last]
		m.heads = m.heads[:last]
	} else {
		h.key, h.value = k, v
	}
	if len(m.heads) > 0 {
		m.down(0)
	}
	return nil
}

// init reads the first put of every stream.
func (m *mergedStream) init() error {
	heads := m.heads
	m.heads = m.heads[:0]
	for _, h := range heads {
		k, v, err := h.s.next()
		if err != nil {
			return err
		}
		if k != nil {
			h.key, h.value = k, v
			m.heads = append(m.heads, h)
		}
	}
	for i := len(m.heads)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return nil
}

func (m *mergedStream) next() ([]byte, []byte, error) {
	if !m.started {
		m.started = true
		if err := m.init(); err != nil {
			return nil, nil, err
		}
	}
	if len(m.heads) == 0 {
		return nil, nil, nil
	}
	key, value := m.heads[0].key, m.heads[0].value
	if err := m.advance(); err != nil {
		return nil, nil, err
	}
	// Equal keys come out in stream order: the last one read wins.
	for len(m.heads) > 0 && bytes.Equal(m.heads[0].key, key) {
		value = m.heads[0].value
		if err := m.advance(); err != nil {
			return nil, nil, err
		}
	}
	return key, value, nil
}
