package wire

import (
	"fmt"
	"math"
)

// Identifier octets. LDAP uses only the low-tag-number form (tag numbers
// below 31), so an identifier is always exactly one octet: two class bits,
// the constructed bit and a five-bit tag number.
const (
	classUniversal   = 0x00
	classApplication = 0x40
	classContext     = 0x80
	classMask        = 0xc0
	constructed      = 0x20
	tagNumberMask    = 0x1f

	tagBoolean     = 0x01
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagSequence    = constructed | 0x10 // SEQUENCE and SEQUENCE OF
	tagSet         = constructed | 0x11 // SET and SET OF
)

// maxInt is RFC 4511's maxInt, the upper bound of MessageID, sizeLimit,
// timeLimit and similar INTEGER fields.
const maxInt = math.MaxInt32

// element is one decoded TLV: its identifier octet and the bounds of its
// contents within the buffer the cursor walks.
type element struct {
	tag      byte
	off, end int
}

// len returns the length of the element's contents.
func (e element) len() int { return e.end - e.off }

// cursor walks the TLVs stored back to back in buf[off:end]. It never reads
// outside that window, so a length field can never make it touch (or
// allocate) memory beyond the buffer it was given.
type cursor struct {
	buf      []byte
	off, end int
}

// newCursor returns a cursor over all of b.
func newCursor(b []byte) cursor { return cursor{buf: b, end: len(b)} }

// inside returns a cursor over the contents of e.
func (c *cursor) inside(e element) cursor { return cursor{buf: c.buf, off: e.off, end: e.end} }

// empty reports whether every TLV has been read.
func (c *cursor) empty() bool { return c.off >= c.end }

// next reads one TLV header and steps over its contents. It rejects the
// forms LDAP forbids or that this codec does not need: high tag numbers,
// the indefinite length (RFC 4511 §5.1: only the definite form is used),
// and lengths of more than four octets.
func (c *cursor) next() (element, error) {
	p, end := c.off, c.end
	if p >= end {
		return element{}, fmt.Errorf("%w: missing element", ErrMalformed)
	}
	tag := c.buf[p]
	if tag&tagNumberMask == tagNumberMask {
		return element{}, fmt.Errorf("%w: high-tag-number identifier 0x%02x", ErrMalformed, tag)
	}
	p++
	if p >= end {
		return element{}, fmt.Errorf("%w: truncated length", ErrMalformed)
	}
	first := c.buf[p]
	p++
	n := int(first)
	if first >= 0x80 {
		k := int(first & 0x7f)
		switch {
		case k == 0:
			return element{}, fmt.Errorf("%w: indefinite length", ErrMalformed)
		case k > 4:
			return element{}, fmt.Errorf("%w: %d length octets (at most 4 allowed)", ErrMalformed, k)
		case k > end-p:
			return element{}, fmt.Errorf("%w: truncated length", ErrMalformed)
		}
		// Accumulate in uint64: four octets can exceed a 32-bit int.
		var l uint64
		for _, b := range c.buf[p : p+k] {
			l = l<<8 | uint64(b)
		}
		p += k
		if l > uint64(end-p) {
			return element{}, fmt.Errorf("%w: length %d exceeds the %d octets available", ErrMalformed, l, end-p)
		}
		n = int(l)
	} else if n > end-p {
		return element{}, fmt.Errorf("%w: length %d exceeds the %d octets available", ErrMalformed, n, end-p)
	}
	c.off = p + n
	return element{tag: tag, off: p, end: p + n}, nil
}

// expect reads the next TLV and checks its identifier octet. what names the
// field in the error.
func (c *cursor) expect(tag byte, what string) (element, error) {
	e, err := c.next()
	if err != nil {
		return element{}, fmt.Errorf("%s: %w", what, err)
	}
	if e.tag != tag {
		return element{}, fmt.Errorf("%w: %s: tag 0x%02x, want 0x%02x", ErrMalformed, what, e.tag, tag)
	}
	return e, nil
}

// peek returns the identifier octet of the next TLV without consuming it.
// ok is false at the end of the window.
func (c *cursor) peek() (tag byte, ok bool) {
	if c.off >= c.end {
		return 0, false
	}
	return c.buf[c.off], true
}

