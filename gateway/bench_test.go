package gateway_test

// End-to-end benchmarks of the request paths over loopback: the connection
// loop, BER decoding, the gateway, idm and the store, with the client side
// kept to pre-encoded requests and wire.ReadPacket. Profile the server with
// go test -bench E2E -cpuprofile and look under ldapserver.(*conn).serve.

import (
	"bufio"
	"io"
	"net"
	"net/url"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

const e2ePeople = 1000

type e2e struct {
	conn      net.Conn
	br        *bufio.Reader
	tokenBind []byte
	entries   int
}

func newE2E(b *testing.B) *e2e {
	b.Helper()
	s := stacktest.New(b, func(srv *ldapserver.Server) {
		srv.AllowInsecureBind = true
		srv.Logger = zerolog.New(io.Discard) // JSON encoding as in production, not the test log
	})
	token := s.SeedPeople(b, e2ePeople)
	u, _ := url.Parse(s.LDAPURL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	x := &e2e{conn: c, br: bufio.NewReader(c)}
	x.tokenBind = bindPacket("dn=token", token)
	if code := x.roundTrip(b, x.tokenBind); code != 0 {
		b.Fatalf("token bind: code %d", code)
	}
	return x
}

func message(op *ber.Packet) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 1, ""))
	p.AppendChild(op)
	return p.Bytes()
}

func bindPacket(name, pw string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, pw, ""))
	return message(op)
}

func whoAmIPacket() []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 23, nil, "")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.4203.1.11.3", ""))
	return message(op)
}

func searchPacket(filter *ber.Packet, attrs ...string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, stacktest.Base, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 2, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(filter)
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, a := range attrs {
		list.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, ""))
	}
	op.AppendChild(list)
	return message(op)
}

func eqFilter(attr, value string) *ber.Packet {
	f := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "")
	f.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, attr, ""))
	f.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, value, ""))
	return f
}

func anyFilter(attr, value string) *ber.Packet {
	f := ber.Encode(ber.ClassContext, ber.TypeConstructed, 4, nil, "")
	f.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, attr, ""))
	subs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	subs.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 1, value, ""))
	f.AppendChild(subs)
	return f
}

// roundTrip sends a request and reads up to its result, whose code it
// returns; entries are counted in x.entries.
func (x *e2e) roundTrip(b *testing.B, req []byte) int {
	if _, err := x.conn.Write(req); err != nil {
		b.Fatal(err)
	}
	for {
		p, err := wire.ReadPacket(x.br, 0)
		if err != nil {
			b.Fatal(err)
		}
		// SEQUENCE, messageID INTEGER (short), then the op tag.
		i := 2
		if p[1]&0x80 != 0 {
			i += int(p[1] & 0x7f)
		}
		i += 2 + int(p[i+1])
		switch p[i] {
		case 0x64: // SearchResultEntry
			x.entries++
			continue
		}
		j := i + 2
		if p[i+1]&0x80 != 0 {
			j += int(p[i+1] & 0x7f)
		}
		return int(p[j+2])
	}
}

func (x *e2e) run(b *testing.B, req []byte, wantEntries int) {
	b.ReportAllocs()
	x.entries = 0
	n := 0
	for b.Loop() {
		if code := x.roundTrip(b, req); code != 0 {
			b.Fatalf("result code %d", code)
		}
		n++
	}
	if x.entries != n*wantEntries {
		b.Fatalf("%d entries in %d searches, want %d each", x.entries, n, wantEntries)
	}
}

func BenchmarkE2ETokenBind(b *testing.B) {
	x := newE2E(b)
	x.run(b, x.tokenBind, 0)
}

func BenchmarkE2EWhoAmI(b *testing.B) { newE2E(b).run(b, whoAmIPacket(), 0) }

func BenchmarkE2ESearchIndexedEq(b *testing.B) {
	newE2E(b).run(b, searchPacket(eqFilter("uid", "user500"), "uid", "cn", "sn", "mail"), 1)
}

func BenchmarkE2ESearchScanSubstring(b *testing.B) {
	newE2E(b).run(b, searchPacket(anyFilter("cn", "r 50"), "uid", "cn", "sn", "mail"), 11)
}
