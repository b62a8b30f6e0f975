package etcdstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ldapd/ldapd/directory"
)

// An entry value (the e/ keys of layout.go) is encoded as
//
//	format   byte     entryFormat
//	dnLen    uvarint  length of the DN section, so a reader can skip it
//	DN section:
//	  nRDN   uvarint  leftmost RDN first
//	  per RDN: nAVA uvarint, then per AVA: str type, str value (as given)
//	nAttrs   uvarint
//	per attribute: str name, nValues uvarint, then nValues × str
//
// where str is a uvarint length followed by that many bytes. The DN is kept
// as its assertions rather than as a string so that decoding never runs the
// RFC 4514 parser, and the DN section comes first with its length so that a
// search can evaluate the filter before paying for the DN.
//
// This is boltstore's entry encoding (directory/boltstore/encode.go),
// copied rather than shared: each backend owns its layout, and an entry
// exported from one store is re-added to the other through the
// directory.Store interface, never copied as bytes.
const entryFormat = 1

var errCorruptEntry = errors.New("corrupt entry encoding")

// encodeEntry returns the encoding of e in a new slice (the overlay keeps the
// slice until the commit, so it is never reused).
func encodeEntry(e *directory.Entry) []byte {
	dn := encodeDN(e.DN)
	n := 1 + binary.MaxVarintLen64 + len(dn) + binary.MaxVarintLen64
	for _, a := range e.Attrs {
		n += 2*binary.MaxVarintLen64 + len(a.Name)
		for _, v := range a.Values {
			n += binary.MaxVarintLen64 + len(v)
		}
	}
	b := make([]byte, 0, n)
	b = append(b, entryFormat)
	b = appendStr(b, dn)
	b = binary.AppendUvarint(b, uint64(len(e.Attrs)))
	for _, a := range e.Attrs {
		b = appendStr(b, a.Name)
		b = binary.AppendUvarint(b, uint64(len(a.Values)))
		for _, v := range a.Values {
			b = appendStr(b, v)
		}
	}
	return b
}

func encodeDN(dn directory.DN) string {
	var b []byte
	b = binary.AppendUvarint(b, uint64(dn.Depth()))
	for _, r := range dn.RDNs() {
		avas := r.AVAs()
		b = binary.AppendUvarint(b, uint64(len(avas)))
		for _, a := range avas {
			b = appendStr(b, a.Type)
			b = appendStr(b, a.Value)
		}
	}
	return string(b)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decodeEntry decodes a whole entry into memory owned by the caller.
func decodeEntry(raw []byte) (*directory.Entry, error) {
	e, dn, err := decodeAttrs(raw)
	if err != nil {
		return nil, err
	}
	if e.DN, err = decodeDN(dn); err != nil {
		return nil, err
	}
	return e, nil
}

// decodeAttrs decodes the attributes of an entry, leaving its DN zero, and
// returns the still-encoded DN section for decodeDN. The bytes are copied
// once into a string that every returned value shares.
func decodeAttrs(raw []byte) (*directory.Entry, string, error) {
	if len(raw) == 0 || raw[0] != entryFormat {
		return nil, "", fmt.Errorf("%w: unknown format", errCorruptEntry)
	}
	d := decoder{s: string(raw), off: 1}
	dn := d.str()
	nAttrs := d.count()
	e := &directory.Entry{Attrs: make([]directory.Attr, 0, nAttrs)}
	// Values of all attributes share one backing array; each attribute's
	// slice is capped so that appending to it copies instead of overwriting
	// the next attribute's values.
	vals := make([]string, 0, d.countValues(nAttrs))
	for i := 0; i < nAttrs && d.err == nil; i++ {
		name := d.str()
		nv := d.count()
		start := len(vals)
		for j := 0; j < nv && d.err == nil; j++ {
			vals = append(vals, d.str())
		}
		e.Attrs = append(e.Attrs, directory.Attr{Name: name, Values: vals[start:len(vals):len(vals)]})
	}
	if d.err == nil && d.off != len(d.s) {
		d.err = fmt.Errorf("%w: %d trailing bytes", errCorruptEntry, len(d.s)-d.off)
	}
	return e, dn, d.err
}

// decodeDN decodes the DN section returned by decodeAttrs.
func decodeDN(s string) (directory.DN, error) {
	d := decoder{s: s}
	n := d.count()
	rdns := make([]directory.RDN, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		na := d.count()
		avas := make([]directory.AVA, 0, na)
		for j := 0; j < na && d.err == nil; j++ {
			avas = append(avas, directory.AVA{Type: d.str(), Value: d.str()})
		}
		if len(avas) == 0 && d.err == nil {
			d.err = fmt.Errorf("%w: empty RDN", errCorruptEntry)
		}
		rdns = append(rdns, directory.NewRDN(avas...))
	}
	if d.err == nil && d.off != len(d.s) {
		d.err = fmt.Errorf("%w: %d trailing bytes in DN", errCorruptEntry, len(d.s)-d.off)
	}
	if d.err != nil {
		return directory.DN{}, d.err
	}
	var dn directory.DN
	for i := len(rdns) - 1; i >= 0; i-- {
		dn = dn.Child(rdns[i])
	}
	return dn, nil
}

// decoder reads uvarint-framed fields; the first error sticks and later
// reads return zero values.
type decoder struct {
	s   string
	off int
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for i := 0; ; i++ {
		if d.off >= len(d.s) || i == binary.MaxVarintLen64 {
			d.err = fmt.Errorf("%w: truncated length", errCorruptEntry)
			return 0
		}
		c := d.s[d.off]
		d.off++
		if c < 0x80 {
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
}

// count reads a number of items; each item takes at least one byte, so a
// count larger than what is left is corruption (and would otherwise make a
// huge allocation).
func (d *decoder) count() int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.s)-d.off) {
		d.err = fmt.Errorf("%w: count %d exceeds data", errCorruptEntry, n)
		return 0
	}
	return int(n)
}

// countValues returns the total number of values in the next nAttrs
// attributes without consuming them.
func (d *decoder) countValues(nAttrs int) int {
	p := *d
	total := 0
	for i := 0; i < nAttrs && p.err == nil; i++ {
		p.str()
		nv := p.count()
		total += nv
		for j := 0; j < nv && p.err == nil; j++ {
			p.str()
		}
	}
	return total
}

func (d *decoder) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := d.s[d.off : d.off+n]
	d.off += n
	return s
}
