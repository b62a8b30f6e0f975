package idm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ldapd/ldapd/directory"
)

// importSpool holds the prepared, checked entries of Import's first pass,
// so that the second decodes them instead of reading, parsing and
// preparing the file again (the reading was the pipeline's serial stage:
// 0.92 CPU-s of 4.5 at 100k people over both readings). A record takes
// about a fifth of the memory of the entry it holds (275 bytes of LDIF
// for a person: ~450 bytes here, ~1.9 KB as a directory.Entry).
//
// A spool starts in memory (newMemorySpool), in blocks of spoolBlock
// bytes that the reading lets go of one by one. Once it holds more than
// the first pass keeps in memory, it moves to a file (spill), created
// in Config.ImportSpoolDir (the data directory) and unlinked at once
// where the system allows it (Linux does), so that nothing is left
// behind however the import ends, a crash included; otherwise close
// removes it. The file is written and read sequentially through
// buffers: the spool then holds no entries in memory.
//
// A record is a uvarint length and then: the DN (kind 1: the
// type and value of a single-valued first RDN and the parent's string,
// decoded through a cache of parents; kind 0: the DN's string), the
// number of attributes, the number of values of all of them, and each
// attribute's name, number of values and values.
// Every string is a uvarint length and its bytes.
type importSpool struct {
	f    *os.File // nil while the spool is in memory
	name string   // to remove at close, if it could not be unlinked at once
	mem  *spoolBlocks
	w    io.Writer
	r    spoolReader
	bw   *bufio.Writer // the file's
	buf  []byte
	// parents maps the parent strings of the records read to their DNs.
	parents map[string]directory.DN
}

// spoolReader is what next reads records from.
type spoolReader interface {
	io.Reader
	io.ByteReader
}

// maxSpoolParents bounds importSpool.parents: it starts over when full.
const maxSpoolParents = 4096

// newMemorySpool returns an empty spool in memory.
func newMemorySpool() *importSpool {
	m := &spoolBlocks{}
	return &importSpool{mem: m, w: m}
}

// newImportSpool creates an empty spool in a file in dir.
func newImportSpool(dir string) (*importSpool, error) {
	sp := newMemorySpool()
	if err := sp.spill(dir); err != nil {
		return nil, err
	}
	return sp, nil
}

// inMemory reports whether the spool is in memory.
func (sp *importSpool) inMemory() bool { return sp.f == nil }

// spill moves a spool in memory to a new file in dir, the records
// written so far first.
func (sp *importSpool) spill(dir string) error {
	f, err := os.CreateTemp(dir, ".ldapd-import-*.spool")
	if err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	sp.f, sp.bw = f, bufio.NewWriterSize(f, 256<<10)
	if err := os.Remove(f.Name()); err != nil {
		sp.name = f.Name() // an open file that cannot be unlinked: removed by close
	}
	for _, b := range sp.mem.blocks {
		if _, err := sp.bw.Write(b); err != nil {
			return fmt.Errorf("import spool: %w", err)
		}
	}
	sp.mem, sp.w = nil, sp.bw
	return nil
}

// write appends e to the spool.
func (sp *importSpool) write(e *directory.Entry) error {
	b := sp.buf[:0]
	if rdn := e.DN.RDN(); len(rdn.AVAs()) == 1 && e.DN.Depth() > 1 {
		a := rdn.AVAs()[0]
		b = append(b, 1)
		b = appendSpoolString(b, a.Type)
		b = appendSpoolString(b, a.Value)
		b = appendSpoolString(b, e.DN.Parent().String())
	} else {
		b = append(b, 0)
		b = appendSpoolString(b, e.DN.String())
	}
	b = binary.AppendUvarint(b, uint64(len(e.Attrs)))
	nv := 0
	for _, a := range e.Attrs {
		nv += len(a.Values)
	}
	b = binary.AppendUvarint(b, uint64(nv))
	for _, a := range e.Attrs {
		b = appendSpoolString(b, a.Name)
		b = binary.AppendUvarint(b, uint64(len(a.Values)))
		for _, v := range a.Values {
			b = appendSpoolString(b, v)
		}
	}
	sp.buf = b
	var n [binary.MaxVarintLen64]byte
	if _, err := sp.w.Write(binary.AppendUvarint(n[:0], uint64(len(b)))); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	if _, err := sp.w.Write(b); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	return nil
}

func appendSpoolString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// rewind ends the writing; next then reads the records from the first
// (once: a spool in memory lets go of each block read).
func (sp *importSpool) rewind() error {
	sp.parents = map[string]directory.DN{}
	if sp.inMemory() {
		sp.r = sp.mem
		return nil
	}
	if err := sp.bw.Flush(); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	sp.r = bufio.NewReaderSize(sp.f, 256<<10)
	return nil
}