// count returns the number of TLVs left, checking that each is well formed
// and carries the identifier tag. It does not move the cursor. Callers use
// it to size a slice exactly before filling it, so memory follows the
// octets actually present, not any declared length.
func (c cursor) count(tag byte, what string) (int, error) {
	n := 0
	for !c.empty() {
		if _, err := c.expect(tag, what); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// trailing checks what is left of a SEQUENCE after its last known
// component. RFC 4511 §4 has receivers ignore trailing components whose
// tags they do not recognize (the protocol's implied extensibility), so
// such components are skipped, provided each is a well-formed TLV of the
// context-specific class, the class every LDAP extension uses. Anything
// else is rejected: a component of another class is more likely a
// mis-encoded field than an extension, and a component carrying one of the
// known tags (the structure's own optional fields), in either form, would
// be a duplicate, out of order or of the wrong form. Skipping those would
// silently drop what the sender asked for (a Password Modify whose
// userIdentity is ignored changes the wrong password).
func (c *cursor) trailing(what string, known ...byte) error {
	for !c.empty() {
		e, err := c.next()
		if err != nil {
			return fmt.Errorf("%s: trailing data: %w", what, err)
		}
		if e.tag&classMask != classContext {
			return fmt.Errorf("%w: %s: unexpected component 0x%02x", ErrMalformed, what, e.tag)
		}
		for _, k := range known {
			if e.tag&^constructed == k&^constructed {
				return fmt.Errorf("%w: %s: duplicate or misplaced component 0x%02x", ErrMalformed, what, e.tag)
			}
		}
	}
	return nil
}

// parseInt decodes the contents of an INTEGER or ENUMERATED and checks that
// the value lies in [lo, hi]. The encoding must be minimal two's complement
// (X.690 §8.3.2) and at most four octets, which covers every integer LDAP
// carries (all are bounded by maxInt).
func parseInt(b []byte, lo, hi int64, what string) (int64, error) {
	switch {
	case len(b) == 0:
		return 0, fmt.Errorf("%w: %s: empty integer", ErrMalformed, what)
	case len(b) > 4:
		return 0, fmt.Errorf("%w: %s: %d-octet integer (at most 4 allowed)", ErrMalformed, what, len(b))
	case len(b) > 1 && (b[0] == 0x00 && b[1] < 0x80 || b[0] == 0xff && b[1] >= 0x80):
		return 0, fmt.Errorf("%w: %s: non-minimal integer encoding", ErrMalformed, what)
	}
	v := int64(int8(b[0])) // sign-extend the first octet
	for _, x := range b[1:] {
		v = v<<8 | int64(x)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%w: %s: %d out of range %d..%d", ErrMalformed, what, v, lo, hi)
	}
	return v, nil
}

// parseBool decodes the contents of a BOOLEAN. BER reads any non-zero octet
// as TRUE (X.690 §8.2.2); RFC 4511 senders use 0xFF, but other encoders
// (go-asn1-ber among them) send 0x01, so both are accepted.
func parseBool(b []byte, what string) (bool, error) {
	if len(b) != 1 {
		return false, fmt.Errorf("%w: %s: boolean of %d octets", ErrMalformed, what, len(b))
	}
	return b[0] != 0, nil
}

// Encoding. Every append function writes one complete TLV at the end of dst
// and returns the extended slice, in the style of strconv.AppendInt.

// appendLength appends a definite length in the shortest form.
func appendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// appendString appends a primitive TLV whose contents are s.
func appendString(dst []byte, tag byte, s string) []byte {
	dst = append(dst, tag)
	dst = appendLength(dst, len(s))
	return append(dst, s...)
}

// appendBytes appends a primitive TLV whose contents are b.
func appendBytes(dst []byte, tag byte, b []byte) []byte {
	dst = append(dst, tag)
	dst = appendLength(dst, len(b))
	return append(dst, b...)
}

// appendInt appends an INTEGER or ENUMERATED in minimal two's complement.
func appendInt(dst []byte, tag byte, v int64) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	dst = append(dst, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// appendBool appends a BOOLEAN, with TRUE as 0xFF (RFC 4511 §5.1).
func appendBool(dst []byte, tag byte, v bool) []byte {
	if v {
		return append(dst, tag, 1, 0xff)
	}
	return append(dst, tag, 1, 0x00)
}

// begin starts a constructed TLV. It writes the identifier and a one-octet
// placeholder for the length and returns the placeholder's index, which the
// caller hands to end once the contents are written.
func begin(dst []byte, tag byte) ([]byte, int) {
	dst = append(dst, tag, 0)
	return dst, len(dst) - 1
}

// end completes the constructed TLV begun at mark. Contents shorter than 128
// octets fit the placeholder; longer ones are moved right to make room for
// the long form, so the output is always minimal and needs no length
// pre-computation or intermediate tree.
func end(dst []byte, mark int) []byte {
	n := len(dst) - mark - 1
	if n < 0x80 {
		dst[mark] = byte(n)
		return dst
	}
	var hdr [5]byte
	h := appendLength(hdr[:0], n)
	extra := len(h) - 1
	dst = append(dst, hdr[:extra]...) // grow; the bytes are overwritten below
	copy(dst[mark+1+extra:], dst[mark+1:mark+1+n])
	copy(dst[mark:], h)
	return dst
}
