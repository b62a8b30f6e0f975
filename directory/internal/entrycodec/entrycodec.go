// Package entrycodec is the binary encoding of directory entries shared by
// ldapd's storage backends (boltstore, etcdstore): compact, length-prefixed
// and fast to decode, with the DN kept as its parsed assertions.
//
// # Basics
//
// Encode and Decode are inverses; DecodeAttrs returns the DN section
// undecoded so that a search can evaluate its filter before paying for the
// DN, and DNSectionIs compares that section with a DN without allocating.
//
// # Caveats
//
// Decoded strings are copies unless the caller uses DecodeAttrsInto over
// memory it owns (see its doc comment). Each backend owns its key layout;
// only the value encoding of an entry is shared.
package entrycodec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ldapd/ldapd/directory"
)

// An entry is encoded as
//
//	format   byte     Format
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
// Format is the first byte of every encoding.
const Format = 1

// ErrCorrupt is wrapped by every decoding error.
var ErrCorrupt = errors.New("corrupt entry encoding")

// Encode returns the encoding of e in a new slice of exactly its Size,
// never reused: stores keep the slice until their transaction commits.
func Encode(e *directory.Entry) []byte {
	return AppendEncode(make([]byte, 0, Size(e)), e)
}

// Size returns the length of e's encoding.
func Size(e *directory.Entry) int {
	dn := dnSectionLen(e.DN)
	n := 1 + uvarintLen(dn) + dn + uvarintLen(len(e.Attrs))
	for _, a := range e.Attrs {
		n += strLen(a.Name) + uvarintLen(len(a.Values))
		for _, v := range a.Values {
			n += strLen(v)
		}
	}
	return n
}

// AppendEncode appends the encoding of e to b: a bulk load writes many
// entries' encodings into one buffer.
func AppendEncode(b []byte, e *directory.Entry) []byte {
	b = append(b, Format)
	b = binary.AppendUvarint(b, uint64(dnSectionLen(e.DN)))
	b = appendDNSection(b, e.DN)
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

// EncodeDN returns the DN section of dn's entries' encoding.
func EncodeDN(dn directory.DN) string {
	return string(appendDNSection(make([]byte, 0, dnSectionLen(dn)), dn))
}

func appendDNSection(b []byte, dn directory.DN) []byte {
	b = binary.AppendUvarint(b, uint64(dn.Depth()))
	for _, r := range dn.RDNs() {
		avas := r.AVAs()
		b = binary.AppendUvarint(b, uint64(len(avas)))
		for _, a := range avas {
			b = appendStr(b, a.Type)
			b = appendStr(b, a.Value)
		}
	}
	return b
}

// dnSectionLen is the length appendDNSection appends.
func dnSectionLen(dn directory.DN) int {
	n := uvarintLen(dn.Depth())
	for _, r := range dn.RDNs() {
		avas := r.AVAs()
		n += uvarintLen(len(avas))
		for _, a := range avas {
			n += strLen(a.Type) + strLen(a.Value)
		}
	}
	return n
}

// uvarintLen is the length of n as a uvarint.
func uvarintLen(n int) int { return (bits.Len64(uint64(n)|1) + 6) / 7 }

// strLen is the length appendStr appends for s.
func strLen(s string) int { return uvarintLen(len(s)) + len(s) }

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Decode decodes a whole entry into memory owned by the caller.
func Decode(raw []byte) (*directory.Entry, error) {
	e, dn, err := DecodeAttrs(raw)
	if err != nil {
		return nil, err
	}
	if e.DN, err = DecodeDN(dn); err != nil {
		return nil, err
	}
	return e, nil
}

// DecodeAttrs decodes the attributes of an entry, leaving its DN zero, and
// returns the still-encoded DN section for DecodeDN. The bytes are copied
// once into a string that every returned value shares.
func DecodeAttrs(raw []byte) (*directory.Entry, string, error) {
	if len(raw) == 0 || raw[0] != Format {
		return nil, "", fmt.Errorf("%w: unknown format", ErrCorrupt)
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
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.s)-d.off)
	}
	return e, dn, d.err
}

