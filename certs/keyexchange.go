package certs

import (
	"crypto/tls"
	"fmt"
)

// KeyExchange selects the (EC)DHE groups a server offers in the TLS
// handshake. Every choice keeps forward secrecy: a fresh key exchange runs
// on every TLS 1.3 connection, resumed ones included (Go accepts only the
// psk_dhe_ke resumption mode).
type KeyExchange string

const (
	// KeyExchangeHybrid, the default, offers the post-quantum hybrid
	// X25519MLKEM768 (with SecP256r1MLKEM768 and SecP384r1MLKEM1024)
	// before the classical groups, as Go, OpenSSL 3.5 and the browsers
	// do: a TLS 1.3 client that supports a hybrid gets one, so traffic
	// recorded today stays confidential even if a quantum computer one
	// day breaks X25519. Other clients get X25519 or a NIST curve.
	KeyExchangeHybrid KeyExchange = "hybrid"
	// KeyExchangeClassical offers X25519, P-256, P-384 and P-521 only,
	// the groups of Debian's slapd and of TLS stacks before 2024. It
	// saves the ML-KEM encapsulation and the 1.1 KB key share of the
	// server's reply, which matters only to clients that open a
	// connection per operation.
	KeyExchangeClassical KeyExchange = "classical"
)

// DefaultKeyExchange is the key exchange ldapd serves with unless told
// otherwise.
const DefaultKeyExchange = KeyExchangeHybrid

// ParseKeyExchange accepts the names of the KeyExchange constants.
func ParseKeyExchange(s string) (KeyExchange, error) {
	switch k := KeyExchange(s); k {
	case KeyExchangeHybrid, KeyExchangeClassical:
		return k, nil
	}
	return "", fmt.Errorf("unknown TLS key exchange %q: want %s or %s", s, KeyExchangeHybrid, KeyExchangeClassical)
}

// CurvePreferences is the tls.Config.CurvePreferences for k. Go's server
// picks a post-quantum group whenever the client offers one, whatever the
// order of this list, so KeyExchangeClassical leaves the hybrids out
// rather than listing them last.
func (k KeyExchange) CurvePreferences() []tls.CurveID {
	classical := []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521}
	if k == KeyExchangeClassical {
		return classical
	}
	return append([]tls.CurveID{tls.X25519MLKEM768, tls.SecP256r1MLKEM768, tls.SecP384r1MLKEM1024}, classical...)
}
