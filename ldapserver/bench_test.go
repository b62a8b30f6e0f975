package ldapserver_test

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/url"
	"testing"

	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/ldaptest"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// Pre-encoded requests: an anonymous simple bind (message 1) and an
// unbind (message 2).
var (
	anonBind = []byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00}
	unbind   = []byte{0x30, 0x05, 0x02, 0x01, 0x02, 0x42, 0x00}
)

// BenchmarkConnectLDAPS measures what a client that connects for each
// operation costs: TCP connect, TLS handshake (resumed after the first,
// as with any client keeping a session cache), a bind and an unbind. Both
// ends run in this process, so the time and allocations are the sum of
// client and server; a CPU or memory profile separates them by stack
// (serverHandshake, ldapserver.(*conn).serve).
func BenchmarkConnectLDAPS(b *testing.B) {
	srv := &ldapserver.Server{Handler: ldapserver.HandlerFunc(func(w ldapserver.ResponseWriter, r *ldapserver.Request) {
		w.WriteResult(ldapserver.Result{})
	})}
	ts := ldaptest.NewServer(b, srv)
	u, err := url.Parse(ts.LDAPSURL)
	if err != nil {
		b.Fatal(err)
	}
	conf := ts.TLSConfig()
	conf.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	var resumed int
	var pkt []byte
	b.ReportAllocs()
	for b.Loop() {
		nc, err := net.Dial("tcp", u.Host)
		if err != nil {
			b.Fatal(err)
		}
		c := tls.Client(nc, conf)
		if _, err := c.Write(anonBind); err != nil {
			b.Fatal(err)
		}
		if c.ConnectionState().DidResume {
			resumed++
		}
		pkt, err = wire.AppendPacket(pkt[:0], bufio.NewReader(c), 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(unbind); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
	b.ReportMetric(float64(resumed)/float64(b.N), "resumed/op")
}
