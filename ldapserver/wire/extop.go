package wire

import "fmt"

// OIDs of the controls and extended operations whose values this package
// encodes or decodes, and of others the server announces.
const (
	// PagedResultsOID is the Simple Paged Results control (RFC 2696).
	PagedResultsOID = "1.2.840.113556.1.4.319"
	// PasswordModifyOID is the Password Modify extended operation (RFC 3062).
	PasswordModifyOID = "1.3.6.1.4.1.4203.1.11.1"
	// WhoAmIOID is the "Who am I?" extended operation (RFC 4532).
	WhoAmIOID = "1.3.6.1.4.1.4203.1.11.3"
	// StartTLSOID is the StartTLS extended operation (RFC 4511 §4.14).
	StartTLSOID = "1.3.6.1.4.1.1466.20037"
	// ManageDsaITOID is the ManageDsaIT control (RFC 3296).
	ManageDsaITOID = "2.16.840.1.113730.3.4.2"

	// LdapdExtendedOps is the arc of ldapd's own extended operations:
	// ldapd's private arc (directory.LdapdArc, a UUID-derived OID) + ".3".
	LdapdExtendedOps = "2.25.295583884755326249504665175635765695291.3"
	// GenerateTokenOID is ldapd's generate-token extended operation
	// (GenerateToken below).
	GenerateTokenOID = LdapdExtendedOps + ".1"
)

// The decoders in this file copy the strings they return, because the
// value they are given usually aliases a Message, whose byte slices the
// caller may scrub; byte-slice results (passwords, cookies) alias value.

// valueCursor checks that value is a single SEQUENCE and returns a cursor
// over its contents.
func valueCursor(value []byte, what string) (cursor, error) {
	top := newCursor(value)
	e, err := top.expect(tagSequence, what)
	if err != nil {
		return cursor{}, err
	}
	if !top.empty() {
		return cursor{}, fmt.Errorf("%w: %s: %d octets after the value", ErrMalformed, what, top.end-top.off)
	}
	return top.inside(e), nil
}

// DecodePagedResults decodes the value of a Simple Paged Results control
// (RFC 2696):
//
//	realSearchControlValue ::= SEQUENCE {
//	        size            INTEGER (0..maxInt),
//	        cookie          OCTET STRING }
//
// cookie aliases value; it is empty (not nil) on the first request.
func DecodePagedResults(value []byte) (size int, cookie []byte, err error) {
	c, err := valueCursor(value, "paged results control value")
	if err != nil {
		return 0, nil, err
	}
	e, err := c.expect(tagInteger, "size")
	if err != nil {
		return 0, nil, err
	}
	v, err := parseInt(value[e.off:e.end], 0, maxInt, "size")
	if err != nil {
		return 0, nil, err
	}
	if e, err = c.expect(tagOctetString, "cookie"); err != nil {
		return 0, nil, err
	}
	cookie = value[e.off:e.end:e.end]
	if err := c.trailing("paged results control value"); err != nil {
		return 0, nil, err
	}
	return int(v), cookie, nil
}

// AppendPagedResults appends the value of a Simple Paged Results response
// control: size is the server's estimate of the total result count (0 if
// unknown) and cookie is empty on the last page. The result is the control
// VALUE; wrap it as Control{OID: PagedResultsOID, Value: v, HasValue: true}.
func AppendPagedResults(dst []byte, size int, cookie []byte) []byte {
	dst, seq := begin(dst, tagSequence)
	dst = appendInt(dst, tagInteger, int64(size))
	dst = appendBytes(dst, tagOctetString, cookie)
	return end(dst, seq)
}

// PasswordModify is a Password Modify request value (RFC 3062). Each field
// is meaningful only if its Has flag is set.
type PasswordModify struct {
	// UserIdentity names the user whose password changes; when absent, it
	// is the user bound to the connection. It may or may not be a DN.
	UserIdentity    string
	HasUserIdentity bool
	// OldPassword is the user's current password.
	OldPassword    []byte
	HasOldPassword bool
	// NewPassword is the desired password; when absent the server may
	// generate one.
	NewPassword    []byte
	HasNewPassword bool
}

// DecodePasswordModify decodes a Password Modify request value:
//
//	PasswdModifyRequestValue ::= SEQUENCE {
//	     userIdentity    [0]  OCTET STRING OPTIONAL
//	     oldPasswd       [1]  OCTET STRING OPTIONAL
//	     newPasswd       [2]  OCTET STRING OPTIONAL }
//
// An absent (or empty) requestValue is valid and means that every field is
// absent. The password slices alias value.
func DecodePasswordModify(value []byte) (PasswordModify, error) {
	var p PasswordModify
	if len(value) == 0 {
		return p, nil
	}
	c, err := valueCursor(value, "password modify request value")
	if err != nil {
		return PasswordModify{}, err
	}
	e, ok, err := c.optional(classContext|0, "userIdentity")
	if err != nil {
		return PasswordModify{}, err
	}
	if ok {
		p.UserIdentity, p.HasUserIdentity = string(value[e.off:e.end]), true
	}
	if e, ok, err = c.optional(classContext|1, "oldPasswd"); err != nil {
		return PasswordModify{}, err
	}
	if ok {
		p.OldPassword, p.HasOldPassword = value[e.off:e.end:e.end], true
	}
	if e, ok, err = c.optional(classContext|2, "newPasswd"); err != nil {
		return PasswordModify{}, err
	}
	if ok {
		p.NewPassword, p.HasNewPassword = value[e.off:e.end:e.end], true
	}
	if err := c.trailing("password modify request value", classContext|0, classContext|1, classContext|2); err != nil {
		return PasswordModify{}, err
	}
	return p, nil
}

