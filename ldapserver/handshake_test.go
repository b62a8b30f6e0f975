package ldapserver_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/ldaptest"
)

// connEvents signals each accepted and each closed connection.
type connEvents struct{ opened, closed chan struct{} }

func newConnEvents() *connEvents {
	return &connEvents{opened: make(chan struct{}, 16), closed: make(chan struct{}, 16)}
}
func (o *connEvents) ConnOpened()                       { o.opened <- struct{}{} }
func (o *connEvents) ConnClosed()                       { o.closed <- struct{}{} }
func (o *connEvents) OpDone(string, int, time.Duration) {}

func waitFor(t *testing.T, ch <-chan struct{}, what string, limit time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(limit):
		t.Fatalf("no %s within %v", what, limit)
	}
}

// silentLDAPSClient opens a TCP connection to the LDAPS listener and sends
// nothing: the server waits in the TLS handshake.
func silentLDAPSClient(t *testing.T, ts *ldaptest.Server) net.Conn {
	t.Helper()
	u, err := url.Parse(ts.LDAPSURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestHandshakeTimeout: a client that never completes the TLS handshake is
// disconnected after HandshakeTimeout.
func TestHandshakeTimeout(t *testing.T) {
	ev := newConnEvents()
	ts := ldaptest.NewServer(t, &ldapserver.Server{Handler: ldapserver.HandlerFunc(func(w ldapserver.ResponseWriter, r *ldapserver.Request) {
		w.WriteResult(ldapserver.Result{})
	}), HandshakeTimeout: 200 * time.Millisecond, Observer: ev})
	start := time.Now() // before the dial: the server's clock starts at its accept
	c := silentLDAPSClient(t, ts)
	waitFor(t, ev.opened, "accepted connection", 5*time.Second)
	waitFor(t, ev.closed, "close after the handshake timeout", 5*time.Second)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("closed after %v, before the handshake timeout", d)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ne net.Error
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("read after the server's timeout: %v, want the connection closed", err)
	}
}

// TestShutdownDuringHandshake: Shutdown does not wait HandshakeTimeout for
// a client stuck in its handshake.
func TestShutdownDuringHandshake(t *testing.T) {
	ev := newConnEvents()
	srv := &ldapserver.Server{Handler: ldapserver.HandlerFunc(func(w ldapserver.ResponseWriter, r *ldapserver.Request) {
		w.WriteResult(ldapserver.Result{})
	}), HandshakeTimeout: time.Minute, Observer: ev}
	ts := ldaptest.NewServer(t, srv)
	silentLDAPSClient(t, ts)
	waitFor(t, ev.opened, "accepted connection", 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
}

// TestStartTLSThenIdle: the TLS handshake of StartTLS bounds the socket by
// HandshakeTimeout; once it is done, a connection that was busy before it
// may idle for longer than that (up to IdleTimeout) and still be served:
// the handshake's deadlines are replaced, not taken for the idle and write
// ones already in force.
func TestStartTLSThenIdle(t *testing.T) {
	const handshake = 300 * time.Millisecond
	s := stacktest.New(t, func(srv *ldapserver.Server) {
		srv.HandshakeTimeout = handshake
		srv.IdleTimeout = 10 * time.Second
		srv.WriteTimeout = 10 * time.Second
	})
	c, err := net.Dial("tcp", strings.TrimPrefix(s.LDAPURL, "ldap://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := msg(2, search(stacktest.Base, 0, present("objectClass"), "1.1"))
	if _, err := c.Write(req); err != nil { // sets the idle and write deadlines
		t.Fatal(err)
	}
	if o := readOutcome(t, c, []int{0}); len(o.codes) != 1 || o.codes[0] != 0 {
		t.Fatalf("search before StartTLS answered %+v", o)
	}
	tc := startTLS(t, c)
	time.Sleep(3 * handshake)
	if _, err := tc.Write(req); err != nil {
		t.Fatal(err)
	}
	if o := readOutcome(t, tc, []int{0}); len(o.codes) != 1 || o.codes[0] != 0 || o.closed {
		t.Fatalf("search after StartTLS and %v idle answered %+v, want success on an open connection", 3*handshake, o)
	}
}
