// Package certs makes the TLS material ldapd serves with when the operator
// gives none: a self-signed CA and an ECDSA P-256 server certificate that
// it signs, valid for localhost, 127.0.0.1, ::1 and the host's name.
//
// # Basics
//
// Ensure creates DIR/ca.pem, DIR/ca-key.pem, DIR/server.pem and
// DIR/server-key.pem on first use and reuses them afterwards, so clients
// need to trust ca.pem once (LDAPTLS_CACERT=DIR/ca.pem for OpenLDAP's
// tools). The server certificate is renewed when it is within 30 days of
// expiry; the CA lasts ten years.
//
// # Caveats
//
// Private keys are written with mode 0600 in a 0700 directory. The CA key
// stays on disk so that the server certificate can be renewed; an operator
// who wants a real CA passes --tls-cert and --tls-key instead.
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
	"time"
)

// Files names the PEM files Ensure manages.
type Files struct {
	CA, CAKey, Cert, Key string
}

// FilesIn returns the file names inside dir.
func FilesIn(dir string) Files {
	return Files{
		CA: filepath.Join(dir, "ca.pem"), CAKey: filepath.Join(dir, "ca-key.pem"),
		Cert: filepath.Join(dir, "server.pem"), Key: filepath.Join(dir, "server-key.pem"),
	}
}

// Ensure makes sure dir holds a CA and a server certificate for hosts (in
// addition to localhost, 127.0.0.1 and ::1), creating or renewing them as
// needed, and returns their file names.
func Ensure(dir string, hosts []string, now time.Time) (Files, error) {
	f := FilesIn(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("create TLS directory: %w", err)
	}
	caCert, caKey, err := loadPair(f.CA, f.CAKey)
	if errors.Is(err, fs.ErrNotExist) {
		caCert, caKey, err = newCA(now)
		if err == nil {
			err = writePair(f.CA, f.CAKey, caCert, caKey)
		}
	}
	if err != nil {
		return f, fmt.Errorf("TLS CA in %s: %w", dir, err)
	}
	cert, _, err := loadPair(f.Cert, f.Key)
	if err == nil && cert.NotAfter.After(now.Add(30*24*time.Hour)) && coversHosts(cert, hosts) {
		return f, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return f, fmt.Errorf("TLS server certificate in %s: %w", dir, err)
	}
	cert, key, err := newServerCert(caCert, caKey, hosts, now)
	if err != nil {
		return f, err
	}
	if err := writePair(f.Cert, f.Key, cert, key); err != nil {
		return f, err
	}
	return f, nil
}

func coversHosts(cert *x509.Certificate, hosts []string) bool {
	for _, h := range append([]string{"localhost", "127.0.0.1"}, hosts...) {
		if cert.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func newCA(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "ldapd local CA", Organization: []string{"ldapd"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

func newServerCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"ldapd"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, h)
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("sign server certificate: %w", err)
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

func writePair(certFile, keyFile string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
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
