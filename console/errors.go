package console

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/ldapd/ldapd/directory"
)

// apiError is an error answered to a client: an HTTP status and words a
// person understands. It never carries a stack trace or an internal cause.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, msg string) error { return &apiError{status: status, msg: msg} }

// statusOf maps an error to the HTTP status and message the client sees:
// the one place where directory results become HTTP codes, as the LDAP
// gateway has one place where they become LDAP result codes.
func statusOf(err error) (int, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.msg
	}
	msg := directory.Message(err)
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, directory.ErrInsufficientAccess):
		status = http.StatusForbidden
	case errors.Is(err, directory.ErrInvalidCredentials):
		status = http.StatusUnauthorized
	case errors.Is(err, directory.ErrNoSuchObject):
		status = http.StatusNotFound
	case errors.Is(err, directory.ErrEntryAlreadyExists), errors.Is(err, directory.ErrAttributeOrValueExists),
		errors.Is(err, directory.ErrNotAllowedOnNonLeaf):
		status = http.StatusConflict
	case errors.Is(err, directory.ErrConstraintViolation), errors.Is(err, directory.ErrUnwillingToPerform),
		errors.Is(err, directory.ErrObjectClassViolation), errors.Is(err, directory.ErrInvalidAttributeSyntax),
		errors.Is(err, directory.ErrInvalidDNSyntax), errors.Is(err, directory.ErrNamingViolation),
		errors.Is(err, directory.ErrUndefinedAttributeType), errors.Is(err, directory.ErrNoSuchAttribute):
		status = http.StatusUnprocessableEntity
	case errors.Is(err, directory.ErrBusy), errors.Is(err, directory.ErrAdminLimitExceeded):
		status = http.StatusServiceUnavailable
	}
	if status == http.StatusInternalServerError {
		return status, "the server could not do this; its log says why"
	}
	if msg == "" {
		var de *directory.Error
		if errors.As(err, &de) {
			msg = de.Err.Error()
		} else {
			msg = http.StatusText(status)
		}
	}
	return status, msg
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// answerOK answers v as JSON with 200 OK, unless err is not nil: then it
// returns err for the handler to answer.
func answerOK(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// writeError answers err as {"error": ...}; server faults are logged, not
// shown.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	if status == http.StatusInternalServerError {
		s.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("console request failed")
	}
	writeJSON(w, status, map[string]string{"error": msg})
}
