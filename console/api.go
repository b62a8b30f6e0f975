package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/tokens"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// decode reads r's JSON body into v, refusing unknown fields.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if err := jsonBody(r); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "the request body is not the JSON expected: "+err.Error())
	}
	return nil
}

type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

// login signs in with idm.Service.Bind, the bind LDAP clients get, under
// its throttle and security log: any failure is 401 with one message.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	err := func() error {
		if err := sameOrigin(r); err != nil {
			return err
		}
		var req loginRequest
		if err := decode(w, r, &req); err != nil {
			return err
		}
		req.Name = strings.TrimSpace(req.Name)
		bad := errorf(http.StatusUnauthorized, "wrong name or password")
		// An empty name would be an anonymous or a token bind: a session
		// is for an account signing in with its password.
		if req.Name == "" || req.Password == "" || strings.EqualFold(strings.ReplaceAll(req.Name, " ", ""), idm.TokenBindDN) {
			return bad
		}
		ident, err := s.idm.Bind(withClient(r), req.Name, []byte(req.Password))
		if err != nil {
			return bad
		}
		stamp, err := s.accountStamp(r.Context(), ident)
		if err != nil {
			return err
		}
		id, sess, err := s.sessions.create(ident, stamp)
		if err != nil {
			return err
		}
		who, err := s.who(r.Context(), ident)
		if err != nil {
			return err
		}
		http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", Secure: true, HttpOnly: true,
			SameSite: http.SameSiteStrictMode})
		s.log.Info().Str("event", "security").Str("identity", ident.String()).Msg("console sign-in")
		writeJSON(w, http.StatusOK, struct {
			CSRF string `json:"csrf"`
			whoami
		}{sess.csrf, who})
		return nil
	}()
	if err != nil {
		s.writeError(w, r, err)
	}
}

// logout ends the session and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, c caller) error {
	if c.sess == nil {
		return errorf(http.StatusBadRequest, "an API token has no session to sign out of")
	}
	s.sessions.end(c.sess)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, c caller) error {
	who, err := s.who(r.Context(), c.ident)
	return answerOK(w, who, err)
}

func (s *Server) listServiceAccounts(w http.ResponseWriter, r *http.Request, c caller) error {
	sas, err := s.serviceAccounts(r.Context(), c.ident)
	return answerOK(w, sas, err)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, c caller) error {
	sa, err := s.managedAccount(r.Context(), c.ident, r.PathValue("name"))
	if err != nil {
		return err
	}
	ts, err := s.tokens(r.Context(), c.ident, s.serviceAccountDN(sa.Name))
	return answerOK(w, ts, err)
}

type generateRequest struct {
	Label  string  `json:"label"`
	Expiry *string `json:"expiry"`
	RW     bool    `json:"rw"`
}

// generateToken issues a token with idm.Service.GenerateToken, which
// decides whether the caller may.
func (s *Server) generateToken(w http.ResponseWriter, r *http.Request, c caller) error {
	var req generateRequest
	name, err := s.decodeFor(w, r, &req)
	if err != nil {
		return err
	}
	var expiry time.Time
	if req.Expiry != nil && *req.Expiry != "" {
		if expiry, err = time.Parse(time.RFC3339, *req.Expiry); err != nil {
			return errorf(http.StatusBadRequest, fmt.Sprintf("expiry %q is not an RFC 3339 time such as 2030-09-25T11:22:02+10:00", *req.Expiry))
		}
	}
	purpose := tokens.ReadOnly
	if req.RW {
		purpose = tokens.ReadWrite
	}
	token, id, err := s.idm.GenerateToken(r.Context(), c.ident, s.serviceAccountDN(name).String(), req.Label, expiry, purpose)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"token": token, "token_id": id.String()})
	return nil
}

// destroyToken deletes the token's record with idm.Service.Delete, which
// revokes it at once.
func (s *Server) destroyToken(w http.ResponseWriter, r *http.Request, c caller) error {
	name, err := s.localName(r.PathValue("name"))
	if err != nil {
		return err
	}
	id := r.PathValue("token_id")
	if u, err := uuid.Parse(id); err != nil || len(id) != 36 || u.String() != strings.ToLower(id) {
		return errorf(http.StatusBadRequest, fmt.Sprintf("%q is not a token id (a UUID such as 4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7)", id))
	}
	dn := s.serviceAccountDN(name).Child(rdn("ldapdTokenId", strings.ToLower(id)))
	if err := s.idm.Delete(r.Context(), c.ident, dn); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type passwordRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// changePassword changes the caller's own password (RFC 3062 semantics:
// the old one must match) and ends every session of the account.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c caller) error {
	var req passwordRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.New == "" {
		return errorf(http.StatusBadRequest, "the new password is empty")
	}
	if _, err := s.idm.PasswordModify(r.Context(), c.ident, "", &req.Old, &req.New); err != nil {
		if errors.Is(err, directory.ErrInvalidCredentials) {
			// The session was checked just before: it is the old password.
			return errorf(http.StatusForbidden, "the old password is wrong")
		}
		return err
	}
	s.sessions.endAccount(c.ident.DN)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
