package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/certs"
)

// caPool reads a CA file into a pool and returns its certificate.
func caPool(t *testing.T, file string) (*x509.CertPool, *x509.Certificate) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", file)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, cert
}

// TestGenerateMakesConstrainedChainWithoutCAKey: the first Generate makes
// a chain valid for every default name; the CA's private key is on disk
// nowhere (the directory holds exactly ca.pem, server.pem and
// server-key.pem, the last 0600); a second Generate reuses it; near expiry
// the certificate is replaced with a new CA, which clients must trust
// again (the new certificate does not chain to the old CA).
func TestGenerateMakesConstrainedChainWithoutCAKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	r, err := certs.Generate(dir, []string{"ldap.example.test", "192.0.2.7"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !r.NewCA || !strings.HasPrefix(r.NewCAReason, "first use") {
		t.Errorf("first Generate: NewCA %v, reason %q", r.NewCA, r.NewCAReason)
	}
	pool, ca := caPool(t, r.CA)
	pair, err := tls.LoadX509KeyPair(r.Cert, r.Key)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1", "ldap.example.test", "192.0.2.7"} {
		if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: host}); err != nil {
			t.Errorf("certificate not valid for %s: %v", host, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"ca.pem", "server-key.pem", "server.pem"}) {
		t.Errorf("TLS directory holds %v, want exactly ca.pem, server-key.pem, server.pem (no CA key)", names)
	}
	for _, f := range []string{r.CA, r.Cert} {
		if b, _ := os.ReadFile(f); strings.Contains(string(b), "PRIVATE KEY") {
			t.Errorf("%s holds a private key", f)
		}
	}
	if st, err := os.Stat(r.Key); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v (%v), want 0600", r.Key, st.Mode().Perm(), err)
	}
	if got := ca.NotAfter.Sub(now); got > certs.Lifetime+time.Minute || got < certs.Lifetime-time.Minute {
		t.Errorf("CA valid for %v from now, want %v", got, certs.Lifetime)
	}
	if !pair.Leaf.NotAfter.Equal(ca.NotAfter) || !r.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("leaf ends %v, CA %v, Result %v: want the same", pair.Leaf.NotAfter, ca.NotAfter, r.NotAfter)
	}

	again, err := certs.Generate(dir, []string{"ldap.example.test"}, now) // a subset of the names: reused
	if err != nil {
		t.Fatal(err)
	}
	pair2, _ := tls.LoadX509KeyPair(again.Cert, again.Key)
	if again.NewCA || !pair2.Leaf.Equal(pair.Leaf) {
		t.Errorf("a second Generate replaced a valid certificate (NewCA %v, %q)", again.NewCA, again.NewCAReason)
	}
	if len(again.Warnings) != 0 {
		t.Errorf("warnings on reuse: %q", again.Warnings)
	}

	// Within WarnBefore: a warning naming the date and how to renew.
	soon := now.Add(certs.Lifetime - certs.WarnBefore + 24*time.Hour)
	w, err := certs.Generate(dir, nil, soon)
	if err != nil || w.NewCA || len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], "rm "+r.Cert) {
		t.Fatalf("near expiry: NewCA %v, warnings %q, %v", w.NewCA, w.Warnings, err)
	}

	// Within RenewBefore: a new CA and certificate.
	later := now.Add(certs.Lifetime - 10*24*time.Hour)
	renewed, err := certs.Generate(dir, nil, later)
	if err != nil {
		t.Fatal(err)
	}
	if !renewed.NewCA || !strings.HasPrefix(renewed.NewCAReason, "renewal") {
		t.Fatalf("renewal: NewCA %v, reason %q", renewed.NewCA, renewed.NewCAReason)
	}
	pair3, _ := tls.LoadX509KeyPair(renewed.Cert, renewed.Key)
	newPool, _ := caPool(t, renewed.CA)
	if _, err := pair3.Leaf.Verify(x509.VerifyOptions{Roots: newPool, DNSName: "localhost", CurrentTime: later}); err != nil {
		t.Errorf("renewed certificate does not chain to the new CA: %v", err)
	}
	if _, err := pair3.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost", CurrentTime: later}); err == nil {
		t.Error("renewed certificate chains to the old CA, whose key should not exist")
	}
}

// TestGeneratedCAConstraints: the CA carries a critical name-constraints
// extension permitting exactly the certificate's DNS names and single
// addresses, and server authentication only.
func TestGeneratedCAConstraints(t *testing.T) {
	r, err := certs.Generate(t.TempDir(), []string{"ldap.example.test", "*.dir.example.test", "2001:db8::5"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, ca := caPool(t, r.CA)
	oidNameConstraints := asn1.ObjectIdentifier{2, 5, 29, 30}
	critical := false
	for _, ext := range ca.Extensions {
		if ext.Id.Equal(oidNameConstraints) {
			critical = ext.Critical
		}
	}
	if !critical || !ca.PermittedDNSDomainsCritical {
		t.Error("the CA's name constraints are missing or not critical")
	}
	host, _ := os.Hostname()
	wantDNS := []string{"localhost", host, "ldap.example.test", "dir.example.test"}
	if !slices.Equal(ca.PermittedDNSDomains, wantDNS) {
		t.Errorf("permitted DNS %v, want %v", ca.PermittedDNSDomains, wantDNS)
	}
	var ranges []string
	for _, n := range ca.PermittedIPRanges {
		ranges = append(ranges, n.String())
	}
	if want := []string{"127.0.0.1/32", "::1/128", "2001:db8::5/128"}; !slices.Equal(ranges, want) {
		t.Errorf("permitted IP ranges %v, want %v", ranges, want)
	}
	if !slices.Equal(ca.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("CA extended key usage %v, want server auth only", ca.ExtKeyUsage)
	}
	if !ca.IsCA || !ca.MaxPathLenZero {
		t.Error("CA may sign intermediate CAs")
	}
	if !slices.Equal(r.DNSNames, []string{"localhost", host, "ldap.example.test", "*.dir.example.test"}) {
		t.Errorf("certificate names %v", r.DNSNames)
	}
	pair, _ := tls.LoadX509KeyPair(r.Cert, r.Key)
	pool, _ := caPool(t, r.CA)
	if _, err := pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "a.dir.example.test"}); err != nil {
		t.Errorf("wildcard name: %v", err)
	}
}

// TestGenerateNewNamesMakeNewCA: a name the certificate lacks needs a new
// CA (the old one may not vouch for it); invalid names are refused.
func TestGenerateNewNamesMakeNewCA(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	first, err := certs.Generate(dir, []string{"a.example.test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	caBefore, _ := os.ReadFile(first.CA)
	r, err := certs.Generate(dir, []string{"a.example.test", "b.example.test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	caAfter, _ := os.ReadFile(r.CA)
	if !r.NewCA || !strings.Contains(r.NewCAReason, "b.example.test") || string(caBefore) == string(caAfter) {
		t.Fatalf("new name: NewCA %v, reason %q, CA changed %v", r.NewCA, r.NewCAReason, string(caBefore) != string(caAfter))
	}
	for _, bad := range []string{"bad name", "a..b", "x/y", strings.Repeat("a", 64) + ".example"} {
		if _, err := certs.Generate(dir, []string{bad}, now); err == nil {
			t.Errorf("Generate accepted host name %q", bad)
		}
	}
	ipr, err := certs.Generate(dir, []string{"10.1.2.3", "::2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ipr.IPs, net.ParseIP("10.1.2.3").Equal) || !slices.ContainsFunc(ipr.IPs, net.ParseIP("::2").Equal) {
		t.Errorf("IP hosts: certificate addresses %v", ipr.IPs)
	}
}
