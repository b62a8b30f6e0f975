package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/ldapd/ldapd/certs"
)

func TestEnsureCreatesTrustedChainAndReusesIt(t *testing.T) {
	dir := t.TempDir() + "/tls"
	now := time.Now()
	f, err := certs.Ensure(dir, []string{"ldap.example.test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(f.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "ldap.example.test"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("certificate not valid for %s: %v", host, err)
		}
	}
	for _, key := range []string{f.Key, f.CAKey} {
		st, err := os.Stat(key)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", key, st.Mode().Perm())
		}
	}
	again, err := certs.Ensure(dir, []string{"ldap.example.test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	pair2, _ := tls.LoadX509KeyPair(again.Cert, again.Key)
	if !pair2.Leaf.Equal(pair.Leaf) {
		t.Error("a second Ensure replaced a valid certificate")
	}
	// Near expiry, the server certificate is renewed under the same CA.
	later, err := certs.Ensure(dir, []string{"ldap.example.test"}, now.AddDate(1, 0, -10))
	if err != nil {
		t.Fatal(err)
	}
	pair3, _ := tls.LoadX509KeyPair(later.Cert, later.Key)
	if pair3.Leaf.Equal(pair.Leaf) {
		t.Error("certificate near expiry was not renewed")
	}
	if _, err := pair3.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", CurrentTime: now.AddDate(1, 0, -10)}); err != nil {
		t.Errorf("renewed certificate does not chain to the CA: %v", err)
	}
}
