package ldapserver_test

// Hostile input over real sockets (issue #5): hand-made malformed and
// abusive LDAP messages against the whole stack. After each, the server
// answers with the expected result code (protocolError unless the case
// says otherwise) or closes that connection, stays within the memory
// bound below, and still serves a normal client.
//
// Memory bound: one message costs the server at most MaxMessageBytes
// (4 MiB) of buffer, committed only as bytes arrive, plus decoding work
// bounded by wire.Limits. The test checks that no case makes the process
// (server and test together) allocate more than hostileAllocBound in
// total, and that after all cases the live heap is back within
// hostileHeapSlack of where it started.

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver"
)

const (
	hostileAllocBound = 24 << 20
	hostileHeapSlack  = 16 << 20
	hostileReadTO     = 400 * time.Millisecond
)

// BER building blocks.

func berLen(n int) []byte {
	if n < 0x80 {
		return []byte{byte(n)}
	}
	var b []byte
	for ; n > 0; n >>= 8 {
		b = append([]byte{byte(n)}, b...)
	}
	return append([]byte{0x80 | byte(len(b))}, b...)
}

func tlv(tag byte, parts ...[]byte) []byte {
	c := bytes.Join(parts, nil)
	return append(append([]byte{tag}, berLen(len(c))...), c...)
}

func intv(tag byte, v int64) []byte {
	b := []byte{byte(v)}
	for v >>= 8; v != 0 && v != -1 || (v == 0 && b[0]&0x80 != 0) || (v == -1 && b[0]&0x80 == 0); v >>= 8 {
		b = append([]byte{byte(v)}, b...)
	}
	return tlv(tag, b)
}

func integer(v int64) []byte { return intv(0x02, v) }
func enum(v int64) []byte    { return intv(0x0a, v) }
func str(s string) []byte    { return tlv(0x04, []byte(s)) }
func boolean(b bool) []byte {
	if b {
		return []byte{0x01, 0x01, 0xff}
	}
	return []byte{0x01, 0x01, 0x00}
}
func seq(parts ...[]byte) []byte { return tlv(0x30, parts...) }
func set(parts ...[]byte) []byte { return tlv(0x31, parts...) }

func msg(id int64, op []byte, extra ...[]byte) []byte {
	return seq(append([][]byte{integer(id), op}, extra...)...)
}

func present(attr string) []byte { return tlv(0x87, []byte(attr)) }

func search(base string, scope int64, filter []byte, attrs ...string) []byte {
	var as [][]byte
	for _, a := range attrs {
		as = append(as, str(a))
	}
	return tlv(0x63, str(base), enum(scope), enum(0), integer(0), integer(0), boolean(false), filter, seq(as...))
}

func bind(name, pw string) []byte { return tlv(0x60, integer(3), str(name), tlv(0x80, []byte(pw))) }

func extended(oid string, value []byte) []byte {
	parts := [][]byte{tlv(0x80, []byte(oid))}
	if value != nil {
		parts = append(parts, tlv(0x81, value))
	}
	return tlv(0x77, parts...)
}

const startTLSOID = "1.3.6.1.4.1.1466.20037"

func add(dn string, attrs ...[]byte) []byte { return tlv(0x68, str(dn), seq(attrs...)) }
func attr(name string, vals ...[]byte) []byte {
	return seq(str(name), set(vals...))
}

// deepFilter nests n filters of tag (0xa0 and, 0xa2 not) around a
// presence filter, with four-octet lengths so it builds in linear time.
func deepFilter(tag byte, n int) []byte {
	leaf := present("objectClass")
	out := make([]byte, 0, 6*n+len(leaf))
	for k := range n {
		out = append(out, tag, 0x84)
		out = binary.BigEndian.AppendUint32(out, uint32(6*(n-1-k)+len(leaf)))
	}
	return append(out, leaf...)
}

// rawMsg is a message with a four-octet length field claiming n content
// octets, followed by content (possibly fewer octets).
func rawHeader(n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{0x30, 0x84}, n)
}