// AppendPasswordModifyResponse appends a Password Modify response value:
//
//	PasswdModifyResponseValue ::= SEQUENCE {
//	     genPasswd       [0]     OCTET STRING OPTIONAL }
//
// genPasswd is included if non-nil. When the server generated no password
// it may instead omit the responseValue altogether.
func AppendPasswordModifyResponse(dst []byte, genPasswd []byte) []byte {
	dst, seq := begin(dst, tagSequence)
	if genPasswd != nil {
		dst = appendBytes(dst, classContext|0, genPasswd)
	}
	return end(dst, seq)
}

// GenerateToken is the request value of ldapd's generate-token extended
// operation, which issues an API token for a service account:
//
//	GenerateTokenRequestValue ::= SEQUENCE {
//	     account    LDAPDN,                       -- OCTET STRING
//	     label      OCTET STRING,
//	     expiry     [0] OCTET STRING OPTIONAL,    -- RFC 3339 text
//	     readWrite  [1] BOOLEAN DEFAULT FALSE }
//
// The admin CLI encodes it with AppendGenerateToken and the server decodes
// it with DecodeGenerateToken, so both sides share this one definition.
type GenerateToken struct {
	// Account is the DN of the service account.
	Account string
	// Label is the token's human-readable label.
	Label string
	// Expiry is the expiry time as RFC 3339 text, meaningful only if
	// HasExpiry. This package does not parse it.
	Expiry    string
	HasExpiry bool
	// ReadWrite asks for a read-write token; the default is read-only.
	ReadWrite bool
}

// DecodeGenerateToken decodes a GenerateTokenRequestValue.
func DecodeGenerateToken(value []byte) (GenerateToken, error) {
	const what = "generate token request value"
	var g GenerateToken
	c, err := valueCursor(value, what)
	if err != nil {
		return g, err
	}
	e, err := c.expect(tagOctetString, "account")
	if err != nil {
		return g, err
	}
	g.Account = string(value[e.off:e.end])
	if e, err = c.expect(tagOctetString, "label"); err != nil {
		return GenerateToken{}, err
	}
	g.Label = string(value[e.off:e.end])
	e, ok, err := c.optional(classContext|0, "expiry")
	if err != nil {
		return GenerateToken{}, err
	}
	if ok {
		g.Expiry, g.HasExpiry = string(value[e.off:e.end]), true
	}
	if e, ok, err = c.optional(classContext|1, "readWrite"); err != nil {
		return GenerateToken{}, err
	}
	if ok {
		if g.ReadWrite, err = parseBool(value[e.off:e.end], "readWrite"); err != nil {
			return GenerateToken{}, err
		}
	}
	if err := c.trailing(what, classContext|0, classContext|1); err != nil {
		return GenerateToken{}, err
	}
	return g, nil
}

// AppendGenerateToken appends a GenerateTokenRequestValue. Expiry is sent
// only if HasExpiry, and readWrite only if true (its DEFAULT is FALSE).
func AppendGenerateToken(dst []byte, g GenerateToken) []byte {
	dst, seq := begin(dst, tagSequence)
	dst = appendString(dst, tagOctetString, g.Account)
	dst = appendString(dst, tagOctetString, g.Label)
	if g.HasExpiry {
		dst = appendString(dst, classContext|0, g.Expiry)
	}
	if g.ReadWrite {
		dst = appendBool(dst, classContext|1, true)
	}
	return end(dst, seq)
}

// AppendGenerateTokenResponse appends the response value of the
// generate-token operation:
//
//	GenerateTokenResponseValue ::= SEQUENCE {
//	     token      OCTET STRING,   -- the compact JWS, shown once
//	     tokenID    OCTET STRING }
func AppendGenerateTokenResponse(dst []byte, token, tokenID string) []byte {
	dst, seq := begin(dst, tagSequence)
	dst = appendString(dst, tagOctetString, token)
	dst = appendString(dst, tagOctetString, tokenID)
	return end(dst, seq)
}

// DecodeGenerateTokenResponse decodes a GenerateTokenResponseValue.
func DecodeGenerateTokenResponse(value []byte) (token, tokenID string, err error) {
	const what = "generate token response value"
	c, err := valueCursor(value, what)
	if err != nil {
		return "", "", err
	}
	e, err := c.expect(tagOctetString, "token")
	if err != nil {
		return "", "", err
	}
	token = string(value[e.off:e.end])
	if e, err = c.expect(tagOctetString, "tokenID"); err != nil {
		return "", "", err
	}
	tokenID = string(value[e.off:e.end])
	if err := c.trailing(what); err != nil {
		return "", "", err
	}
	return token, tokenID, nil
}
