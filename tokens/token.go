package tokens

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// The token format. Every token is a JWS in compact serialization:
//
//	BASE64URL({"alg":"HS256","kid":"<6 chars>"}) . BASE64URL(tokenID || accountUUID) . BASE64URL(HMAC-SHA256)
//	         30 bytes -> 40 chars                 .       32 bytes -> 43 chars       .     32 bytes -> 43 chars
//
// which is 40 + 1 + 43 + 1 + 43 = 128 characters, for every token.
const (
	// MaxTokenLen is the longest token this package may produce: legacy
	// applications and PAM stacks truncate longer passwords.
	MaxTokenLen = 128

	// TokenLen is the length of every token Issue produces: the unpadded
	// base64 lengths, (8n+5)/6, of header, payload and signature, and two
	// dots. A compile-time check keeps it within MaxTokenLen.
	TokenLen = (headerJSONLen*8+5)/6 + 1 + (payloadSize*8+5)/6 + 1 + (sha256.Size*8+5)/6

	// maxInputLen bounds what Parse looks at: anything longer is rejected
	// before any decoding, so a hostile bind password costs nothing.
	maxInputLen = 512

	// payloadSize is the decoded payload: 16-byte token ID, 16-byte account.
	payloadSize = 32

	headerPrefix  = `{"alg":"HS256","kid":"`
	headerSuffix  = `"}`
	headerJSONLen = len(headerPrefix) + KeyIDLen + len(headerSuffix)
)

// This constant overflows, and the package fails to build, if a change to
// the format makes tokens longer than MaxTokenLen.
const _ = uint(MaxTokenLen - TokenLen)

// signingAlgorithms is the pinned algorithm list passed to go-jose. It is a
// function, not a package variable, so nobody can append to it.
func signingAlgorithms() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.HS256}
}

// encodedHeader is the base64url protected header of tokens signed by the
// key kid: {"alg":"HS256","kid":"<kid>"}. Keys precompute it, and Parse
// requires a token's header to equal it byte for byte.
func encodedHeader(kid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(headerPrefix + kid + headerSuffix))
}

// sign makes a token over payload with k. HMAC is deterministic: the same
// key and payload always give the same token.
func (k *key) sign(payload []byte) (string, error) {
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), k.id)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: k.secret}, opts)
	if err != nil {
		return "", fmt.Errorf("tokens: new signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("tokens: sign: %w", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("tokens: serialize: %w", err)
	}
	// Parse insists on the exact header; check here that go-jose still
	// writes it the way we expect, so a library change fails loudly at
	// issue time rather than as tokens that never verify.
	if len(s) <= len(k.header) || s[:len(k.header)] != k.header || s[len(k.header)] != '.' {
		return "", fmt.Errorf("tokens: go-jose wrote an unexpected protected header")
	}
	return s, nil
}

// encodePayload lays out the payload: token ID, then account UUID.
func encodePayload(id ID, account [16]byte) []byte {
	p := make([]byte, 0, payloadSize)
	p = append(p, id[:]...)
	return append(p, account[:]...)
}

// splitCompact checks the shape of s: exactly three non-empty segments of
// base64url characters separated by dots. It is the cheap precheck that
// runs before any decoding.
func splitCompact(s string) (header, payload, sig string, ok bool) {
	dots := [2]int{}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if n == 2 {
				return "", "", "", false
			}
			dots[n] = i
			n++
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return "", "", "", false
		}
	}
	if n != 2 {
		return "", "", "", false
	}
	header, payload, sig = s[:dots[0]], s[dots[0]+1:dots[1]], s[dots[1]+1:]
	if header == "" || payload == "" || sig == "" {
		return "", "", "", false
	}
	return header, payload, sig, true
}

// quoteShort quotes text taken from a token's header (a kid or an alg) for
// an error message, cut to 16 bytes so a hostile header cannot flood the log.
func quoteShort(s string) string {
	const max = 16
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