// DecodeAttrsInto is DecodeAttrs into e, reusing e.Attrs and vals (which
// it returns for the next call). e's strings are substrings of raw: the
// caller decides whether raw is a copy. When keep is not nil, only the
// attributes it names (ignoring case) are decoded, the others are skipped
// over: for a filter that reads a few attributes. Decoding then stops
// once it has an attribute of every name in keep (up to 63 names): the
// stores hold each attribute once (writecheck.Names), so the rest of the
// entry has none of them, and the rest is not checked (a whole decoding
// reports a corrupt tail).
func DecodeAttrsInto(raw string, e *directory.Entry, vals []string, keep []string) (string, []string, error) {
	if len(raw) == 0 || raw[0] != Format {
		return "", vals, fmt.Errorf("%w: unknown format", ErrCorrupt)
	}
	if dn, v, ok := decodeAttrsFast(raw, e, vals[:0], keep); ok {
		return dn, v, nil
	} else {
		vals = v
	}
	// The fast path gave up: the encoding is corrupt, and the checked
	// decoding says how.
	return decodeAttrsChecked(raw, e, vals, keep)
}

// decodeAttrsChecked is DecodeAttrsInto through the decoder, which checks
// every read and reports the first error.
func decodeAttrsChecked(raw string, e *directory.Entry, vals []string, keep []string) (string, []string, error) {
	d := decoder{s: raw, off: 1}
	dn := d.str()
	nAttrs := d.count()
	e.Attrs = e.Attrs[:0]
	vals = vals[:0]
	missing := keepMask(keep)
	for i := 0; i < nAttrs && d.err == nil; i++ {
		name := d.str()
		nv := d.count()
		if keep != nil {
			k := kept(keep, name)
			if k < 0 {
				for j := 0; j < nv && d.err == nil; j++ {
					d.str()
				}
				continue
			}
			missing = found(missing, k)
		}
		start := len(vals)
		for j := 0; j < nv && d.err == nil; j++ {
			vals = append(vals, d.str())
		}
		e.Attrs = append(e.Attrs, directory.Attr{Name: name, Values: vals[start:len(vals):len(vals)]})
		if missing == 0 && keep != nil && d.err == nil {
			return dn, vals, nil
		}
	}
	if d.err == nil && d.off != len(d.s) {
		d.err = fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.s)-d.off)
	}
	return dn, vals, d.err
}

// decodeAttrsFast is DecodeAttrsInto for a well-formed encoding, in one
// tight loop over local variables: the scan decodes every entry it visits
// this way. ok is false, and e and the returned vals hold garbage, for
// anything else (a length or count running past the end, trailing bytes,
// a uvarint over maxFastCount); DecodeAttrsInto then takes the checked
// path, which reports the error. Each length and count is one byte but
// for long values: in the loop over attributes and values the one-byte
// case is written out inline at each read, as a function it would not be
// inlined.
func decodeAttrsFast(s string, e *directory.Entry, vals []string, keep []string) (dn string, _ []string, ok bool) {
	// The DN's length and the attribute count, once per entry.
	n, off := uvarintAt(s, 1)
	if n < 0 || n > len(s)-off {
		return "", vals, false
	}
	dn, off = s[off:off+n], off+n
	nAttrs, off := uvarintAt(s, off)
	if nAttrs < 0 || nAttrs > len(s)-off {
		return "", vals, false // as the checked count: one byte at least per attribute
	}
	e.Attrs = e.Attrs[:0]
	missing := keepMask(keep)
	for range nAttrs {
		if off < len(s) && s[off] < 0x80 {
			n, off = int(s[off]), off+1
		} else if n, off = uvarintAt(s, off); n < 0 {
			return "", vals, false
		}
		if n > len(s)-off {
			return "", vals, false
		}
		name := s[off : off+n]
		off += n
		nv := 0
		if off < len(s) && s[off] < 0x80 {
			nv, off = int(s[off]), off+1
		} else if nv, off = uvarintAt(s, off); nv < 0 {
			return "", vals, false
		}
		k := 0
		if keep != nil {
			k = kept(keep, name)
		}
		if k < 0 {
			for range nv {
				if off < len(s) && s[off] < 0x80 {
					off += 1 + int(s[off])
					continue
				}
				if n, off = uvarintAt(s, off); n < 0 {
					return "", vals, false
				}
				off += n
			}
			if off > len(s) {
				return "", vals, false
			}
			continue
		}
		if nv > len(s)-off {
			return "", vals, false
		}
		start := len(vals)
		for range nv {
			if off < len(s) && s[off] < 0x80 {
				n, off = int(s[off]), off+1
			} else if n, off = uvarintAt(s, off); n < 0 {
				return "", vals, false
			}
			if n > len(s)-off {
				return "", vals, false
			}
			vals = append(vals, s[off:off+n])
			off += n
		}
		e.Attrs = append(e.Attrs, directory.Attr{Name: name, Values: vals[start:len(vals):len(vals)]})
		if keep != nil {
			if missing = found(missing, k); missing == 0 {
				return dn, vals, true
			}
		}
	}
	return dn, vals, off == len(s)
}

