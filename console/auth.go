package console

import (
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

// cookieName has the __Host- prefix: browsers keep it only if it is
// Secure, has Path=/ and no Domain, so a sibling host cannot plant one.
const cookieName = "__Host-ldapd_session"

// caller is who sent a request: a signed-in session or an API token.
type caller struct {
	ident idm.Identity
	sess  *session // nil for a bearer token
}

// withClient returns r's context carrying the client address, which idm's
// bind throttle counts failures by.
func withClient(r *http.Request) context.Context {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.Context()
	}
	return idm.WithClientAddr(r.Context(), net.TCPAddrFromAddrPort(ap))
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// authenticate finds the caller of r: a bearer API token (a token bind for
// this request) or the session of the cookie, re-checked against the
// directory. A state-changing request with a session needs its CSRF
// token.
func (s *Server) authenticate(r *http.Request) (caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return s.bearer(r, h)
	}
	return s.sessionCaller(r)
}

// sessionCaller finds the session of r's cookie, re-checked against the
// directory; a state-changing request needs the session's CSRF token.
func (s *Server) sessionCaller(r *http.Request) (caller, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return caller{}, errorf(http.StatusUnauthorized, "sign in first")
	}
	sess, ok := s.sessions.use(c.Value)
	if !ok {
		return caller{}, errorf(http.StatusUnauthorized, "your session has ended; sign in again")
	}
	if err := s.recheck(r.Context(), sess); err != nil {
		return caller{}, err
	}
	if !safeMethod(r.Method) && !sess.checkCSRF(r.Header.Get("X-CSRF-Token")) {
		return caller{}, errorf(http.StatusForbidden, "missing or wrong X-CSRF-Token header: reload the page and try again")
	}
	return caller{ident: sess.ident, sess: sess}, nil
}

// bearer authenticates "Authorization: Bearer TOKEN" with a token bind,
// under idm's bind throttle. A read-only token may only read.
func (s *Server) bearer(r *http.Request, h string) (caller, error) {
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return caller{}, errorf(http.StatusUnauthorized, `use "Authorization: Bearer API_TOKEN"`)
	}
	ident, err := s.idm.Bind(withClient(r), idm.TokenBindDN, []byte(token))
	if err != nil {
		return caller{}, errorf(http.StatusUnauthorized, "invalid API token")
	}
	if !ident.ReadWrite && !safeMethod(r.Method) {
		return caller{}, errorf(http.StatusForbidden, "this API token is read-only: it may only read (GET)")
	}
	return caller{ident: ident}, nil
}

// recheck ends sess when its account is gone or disabled (idm refuses the
// identity) or its entry changed since sign-in (a new password).
func (s *Server) recheck(ctx context.Context, sess *session) error {
	stamp, err := s.accountStamp(ctx, sess.ident)
	if err == nil && stamp == sess.stamp {
		return nil
	}
	s.sessions.end(sess)
	if err != nil && !errors.Is(err, directory.ErrInvalidCredentials) && !errors.Is(err, directory.ErrNoSuchObject) {
		return err
	}
	s.log.Info().Str("event", "security").Str("identity", sess.ident.String()).Msg("console session ended: the account changed")
	return errorf(http.StatusUnauthorized, "your account changed since you signed in (a new password, or it was disabled); sign in again")
}

// accountStamp reads the account's modifyTimestamp as the account itself.
func (s *Server) accountStamp(ctx context.Context, ident idm.Identity) (string, error) {
	e, err := s.readEntry(ctx, ident, ident.DN, "modifyTimestamp")
	if err != nil {
		return "", err
	}
	return e.First("modifyTimestamp"), nil
}

// api wraps a JSON API handler: the caller must authenticate; a body must
// be JSON (a cross-site form cannot send that without a CORS preflight,
// which this server never grants); a browser's Origin must be this one.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, caller) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sameOrigin(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		c, err := s.authenticate(r)
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// sameOrigin refuses a request whose Origin header names another site.
func sameOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return errorf(http.StatusForbidden, "cross-origin request refused")
	}
	return nil
}

// jsonBody checks that r carries JSON.
func jsonBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "send the request body as JSON (Content-Type: application/json)")
	}
	return nil
}
