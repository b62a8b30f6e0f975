package main

// A minimal LDAP request encoder: just the messages ldapload sends, written
// into a reused buffer so that the client costs little CPU per operation.

import "github.com/ldapd/ldapd/ldapserver/wire"

const (
	tagSequence   = 0x30
	tagInteger    = 0x02
	tagOctets     = 0x04
	tagEnumerated = 0x0a
	tagBoolean    = 0x01

	appBindRequest     = 0x60
	appUnbindRequest   = 0x42
	appSearchRequest   = 0x63
	appModifyRequest   = 0x66
	appAddRequest      = 0x68
	appExtendedRequest = 0x77

	appBindResponse     = 0x61
	appSearchEntry      = 0x64
	appSearchDone       = 0x65
	appSearchReference  = 0x73
	appModifyResponse   = 0x67
	appAddResponse      = 0x69
	appExtendedResponse = 0x78

	ctxSimpleAuth   = 0x80
	ctxExtendedName = 0x80
	ctxFilterEq     = 0xa3
	ctxFilterSubstr = 0xa4
	ctxSubAny       = 0x81
)

func appendLen(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xff:
		return append(b, 0x81, byte(n))
	case n <= 0xffff:
		return append(b, 0x82, byte(n>>8), byte(n))
	default:
		return append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
}

func appendStr(b []byte, tag byte, s string) []byte {
	b = append(b, tag)
	b = appendLen(b, len(s))
	return append(b, s...)
}

func appendInt(b []byte, tag byte, v int) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	b = append(b, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// begin starts a constructed element with a 3-octet length placeholder
// (0x82 hi lo), so end never has to move the contents.
func begin(b []byte, tag byte) ([]byte, int) {
	b = append(b, tag, 0x82, 0, 0)
	return b, len(b)
}

func end(b []byte, mark int) []byte {
	n := len(b) - mark
	b[mark-2], b[mark-1] = byte(n>>8), byte(n)
	return b
}

func beginMessage(b []byte, id int) ([]byte, int) {
	b, m := begin(b, tagSequence)
	return appendInt(b, tagInteger, id), m
}

func appendBind(b []byte, id int, dn, pw string) []byte {
	b, msg := beginMessage(b, id)
	b, op := begin(b, appBindRequest)
	b = appendInt(b, tagInteger, 3)
	b = appendStr(b, tagOctets, dn)
	b = appendStr(b, ctxSimpleAuth, pw)
	b = end(b, op)
	return end(b, msg)
}

func appendUnbind(b []byte, id int) []byte {
	b, msg := beginMessage(b, id)
	b = append(b, appUnbindRequest, 0)
	return end(b, msg)
}

func appendWhoAmI(b []byte, id int) []byte {
	b, msg := beginMessage(b, id)
	b, op := begin(b, appExtendedRequest)
	b = appendStr(b, ctxExtendedName, wire.WhoAmIOID)
	b = end(b, op)
	return end(b, msg)
}

// appendSearch writes a subtree search with an equality filter
// (attr=value) or, when sub is set, a substring filter (attr=*value*).
func appendSearch(b []byte, id int, base, attr, value string, sub bool, attrs []string) []byte {
	b, msg := beginMessage(b, id)
	b, op := begin(b, appSearchRequest)
	b = appendStr(b, tagOctets, base)
	b = appendInt(b, tagEnumerated, 2) // wholeSubtree
	b = appendInt(b, tagEnumerated, 0) // neverDerefAliases
	b = appendInt(b, tagInteger, 0)    // sizeLimit
	b = appendInt(b, tagInteger, 0)    // timeLimit
	b = append(b, tagBoolean, 1, 0)    // typesOnly
	if sub {
		var f int
		b, f = begin(b, ctxFilterSubstr)
		b = appendStr(b, tagOctets, attr)
		var s int
		b, s = begin(b, tagSequence)
		b = appendStr(b, ctxSubAny, value)
		b = end(b, s)
		b = end(b, f)
	} else {
		var f int
		b, f = begin(b, ctxFilterEq)
		b = appendStr(b, tagOctets, attr)
		b = appendStr(b, tagOctets, value)
		b = end(b, f)
	}
	var al int
	b, al = begin(b, tagSequence)
	for _, a := range attrs {
		b = appendStr(b, tagOctets, a)
	}
	b = end(b, al)
	b = end(b, op)
	return end(b, msg)
}

// appendModifyReplace replaces attr of dn with one value.
func appendModifyReplace(b []byte, id int, dn, attr, value string) []byte {
	b, msg := beginMessage(b, id)
	b, op := begin(b, appModifyRequest)
	b = appendStr(b, tagOctets, dn)
	var changes, change, pa, vals int
	b, changes = begin(b, tagSequence)
	b, change = begin(b, tagSequence)
	b = appendInt(b, tagEnumerated, 2) // replace
	b, pa = begin(b, tagSequence)
	b = appendStr(b, tagOctets, attr)
	b, vals = begin(b, 0x31)
	b = appendStr(b, tagOctets, value)
	b = end(b, vals)
	b = end(b, pa)
	b = end(b, change)
	b = end(b, changes)
	b = end(b, op)
	return end(b, msg)
}

// appendAdd adds dn with attrs, given as type, value, type, value...
func appendAdd(b []byte, id int, dn string, attrs ...string) []byte {
	b, msg := beginMessage(b, id)
	b, op := begin(b, appAddRequest)
	b = appendStr(b, tagOctets, dn)
	var list int
	b, list = begin(b, tagSequence)
	for i := 0; i+1 < len(attrs); {
		typ := attrs[i]
		var a, vals int
		b, a = begin(b, tagSequence)
		b = appendStr(b, tagOctets, typ)
		b, vals = begin(b, 0x31)
		for ; i+1 < len(attrs) && attrs[i] == typ; i += 2 {
			b = appendStr(b, tagOctets, attrs[i+1])
		}
		b = end(b, vals)
		b = end(b, a)
	}
	b = end(b, list)
	b = end(b, op)
	return end(b, msg)
}

// response is the little ldapload looks at in a server message.
type response struct {
	id   int
	tag  byte
	code int // result code; -1 for entries and references
}

// parseResponse reads the message ID, the protocol op tag and, for results,
// the result code. It does not validate the rest of the message.
func parseResponse(p []byte) (response, bool) {
	i, ok := skipHeader(p, 0) // LDAPMessage SEQUENCE
	if !ok || i+2 > len(p) || p[i] != tagInteger {
		return response{}, false
	}
	n := int(p[i+1])
	i += 2
	if n > 4 || i+n > len(p) {
		return response{}, false
	}
	id := 0
	for _, c := range p[i : i+n] {
		id = id<<8 | int(c)
	}
	i += n
	if i >= len(p) {
		return response{}, false
	}
	r := response{id: id, tag: p[i], code: -1}
	if r.tag == appSearchEntry || r.tag == appSearchReference {
		return r, true
	}
	j, ok := skipHeader(p, i)
	if !ok || j+3 > len(p) || p[j] != tagEnumerated {
		return response{}, false
	}
	r.code = int(p[j+2])
	return r, true
}

// skipHeader returns the offset of the contents of the TLV at i.
func skipHeader(p []byte, i int) (int, bool) {
	if i+2 > len(p) {
		return 0, false
	}
	l := p[i+1]
	if l < 0x80 {
		return i + 2, true
	}
	return i + 2 + int(l&0x7f), i+2+int(l&0x7f) <= len(p)
}