// clientHello captures the first flight of a real TLS client.
func clientHello(t *testing.T) []byte {
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = tls.Client(a, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}).Handshake()
	}()
	buf := make([]byte, 4096)
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	a.Close()
	<-done
	return buf[:n]
}

// outcome is what the hostile connection saw.
type outcome struct {
	codes  []int // result codes of responses (notices included)
	closed bool  // the server closed or reset the connection
}

// hostileCase is one attack: steps writes to the connection (and may
// upgrade it to TLS, returning the new conn); then responses are read
// until the connection closes or a response's code is in stop.
type hostileCase struct {
	name  string
	ldaps bool
	steps func(t *testing.T, c net.Conn) net.Conn
	// allowed result codes (default {2}); stop ends reading early
	// (default: allowed). mustClose requires the connection to end.
	allowed, stop []int
	mustClose     bool
}

func send(b ...[]byte) func(*testing.T, net.Conn) net.Conn {
	return func(_ *testing.T, c net.Conn) net.Conn {
		_, _ = c.Write(bytes.Join(b, nil))
		return c
	}
}

func sendThenHalfClose(b ...[]byte) func(*testing.T, net.Conn) net.Conn {
	return func(t *testing.T, c net.Conn) net.Conn {
		_, _ = c.Write(bytes.Join(b, nil))
		_ = c.(*net.TCPConn).CloseWrite()
		return c
	}
}

func bytewise(b []byte) func(*testing.T, net.Conn) net.Conn {
	return func(_ *testing.T, c net.Conn) net.Conn {
		_ = c.(*net.TCPConn).SetNoDelay(true)
		for i := range b {
			if _, err := c.Write(b[i : i+1]); err != nil {
				break
			}
		}
		return c
	}
}

// startTLS sends StartTLS, expects success, then upgrades the connection.
func startTLS(t *testing.T, c net.Conn) net.Conn {
	if _, err := c.Write(msg(1, extended(startTLSOID, nil))); err != nil {
		t.Fatal(err)
	}
	if o := readOutcome(t, c, []int{0}); len(o.codes) != 1 || o.codes[0] != 0 {
		t.Fatalf("StartTLS answered %+v", o)
	}
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake after StartTLS: %v", err)
	}
	return tc
}

// readOutcome reads responses until EOF, a reset, a response code in stop,
// or 10 s.
func readOutcome(t *testing.T, c net.Conn, stop []int) outcome {
	var o outcome
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		p, err := ber.ReadPacket(c)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("no answer and no close within 10 s (codes so far %v)", o.codes)
				return o
			}
			o.closed = true // EOF, reset, or garbage (a TLS alert) from a closing server
			return o
		}
		if len(p.Children) < 2 {
			t.Fatalf("server sent a malformed response: %x", p.Bytes())
		}
		op := p.Children[1]
		if op.Tag == 4 || op.Tag == 19 || len(op.Children) == 0 { // search entry or reference
			continue
		}
		code, _ := op.Children[0].Value.(int64)
		o.codes = append(o.codes, int(code))
		if id, _ := p.Children[0].Value.(int64); id == 0 {
			continue // a Notice of Disconnection: the close follows
		}
		if slices.Contains(stop, int(code)) {
			return o
		}
	}
}

