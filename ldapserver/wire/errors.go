package wire

import (
	"errors"
	"fmt"
)

// Sentinel errors. The errors this package returns wrap one of them with
// detail (via %w), so callers test them with errors.Is.
var (
	// ErrMalformed reports input that is not a valid BER encoding of the
	// expected LDAP structure: truncation, a wrong tag, a bad length, an
	// out-of-range integer, a missing required component and so on.
	ErrMalformed = errors.New("malformed LDAP message")

	// ErrMessageTooLarge reports a message whose declared size exceeds the
	// maximum given to ReadPacket. The message body has not been read.
	ErrMessageTooLarge = errors.New("LDAP message too large")

	// ErrLimitExceeded reports a well-formed message that exceeds one of
	// the bounds in Limits (filter depth, filter size, attribute, value or
	// control count).
	ErrLimitExceeded = errors.New("LDAP message exceeds a decoding limit")
)

// DecodeError is returned by Decode when the LDAPMessage envelope and its
// messageID were read but the operation (or the controls) could not be.
// It lets the server answer the failing request with protocolError under
// the right messageID and response type, rather than having nothing to
// reply to. It unwraps to the underlying error, which in turn wraps
// ErrMalformed or ErrLimitExceeded.
type DecodeError struct {
	// ID is the request's messageID.
	ID int32
	// Tag is the tag number of the protocolOp element. For an unknown or
	// wrongly classed operation it is the low five bits of the identifier
	// octet and names no request type; see ResponseTag.
	Tag RequestTag
	// Err is the cause.
	Err error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("message %d: %s: %v", e.ID, e.Tag, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ResponseTag returns the response type the server should use to answer the
// failed request, and false for requests that have no response (unbind,
// abandon) or for unrecognized operations. RFC 4511 §4.1.1 says that for an
// unrecognized operation the server SHOULD send a Notice of Disconnection
// with protocolError and close the connection.
func (e *DecodeError) ResponseTag() (ResponseTag, bool) {
	return e.Tag.ResponseTag()
}
