package ldapserver

import (
	"context"
	"errors"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"github.com/ldapd/ldapd/password"
)

// resultCodes maps the directory contract's sentinels (and the password
// package's bounds) to LDAP result codes.
var resultCodes = []struct {
	err  error
	code int
}{
	{directory.ErrNoSuchObject, wire.ResultNoSuchObject},
	{directory.ErrEntryAlreadyExists, wire.ResultEntryAlreadyExists},
	{directory.ErrNotAllowedOnNonLeaf, wire.ResultNotAllowedOnNonLeaf},
	{directory.ErrNoSuchAttribute, wire.ResultNoSuchAttribute},
	{directory.ErrAttributeOrValueExists, wire.ResultAttributeOrValueExists},
	{directory.ErrUndefinedAttributeType, wire.ResultUndefinedAttributeType},
	{directory.ErrInvalidAttributeSyntax, wire.ResultInvalidAttributeSyntax},
	{directory.ErrObjectClassViolation, wire.ResultObjectClassViolation},
	{directory.ErrObjectClassModsProhibited, wire.ResultObjectClassModsProhibited},
	{directory.ErrConstraintViolation, wire.ResultConstraintViolation},
	{directory.ErrNamingViolation, wire.ResultNamingViolation},
	{directory.ErrNotAllowedOnRDN, wire.ResultNotAllowedOnRDN},
	{directory.ErrInvalidDNSyntax, wire.ResultInvalidDNSyntax},
	{directory.ErrInappropriateMatching, wire.ResultInappropriateMatching},
	{directory.ErrInsufficientAccess, wire.ResultInsufficientAccessRights},
	{directory.ErrInvalidCredentials, wire.ResultInvalidCredentials},
	{directory.ErrUnwillingToPerform, wire.ResultUnwillingToPerform},
	{directory.ErrSizeLimitExceeded, wire.ResultSizeLimitExceeded},
	{directory.ErrTimeLimitExceeded, wire.ResultTimeLimitExceeded},
	{directory.ErrAdminLimitExceeded, wire.ResultAdminLimitExceeded},
	{directory.ErrBusy, wire.ResultBusy},
	{password.ErrTooLong, wire.ResultConstraintViolation},
	{password.ErrTooCostly, wire.ResultConstraintViolation},
	{context.DeadlineExceeded, wire.ResultTimeLimitExceeded},
	{wire.ErrMalformed, wire.ResultProtocolError},
	{wire.ErrLimitExceeded, wire.ResultProtocolError},
}

// ResultFromError is the one mapping from errors to LDAP results. Known
// sentinels keep the message of the *directory.Error wrapping them;
// anything else is "other" (80) with a generic message, and known reports
// false so the caller logs the detail.
func ResultFromError(err error) (r Result, known bool) {
	for _, m := range resultCodes {
		if errors.Is(err, m.err) {
			r := Result{Code: m.code, Message: directory.Message(err)}
			if dn, ok := directory.MatchedDN(err); ok {
				r.MatchedDN = dn.String()
			}
			if r.Message == "" && m.code != wire.ResultSizeLimitExceeded {
				r.Message = m.err.Error()
			}
			return r, true
		}
	}
	return Result{Code: wire.ResultOther, Message: "internal error; see the server log"}, false
}
