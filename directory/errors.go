package directory

import "errors"

// Sentinel errors of the directory contract. Each corresponds to one LDAP
// result code; the mapping lives in the LDAP front end.
var (
	ErrNoSuchObject              = errors.New("no such object")
	ErrEntryAlreadyExists        = errors.New("entry already exists")
	ErrNotAllowedOnNonLeaf       = errors.New("operation not allowed on a non-leaf entry")
	ErrNoSuchAttribute           = errors.New("no such attribute or value")
	ErrAttributeOrValueExists    = errors.New("attribute or value exists")
	ErrUndefinedAttributeType    = errors.New("undefined attribute type")
	ErrInvalidAttributeSyntax    = errors.New("invalid attribute syntax")
	ErrObjectClassViolation      = errors.New("object class violation")
	ErrObjectClassModsProhibited = errors.New("object class modifications prohibited")
	ErrConstraintViolation       = errors.New("constraint violation")
	ErrNamingViolation           = errors.New("naming violation")
	ErrNotAllowedOnRDN           = errors.New("not allowed on RDN")
	ErrInvalidDNSyntax           = errors.New("invalid DN syntax")
	ErrInappropriateMatching     = errors.New("inappropriate matching")
	ErrInsufficientAccess        = errors.New("insufficient access rights")
	ErrInvalidCredentials        = errors.New("invalid credentials")
	ErrUnwillingToPerform        = errors.New("unwilling to perform")
	ErrSizeLimitExceeded         = errors.New("size limit exceeded")
	ErrTimeLimitExceeded         = errors.New("time limit exceeded")
	ErrAdminLimitExceeded        = errors.New("administrative limit exceeded")
	ErrBusy                      = errors.New("server busy")

	// ErrMetaNotFound is returned by ReadTx.Meta for a key never set.
	ErrMetaNotFound = errors.New("metadata key not found")
)

// Error decorates a sentinel with the details LDAP reports beside a result
// code: the matched DN (for ErrNoSuchObject, the deepest existing ancestor)
// and a message for the client. It unwraps to Err.
type Error struct {
	Err       error
	MatchedDN DN
	Message   string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf is shorthand for an *Error with a message and no matched DN.
func Errorf(sentinel error, message string) error {
	return &Error{Err: sentinel, Message: message}
}

// NoSuchObject returns ErrNoSuchObject carrying matched, the deepest
// existing ancestor of the missing DN.
func NoSuchObject(missing, matched DN) error {
	return &Error{Err: ErrNoSuchObject, MatchedDN: matched, Message: "entry " + missing.String() + " does not exist"}
}

// MatchedDN returns the matched DN carried by err, if any.
func MatchedDN(err error) (DN, bool) {
	var e *Error
	if errors.As(err, &e) && !e.MatchedDN.IsRoot() {
		return e.MatchedDN, true
	}
	return DN{}, false
}

// Message returns the client-facing message carried by err, or "".
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
