package wire

import (
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// Decoding and encoding the other message types of the hot paths (bind,
// WhoAmI, modify, add); the search ones are in bench_test.go.

func benchMessage(op *ber.Packet) []byte {
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 7, ""))
	env.AppendChild(op)
	return env.Bytes()
}

func str(s string) *ber.Packet {
	return ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s, "")
}

func benchDecode(b *testing.B, pkt []byte) {
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(pkt, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBind(b *testing.B) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op.AppendChild(str("dn=token"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, string(make([]byte, 128)), ""))
	benchDecode(b, benchMessage(op))
}

func BenchmarkDecodeWhoAmI(b *testing.B) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 23, nil, "")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.4203.1.11.3", ""))
	benchDecode(b, benchMessage(op))
}

func BenchmarkDecodeModify(b *testing.B) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 6, nil, "")
	op.AppendChild(str("uid=jdoe,ou=people,dc=example,dc=com"))
	changes := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	ch := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	ch.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, ""))
	pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	pa.AppendChild(str("description"))
	vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
	vals.AppendChild(str("a new description"))
	pa.AppendChild(vals)
	ch.AppendChild(pa)
	changes.AppendChild(ch)
	op.AppendChild(changes)
	benchDecode(b, benchMessage(op))
}

func BenchmarkDecodeAdd(b *testing.B) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 8, nil, "")
	op.AppendChild(str("uid=jdoe,ou=people,dc=example,dc=com"))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, a := range benchAttrs()[:5] {
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		pa.AppendChild(str(a.Type))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		for _, v := range a.Values {
			vals.AppendChild(str(v))
		}
		pa.AppendChild(vals)
		list.AppendChild(pa)
	}
	op.AppendChild(list)
	benchDecode(b, benchMessage(op))
}

func BenchmarkAppendBindResponse(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendBindResponse(buf[:0], 7, Result{Code: ResultSuccess}, nil, nil)
	}
}

func BenchmarkAppendWhoAmIResponse(b *testing.B) {
	buf := make([]byte, 0, 256)
	value := []byte("u: reader@idm.example.com")
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendExtendedResponse(buf[:0], 7, Result{Code: ResultSuccess}, "", value, true, nil)
	}
}
