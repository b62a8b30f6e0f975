package certs

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync/atomic"
)

// SecureCipherSuites are the TLS 1.2 suites ldapd offers: ECDHE key
// exchange (forward secrecy) with an AEAD cipher only. No CBC, RC4, 3DES or
// static-RSA key exchange. TLS 1.3 suites are not configurable in Go and
// are all strong.
func SecureCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// Reloader serves the key pair in two PEM files and reads them again on
// Reload (ldapd serve calls it on SIGHUP), so a renewed certificate takes
// effect for new handshakes without dropping open connections.
type Reloader struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// NewReloader loads the key pair once; it fails if the files do not hold
// a matching pair.
func NewReloader(certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files again. On error the previous pair stays in use.
func (r *Reloader) Reload() error {
	pair, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("load TLS key pair: %w", err)
	}
	r.cur.Store(&pair)
	return nil
}

// GetCertificate is a tls.Config.GetCertificate returning the current pair.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cur.Load(), nil
}

// Config returns a server configuration using the reloadable pair, TLS 1.2
// or later, SecureCipherSuites and the key exchange kx.
func (r *Reloader) Config(kx KeyExchange) *tls.Config {
	c := baseConfig(kx)
	c.GetCertificate = r.GetCertificate
	return c
}

// LoosePermissions returns a warning for each file that group or others
// may read or write; private keys must be 0600 or stricter.
func LoosePermissions(files ...string) []string { return permWarnings(0o077, "600", files) }

// WritableByOthers returns a warning for each file that group or others
// may write: certificates are public, but whoever can replace one can
// make clients trust another key.
func WritableByOthers(files ...string) []string { return permWarnings(0o022, "go-w", files) }

func permWarnings(mask os.FileMode, fix string, files []string) []string {
	var warn []string
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue
		}
		if perm := fi.Mode().Perm(); perm&mask != 0 {
			warn = append(warn, fmt.Sprintf("%s has mode %04o: group or others can access it; use chmod %s %s", f, perm, fix, f))
		}
	}
	return warn
}
