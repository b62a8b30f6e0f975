package wire

// Test-only BER builders. They are deliberately independent of the
// package's own encoder, so that tests of the decoder do not lean on it, and
// they make malformed input easy to build.

// tlv returns a TLV with identifier tag whose contents are the
// concatenation of parts, with a minimal definite length.
func tlv(tag byte, parts ...[]byte) []byte {
	var body []byte
	for _, p := range parts {
		body = append(body, p...)
	}
	return append(append([]byte{tag}, berLen(len(body))...), body...)
}

// berLen encodes n as a minimal definite length.
func berLen(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var b []byte
	for x := n; x > 0; x >>= 8 {
		b = append([]byte{byte(x)}, b...)
	}
	return append([]byte{0x80 | byte(len(b))}, b...)
}

// ostr is an OCTET STRING (or any primitive with identifier tag).
func ostr(s string) []byte { return tlv(0x04, []byte(s)) }

// prim is a primitive TLV with identifier tag.
func prim(tag byte, s string) []byte { return tlv(tag, []byte(s)) }

// seq is a SEQUENCE.
func seq(parts ...[]byte) []byte { return tlv(0x30, parts...) }

// set is a SET.
func set(parts ...[]byte) []byte { return tlv(0x31, parts...) }

// intTLV is an INTEGER or ENUMERATED (by tag) in minimal two's complement.
func intTLV(tag byte, v int64) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * (n - 1 - i)))
	}
	return tlv(tag, b)
}

func integer(v int64) []byte { return intTLV(0x02, v) }
func enum(v int64) []byte    { return intTLV(0x0a, v) }

func boolean(v bool) []byte {
	if v {
		return []byte{0x01, 0x01, 0xff}
	}
	return []byte{0x01, 0x01, 0x00}
}

// msg is an LDAPMessage with messageID id, protocolOp op and optionally
// more components (controls).
func msg(id int64, op []byte, rest ...[]byte) []byte {
	return seq(append([][]byte{integer(id), op}, rest...)...)
}

// control is one Control; value nil means absent.
func control(oid string, critical bool, value []byte) []byte {
	parts := [][]byte{ostr(oid)}
	if critical {
		parts = append(parts, boolean(true))
	}
	if value != nil {
		parts = append(parts, tlv(0x04, value))
	}
	return seq(parts...)
}

// controls wraps controls as the envelope's [0] component.
func controls(c ...[]byte) []byte { return tlv(0xa0, c...) }

// Filter builders.
func and(f ...[]byte) []byte { return tlv(0xa0, f...) }
func or(f ...[]byte) []byte  { return tlv(0xa1, f...) }
func not(f []byte) []byte    { return tlv(0xa2, f) }
func eq(a, v string) []byte  { return tlv(0xa3, ostr(a), ostr(v)) }
func present(a string) []byte {
	return prim(0x87, a)
}

// searchOp is a searchRequest around filter with fixed other fields.
func searchOp(filter []byte, attrs ...string) []byte {
	var as [][]byte
	for _, a := range attrs {
		as = append(as, ostr(a))
	}
	return tlv(0x63, ostr("dc=example,dc=com"), enum(2), enum(0), integer(0), integer(0), boolean(false), filter, seq(as...))
}
