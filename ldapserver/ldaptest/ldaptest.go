// Package ldaptest runs an ldapserver.Server on loopback for tests, in the
// manner of net/http/httptest.
//
// # Basics
//
// NewServer binds 127.0.0.1:0 for LDAPS and for LDAP with StartTLS before it
// returns, so a test can connect at once: no polling, no sleeps. The TLS
// material comes from package certs in a temporary directory; CAFile names
// the CA to trust (LDAPTLS_CACERT for OpenLDAP's tools). The server is shut
// down by t.Cleanup.
//
// # Caveats
//
// Only tests should import this package.
package ldaptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/ldapserver"
)

// Server is a running test server.
type Server struct {
	// LDAPSURL and LDAPURL are ldaps://127.0.0.1:PORT and ldap://...
	LDAPSURL, LDAPURL string
	// CAFile is the PEM CA that signed the server certificate.
	CAFile string
	// Srv is the server, configured before Start.
	Srv *ldapserver.Server

	t    testing.TB
	done chan error
	lns  []net.Listener
}

// NewServer starts srv (its Handler and options set by the caller; its
// TLSConfig is filled in) and returns once it is listening.
func NewServer(t testing.TB, srv *ldapserver.Server) *Server {
	t.Helper()
	f, err := certs.Ensure(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatalf("ldaptest: TLS material: %v", err)
	}
	if srv.TLSConfig == nil {
		if srv.TLSConfig, err = certs.ServerConfig(f.Cert, f.Key); err != nil {
			t.Fatalf("ldaptest: %v", err)
		}
	}
	s := &Server{Srv: srv, CAFile: f.CA, t: t, done: make(chan error, 2)}
	ldaps := s.listen()
	plain := s.listen()
	s.LDAPSURL = "ldaps://" + ldaps.Addr().String()
	s.LDAPURL = "ldap://" + plain.Addr().String()
	go func() { s.done <- srv.ServeTLS(ldaps) }()
	go func() { s.done <- srv.Serve(plain) }()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatalf("ldaptest: listen: %v", err)
	}
	s.lns = append(s.lns, ln)
	return ln
}

// Close shuts the server down and waits for its goroutines.
func (s *Server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Srv.Shutdown(ctx)
	for range s.lns {
		if err := <-s.done; err != nil && !errors.Is(err, ldapserver.ErrServerClosed) {
			s.t.Errorf("ldaptest: serve: %v", err)
		}
	}
	s.lns = nil
}

// TLSConfig returns a client configuration trusting CAFile.
func (s *Server) TLSConfig() *tls.Config {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		s.t.Fatalf("ldaptest: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Dial returns a go-ldap client connected over LDAPS, closed by t.Cleanup.
func (s *Server) Dial(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatalf("ldaptest: dial %s: %v", s.LDAPSURL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// DialPlain returns a go-ldap client over plain LDAP (no StartTLS yet).
func (s *Server) DialPlain(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.LDAPURL)
	if err != nil {
		t.Fatalf("ldaptest: dial %s: %v", s.LDAPURL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