func hostileCases(t *testing.T) []hostileCase {
	const base = stacktest.Base
	okSearch := msg(2, search(base, 0, present("objectClass"), "1.1"))
	rng := rand.New(rand.NewPCG(5, 5))
	garbage := make([]byte, 256)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	garbage[0] = 0x30
	garbage[1] = 0x81
	garbage[2] = 0xfd
	big := bytes.Repeat([]byte{'x'}, 10<<20)
	bigAdd := msg(3, add("cn=big,"+base, attr("objectClass", str("person")), attr("description", tlv(0x04, big))))
	var manyAttrs, manyNodes, manyValues, manyControls [][]byte
	for i := range 2000 {
		manyAttrs = append(manyAttrs, str(fmt.Sprintf("a%d", i)))
	}
	for range 20000 {
		manyNodes = append(manyNodes, present("cn"))
	}
	for i := range 150000 {
		manyValues = append(manyValues, str(fmt.Sprint(i)))
	}
	for range 100 {
		manyControls = append(manyControls, seq(str("1.2.3")))
	}
	ctl := func(c ...[]byte) []byte { return tlv(0xa0, c...) }
	searchOp := search(base, 0, present("objectClass"))
	withID := func(idTLV []byte, op []byte) []byte { return seq(idTLV, op) }
	tooBig := append(rawHeader(4<<20+1), make([]byte, 1024)...)

	return []hostileCase{
		// Framing.
		{name: "half-close with nothing sent", steps: sendThenHalfClose(), mustClose: true},
		{name: "lone 0x30 then half-close", steps: sendThenHalfClose([]byte{0x30}), mustClose: true},
		{name: "30 84 7f ff ff ff", steps: send([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}), mustClose: true},
		{name: "30 84 ff ff ff ff", steps: send([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}), mustClose: true},
		{name: "eight-octet length", steps: send([]byte{0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), mustClose: true},
		{name: "five-octet length", steps: send([]byte{0x30, 0x85, 0, 0, 0, 0, 5, 2, 1, 1, 0x42, 0}), mustClose: true},
		{name: "indefinite length", steps: send([]byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x42, 0x00, 0x00, 0x00}), mustClose: true},
		{name: "indefinite length inside", steps: send(seq(integer(1), []byte{0x63, 0x80, 0x04, 0x00, 0x00, 0x00})), mustClose: true},
		{name: "reserved length octet 0xff", steps: send([]byte{0x30, 0xff, 0x02, 0x01, 0x01}), mustClose: true},
		{name: "outer OCTET STRING", steps: send(str("hello")), mustClose: true},
		{name: "outer bind tag", steps: send(bind("", "")), mustClose: true},
		{name: "high tag number form", steps: send([]byte{0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00}), mustClose: true},
		{name: "truncated body then half-close", steps: sendThenHalfClose(okSearch[:len(okSearch)/2]), mustClose: true},
		{name: "truncated body, stalled (read timeout)", steps: send(okSearch[:len(okSearch)-3]), mustClose: true},
		{name: "header claiming 1 MiB, 10 bytes sent, stalled", steps: send(rawHeader(1<<20), []byte("0123456789")), mustClose: true},
		{name: "empty SEQUENCE", steps: send([]byte{0x30, 0x00}), mustClose: true},
		{name: "random bytes", steps: send(garbage), mustClose: true},
		{name: "TLS ClientHello on the plain port", steps: send(clientHello(t)), mustClose: true},
		{name: "HTTP request", steps: send([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), mustClose: true},
		{name: "10 MB attribute value", steps: send(bigAdd), mustClose: true},
		{name: "message one byte over the limit", steps: send(tooBig), mustClose: true},
		// Message IDs.
		{name: "messageID as OCTET STRING", steps: send(withID(str("1"), searchOp)), mustClose: true},
		{name: "messageID negative", steps: send(msg(-1, searchOp)), mustClose: true},
		{name: "messageID above 2^31-1", steps: send(msg(1<<31, searchOp)), mustClose: true},
		{name: "messageID nine octets", steps: send(withID(tlv(0x02, bytes.Repeat([]byte{1}, 9)), searchOp)), mustClose: true},
		{name: "messageID zero-length INTEGER", steps: send(withID([]byte{0x02, 0x00}, searchOp)), mustClose: true},
		{name: "messageID missing", steps: send(seq(searchOp)), mustClose: true},
		{name: "messageID only", steps: send(seq(integer(5))), mustClose: true},
		// Operations.
		{name: "unknown application tag", steps: send(msg(2, tlv(0x7e, str("x"))))},
		{name: "operation as universal SEQUENCE", steps: send(msg(2, seq(str("x")))), mustClose: true},
		{name: "bind version as OCTET STRING", steps: send(msg(2, tlv(0x60, str("3"), str(""), tlv(0x80, nil))))},
		{name: "bind version 2", steps: send(msg(2, tlv(0x60, integer(2), str(""), tlv(0x80, nil))))},
		{name: "bind with unknown auth choice", steps: send(msg(2, tlv(0x60, integer(3), str(""), tlv(0x85, nil)))), allowed: []int{2, 7}},
		{name: "bind without name", steps: send(msg(2, tlv(0x60, integer(3))))},
		{name: "search scope 7", steps: send(msg(2, search(base, 7, present("cn"))))},
		{name: "search derefAliases 9", steps: send(msg(2, tlv(0x63, str(base), enum(0), enum(9), integer(0), integer(0), boolean(false), present("cn"), seq())))},
		{name: "search sizeLimit negative", steps: send(msg(2, tlv(0x63, str(base), enum(0), enum(0), integer(-5), integer(0), boolean(false), present("cn"), seq())))},
		{name: "search missing attribute list", steps: send(msg(2, tlv(0x63, str(base), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"))))},
		{name: "filter: and nested 100,000 deep", steps: send(msg(2, search(base, 2, deepFilter(0xa0, 100000))))},
		{name: "filter: not nested 100,000 deep", steps: send(msg(2, search(base, 2, deepFilter(0xa2, 100000))))},
		{name: "filter: 20,000 components", steps: send(msg(2, search(base, 2, tlv(0xa1, manyNodes...))))},
		{name: "filter: unknown tag", steps: send(msg(2, search(base, 2, tlv(0x8f, []byte("x")))))},
		{name: "filter: substrings with none", steps: send(msg(2, search(base, 2, tlv(0xa4, str("cn"), seq()))))},
		{name: "filter: two initial substrings", steps: send(msg(2, search(base, 2, tlv(0xa4, str("cn"), seq(tlv(0x80, []byte("a")), tlv(0x80, []byte("b")))))))},
		{name: "filter: extensible match with wrong types", steps: send(msg(2, search(base, 2, tlv(0xa9, integer(1), integer(2)))))},
		{name: "filter: equality with three parts", steps: send(msg(2, search(base, 2, tlv(0xa3, str("cn"), str("a"), str("b")))))},
		{name: "search attribute list holding an INTEGER", steps: send(msg(2, tlv(0x63, str(base), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"), seq(integer(1)))))},
		{name: "search with 2,000 attributes", steps: send(msg(2, tlv(0x63, str(base), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"), seq(manyAttrs...))))},
		{name: "add with 150,000 values", steps: send(msg(2, add("cn=x,"+base, attr("description", manyValues...))))},
		{name: "add attribute without values SET", steps: send(msg(2, add("cn=x,"+base, seq(str("cn")))))},
		{name: "modify with operation 9", steps: send(msg(2, tlv(0x66, str(base), seq(seq(enum(9), attr("cn", str("x")))))))},
		{name: "modDN without newRDN", steps: send(msg(2, tlv(0x6c, str(base))))},
		{name: "delete as constructed", steps: send(msg(2, tlv(0x6a, str(base))))},
		{name: "compare without assertion", steps: send(msg(2, tlv(0x6e, str(base))))},
		{name: "abandon with OCTET STRING id", steps: send(msg(2, tlv(0x50, []byte{})), okSearch), allowed: []int{0, 2}, stop: []int{0, 2}},
		{name: "extended without OID", steps: send(msg(2, tlv(0x77)))},
		{name: "extended with value of the wrong tag", steps: send(msg(2, tlv(0x77, tlv(0x80, []byte("1.3.6.1.4.1.4203.1.11.1")), tlv(0x04, []byte("x")))))},
		{name: "password modify with garbage value", steps: send(msg(2, extended("1.3.6.1.4.1.4203.1.11.1", []byte{0x30, 0x03, 0x99, 0x01, 0x00}))), allowed: []int{2, 13, 53}}, // 13: over plain LDAP (passwords need TLS)
		{name: "token generation with garbage value", steps: send(msg(2, extended("2.25.295583884755326249504665175635765695291.3.1", []byte{0x30, 0x02, 0x04, 0x05})))},
		// Controls.
		{name: "control OID as INTEGER", steps: send(msg(2, searchOp, ctl(seq(integer(1)))))},
		{name: "control criticality as OCTET STRING", steps: send(msg(2, searchOp, ctl(seq(str("1.2.840.113556.1.4.319"), str("true")))))},
		{name: "control not a SEQUENCE", steps: send(msg(2, searchOp, ctl(str("1.2.3"))))},
		{name: "controls as primitive [0]", steps: send(msg(2, searchOp, tlv(0x80, []byte("x"))))},
		{name: "100 controls", steps: send(msg(2, searchOp, ctl(manyControls...)))},
		{name: "paged results control with garbage value", steps: send(msg(2, searchOp, ctl(seq(str("1.2.840.113556.1.4.319"), boolean(true), str("\xff\xff")))))},
		{name: "unknown critical control", steps: send(msg(2, searchOp, ctl(seq(str("1.2.3.4.5"), boolean(true))))), allowed: []int{12}},
		// A controlType must be a numeric OID (RFC 4511 4.1.11, RFC 4512):
		// anything else is protocolError, critical or not. An empty type
		// was once answered with success.
		{name: "critical control with an empty type", steps: send(msg(2, searchOp, ctl(seq(str(""), boolean(true)))))},
		{name: "control with an empty type", steps: send(msg(2, searchOp, ctl(seq(str("")))))},
		{name: "critical control with an empty type on a bind", steps: send(msg(2, bind("", ""), ctl(seq(str(""), boolean(true)))))},
		{name: "critical control type a name", steps: send(msg(2, searchOp, ctl(seq(str("pagedResults"), boolean(true)))))},
		{name: "control type with a leading zero", steps: send(msg(2, searchOp, ctl(seq(str("1.2.840.0113556.1.4.319"), boolean(true)))))},
		{name: "control type ending in a dot", steps: send(msg(2, searchOp, ctl(seq(str("1.2.840.113556.1.4.319."), boolean(true)))))},
		{name: "control type of one arc", steps: send(msg(2, searchOp, ctl(seq(str("1"), boolean(true)))))},
		{name: "control type with a space", steps: send(msg(2, searchOp, ctl(seq(str(" 1.2.840.113556.1.4.319"), boolean(false)))))},
		{name: "critical empty-type control after a known one", steps: send(msg(2, searchOp, ctl(seq(str("1.2.840.113556.1.4.319"), boolean(false), str("0\x05\x02\x01\x05\x04\x00")), seq(str(""), boolean(true)))))},
		// StartTLS in the wrong order.
		{name: "StartTLS then LDAP instead of a ClientHello", steps: func(t *testing.T, c net.Conn) net.Conn {
			_, _ = c.Write(msg(1, extended(startTLSOID, nil)))
			_ = readOutcome(t, c, []int{0})
			_, _ = c.Write(okSearch)
			return c
		}, allowed: []int{}, mustClose: true},
		{name: "StartTLS with a bind pipelined behind it", steps: send(msg(1, extended(startTLSOID, nil)), msg(2, bind("admin", "pw"))), allowed: []int{1}, stop: []int{}, mustClose: true},
		{name: "StartTLS twice", steps: func(t *testing.T, c net.Conn) net.Conn {
			tc := startTLS(t, c)
			_, _ = tc.Write(msg(3, extended(startTLSOID, nil)))
			return tc
		}, allowed: []int{1}},
		{name: "StartTLS on the LDAPS port", ldaps: true, steps: send(msg(1, extended(startTLSOID, nil))), allowed: []int{1}},
		{name: "password bind before StartTLS", steps: send(msg(1, bind("admin", "not-over-plaintext"))), allowed: []int{13}},
		{name: "malformed message after StartTLS", steps: func(t *testing.T, c net.Conn) net.Conn {
			tc := startTLS(t, c)
			_, _ = tc.Write([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff})
			return tc
		}, mustClose: true},
		// Delivery.
		{name: "valid search one byte per write", steps: bytewise(okSearch), allowed: []int{0}},
		{name: "malformed message one byte per write", steps: bytewise(msg(2, search(base, 7, present("cn"))))},
		{name: "valid search then half-close", steps: sendThenHalfClose(okSearch), allowed: []int{0}, stop: []int{}, mustClose: true},
		{name: "reset right after a request", steps: func(_ *testing.T, c net.Conn) net.Conn {
			_, _ = c.Write(okSearch)
			_ = c.(*net.TCPConn).SetLinger(0)
			c.Close()
			return nil
		}},
		{name: "1,000 pipelined searches then hostile bytes", steps: send(bytes.Repeat(okSearch, 1000), []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}),
			allowed: []int{0}, stop: []int{}, mustClose: true},
	}
}

func TestHostileInput(t *testing.T) {
	s := stacktest.New(t, func(srv *ldapserver.Server) {
		srv.ReadTimeout = hostileReadTO
		srv.IdleTimeout = 5 * time.Second
		srv.WriteTimeout = 2 * time.Second
	})
	cases := hostileCases(t)
	if len(cases) < 50 {
		t.Fatalf("only %d hostile cases", len(cases))
	}
	plain := strings.TrimPrefix(s.LDAPURL, "ldap://")
	secure := strings.TrimPrefix(s.LDAPSURL, "ldaps://")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse
	var worst uint64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runtime.ReadMemStats(&ms)
			before := ms.TotalAlloc
			var c net.Conn
			var err error
			if tc.ldaps {
				c, err = tls.Dial("tcp", secure, &tls.Config{InsecureSkipVerify: true})
			} else {
				c, err = net.Dial("tcp", plain)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			allowed := tc.allowed
			if allowed == nil {
				allowed = []int{2}
			}
			stop := tc.stop
			if stop == nil {
				stop = allowed
			}
			if rc := tc.steps(t, c); rc != nil {
				o := readOutcome(t, rc, stop)
				for _, code := range o.codes {
					if !slices.Contains(allowed, code) && !(o.closed && code == 2) {
						t.Errorf("answered result code %d, want one of %v (or protocolError and close); all: %v", code, allowed, o.codes)
					}
				}
				if tc.mustClose && !o.closed {
					t.Errorf("connection still open, want it closed (codes %v)", o.codes)
				}
				if !o.closed && len(o.codes) == 0 {
					t.Errorf("neither an answer nor a close")
				}
				rc.Close()
			}
			runtime.ReadMemStats(&ms)
			used := ms.TotalAlloc - before
			worst = max(worst, used)
			if used > hostileAllocBound {
				t.Errorf("the case allocated %d MiB, bound %d MiB", used>>20, hostileAllocBound>>20)
			}
			// A normal client is still served.
			admin := s.IDMAdmin(t)
			if _, err := admin.WhoAmI(nil); err != nil {
				t.Fatalf("normal client after the case: %v", err)
			}
			admin.Close()
		})
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("%d hostile cases; largest allocation by one case %.1f MiB; heap in use %.1f -> %.1f MiB",
		len(cases), float64(worst)/(1<<20), float64(baseHeap)/(1<<20), float64(ms.HeapInuse)/(1<<20))
	if ms.HeapInuse > baseHeap+hostileHeapSlack {
		t.Errorf("heap in use grew from %d to %d MiB", baseHeap>>20, ms.HeapInuse>>20)
	}
}
