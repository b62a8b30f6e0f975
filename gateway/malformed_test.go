package gateway_test

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/stacktest"
)

// rawDeadline bounds every raw exchange: a server that neither answers nor
// closes within it hangs, which is a failure.
const rawDeadline = 10 * time.Second

// rawConn is a hand-driven LDAP connection, over LDAPS or plain LDAP.
type rawConn struct {
	net.Conn
	t testing.TB
}

func dialRaw(t testing.TB, s *stacktest.Stack, useTLS bool) *rawConn {
	t.Helper()
	var nc net.Conn
	var err error
	if useTLS {
		nc, err = tls.Dial("tcp", strings.TrimPrefix(s.LDAPSURL, "ldaps://"), s.TLSConfig())
	} else {
		nc, err = net.Dial("tcp", strings.TrimPrefix(s.LDAPURL, "ldap://"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := nc.SetDeadline(time.Now().Add(rawDeadline)); err != nil {
		t.Fatal(err)
	}
	return &rawConn{Conn: nc, t: t}
}

func (c *rawConn) send(b []byte) {
	c.t.Helper()
	if _, err := c.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// closeWrite half-closes the connection so the server sees end of input.
func (c *rawConn) closeWrite() {
	c.t.Helper()
	var err error
	switch nc := c.Conn.(type) {
	case *tls.Conn:
		err = nc.CloseWrite()
	case *net.TCPConn:
		err = nc.CloseWrite()
	}
	if err != nil {
		c.t.Fatalf("close write: %v", err)
	}
}

// response is one decoded LDAPMessage from the server.
type response struct {
	id   int64
	tag  ber.Tag
	code int64
	name string // responseName of an extended response
}

// next reads one message; io.EOF (or a reset) means the server closed.
func (c *rawConn) next() (response, error) {
	c.t.Helper()
	p, err := ber.ReadPacket(c)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("the server neither answered nor closed within %v", rawDeadline)
		}
		return response{}, err
	}
	if len(p.Children) < 2 || len(p.Children[1].Children) < 1 {
		c.t.Fatalf("malformed response from the server: %x", p.Bytes())
	}
	r := response{id: p.Children[0].Value.(int64), tag: p.Children[1].Tag}
	r.code, _ = p.Children[1].Children[0].Value.(int64)
	for _, ch := range p.Children[1].Children {
		if ch.ClassType == ber.ClassContext && ch.Tag == 10 {
			r.name = ch.Data.String()
		}
	}
	return r, nil
}

// wantRejected reads what the server does after a malformed message: it
// answers protocolError to that message and keeps the connection (RFC 4511
// 4.1.1 when the message ID could be read), or sends a Notice of
// Disconnection with protocolError and closes, or just closes. Anything
// else fails the test. It reports whether the connection is still open.
func (c *rawConn) wantRejected() (open bool) {
	c.t.Helper()
	for {
		r, err := c.next()
		if err != nil {
			return false // closed
		}
		if r.code != ldap.LDAPResultProtocolError {
			c.t.Fatalf("server answered %+v to a malformed message, want protocolError or a close", r)
		}
		if r.id != 0 {
			return true
		}
		if r.name != "1.3.6.1.4.1.1466.20036" {
			c.t.Fatalf("unsolicited message %+v is not a Notice of Disconnection", r)
		}
	}
}

// stillServes checks that a connection the server kept after a rejected
// message answers a WhoAmI.
func (c *rawConn) stillServes() {
	c.t.Helper()
	c.send(whoamiRequest(99))
	r, err := c.next()
	if err != nil || r.id != 99 || r.code != 0 {
		c.t.Fatalf("WhoAmI after the rejected message: %+v, %v", r, err)
	}
}

// whoamiRequest encodes a WhoAmI extended request with message ID id.
func whoamiRequest(id byte) []byte {
	return append([]byte{0x30, 0x1e, 0x02, 0x01, id, 0x77, 0x19, 0x80, 0x17}, "1.3.6.1.4.1.4203.1.11.3"...)
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// nestedAnd encodes a search request whose filter is depth nested ANDs
// around (objectClass=*).
func nestedAnd(depth int) []byte {
	f := mustHex("87 0b") // present
	f = append(f, "objectClass"...)
	for range depth {
		f = append(berHeader(0xa0, len(f)), f...)
	}
	body := mustHex("04 00 0a 01 02 0a 01 00 02 01 00 02 01 00 01 01 00") // base "", sub, never, 0, 0, false
	body = append(body, f...)
	body = append(body, 0x30, 0x00) // no attributes
	op := append(berHeader(0x63, len(body)), body...)
	msg := append(mustHex("02 01 07"), op...)
	return append(berHeader(0x30, len(msg)), msg...)
}

// berHeader returns a tag and a definite length.
func berHeader(tag byte, n int) []byte {
	switch {
	case n < 0x80:
		return []byte{tag, byte(n)}
	case n < 0x100:
		return []byte{tag, 0x81, byte(n)}
	case n < 0x10000:
		return []byte{tag, 0x82, byte(n >> 8), byte(n)}
	}
	return []byte{tag, 0x83, byte(n >> 16), byte(n >> 8), byte(n)}
}

func TestMalformedPDUs(t *testing.T) {
	s := stacktest.New(t)
	cases := []struct {
		name     string
		pdu      []byte
		truncate bool // half-close after sending
	}{
		{"truncated message", mustHex("30 0c 02 01 01 60 07 02 01 03 04 00"), true},
		{"truncated length", mustHex("30 84 00"), true},
		{"length 2 GiB", mustHex("30 84 7f ff ff ff"), false},
		{"length 2 GiB then data", append(mustHex("30 84 7f ff ff ff 02 01 01"), bytes.Repeat([]byte{0}, 1024)...), false},
		{"length of length too long", mustHex("30 89 01 02 03 04 05 06 07 08 09"), false},
		{"indefinite length", mustHex("30 80 02 01 01 42 00 00 00"), false},
		{"wrong outer tag", mustHex("04 05 68 65 6c 6c 6f"), false},
		{"message ID is an OCTET STRING", mustHex("30 0c 04 01 01 60 07 02 01 03 04 00 80 00"), false},
		{"negative message ID", mustHex("30 0c 02 01 ff 60 07 02 01 03 04 00 80 00"), false},
		{"unknown operation tag", mustHex("30 05 02 01 01 5f 00"), false},
		{"inner length past the end", mustHex("30 07 02 01 01 60 7f 02 01"), false},
		{"bind with a bad authentication choice", mustHex("30 0c 02 01 01 60 07 02 01 03 04 00 85 00"), false},
		{"search filter nested 2000 deep", nestedAnd(2000), false},
		{"zero bytes", bytes.Repeat([]byte{0}, 64), false},
	}
	for _, tc := range cases {
		for _, useTLS := range []bool{true, false} {
			name := tc.name + map[bool]string{true: " over LDAPS", false: " over LDAP"}[useTLS]
			t.Run(name, func(t *testing.T) {
				c := dialRaw(t, s, useTLS)
				c.send(tc.pdu)
				if tc.truncate {
					c.closeWrite()
				}
				if c.wantRejected() {
					c.stillServes()
				}
				// The server is still there for everyone else.
				if got := whoami(t, s.IDMAdmin(t)); got != idmAdminSPN {
					t.Fatalf("whoami after the bad PDU = %q", got)
				}
			})
		}
	}
	t.Run("garbage before the TLS handshake", func(t *testing.T) {
		nc, err := net.Dial("tcp", strings.TrimPrefix(s.LDAPSURL, "ldaps://"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if err := nc.SetDeadline(time.Now().Add(rawDeadline)); err != nil {
			t.Fatal(err)
		}
		if _, err := nc.Write(mustHex("30 0c 02 01 01 60 07 02 01 03 04 00 80 00")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, nc); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("server did not close a connection that sent no TLS handshake")
			}
		}
		if got := whoami(t, s.IDMAdmin(t)); got != idmAdminSPN {
			t.Fatalf("whoami = %q", got)
		}
	})
}

// TestRawProtocol drives Abandon and Unbind by hand: go-ldap and the
// ldap-utils send them only implicitly.
func TestRawProtocol(t *testing.T) {
	s := stacktest.New(t)
	t.Run("abandon gets no response and the connection goes on", func(t *testing.T) {
		c := dialRaw(t, s, true)
		c.send(mustHex("30 06 02 01 02 50 01 01")) // abandon message 1
		c.send(whoamiRequest(3))
		r, err := c.next()
		if err != nil {
			t.Fatalf("no response after abandon: %v", err)
		}
		if r.id != 3 || r.tag != ber.Tag(ldap.ApplicationExtendedResponse) || r.code != 0 {
			t.Fatalf("response %+v, want a successful WhoAmI response to message 3", r)
		}
	})
	t.Run("abandon of an unknown message over LDAP", func(t *testing.T) {
		c := dialRaw(t, s, false)
		c.send(mustHex("30 06 02 01 05 50 01 63"))
		c.send(whoamiRequest(6))
		if r, err := c.next(); err != nil || r.id != 6 {
			t.Fatalf("response %+v, %v; want message 6", r, err)
		}
	})
	t.Run("StartTLS on an LDAPS connection is operationsError", func(t *testing.T) {
		c := dialRaw(t, s, true)
		oid := "1.3.6.1.4.1.1466.20037"
		c.send(append([]byte{0x30, byte(7 + len(oid)), 0x02, 0x01, 0x04, 0x77, byte(2 + len(oid)), 0x80, byte(len(oid))}, oid...))
		r, err := c.next()
		if err != nil || r.id != 4 || r.code != ldap.LDAPResultOperationsError {
			t.Fatalf("response %+v, %v; want operationsError to message 4", r, err)
		}
		c.stillServes()
	})
	t.Run("unbind closes the connection without a response", func(t *testing.T) {
		c := dialRaw(t, s, true)
		c.send(mustHex("30 05 02 01 01 42 00"))
		if r, err := c.next(); err == nil {
			t.Fatalf("server answered %+v to unbind", r)
		}
	})
	t.Run("go-ldap/unbind", func(t *testing.T) {
		c := s.IDMAdmin(t)
		if err := c.Unbind(); err != nil {
			t.Fatalf("unbind: %v", err)
		}
		if _, err := c.WhoAmI(nil); err == nil {
			t.Fatal("the connection is still usable after unbind")
		}
	})
	t.Run("malformed search filter is rejected", func(t *testing.T) {
		c := dialRaw(t, s, true)
		// search with a substrings filter that has no substrings
		body := mustHex("04 00 0a 01 00 0a 01 00 02 01 00 02 01 00 01 01 00 a4 05 04 01 63 30 00 30 00")
		op := append(berHeader(0x63, len(body)), body...)
		msg := append(mustHex("02 01 09"), op...)
		c.send(append(berHeader(0x30, len(msg)), msg...))
		if !c.wantRejected() {
			t.Fatal("the server closed the connection; the message ID was readable, so protocolError was expected")
		}
		c.stillServes()
	})
}
