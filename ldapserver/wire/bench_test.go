package wire

import (
	"bufio"
	"bytes"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// benchSearchPacket is a typical search request as go-ldap encodes it:
// a two-term filter, five attributes, no controls (about 135 octets).
func benchSearchPacket(tb testing.TB) []byte {
	tb.Helper()
	filter, err := ldap.CompileFilter("(&(objectClass=inetOrgPerson)(uid=jdoe))")
	if err != nil {
		tb.Fatal(err)
	}
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 2, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "ou=people,dc=example,dc=com", ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(filter)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, a := range []string{"cn", "mail", "uid", "telephoneNumber", "memberOf"} {
		attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, ""))
	}
	op.AppendChild(attrs)
	env.AppendChild(op)
	return env.Bytes()
}

// benchAttrs is an entry of six attributes, as a search returns it.
func benchAttrs() []Attribute {
	return []Attribute{
		{Type: "objectClass", Values: []string{"top", "person", "organizationalPerson", "inetOrgPerson"}},
		{Type: "uid", Values: []string{"jdoe"}},
		{Type: "cn", Values: []string{"John Doe"}},
		{Type: "sn", Values: []string{"Doe"}},
		{Type: "mail", Values: []string{"jdoe@example.com", "john.doe@example.com"}},
		{Type: "memberOf", Values: []string{"cn=staff,ou=groups,dc=example,dc=com", "cn=vpn,ou=groups,dc=example,dc=com"}},
	}
}

func BenchmarkDecodeSearch(b *testing.B) {
	pkt := benchSearchPacket(b)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(pkt, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSearchASN1BER is the comparison: go-asn1-ber's generic
// decoder on the same packet, before any conversion to typed values.
func BenchmarkDecodeSearchASN1BER(b *testing.B) {
	pkt := benchSearchPacket(b)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ber.DecodePacketErr(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadAndDecodeSearch(b *testing.B) {
	pkt := benchSearchPacket(b)
	stream := bytes.NewReader(nil)
	r := bufio.NewReader(stream)
	var buf []byte
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		stream.Reset(pkt)
		r.Reset(stream)
		var err error
		if buf, err = AppendPacket(buf[:0], r, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(buf, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSearchEntry(b *testing.B) {
	attrs := benchAttrs()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendSearchEntry(buf[:0], 2, "uid=jdoe,ou=people,dc=example,dc=com", attrs, nil)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAppendSearchEntryASN1BER is the comparison: the same entry built
// as a go-asn1-ber packet tree and serialized, as go-ldap-based servers do.
func BenchmarkAppendSearchEntryASN1BER(b *testing.B) {
	attrs := benchAttrs()
	var n int
	b.ReportAllocs()
	for b.Loop() {
		env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 2, ""))
		op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "")
		op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "uid=jdoe,ou=people,dc=example,dc=com", ""))
		list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		for _, a := range attrs {
			pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
			pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.Type, ""))
			vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
			for _, v := range a.Values {
				vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, v, ""))
			}
			pa.AppendChild(vals)
			list.AppendChild(pa)
		}
		op.AppendChild(list)
		env.AppendChild(op)
		n = len(env.Bytes())
	}
	b.SetBytes(int64(n))
}

func BenchmarkAppendResult(b *testing.B) {
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResult(buf[:0], 2, ApplicationSearchResultDone, Result{}, nil)
	}
}
