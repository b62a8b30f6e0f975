package tokens

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Verifier checks tokens presented as bind passwords, in two steps that
// run in one direction: Parse (bytes to claims, pure: shape, key,
// signature) and, once the caller has read the token's record by key,
// Check (the record against the claims and the clock). The package knows
// nothing of storage; the directory layer (idm) reads the record and its
// account between the two, under its own policy.
//
// Keys is required; a nil Now means time.Now. A Verifier is safe for
// concurrent use; Keys may be rotated meanwhile.
type Verifier struct {
	Keys *Keyring
	Now  func() time.Time // clock for the expiry check; nil: time.Now
}

// Check holds rec, the server's record of the token c names (read by the
// caller as the record with ID c.TokenID held by the account
// c.AccountUUID), against c and the clock, each failure with its sentinel:
// a record of another token or account (ErrRecordMismatch, which also
// matches ErrRevoked), expiry against Now (ErrExpired) and a known purpose
// (ErrInvalidPurpose: a corrupt record fails closed). Errors never contain
// the token text.
func (v *Verifier) Check(c Claims, rec Record) error {
	if rec.ID != c.TokenID || rec.AccountUUID != c.AccountUUID {
		return fmt.Errorf("token %s: %w: %w", c.TokenID, ErrRevoked, ErrRecordMismatch)
	}
	if rec.Expired(v.now()) {
		return fmt.Errorf("token %s: %w at %s", c.TokenID, ErrExpired, rec.Expiry.UTC().Format(time.RFC3339))
	}
	if !rec.Purpose.Valid() {
		return fmt.Errorf("token %s: stored record: %w: %d", c.TokenID, ErrInvalidPurpose, uint8(rec.Purpose))
	}
	return nil
}

// Parse proves that token was signed by a key of Keys and returns its
// claims, cheapest check first, each failure with its sentinel:
//
//  1. shape: at most 512 bytes, three base64url segments, a JWS whose
//     algorithm is HS256 (the list given to go-jose is pinned): ErrMalformed;
//  2. key and signature: the kid must name a key of Keys (ErrUnknownKey), the
//     header must be exactly the one we write (ErrMalformed), the HMAC must
//     verify (ErrBadSignature);
//  3. payload: exactly 32 bytes, canonically encoded: ErrMalformed.
//
// It costs a few microseconds and reads nothing. It is not enough to
// accept a token (it may be revoked or expired): the caller reads the
// record by key and calls Check.
//
// A token accepted by Parse is byte for byte the one Issue produced: the
// header, the base64url encoding and the payload size are all checked, so
// there are no equivalent spellings of one token.
func (v *Verifier) Parse(token string) (Claims, error) {
	// 1. Shape, before any decoding.
	if len(token) > maxInputLen {
		return Claims{}, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(token), maxInputLen)
	}
	header, payloadSeg, sigSeg, ok := splitCompact(token)
	if !ok {
		return Claims{}, fmt.Errorf("%w: not three base64url segments", ErrMalformed)
	}
	if key := v.Keys.byHeader(header); key != nil {
		if c, ok, err := parseKnownHeader(key, token, header, payloadSeg, sigSeg); ok {
			return c, err
		}
	}
	return v.parseGeneral(token, header, payloadSeg, sigSeg)
}

// parseGeneral is Parse with go-jose: every token the fast path does not
// take, and the reference the fast path is tested against.
func (v *Verifier) parseGeneral(token, header, payloadSeg, sigSeg string) (Claims, error) {
	jws, err := jose.ParseSignedCompact(token, signingAlgorithms())
	if err != nil {
		// go-jose's messages may quote decoded header bytes, so they are
		// not passed on; only the algorithm, cut short, is worth logging.
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return Claims{}, fmt.Errorf("%w: algorithm %s, want HS256", ErrMalformed, quoteShort(string(algErr.Got)))
		}
		return Claims{}, fmt.Errorf("%w: not a compact JWS", ErrMalformed)
	}
	if len(jws.Signatures) != 1 {
		return Claims{}, fmt.Errorf("%w: %d signatures", ErrMalformed, len(jws.Signatures))
	}
	sig := jws.Signatures[0]

	// 2. Key, header and signature.
	kid := sig.Header.KeyID
	if kid == "" {
		return Claims{}, fmt.Errorf("%w: no key id", ErrMalformed)
	}
	key := v.Keys.lookup(kid)
	if key == nil {
		return Claims{}, fmt.Errorf("%w: kid %s", ErrUnknownKey, quoteShort(kid))
	}
	// Only our exact header is accepted: no "crit", "b64", "jwk" or other
	// parameters whose handling we would otherwise leave to the library.
	if header != key.header {
		return Claims{}, fmt.Errorf("%w: unexpected protected header", ErrMalformed)
	}
	payload, err := jws.Verify(key.secret)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: kid %s", ErrBadSignature, quoteShort(kid))
	}

	// 3. Payload. Base64 has spare bits in its last character; requiring the
	// canonical encoding makes accepted tokens unique.
	if len(payload) != payloadSize {
		return Claims{}, fmt.Errorf("%w: payload of %d bytes, want %d", ErrMalformed, len(payload), payloadSize)
	}
	if base64.RawURLEncoding.EncodeToString(payload) != payloadSeg ||
		base64.RawURLEncoding.EncodeToString(sig.Signature) != sigSeg {
		return Claims{}, fmt.Errorf("%w: non-canonical base64url", ErrMalformed)
	}
	c := Claims{KeyID: key.id}
	copy(c.TokenID[:], payload[:16])
	copy(c.AccountUUID[:], payload[16:])
	return c, nil
}

func (v *Verifier) now() time.Time {
	if v.Now == nil {
		return time.Now()
	}
	return v.Now()
}

// parseKnownHeader is Parse's fast path for a token whose protected header
// is byte for byte the one key issues (the only header Parse accepts for
// it, see below), so there is no JSON to read: it checks the HS256 MAC over
// header.payload in constant time and decodes the fixed-size payload. It
// reports ok=false for any other shape (wrong segment lengths,
// non-canonical base64url), leaving the error to the general path.
func parseKnownHeader(key *key, token, header, payloadSeg, sigSeg string) (Claims, bool, error) {
	b64 := base64.RawURLEncoding.Strict()
	var payload [payloadSize]byte
	var sig [sha256.Size]byte
	if len(payloadSeg) != b64.EncodedLen(payloadSize) || len(sigSeg) != b64.EncodedLen(sha256.Size) {
		return Claims{}, false, nil
	}
	if n, err := b64.Decode(payload[:], []byte(payloadSeg)); err != nil || n != payloadSize {
		return Claims{}, false, nil
	}
	if n, err := b64.Decode(sig[:], []byte(sigSeg)); err != nil || n != sha256.Size {
		return Claims{}, false, nil
	}
	mac := key.mac()
	mac.Write([]byte(token[:len(header)+1+len(payloadSeg)]))
	var sum [sha256.Size]byte
	ok := hmac.Equal(mac.Sum(sum[:0]), sig[:])
	key.putMAC(mac)
	if !ok {
		return Claims{}, true, fmt.Errorf("%w: kid %s", ErrBadSignature, quoteShort(key.id))
	}
	c := Claims{KeyID: key.id}
	copy(c.TokenID[:], payload[:16])
	copy(c.AccountUUID[:], payload[16:])
	return c, true, nil
}
