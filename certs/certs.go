// Package certs makes the TLS material ldapd serves with when the operator
// gives none: a name-constrained CA and an ECDSA P-256 server certificate
// that it signs, valid for localhost, 127.0.0.1, ::1, the host's name and
// the names the operator adds.
//
// # Basics
//
// Generate creates DIR/ca.pem, DIR/server.pem and DIR/server-key.pem on
// first use and reuses them afterwards, so clients trust ca.pem once per
// certificate lifetime (LDAPTLS_CACERT=DIR/ca.pem for OpenLDAP's tools).
//
// The CA's private key never reaches the disk: it signs the server
// certificate and is dropped. A CA that a host trusts system-wide is then
// only as dangerous as the server key it certifies:
//
//   - it carries critical X.509 name constraints permitting exactly the
//     DNS names (and, as X.509 defines it, their subdomains) and the single
//     IP addresses of the server certificate, and an extended key usage of
//     TLS server authentication only, so no certificate for another site
//     can chain to it even if one were forged;
//   - it expires with the server certificate, after Lifetime (two years,
//     under the 825 days Apple platforms accept for a TLS certificate).
//
// Whatever needs a new certificate (expiry within RenewBefore, a name the
// certificate lacks, files that do not belong together) makes a new CA as
// well, and clients must trust the new ca.pem.
//
// # Caveats
//
// Private keys are written with mode 0600 in a 0700 directory. Earlier
// versions kept DIR/ca-key.pem; Generate deletes it when it is the key of
// DIR/ca.pem and warns otherwise. An operator who wants a CA that outlives
// renewals, or more names later without re-trusting, passes --tls-cert and
// --tls-key from a CA of their own instead.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	// Lifetime is how long a generated server certificate, and the CA made
	// for it, are valid.
	Lifetime = 730 * 24 * time.Hour
	// RenewBefore: a certificate with less validity left is replaced (with
	// a new CA) by the next Generate.
	RenewBefore = 30 * 24 * time.Hour
	// WarnBefore: with less validity left, Generate warns that the CA is
	// about to change.
	WarnBefore = 60 * 24 * time.Hour
)

// Files names the PEM files Generate manages.
type Files struct {
	CA, Cert, Key string
	// CAKey is where versions before the name-constrained CA kept the CA's
	// private key; Generate deletes it.
	CAKey string
}

// FilesIn returns the file names inside dir.
func FilesIn(dir string) Files {
	return Files{
		CA: filepath.Join(dir, "ca.pem"), CAKey: filepath.Join(dir, "ca-key.pem"),
		Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem"),
	}
}

// Result is what Generate found or made.
type Result struct {
	Files
	// NotAfter is the end of the server certificate and of its CA.
	NotAfter time.Time
	// DNSNames and IPs are the names the certificate holds and the CA's
	// name constraints permit.
	DNSNames []string
	IPs      []net.IP
	// NewCA says a CA was made by this call; NewCAReason says why (first
	// use, renewal, new names...). Clients that trusted an earlier ca.pem
	// must trust the new one.
	NewCA       bool
	NewCAReason string
	// RemovedCAKey says an earlier version's CA key file was deleted.
	RemovedCAKey bool
	// Warnings are for the operator's log.
	Warnings []string
}

// Ensure is Generate for callers that need only the file names.
func Ensure(dir string, hosts []string, now time.Time) (Files, error) {
	r, err := Generate(dir, hosts, now)
	if err != nil {
		return FilesIn(dir), err
	}
	return r.Files, nil
}

// Generate makes sure dir holds a server certificate for hosts (in
// addition to localhost, 127.0.0.1, ::1 and the host name) and the CA that
// signed it, creating both when the existing pair cannot be reused, and
// deletes a CA private key left by an earlier version.
func Generate(dir string, hosts []string, now time.Time) (*Result, error) {
	r := &Result{Files: FilesIn(dir)}
	for _, h := range hosts {
		if net.ParseIP(h) == nil && !validDNSName(strings.TrimPrefix(h, "*.")) {
			return nil, fmt.Errorf("invalid host name %q for the TLS certificate", h)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create TLS directory: %w", err)
	}
	prev, _ := loadCert(r.CA) // the CA clients may trust today, if any
	leaf, why, err := loadReusable(r.Files, hosts, now)
	if err != nil {
		return nil, err
	}
	if why == "" {
		r.NotAfter, r.DNSNames, r.IPs = leaf.NotAfter, leaf.DNSNames, leaf.IPAddresses
		if left := leaf.NotAfter.Sub(now); left < WarnBefore {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the generated TLS certificate and its CA (%s) expire on %s; the first start after %s makes a new CA that clients must trust again. "+
				"To renew now: rm %s, restart ldapd, then distribute the new %s",
				r.CA, leaf.NotAfter.Format(time.DateOnly), leaf.NotAfter.Add(-RenewBefore).Format(time.DateOnly), r.Cert, r.CA))
		}
	} else {
		if leaf, err = create(r.Files, hosts, now); err != nil {
			return nil, fmt.Errorf("TLS material in %s: %w", dir, err)
		}
		r.NotAfter, r.DNSNames, r.IPs = leaf.NotAfter, leaf.DNSNames, leaf.IPAddresses
		r.NewCA, r.NewCAReason = true, why
	}
	r.removeLegacyCAKey(prev)
	return r, nil
}

