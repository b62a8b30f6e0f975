package admin

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in    string
		addr  string
		host  string
		ldaps bool
		bad   string
	}{
		{"", "localhost:3636", "localhost", true, ""},
		{"ldaps://localhost:3636", "localhost:3636", "localhost", true, ""},
		{"ldaps://idm.example.com", "idm.example.com:636", "idm.example.com", true, ""},
		{"ldap://idm.example.com", "idm.example.com:389", "idm.example.com", false, ""},
		{"LDAP://127.0.0.1:3389/", "127.0.0.1:3389", "127.0.0.1", false, ""},
		{"ldaps://[::1]:3636", "[::1]:3636", "::1", true, ""},
		{"http://localhost", "", "", false, "scheme must be ldaps:// or ldap://"},
		{"localhost:3636", "", "", false, "want ldaps://HOST[:PORT]"},
		{"ldaps://", "", "", false, "want ldaps://HOST[:PORT]"},
		{"ldaps://host/dc=example", "", "", false, "without path"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			ep, err := parseURL(tc.in)
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want one containing %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.addr != tc.addr || ep.host != tc.host || ep.ldaps != tc.ldaps {
				t.Errorf("got %+v", ep)
			}
		})
	}
}

// testCA is a self-signed CA certificate that is also the server
// certificate for 127.0.0.1 and the given DNS names.
type testCA struct {
	cert    tls.Certificate
	pemFile string
	pool    *x509.CertPool
}

func newTestCA(t *testing.T, dnsNames ...string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ldapd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              dnsNames,
	}
	if len(dnsNames) == 0 {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	return testCA{cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemFile: file, pool: pool}
}

// serveOnce accepts connections on 127.0.0.1:0 and hands each to handle;
// the listener is closed and the goroutines joined at the end of the test.
func serveOnce(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func tlsHandshake(ca testCA) func(net.Conn) {
	return func(c net.Conn) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{ca.cert}})
		tc.Handshake() // fails when the client rejects the certificate
	}
}

func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url := "ldaps://" + addr
	_, err = Dial(context.Background(), Config{URL: url})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if want := "cannot reach the server at " + url + ": connection refused"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}

func TestDialUntrusted(t *testing.T) {
	ca := newTestCA(t)
	addr := serveOnce(t, tlsHandshake(ca))
	url := "ldaps://" + addr

	t.Run("unknown authority", func(t *testing.T) {
		_, err := Dial(context.Background(), Config{URL: url, RootCAs: x509.NewCertPool()})
		if !errors.Is(err, ErrUntrusted) {
			t.Fatalf("err = %v, want ErrUntrusted", err)
		}
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Errorf("the x509 error is not wrapped: %v", err)
		}
		if want := "the server at " + url + " presented a certificate signed by an unknown authority"; err.Error() != want {
			t.Errorf("message %q, want %q", err.Error(), want)
		}
	})
	t.Run("wrong host", func(t *testing.T) {
		other := newTestCA(t, "ldap.example")
		addr := serveOnce(t, tlsHandshake(other))
		_, err := Dial(context.Background(), Config{URL: "ldaps://" + addr, RootCAs: other.pool})
		if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "is not valid for 127.0.0.1") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDialNotTLS(t *testing.T) {
	addr := serveOnce(t, func(c net.Conn) {
		// A plain LDAP server answering garbage to a ClientHello.
		c.Write([]byte("0\x0c\x02\x01\x00x\x07\n\x01\x02\x04\x00\x04\x00"))
	})
	_, err := Dial(context.Background(), Config{URL: "ldaps://" + addr})
	if err == nil || !strings.Contains(err.Error(), "does not speak TLS") {
		t.Errorf("err = %v", err)
	}
}

// startTLSServer answers the StartTLS request with resultCode and, on
// success, does the TLS handshake with ca's certificate. It records the
// request bytes it read.
func startTLSServer(t *testing.T, ca testCA, resultCode int64, got chan<- []byte) string {
	return serveOnce(t, func(c net.Conn) {
		req, err := ber.ReadPacket(c)
		if err != nil {
			got <- nil
			return
		}
		got <- req.Bytes()
		resp := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		resp.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), ""))
		ext := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedResponse, nil, "")
		ext.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, resultCode, ""))
		ext.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
		ext.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
		resp.AppendChild(ext)
		c.Write(resp.Bytes())
		if resultCode == 0 {
			tlsHandshake(ca)(c)
		}
	})
}

func TestDialStartTLS(t *testing.T) {
	ca := newTestCA(t)

	t.Run("request, then certificate check", func(t *testing.T) {
		got := make(chan []byte, 1)
		addr := startTLSServer(t, ca, 0, got)
		_, err := Dial(context.Background(), Config{URL: "ldap://" + addr, RootCAs: x509.NewCertPool()})
		if !errors.Is(err, ErrUntrusted) {
			t.Errorf("err = %v, want ErrUntrusted (the handshake after StartTLS verifies)", err)
		}
		// LDAPMessage { messageID 1, [APPLICATION 23] { [0] "1.3.6.1.4.1.1466.20037" } }
		want := append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, "1.3.6.1.4.1.1466.20037"...)
		if b := <-got; string(b) != string(want) {
			t.Errorf("StartTLS request %x, want %x", b, want)
		}
	})
	t.Run("refused", func(t *testing.T) {
		got := make(chan []byte, 1)
		addr := startTLSServer(t, ca, ldap.LDAPResultProtocolError, got)
		_, err := Dial(context.Background(), Config{URL: "ldap://" + addr, RootCAs: ca.pool})
		if err == nil || !strings.Contains(err.Error(), "refused StartTLS: protocol error (LDAP result 2)") {
			t.Errorf("err = %v", err)
		}
		<-got
	})
}

func TestTLSConfig(t *testing.T) {
	ca := newTestCA(t)
	t.Run("CA file", func(t *testing.T) {
		tc, err := Config{CAFile: ca.pemFile}.tlsConfig("localhost")
		if err != nil || tc.RootCAs == nil || tc.ServerName != "localhost" || tc.MinVersion != tls.VersionTLS12 || tc.InsecureSkipVerify {
			t.Errorf("got %+v, %v", tc, err)
		}
	})
	t.Run("system roots", func(t *testing.T) {
		tc, err := Config{}.tlsConfig("localhost")
		if err != nil || tc.RootCAs != nil {
			t.Errorf("got %+v, %v", tc, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Config{CAFile: filepath.Join(t.TempDir(), "nope.pem")}.tlsConfig("localhost")
		if err == nil || !strings.Contains(err.Error(), "cannot read the CA certificate file") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("not PEM", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "x.pem")
		os.WriteFile(f, []byte("hello"), 0o600)
		_, err := Config{CAFile: f}.tlsConfig("localhost")
		if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestDialCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Dial(ctx, Config{URL: "ldaps://127.0.0.1:1"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
