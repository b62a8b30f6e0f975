package tokens

import "errors"

// Verification errors. When a token is rejected for what it is or what its
// record says, [Verifier.Parse] and [Verifier.Check] return an error that
// wraps exactly one of the first five (ErrRecordMismatch comes wrapped
// together with ErrRevoked), so the caller can log the cause with errors.Is
// and still answer the client with one uniform invalidCredentials. A stored
// record with an unknown purpose (ErrInvalidPurpose) wraps none of the
// five. No error of this package contains the token text.
var (
	// ErrMalformed: the string is not one of our tokens: too long, not three
	// base64url segments, a header other than ours (including any algorithm
	// but HS256), a non-canonical encoding, or a payload of the wrong size.
	ErrMalformed = errors.New("malformed token")

	// ErrUnknownKey: the token names a key id that the keyring does not
	// hold, typically a key removed after rotation.
	ErrUnknownKey = errors.New("unknown signing key")

	// ErrBadSignature: the signature does not verify with the named key.
	ErrBadSignature = errors.New("bad token signature")

	// ErrRevoked: the signature is good but the server holds no record for
	// the token (destroyed, or its account deleted). The caller reports a
	// missing record with an error wrapping ErrRevoked.
	ErrRevoked = errors.New("token revoked")

	// ErrExpired: the token's record has an expiry that has passed.
	ErrExpired = errors.New("token expired")

	// ErrRecordMismatch: the record found for the token ID names another
	// token or another account than the signed token does. That cannot
	// happen with a consistent store, so it is reported separately for the
	// security log; errors carrying it also match ErrRevoked, because for the
	// client the token is simply no longer valid.
	ErrRecordMismatch = errors.New("token record does not match token")
)

// Issuing, argument and keyring errors.
var (
	// ErrExpiryInPast: [Issuer.Issue] was asked for an expiry that is not
	// after the current time.
	ErrExpiryInPast = errors.New("token expiry is not in the future")

	// ErrInvalidPurpose: a purpose other than ReadOnly or ReadWrite, either
	// given to Issue, parsed by ParsePurpose, or found in a stored record.
	ErrInvalidPurpose = errors.New("invalid token purpose")

	// ErrInvalidAccount: Issue was given the all-zero account UUID.
	ErrInvalidAccount = errors.New("invalid account UUID")

	// ErrInvalidID: ParseID was given something that is not a UUID.
	ErrInvalidID = errors.New("invalid token ID")

	// ErrNoKeys: the keyring holds no key, so nothing can be signed.
	ErrNoKeys = errors.New("keyring has no keys")

	// ErrActiveKey: Remove was asked to remove the active signing key.
	ErrActiveKey = errors.New("cannot remove the active signing key")

	// ErrInvalidKeyring: persisted keyring data is corrupt or of an unknown
	// version.
	ErrInvalidKeyring = errors.New("invalid keyring data")

	// ErrInsecurePermissions: the keyring file is accessible to group or
	// others.
	ErrInsecurePermissions = errors.New("keyring file permissions too open")
)