// loadReusable loads the server certificate and says why it cannot be
// served as it is ("" if it can): missing, not signed by the CA in ca.pem,
// expiring within RenewBefore, or lacking a name. A file that exists but
// does not parse is an error: the operator should look at it.
func loadReusable(f Files, hosts []string, now time.Time) (leaf *x509.Certificate, why string, err error) {
	leaf, _, err = loadPair(f.Cert, f.Key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "first use (no " + f.Cert + ")", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("TLS server certificate %s: %w", f.Cert, err)
	}
	ca, err := loadCert(f.CA)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "no " + f.CA, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("TLS CA %s: %w", f.CA, err)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Sprintf("%s is not signed by %s", f.Cert, f.CA), nil
	}
	if leaf.NotAfter.Sub(now) < RenewBefore || ca.NotAfter.Sub(now) < RenewBefore {
		return nil, fmt.Sprintf("renewal (the certificate expires on %s)", leaf.NotAfter.Format(time.DateOnly)), nil
	}
	if missing := missingHosts(leaf, hosts); len(missing) > 0 {
		return nil, fmt.Sprintf("new names %s (a CA constrained to the old names cannot vouch for them)", strings.Join(missing, ", ")), nil
	}
	return leaf, "", nil
}

// removeLegacyCAKey deletes the CA key an earlier version kept if it is
// the key of prev (the CA in ca.pem when Generate started): the server
// certificate no longer needs it. A key of anything else is left in place
// and warned about.
func (r *Result) removeLegacyCAKey(prev *x509.Certificate) {
	if _, err := os.Stat(r.CAKey); errors.Is(err, fs.ErrNotExist) {
		return
	}
	key, err := loadKey(r.CAKey)
	if err != nil || prev == nil || !key.PublicKey.Equal(prev.PublicKey) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s is not the key of the CA in %s; ldapd no longer uses it and left it in place: "+
			"delete it unless something else needs it (whoever reads a CA key can impersonate any site its CA may vouch for)", r.CAKey, r.CA))
		return
	}
	if err := os.Remove(r.CAKey); err != nil {
		r.Warnings = append(r.Warnings, fmt.Sprintf("could not delete %s, the CA key an earlier ldapd kept (%v): delete it by hand", r.CAKey, err))
		return
	}
	r.RemovedCAKey = true
	old := fmt.Sprintf("the CA an earlier ldapd made (%s, no name constraints, valid until %s)", prev.Subject.CommonName, prev.NotAfter.Format(time.DateOnly))
	if r.NewCA {
		r.Warnings = append(r.Warnings, fmt.Sprintf("deleted %s, the key of %s, and replaced that CA with a name-constrained one: "+
			"clients must trust the new %s, and hosts that trusted the old CA system-wide should remove it from their trust stores", r.CAKey, old, r.CA))
		return
	}
	r.Warnings = append(r.Warnings, fmt.Sprintf("deleted %s, the key of %s: the server certificate no longer needs it. "+
		"Hosts that trust that CA system-wide should trust a name-constrained one instead: rm %s, restart ldapd, distribute the new %s, "+
		"and remove the old CA from their trust stores", r.CAKey, old, r.Cert, r.CA))
}

// missingHosts returns the hosts cert does not cover.
func missingHosts(cert *x509.Certificate, hosts []string) []string {
	var missing []string
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, hosts...) {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
				missing = append(missing, h)
			}
		} else if !slices.Contains(cert.DNSNames, h) {
			missing = append(missing, h)
		}
	}
	return missing
}

