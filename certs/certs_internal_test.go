package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCAConstraintsRefuseOtherNames: had the CA key been stolen before it
// was dropped, a certificate it signs for another site, another address
// or client authentication does not verify under it.
func TestCAConstraintsRefuseOtherNames(t *testing.T) {
	now := time.Now()
	dns, ips := serverNames([]string{"ldap.example.test"})
	ca, caKey, err := newCA(dns, ips, now, now.Add(Lifetime))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	sign := func(dns []string, ips []net.IP, eku x509.ExtKeyUsage) *x509.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "forged"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{eku}, DNSNames: dns, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ok := sign([]string{"ldap.example.test"}, nil, x509.ExtKeyUsageServerAuth)
	if _, err := ok.Verify(x509.VerifyOptions{Roots: pool, DNSName: "ldap.example.test"}); err != nil {
		t.Fatalf("a certificate for a permitted name does not verify: %v", err)
	}
	for name, c := range map[string]*x509.Certificate{
		"www.bank.example":      sign([]string{"www.bank.example"}, nil, x509.ExtKeyUsageServerAuth),
		"permitted and other":   sign([]string{"localhost", "www.bank.example"}, nil, x509.ExtKeyUsageServerAuth),
		"10.0.0.1":              sign(nil, []net.IP{net.ParseIP("10.0.0.1").To4()}, x509.ExtKeyUsageServerAuth),
		"127.0.0.2":             sign(nil, []net.IP{net.ParseIP("127.0.0.2").To4()}, x509.ExtKeyUsageServerAuth),
		"client auth":           sign([]string{"localhost"}, nil, x509.ExtKeyUsageClientAuth),
		"example.test (parent)": sign([]string{"example.test"}, nil, x509.ExtKeyUsageServerAuth),
	} {
		_, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: c.ExtKeyUsage})
		var inv x509.CertificateInvalidError
		if !errors.As(err, &inv) || !slices.Contains([]x509.InvalidReason{x509.CANotAuthorizedForThisName, x509.CANotAuthorizedForExtKeyUsage, x509.IncompatibleUsage}, inv.Reason) {
			t.Errorf("%s: Verify = %v, want a name-constraint or key-usage refusal", name, err)
		}
	}
}

// legacyLayout writes what versions before the constrained CA left in dir:
// an unconstrained ten-year CA with its key in ca-key.pem and a server
// certificate it signed, valid for a year.
func legacyLayout(t *testing.T, dir string, now time.Time) Files {
	t.Helper()
	f := FilesIn(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "ldapd local CA", Organization: []string{"ldapd"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	if err := writePair(f.CA, f.CAKey, ca, key); err != nil {
		t.Fatal(err)
	}
	dns, ips := serverNames(nil)
	leaf, leafKey, err := newServerCert(ca, key, dns, ips, now, now.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := writePair(f.Cert, f.Key, leaf, leafKey); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGenerateMigratesLegacyCAKey: in a data directory from an earlier
// version, the CA key is deleted while the certificates stay (clients
// keep working) with a warning that says how to move to a constrained CA;
// a key that is not the CA's is left with a warning; when the certificate
// must be renewed, the CA is replaced by a constrained one and the old key
// deleted.
func TestGenerateMigratesLegacyCAKey(t *testing.T) {
	now := time.Now()
	t.Run("valid certificate kept, key deleted", func(t *testing.T) {
		f := legacyLayout(t, t.TempDir(), now)
		caBefore, _ := os.ReadFile(f.CA)
		certBefore, _ := os.ReadFile(f.Cert)
		r, err := Generate(filepathDir(f), nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(f.CAKey); !errors.Is(err, fs.ErrNotExist) || !r.RemovedCAKey {
			t.Fatalf("legacy CA key still there (%v), RemovedCAKey %v", err, r.RemovedCAKey)
		}
		caAfter, _ := os.ReadFile(f.CA)
		certAfter, _ := os.ReadFile(f.Cert)
		if r.NewCA || string(caBefore) != string(caAfter) || string(certBefore) != string(certAfter) {
			t.Error("migration replaced a working CA or certificate: clients would have to trust again")
		}
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "no name constraints") || !strings.Contains(r.Warnings[0], "rm "+f.Cert) {
			t.Errorf("warnings %q", r.Warnings)
		}
	})
	t.Run("foreign key kept", func(t *testing.T) {
		f := legacyLayout(t, t.TempDir(), now)
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		caCert, _ := loadCert(f.CA)
		if err := writePair(filepath.Join(filepathDir(f), "unused.pem"), f.CAKey, caCert, other); err != nil {
			t.Fatal(err)
		}
		r, err := Generate(filepathDir(f), nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(f.CAKey); err != nil || r.RemovedCAKey {
			t.Fatalf("a key that is not the CA's was deleted (%v)", err)
		}
		if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "is not the key of the CA") {
			t.Errorf("warnings %q", r.Warnings)
		}
	})
	t.Run("renewal replaces the CA", func(t *testing.T) {
		f := legacyLayout(t, t.TempDir(), now)
		later := now.AddDate(1, 0, -5)
		r, err := Generate(filepathDir(f), nil, later)
		if err != nil {
			t.Fatal(err)
		}
		ca, err := loadCert(f.CA)
		if err != nil {
			t.Fatal(err)
		}
		if !r.NewCA || !r.RemovedCAKey || !ca.PermittedDNSDomainsCritical || len(ca.PermittedDNSDomains) == 0 {
			t.Fatalf("NewCA %v, RemovedCAKey %v, constraints %v", r.NewCA, r.RemovedCAKey, ca.PermittedDNSDomains)
		}
		if _, err := os.Stat(f.CAKey); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("legacy CA key still there: %v", err)
		}
	})
}

func filepathDir(f Files) string { return filepath.Dir(f.CA) }
