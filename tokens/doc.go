// Package tokens signs and verifies ldapd's API tokens: the passwords a
// service account's applications use in a simple bind to the DN "dn=token".
// It knows nothing of LDAP, sockets or storage engines: the server reads
// the token records itself, between [Verifier.Parse] and [Verifier.Check].
//
// # Basics
//
// A token is a JWS (go-jose v4) in compact serialization:
//
//	eyJhbGciOiJIUzI1NiIsImtpZCI6IjRfT3dwTCJ9.<43 chars>.<43 chars>
//	{"alg":"HS256","kid":"4_OwpL"}            payload    HMAC-SHA256
//
// The protected header names the algorithm and the key id (kid) of the key
// that signed it, so keys can rotate. The payload is not JSON claims but 32
// raw bytes: the 16-byte token [ID] followed by the 16-byte account UUID.
// Everything else about the token (label, [Purpose], issue time, expiry,
// issuer) lives in the server-side [Record], read at every verification, as
// Kanidm keeps an ApiTokenSession on the account: destroying the record
// revokes the token at once, and deleting the account deletes its records.
//
// Every token is exactly [TokenLen] = 40 + 1 + 43 + 1 + 43 = 128 characters,
// the most [MaxTokenLen] allows: legacy applications and PAM stacks truncate
// longer passwords. A compile-time check keeps the format within the limit.
//
// The algorithm is HS256 with 32-byte random keys. The server both issues
// and verifies tokens, so no third party needs a public key, and a
// symmetric key is the right tool: its signature (32 bytes, 43 characters)
// is the shortest of the JWS algorithms at this strength (ES256 takes 86
// characters, RS256 342), and it verifies in microseconds.
//
// An [Issuer] makes tokens with the active key of a [Keyring]; a [Verifier]
// checks them in order of cost, in one direction: [Verifier.Parse] (shape
// and pinned algorithm, key id and signature, payload: bytes to claims,
// pure), then the caller reads the record by key, then [Verifier.Check]
// (the record names this token and account, expiry, purpose). Each failure
// wraps one sentinel error (ErrMalformed, ErrUnknownKey, ErrBadSignature,
// ErrRevoked, ErrExpired) for the security log; the LDAP server answers
// every one of them with the same invalidCredentials.
//
// The keyring is persisted with [LoadKeyring] (which creates it on first
// start) and [SaveKeyring], in a file of mode 0600 outside the directory
// store, so that a dump of the store cannot mint tokens. [Keyring.Rotate]
// adds a new active key; older keys keep verifying their tokens until
// [Keyring.Remove].
//
// Time and randomness are injected: Issuer and Verifier take a Now func and
// Issuer a Rand reader; tests set both and never sleep.
//
// # Caveats
//
// A token is a bearer credential. Never log it or store it: log the token
// ID instead, which is what the ID is for. Errors from this package never
// contain token text or key material, and no type prints a key.
//
// docs/design.md section 5 lists purpose, issue time and expiry among the claims.
// They are deliberately kept in the record only: in the token they would
// not fit 128 characters, and a record-held expiry and purpose are the ones
// an administrator can see and change. The record lookup is therefore
// mandatory; a token without its record is worthless.
//
// Whoever holds the keyring file can mint a token for any account: it is
// refused if group or others have any permission on it. Losing the file
// invalidates every token. After [Keyring.Rotate], save the keyring before
// issuing with the new key, because a crash in between leaves tokens signed
// by a key that no file holds. Removing a key invalidates all its tokens.
//
// Key ids are 6 random base64url characters (36 bits). They only need to
// be distinct within one keyring, which Rotate ensures; they are not
// secret.
//
// Go cannot reliably erase memory, so removed keys stay in the heap until
// the garbage collector reuses it.
package tokens