// serverNames returns the DNS names and IP addresses of a new server
// certificate: localhost, 127.0.0.1, ::1, the host name if it is a valid
// DNS name, and hosts.
func serverNames(hosts []string) (dns []string, ips []net.IP) {
	dns = []string{"localhost"}
	ips = []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	if h, err := os.Hostname(); err == nil && validDNSName(h) {
		hosts = append([]string{h}, hosts...)
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		} else if h != "" && !slices.Contains(dns, h) {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

// validDNSName accepts letters, digits, '-' and '_' in non-empty labels
// separated by dots: what a name constraint can hold.
func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// create makes a CA constrained to the server's names and the server
// certificate it signs, writes ca.pem, server-key.pem and server.pem (in
// that order: a crash in between leaves a server.pem its CA did not sign,
// which the next call replaces) and forgets the CA key.
func create(f Files, hosts []string, now time.Time) (*x509.Certificate, error) {
	dns, ips := serverNames(hosts)
	notAfter := now.Add(Lifetime)
	ca, caKey, err := newCA(dns, ips, now, notAfter)
	if err != nil {
		return nil, err
	}
	leaf, key, err := newServerCert(ca, caKey, dns, ips, now, notAfter)
	if err != nil {
		return nil, err
	}
	if err := writeFile(f.CA, pemCert(ca), 0o644); err != nil {
		return nil, err
	}
	if err := writePair(f.Cert, f.Key, leaf, key); err != nil {
		return nil, err
	}
	return leaf, nil
}

// newCA returns a CA limited, by critical name constraints, to the DNS
// names dns (and their subdomains) and the single addresses ips, and to
// signing TLS server certificates.
func newCA(dns []string, ips []net.IP, now, notAfter time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	var permitted []string
	for _, d := range dns {
		if d = strings.TrimPrefix(d, "*."); !slices.Contains(permitted, d) {
			permitted = append(permitted, d)
		}
	}
	var ranges []*net.IPNet
	for _, ip := range ips {
		bits := 8 * len(ip)
		ranges = append(ranges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	cn := "ldapd local CA"
	if len(dns) > 1 {
		cn += " for " + dns[1]
	}
	tmpl := &x509.Certificate{
		SerialNumber:                serial(),
		Subject:                     pkix.Name{CommonName: cn + " " + now.UTC().Format(time.DateOnly), Organization: []string{"ldapd"}},
		NotBefore:                   now.Add(-time.Hour),
		NotAfter:                    notAfter,
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:                 []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         permitted,
		PermittedIPRanges:           ranges,
	}
	cert, key, err := issue(tmpl, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("make CA: %w", err)
	}
	return cert, key, nil
}

func newServerCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, dns []string, ips []net.IP, now, notAfter time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"ldapd"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	cert, key, err := issue(tmpl, ca, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sign server certificate: %w", err)
	}
	return cert, key, nil
}

// issue makes a new P-256 key and the certificate tmpl for it, signed by
// parent with parentKey, or self-signed if parent is nil.
func issue(tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}

func loadPair(certFile, keyFile string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		if _, statErr := os.Stat(certFile); errors.Is(statErr, fs.ErrNotExist) {
			return nil, nil, fs.ErrNotExist
		}
		return nil, nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("key is not ECDSA")
	}
	return pair.Leaf, key, nil
}

// loadCert reads the first certificate of a PEM file.
func loadCert(file string) (*x509.Certificate, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// loadKey reads a PEM EC private key.
func loadKey(file string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("key is not ECDSA")
	}
	return ek, nil
}

func pemCert(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

func writePair(certFile, keyFile string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeFile(certFile, pemCert(cert), 0o644)
}

// writeFile writes atomically: a temporary file, fsync, rename.
func writeFile(name string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// ServerConfig returns a TLS 1.2+ server configuration for the key pair,
// with DefaultKeyExchange and session tickets on for cheap resumption.
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS key pair: %w", err)
	}
	c := baseConfig(DefaultKeyExchange)
	c.Certificates = []tls.Certificate{pair}
	return c, nil
}

// baseConfig is what every server configuration shares: TLS 1.2 or later,
// SecureCipherSuites, the key exchange kx. Session tickets stay on (Go's
// default, keys rotated in memory every day): a client that keeps its
// session resumes without the certificate signature, though it still runs
// a fresh key exchange.
func baseConfig(kx KeyExchange) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: SecureCipherSuites(), CurvePreferences: kx.CurvePreferences()}
}
