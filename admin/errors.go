package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Sentinels matched by errors.Is on the errors this package returns.
var (
	// ErrNotFound: the object does not exist (or the bound account may not
	// see it). LDAP noSuchObject (32), or a name that resolves to nothing.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: LDAP entryAlreadyExists (68).
	ErrAlreadyExists = errors.New("already exists")
	// ErrNotAllowed: LDAP insufficientAccessRights (50).
	ErrNotAllowed = errors.New("not allowed")
	// ErrAuthFailed: LDAP invalidCredentials (49).
	ErrAuthFailed = errors.New("authentication failed")
	// ErrAmbiguous: a bare name that names more than one entry.
	ErrAmbiguous = errors.New("ambiguous name")
	// ErrUnreachable: the TCP connection to the server failed.
	ErrUnreachable = errors.New("server unreachable")
	// ErrUntrusted: the server's certificate did not verify (unknown
	// authority, wrong host name, expired).
	ErrUntrusted = errors.New("server certificate not trusted")
	// ErrExpiryFormat: an expiry that is not RFC 3339.
	ErrExpiryFormat = errors.New("malformed expiry")
	// ErrExpiryPast: an expiry that has already passed.
	ErrExpiryPast = errors.New("expiry in the past")
)

// Error is a failed operation explained. Its message says what went wrong
// and, where there is one, what to do; Err is the cause (usually an
// *ldap.Error carrying the result code and the server's diagnostic
// message).
type Error struct {
	Msg  string
	Err  error
	kind error // the sentinel errors.Is matches, if any
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause, so that errors.As(err, new(*ldap.Error)) works.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel this error was classified as.
func (e *Error) Is(target error) bool { return e.kind != nil && target == e.kind }

// op names an operation for error messages.
type op struct {
	// action completes "NAME is not allowed to ...", e.g. "create service
	// account demo_service".
	action string
	// kind and name are the object acted on ("service account",
	// "demo_service"), for "no service account named demo_service".
	kind string
	name string
}

// explain turns the error of an LDAP operation into an *Error whose message
// is a sentence in the operation's terms. bound is the name the client
// authenticated as ("" if anonymous).
func explain(err error, o op, bound string) error {
	if err == nil {
		return nil
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return &Error{Msg: fmt.Sprintf("cannot %s: %v", o.action, err), Err: err}
	}
	diag := ""
	if le.Err != nil {
		diag = le.Err.Error()
	}
	e := &Error{Err: err, kind: kindOf(le.ResultCode)}
	switch le.ResultCode {
	case ldap.LDAPResultNoSuchObject:
		if o.kind != "" {
			e.Msg = fmt.Sprintf("no %s named %s", o.kind, o.name)
		} else {
			e.Msg = fmt.Sprintf("cannot %s: %s", o.action, withDiag("no such entry", diag))
		}
	case ldap.LDAPResultEntryAlreadyExists:
		if o.kind != "" {
			e.Msg = fmt.Sprintf("a %s named %s already exists", o.kind, o.name)
		} else {
			e.Msg = fmt.Sprintf("cannot %s: %s", o.action, withDiag("the entry already exists", diag))
		}
	case ldap.LDAPResultInsufficientAccessRights:
		if diag != "" {
			e.Msg = diag
		} else {
			e.Msg = fmt.Sprintf("%s is not allowed to %s", nameOrAnonymous(bound), o.action)
		}
	case ldap.LDAPResultInvalidCredentials:
		e.Msg = fmt.Sprintf("cannot %s: the server no longer accepts the credentials of %s; authenticate again", o.action, nameOrAnonymous(bound))
	case ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired:
		e.Msg = fmt.Sprintf("cannot %s: %s", o.action, withDiag("the server requires an encrypted, authenticated connection", diag))
	case ldap.LDAPResultSizeLimitExceeded, ldap.LDAPResultAdminLimitExceeded:
		e.Msg = fmt.Sprintf("cannot %s: the server's size limit cut the answer short", o.action)
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable:
		e.Msg = fmt.Sprintf("cannot %s: %s; try again later", o.action, withDiag("the server is busy or unavailable", diag))
	case ldap.ErrorNetwork:
		e.Msg = fmt.Sprintf("cannot %s: lost the connection to the server (%s)", o.action, diag)
	case ldap.LDAPResultConstraintViolation, ldap.LDAPResultInvalidAttributeSyntax,
		ldap.LDAPResultObjectClassViolation, ldap.LDAPResultNamingViolation,
		ldap.LDAPResultUndefinedAttributeType, ldap.LDAPResultInvalidDNSyntax,
		ldap.LDAPResultUnwillingToPerform, ldap.LDAPResultNotAllowedOnNonLeaf,
		ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultNoSuchAttribute:
		e.Msg = fmt.Sprintf("the server refused to %s: %s", o.action, withDiag(codeName(le.ResultCode), diag))
	default:
		e.Msg = fmt.Sprintf("cannot %s: %s", o.action, withDiag(codeName(le.ResultCode), diag))
	}
	return e
}

// kindOf maps result codes to the sentinels callers test for.
func kindOf(code uint16) error {
	switch code {
	case ldap.LDAPResultNoSuchObject:
		return ErrNotFound
	case ldap.LDAPResultEntryAlreadyExists:
		return ErrAlreadyExists
	case ldap.LDAPResultInsufficientAccessRights:
		return ErrNotAllowed
	case ldap.LDAPResultInvalidCredentials:
		return ErrAuthFailed
	}
	return nil
}

// codeName is "unwilling to perform (LDAP result 53)"-style text for a
// result code.
func codeName(code uint16) string {
	if name, ok := ldap.LDAPResultCodeMap[code]; ok {
		return fmt.Sprintf("%s (LDAP result %d)", strings.ToLower(name), code)
	}
	return fmt.Sprintf("LDAP result %d", code)
}

func withDiag(what, diag string) string {
	if diag == "" {
		return what
	}
	return what + ": " + diag
}

func nameOrAnonymous(bound string) string {
	if bound == "" {
		return "an anonymous client"
	}
	return bound
}

// ctxErr prefers the context's error when a call failed because the context
// was cancelled (which closes the connection under the call).
func ctxErr(ctx context.Context, err error, o op) error {
	if err != nil && ctx.Err() != nil {
		return &Error{Msg: fmt.Sprintf("cannot %s: %v", o.action, ctx.Err()), Err: ctx.Err()}
	}
	return nil
}
