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

	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"github.com/ldapd/ldapd/metrics"
)

const e2ePeople = 1000

type e2e struct {
	conn      net.Conn
	br        *bufio.Reader
	pkt       []byte
	tokenBind []byte
	entries   int
}

func newE2E(b testing.TB) *e2e {
	b.Helper()
	// As shipped: JSON log lines at the default level (info: an access
	// line per operation, no debug lines), encoded as in production but
	// not kept, and the metrics on (the store wrapped, every operation
	// observed).
	log := zerolog.New(io.Discard).Level(zerolog.InfoLevel)
	reg := metrics.New()
	s := stacktest.NewConfigured(b, func(cfg *idm.Config) {
		cfg.Logger = log
		cfg.Store = reg.Store(cfg.Store)
	}, func(srv *ldapserver.Server) {
		srv.AllowInsecureBind = true
		srv.Logger = log
		srv.Observer = reg
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
func (x *e2e) roundTrip(b testing.TB, req []byte) int {
	if _, err := x.conn.Write(req); err != nil {
		b.Fatal(err)
	}
	for {
		var err error
		x.pkt, err = wire.AppendPacket(x.pkt[:0], x.br, 0)
		if err != nil {
			b.Fatal(err)
		}
		p := x.pkt
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

// searchAllocsBound is the most allocations one indexed search may make
// through the whole stack, server and this file's client together: the
// request's decoding (its message and packet copy; the typed search is
// built in the connection's memory), the store's query (its read
// transaction, buckets, cursors and the base's key are reused), the
// candidate's DN (its string and, in one, its RDNs), and what idm and the
// metrics need per operation (the connection's context values are made
// once per connection; the response writer is handed to idm as its
// EntryWriter, no closure). The entry itself (its attributes and values,
// the readable view, the selection, the encoded response and the access
// line) allocates nothing.
const searchAllocsBound = 7 // 7 measured

// TestSearchAllocs fails when an indexed search (uid=userN) returning four
// attributes allocates more than searchAllocsBound times, as shipped (the
// access log at info and the metrics on), and shows its server-side count
// with -v.
func TestSearchAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts under the race detector")
	}
	if testing.Short() {
		t.Skip("imports a directory")
	}
	x := newE2E(t)
	req := searchPacket(eqFilter("uid", "user500"), "uid", "cn", "sn", "mail")
	allocs := testing.AllocsPerRun(200, func() {
		if code := x.roundTrip(t, req); code != 0 {
			t.Fatalf("result code %d", code)
		}
	})
	if x.entries != 201 {
		t.Fatalf("%d entries in 201 searches", x.entries)
	}
	t.Logf("%.0f allocations per search", allocs)
	if allocs > searchAllocsBound {
		t.Errorf("an indexed search allocates %.0f times, more than the bound of %d", allocs, searchAllocsBound)
	}
}