// kept returns the index in keep of the attribute name, -1 if keep does
// not name it.
func kept(keep []string, name string) int {
	for i, k := range keep {
		if len(k) == len(name) && strings.EqualFold(k, name) {
			return i
		}
	}
	return -1
}

// keepMask has a bit set for each name in keep: the names a decoding has
// yet to find (found clears them), which stops at none. Beyond 63 names
// bit 63 is set and never cleared: such a decoding never stops early.
func keepMask(keep []string) uint64 {
	if len(keep) > 63 {
		return ^uint64(0)
	}
	return 1<<len(keep) - 1
}

// found clears the bit of keep's name k in missing.
func found(missing uint64, k int) uint64 {
	if k < 63 {
		missing &^= 1 << k
	}
	return missing
}

// maxFastCount bounds the uvarints decodeAttrsFast reads: every length
// and count an entry holds is far below it, and no offset sum overflows.
const maxFastCount = 1 << 40

// uvarintAt reads the uvarint at s[off:] and returns it with the offset
// after it: -1 when s ends first or the value exceeds maxFastCount.
func uvarintAt(s string, off int) (int, int) {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if off >= len(s) {
			return -1, off
		}
		c := s[off]
		off++
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			if x > maxFastCount {
				return -1, off
			}
			return int(x), off
		}
	}
	return -1, off
}

// DecodeDN decodes the DN section returned by DecodeAttrs.
func DecodeDN(s string) (directory.DN, error) {
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
			d.err = fmt.Errorf("%w: empty RDN", ErrCorrupt)
		}
		rdns = append(rdns, directory.NewRDN(avas...))
	}
	if d.err == nil && d.off != len(d.s) {
		d.err = fmt.Errorf("%w: %d trailing bytes in DN", ErrCorrupt, len(d.s)-d.off)
	}
	if d.err != nil {
		return directory.DN{}, d.err
	}
	return directory.NewDN(rdns...), nil
}

// ParentCache remembers decoded parent DNs by their encoded bytes, so that
// entries below one parent (the people of ou=people) do not each decode
// and normalize it again. Decoding is a pure function of the bytes, so an
// entry can never go stale; the cache is bounded by starting over when it
// holds maxParents DNs. The zero value is ready and safe for concurrent
// use.
//
// The parent found last is also kept aside: the entries a search returns
// mostly share one parent, and comparing its encoded bytes costs less
// than hashing them for the map.
type ParentCache struct {
	m    sync.Map // encoded RDNs after the first -> *parentDN
	n    atomic.Int64
	last atomic.Pointer[parentDN]
}

// parentDN is a cached parent: its encoded RDNs (owned) and its DN.
type parentDN struct {
	enc string
	dn  directory.DN
}

// parent returns the DN of depth depth encoded by enc, if c holds it.
func (c *ParentCache) parent(enc string, depth int) (directory.DN, bool) {
	if p := c.last.Load(); p != nil && p.enc == enc {
		return p.dn, p.dn.Depth() == depth
	}
	v, ok := c.m.Load(enc)
	if !ok {
		return directory.DN{}, false
	}
	p := v.(*parentDN)
	if p.dn.Depth() != depth {
		return directory.DN{}, false
	}
	c.last.Store(p)
	return p.dn, true
}

