package tokens

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Verifier checks tokens presented as bind passwords.
//
// Keys and Records are required; a nil Now means time.Now. A Verifier is
// safe for concurrent use if Records is; Keys may be rotated meanwhile.
type Verifier struct {
	Keys    *Keyring
	Now     func() time.Time // clock for the expiry check; nil: time.Now
	Records RecordLookup
}

// Verify checks token and returns what it says and the server's record of
// it. The steps, cheapest first, each with the sentinel its failure wraps:
//
//  1. shape: at most 512 bytes, three base64url segments, a JWS whose
//     algorithm is HS256 (the list given to go-jose is pinned): ErrMalformed;
//  2. key and signature: the kid must name a key of Keys (ErrUnknownKey), the
//     header must be exactly the one we write (ErrMalformed), the HMAC must
//     verify (ErrBadSignature);
//  3. payload: exactly 32 bytes, canonically encoded: ErrMalformed;
//  4. record: Records.LookupToken, given the claims, must find the record
//     of this token ID held by this account (ErrRevoked), and it must name
//     the same token and account (ErrRecordMismatch, which also matches
//     ErrRevoked);
//  5. expiry against Now (ErrExpired) and a known purpose
//     (ErrInvalidPurpose: a corrupt record fails closed).
//
// Steps 1 to 3 are Parse and cost a few microseconds; step 4 is one keyed
// read. A lookup error that does not wrap ErrRevoked is a failure of the
// store, not of the token, and is returned wrapped as it is, so the caller
// can tell an outage from a bad token.
//
// When the signature verified (any failure from step 4 on), the returned
// Claims are filled in, so the caller can log the token ID; the Record is
// returned only on success. Errors never contain the token text.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, Record, error) {
	c, err := v.Parse(token)
	if err != nil {
		return Claims{}, Record{}, err
	}
	if v.Records == nil {
		return c, Record{}, errors.New("tokens: Verifier has no Records")
	}
	rec, err := v.Records.LookupToken(ctx, c)
	if err != nil {
		return c, Record{}, fmt.Errorf("token %s: lookup: %w", c.TokenID, err)
	}
	if rec.ID != c.TokenID || rec.AccountUUID != c.AccountUUID {
		return c, Record{}, fmt.Errorf("token %s: %w: %w", c.TokenID, ErrRevoked, ErrRecordMismatch)
	}
	if rec.Expired(v.now()) {
		return c, Record{}, fmt.Errorf("token %s: %w at %s", c.TokenID, ErrExpired, rec.Expiry.UTC().Format(time.RFC3339))
	}
	if !rec.Purpose.Valid() {
		return c, Record{}, fmt.Errorf("token %s: stored record: %w: %d", c.TokenID, ErrInvalidPurpose, uint8(rec.Purpose))
	}
	return c, rec, nil
}

// Parse runs steps 1 to 3 of Verify: it proves that token was signed by a
// key of Keys and returns its claims, without looking up the record. It is
// enough to log the token ID of a failed bind; it is not enough to accept
// one (the token may be revoked or expired).
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
