package certs_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ldapd/ldapd/certs"
)

// ensured returns the files of a certificate for the default names, made
// by Ensure in a new directory.
func ensured(t *testing.T) certs.Files {
	t.Helper()
	f, err := certs.Ensure(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestNoWeakCipherSuites: every suite offered is secure by Go's own list,
// ECDHE and AEAD, and a client that offers only CBC suites is refused.
func TestNoWeakCipherSuites(t *testing.T) {
	f := ensured(t)
	cfg, err := certs.ServerConfig(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("MinVersion %x < TLS 1.2", cfg.MinVersion)
	}
	var insecure []uint16
	for _, cs := range tls.InsecureCipherSuites() {
		insecure = append(insecure, cs.ID)
	}
	for _, id := range cfg.CipherSuites {
		name := tls.CipherSuiteName(id)
		if slices.Contains(insecure, id) || !bytes.Contains([]byte(name), []byte("ECDHE")) ||
			!(bytes.Contains([]byte(name), []byte("GCM")) || bytes.Contains([]byte(name), []byte("CHACHA20"))) {
			t.Errorf("weak suite offered: %s", name)
		}
	}
	for _, client := range []*tls.Config{
		{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}},
		{MaxVersion: tls.VersionTLS11},
	} {
		client.InsecureSkipVerify = true
		if err := handshake(t, cfg, client); err == nil {
			t.Errorf("handshake with %+v succeeded, want refusal", client)
		}
	}
}

func handshake(t *testing.T, srv, client *tls.Config) error {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		s := tls.Server(a, srv)
		done <- s.Handshake()
		s.Close()
	}()
	c := tls.Client(b, client)
	err := c.Handshake()
	c.Close()
	if serr := <-done; err == nil {
		err = serr
	}
	return err
}

// TestReloader: Reload swaps the certificate for new handshakes; a broken
// file keeps the old one.
func TestReloader(t *testing.T) {
	dir := t.TempDir()
	f, err := certs.Ensure(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r, err := certs.NewReloader(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.GetCertificate(nil)
	// Renew: a certificate whose remaining life is short is replaced.
	if err := os.Remove(f.Cert); err != nil {
		t.Fatal(err)
	}
	if _, err := certs.Ensure(dir, []string{"ldap.example.net"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	second, _ := r.GetCertificate(nil)
	if bytes.Equal(first.Certificate[0], second.Certificate[0]) {
		t.Fatal("Reload kept the old certificate")
	}
	leaf, err := x509.ParseCertificate(second.Certificate[0])
	if err != nil || !slices.Contains(leaf.DNSNames, "ldap.example.net") {
		t.Fatalf("reloaded certificate names %v (%v)", leaf.DNSNames, err)
	}
	if err := os.WriteFile(f.Cert, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := r.Reload(); err == nil {
		t.Fatal("Reload of a broken file succeeded")
	}
	if cur, _ := r.GetCertificate(nil); cur != second {
		t.Fatal("a failed Reload replaced the certificate")
	}
}

func TestLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.pem"), filepath.Join(dir, "bad.pem")
	for _, p := range []struct {
		name string
		mode os.FileMode
	}{{good, 0o600}, {bad, 0o644}} {
		if err := os.WriteFile(p.name, []byte("x"), p.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p.name, p.mode); err != nil {
			t.Fatal(err)
		}
	}
	w := certs.LoosePermissions(good, bad)
	if len(w) != 1 || !bytes.Contains([]byte(w[0]), []byte("bad.pem")) {
		t.Fatalf("warnings %q, want one for bad.pem", w)
	}
	// 0644 is fine for a certificate; 0664 is not.
	if w := certs.WritableByOthers(bad); len(w) != 0 {
		t.Fatalf("0644 certificate warned about: %q", w)
	}
	if err := os.Chmod(bad, 0o664); err != nil {
		t.Fatal(err)
	}
	if w := certs.WritableByOthers(good, bad); len(w) != 1 {
		t.Fatalf("0664 certificate: warnings %q, want one", w)
	}
}

// TestKeyExchange: hybrid gives a Go client the post-quantum hybrid;
// classical gives it X25519 and refuses a client that offers only the
// hybrid; a resumed session runs a fresh key exchange of the same kind.
func TestKeyExchange(t *testing.T) {
	f := ensured(t)
	r, err := certs.NewReloader(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := caPool(t, f.CA)
	for _, tc := range []struct {
		kx   certs.KeyExchange
		want tls.CurveID
	}{
		{certs.DefaultKeyExchange, tls.X25519MLKEM768},
		{certs.KeyExchangeHybrid, tls.X25519MLKEM768},
		{certs.KeyExchangeClassical, tls.X25519},
	} {
		srv := r.Config(tc.kx)
		client := &tls.Config{RootCAs: pool, ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(1)}
		for i, wantResumed := range []bool{false, true} {
			st, err := connState(t, srv, client)
			if err != nil {
				t.Fatalf("%s: handshake %d: %v", tc.kx, i, err)
			}
			if st.CurveID != tc.want || st.DidResume != wantResumed || st.Version != tls.VersionTLS13 {
				t.Errorf("%s: handshake %d: %v, resumed %v, version %x; want %v, resumed %v, TLS 1.3",
					tc.kx, i, st.CurveID, st.DidResume, st.Version, tc.want, wantResumed)
			}
		}
	}
	pqOnly := &tls.Config{RootCAs: pool, ServerName: "localhost", CurvePreferences: []tls.CurveID{tls.X25519MLKEM768}}
	if _, err := connState(t, r.Config(certs.KeyExchangeClassical), pqOnly); err == nil {
		t.Error("classical: a client offering only X25519MLKEM768 was served")
	}
	for _, s := range []string{"hybrid", "classical"} {
		if kx, err := certs.ParseKeyExchange(s); err != nil || string(kx) != s {
			t.Errorf("ParseKeyExchange(%q) = %q, %v", s, kx, err)
		}
	}
	for _, s := range []string{"", "X25519", "pq"} {
		if _, err := certs.ParseKeyExchange(s); err == nil {
			t.Errorf("ParseKeyExchange(%q) succeeded", s)
		}
	}
}

// connState runs a handshake and one application record each way (which
// delivers the TLS 1.3 session ticket to the client) and returns the
// client's view of the connection. The pipe is closed without TLS
// close_notify alerts, which neither end would read.
func connState(t *testing.T, srv, client *tls.Config) (tls.ConnectionState, error) {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		defer a.Close()
		s := tls.Server(a, srv)
		buf := make([]byte, 1)
		if _, err := s.Read(buf); err != nil {
			done <- err
			return
		}
		_, err := s.Write(buf)
		done <- err
	}()
	defer b.Close()
	c := tls.Client(b, client)
	if _, err := c.Write([]byte{1}); err != nil {
		<-done
		return tls.ConnectionState{}, err
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		<-done
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), <-done
}