// errSpoolCorrupt is next's error for a record it cannot decode.
var errSpoolCorrupt = errors.New("import spool: corrupt record")

// next returns the next record, or io.EOF after the last. The entry's
// strings share one allocation per record.
func (sp *importSpool) next() (*directory.Entry, error) {
	size, err := binary.ReadUvarint(sp.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("import spool: %w", err)
	}
	if size > 1<<30 {
		return nil, errSpoolCorrupt
	}
	if uint64(cap(sp.buf)) < size {
		sp.buf = make([]byte, size)
	}
	b := sp.buf[:size]
	if _, err := io.ReadFull(sp.r, b); err != nil {
		return nil, fmt.Errorf("import spool: %w", err)
	}
	d := spoolDecoder{s: string(b)}
	kind := d.byte()
	var dn directory.DN
	if kind == 1 {
		typ, value, parent := d.str(), d.str(), d.str()
		if d.err != nil {
			return nil, d.err
		}
		p, ok := sp.parents[parent]
		if !ok {
			if p, err = directory.ParseDN(parent); err != nil {
				return nil, fmt.Errorf("import spool: %w", err)
			}
			if len(sp.parents) >= maxSpoolParents {
				clear(sp.parents)
			}
			sp.parents[parent] = p
		}
		dn = p.ChildAVA(typ, value)
	} else {
		s := d.str()
		if d.err != nil {
			return nil, d.err
		}
		if dn, err = directory.ParseDN(s); err != nil {
			return nil, fmt.Errorf("import spool: %w", err)
		}
	}
	n, total := d.uvarint(), d.uvarint()
	if d.err != nil || n > uint64(len(d.s)) || total > uint64(len(d.s)) {
		return nil, errSpoolCorrupt
	}
	e := &directory.Entry{DN: dn, Attrs: make([]directory.Attr, n, n+2)} // room for memberOf
	// The values of all attributes share one slice; each one's capacity
	// ends at its length, so that an append copies.
	vals := make([]string, total)
	for i := range e.Attrs {
		name := d.str()
		nv := d.uvarint()
		if d.err != nil || nv > uint64(len(vals)) {
			return nil, errSpoolCorrupt
		}
		for j := range nv {
			vals[j] = d.str()
		}
		e.Attrs[i] = directory.Attr{Name: name, Values: vals[:nv:nv]}
		vals = vals[nv:]
	}
	if d.err != nil || d.off != len(d.s) || len(vals) != 0 {
		return nil, errSpoolCorrupt
	}
	return e, nil
}

// close closes the spool and removes its file; a nil spool is fine.
func (sp *importSpool) close() {
	if sp == nil || sp.f == nil {
		return
	}
	sp.f.Close()
	if sp.name != "" {
		os.Remove(sp.name)
	}
}

// spoolDecoder reads the fields of one spool record.
type spoolDecoder struct {
	s   string
	off int
	err error
}

func (d *spoolDecoder) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.off >= len(d.s) {
			break
		}
		c := d.s[d.off]
		d.off++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
	}
	d.err = errSpoolCorrupt
	return 0
}

func (d *spoolDecoder) byte() byte {
	if d.off >= len(d.s) {
		d.err = errSpoolCorrupt
		return 0
	}
	d.off++
	return d.s[d.off-1]
}

func (d *spoolDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.off) {
		d.err = errSpoolCorrupt
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// spoolBlock is the size of the blocks of a spool in memory: large
// enough that a record rarely spans two, small enough that the blocks
// read are let go of as the second pass goes.
const spoolBlock = 256 << 10

// spoolBlocks is a spool's records in memory: written at the end of the
// last block, read from the first, each block dropped once read.
type spoolBlocks struct {
	blocks [][]byte
	off    int // read offset in blocks[0]
}

func (m *spoolBlocks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		last := len(m.blocks) - 1
		if last < 0 || len(m.blocks[last]) == cap(m.blocks[last]) {
			m.blocks = append(m.blocks, make([]byte, 0, spoolBlock))
			last++
		}
		b := m.blocks[last]
		c := min(len(p), cap(b)-len(b))
		m.blocks[last] = append(b, p[:c]...)
		p = p[c:]
	}
	return n, nil
}

// more drops the first block if it is read through, and reports whether
// there is more to read.
func (m *spoolBlocks) more() bool {
	for len(m.blocks) > 0 && m.off == len(m.blocks[0]) {
		m.blocks[0] = nil
		m.blocks, m.off = m.blocks[1:], 0
	}
	return len(m.blocks) > 0
}

func (m *spoolBlocks) ReadByte() (byte, error) {
	if !m.more() {
		return 0, io.EOF
	}
	m.off++
	return m.blocks[0][m.off-1], nil
}

func (m *spoolBlocks) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && m.more() {
		c := copy(p[n:], m.blocks[0][m.off:])
		m.off += c
		n += c
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}
