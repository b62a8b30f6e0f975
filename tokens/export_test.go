package tokens

import (
	"crypto/hmac"
	"encoding/base64"
	"hash"
)

// Test-only access to key material, for tests that forge tokens or check
// redaction. Nothing outside _test.go files can reach these.

// SignRaw signs payload with the key kid of k exactly as Issue does.
func SignRaw(k *Keyring, kid string, payload []byte) (string, error) {
	return k.lookup(kid).sign(payload)
}

// SignManual builds a compact JWS by hand: any header JSON, any payload, an
// HMAC with h under the secret of key kid (or under secret, if non-nil).
func SignManual(k *Keyring, kid, headerJSON string, payload []byte, h func() hash.Hash, secret []byte) string {
	if secret == nil {
		secret = k.lookup(kid).secret
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(headerJSON)) + "." + enc.EncodeToString(payload)
	mac := hmac.New(h, secret)
	mac.Write([]byte(input))
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

// KeySecret returns a copy of the secret of key kid.
func KeySecret(k *Keyring, kid string) []byte {
	return append([]byte(nil), k.lookup(kid).secret...)
}

// KeyValue returns the internal key kid, for fmt redaction tests.
func KeyValue(k *Keyring, kid string) any { return k.lookup(kid) }

// EncodePayload exposes the payload layout.
func EncodePayload(id ID, account [16]byte) []byte { return encodePayload(id, account) }