const maxParents = 4096

// DecodeDNCached is DecodeDN, taking the parent DN from c when c holds the
// DN encoded by the RDNs after the first. The DN does not view s: s may be
// memory the caller reuses (bbolt's map).
func DecodeDNCached(s string, c *ParentCache) (directory.DN, error) {
	d := decoder{s: s}
	n := d.count()
	if n >= 2 && d.count() == 1 && d.err == nil {
		typ, value := d.str(), d.str()
		if d.err == nil {
			if parent, ok := c.parent(s[d.off:], n-1); ok {
				return parent.ChildAVA(typ, value), nil
			}
		}
	}
	s = strings.Clone(s) // DecodeDN's DN views it
	dn, err := DecodeDN(s)
	if err != nil || dn.Depth() < 2 {
		return dn, err
	}
	d = decoder{s: s}
	d.count()
	for na := d.count(); na > 0; na-- {
		d.str()
		d.str()
	}
	if c.n.Add(1) > maxParents {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(s[d.off:], &parentDN{enc: s[d.off:], dn: dn.Parent()})
	return dn, nil
}

// DNSectionIs reports whether the DN section s encodes exactly dn (the same
// assertions, spelled the same way), without allocating. Get then returns
// the caller's DN instead of decoding an equal one.
func DNSectionIs(s string, dn directory.DN) bool {
	d := decoder{s: s}
	rdns := dn.RDNs()
	if d.count() != len(rdns) {
		return false
	}
	for _, r := range rdns {
		avas := r.AVAs()
		if d.count() != len(avas) {
			return false
		}
		for _, a := range avas {
			if d.str() != a.Type || d.str() != a.Value {
				return false
			}
		}
	}
	return d.err == nil && d.off == len(d.s)
}

// decoder reads uvarint-framed fields; the first error sticks and later
// reads return zero values.
type decoder struct {
	s   string
	off int
	err error
}

func (d *decoder) uvarint() uint64 {
	// Almost every length and count fits in one byte: an inlined step.
	if d.off < len(d.s) && d.s[d.off] < 0x80 && d.err == nil {
		d.off++
		return uint64(d.s[d.off-1])
	}
	return d.uvarintSlow()
}

func (d *decoder) uvarintSlow() uint64 {
	if d.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for i := 0; ; i++ {
		if d.off >= len(d.s) || i == binary.MaxVarintLen64 {
			d.err = fmt.Errorf("%w: truncated length", ErrCorrupt)
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
		d.err = fmt.Errorf("%w: count %d exceeds data", ErrCorrupt, n)
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

// DNKey returns the key form of dn both stores index entries by: the RDN
// norms, suffix first, joined by 0x00 (a norm never holds NUL: the
// directory escapes it), so a subtree is a key prefix and a child's key
// has one more component. The root DN has no key (nil); it is never
// stored.
func DNKey(dn directory.DN) ([]byte, error) {
	rdns := dn.RDNs()
	n := 0
	for _, r := range rdns {
		n += len(r.Norm()) + 1
	}
	key := make([]byte, 0, n)
	for i := len(rdns) - 1; i >= 0; i-- {
		norm := rdns[i].Norm()
		if strings.IndexByte(norm, 0) >= 0 || norm == "" {
			return nil, directory.Errorf(directory.ErrInvalidDNSyntax, "DN "+dn.String()+" cannot be stored")
		}
		if i < len(rdns)-1 {
			key = append(key, 0)
		}
		key = append(key, norm...)
	}
	return key, nil
}

// SubtreePrefix returns the prefix shared by the DN keys of every entry
// strictly below the entry whose key is key; for the root (nil key), every
// key.
func SubtreePrefix(key []byte) []byte {
	if len(key) == 0 {
		return nil
	}
	return append(bytes.Clone(key), 0)
}

// ParentKey returns the DN key of the parent, nil for a suffix.
func ParentKey(key []byte) []byte {
	if i := bytes.LastIndexByte(key, 0); i >= 0 {
		return key[:i]
	}
	return nil
}
