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

// importSpool holds the prepared, checked entries of a file too large to
// keep in memory (more than keepChunk entries), written by Import's first
// pass so that the second decodes them instead of reading, parsing and
// preparing the file again (the reading was the pipeline's serial stage:
// 0.92 CPU-s of 4.5 at 100k people over both readings).
//
// The file is created in Config.ImportSpoolDir (the data directory) and
// unlinked at once where the system allows it (Linux does), so that
// nothing is left behind however the import ends, a crash included;
// otherwise close removes it. Records are written and read sequentially
// through buffers: the spool holds no entries in memory.
//
// A record is a uvarint length and then: the DN (kind 1: the
// type and value of a single-valued first RDN and the parent's string,
// decoded through a cache of parents; kind 0: the DN's string), the
// number of attributes, the number of values of all of them, and each
// attribute's name, number of values and values.
// Every string is a uvarint length and its bytes.
type importSpool struct {
	f    *os.File
	name string // to remove at close, if it could not be unlinked at once
	w    *bufio.Writer
	r    *bufio.Reader
	buf  []byte
	// parents maps the parent strings of the records read to their DNs.
	parents map[string]directory.DN
}

// maxSpoolParents bounds importSpool.parents: it starts over when full.
const maxSpoolParents = 4096

// newImportSpool creates an empty spool in dir.
func newImportSpool(dir string) (*importSpool, error) {
	f, err := os.CreateTemp(dir, ".ldapd-import-*.spool")
	if err != nil {
		return nil, fmt.Errorf("import spool: %w", err)
	}
	sp := &importSpool{f: f, w: bufio.NewWriterSize(f, 256<<10)}
	if err := os.Remove(f.Name()); err != nil {
		sp.name = f.Name() // an open file that cannot be unlinked: removed by close
	}
	return sp, nil
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

// rewind ends the writing; next then reads the records from the first.
func (sp *importSpool) rewind() error {
	if err := sp.w.Flush(); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("import spool: %w", err)
	}
	sp.r = bufio.NewReaderSize(sp.f, 256<<10)
	sp.parents = map[string]directory.DN{}
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
	if sp == nil {
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
