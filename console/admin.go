package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

// The administration endpoints build the entries the CLI builds and hand
// them to idm.Service.Add / Modify / PasswordModify as the caller: idm's
// policy allows or refuses each, exactly as over LDAP.

// resolve turns a name as a person types it (a DN, or the bare name or spn
// of a group, person or service account) into a DN the caller can see.
func (s *Server) resolve(ctx context.Context, ident idm.Identity, name string) (directory.DN, error) {
	if strings.Contains(name, "=") {
		dn, err := directory.ParseDN(name)
		if err != nil || dn.IsRoot() {
			return directory.DN{}, errorf(http.StatusBadRequest, "not a valid DN: "+name)
		}
		return dn, nil
	}
	bare, err := s.localName(name)
	if err != nil {
		return directory.DN{}, err
	}
	p := s.idm.Policy()
	for _, dn := range []directory.DN{p.Groups.Child(rdn("cn", bare)), p.People.Child(rdn("uid", bare)), p.Services.Child(rdn("uid", bare))} {
		_, err := s.readEntry(ctx, ident, dn, "1.1")
		if err == nil {
			return dn, nil
		}
		if !errors.Is(err, directory.ErrNoSuchObject) {
			return directory.DN{}, err
		}
	}
	return directory.DN{}, errorf(http.StatusNotFound, "no group, person or service account named "+name)
}

// created answers a new entry and, when one was set, its generated
// password (shown this once).
type created struct {
	DN       string `json:"dn"`
	Password string `json:"password,omitempty"`
	// PasswordError says why no password was set, if none was.
	PasswordError string `json:"password_error,omitempty"`
}

// withPassword gives the new account dn a generated password, if the
// caller may set one.
func (s *Server) withPassword(ctx context.Context, ident idm.Identity, dn directory.DN) created {
	out := created{DN: dn.String()}
	pw, err := s.idm.PasswordModify(ctx, ident, dn.String(), nil, nil)
	if err != nil {
		_, out.PasswordError = statusOf(err)
		return out
	}
	out.Password = pw
	return out
}

// decodeName decodes the request body into req and returns the name it
// gives (name points into req), trimmed and checked by localName.
func (s *Server) decodeName(w http.ResponseWriter, r *http.Request, req any, name *string) (string, error) {
	if err := decode(w, r, req); err != nil {
		return "", err
	}
	return s.localName(strings.TrimSpace(*name))
}

// decodeFor decodes the request body into req and returns the account or
// group the path names ({name}), checked by localName.
func (s *Server) decodeFor(w http.ResponseWriter, r *http.Request, req any) (string, error) {
	if err := decode(w, r, req); err != nil {
		return "", err
	}
	return s.localName(r.PathValue("name"))
}

// add adds e as the caller and answers 201 Created with its DN, and for a
// new account (person or service account) a generated password as
// withPassword does.
func (s *Server) add(w http.ResponseWriter, r *http.Request, c caller, e *directory.Entry, account bool) error {
	if err := s.idm.Add(r.Context(), c.ident, e); err != nil {
		return err
	}
	out := created{DN: e.DN.String()}
	if account {
		out = s.withPassword(r.Context(), c.ident, e.DN)
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

type newServiceAccount struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Manager     string `json:"manager"`
}

func (s *Server) createServiceAccount(w http.ResponseWriter, r *http.Request, c caller) error {
	var req newServiceAccount
	name, err := s.decodeName(w, r, &req, &req.Name)
	if err != nil {
		return err
	}
	if strings.TrimSpace(req.Manager) == "" {
		return errorf(http.StatusBadRequest, "a service account needs a manager: a group or an account")
	}
	mgr, err := s.resolve(r.Context(), c.ident, strings.TrimSpace(req.Manager))
	if err != nil {
		return err
	}
	dn := s.serviceAccountDN(name)
	e := directory.NewEntry(dn)
	e.Set("objectClass", "top", directory.ClassServiceAccount)
	e.Set("uid", name)
	if req.DisplayName != "" {
		e.Set("displayName", req.DisplayName)
	}
	e.Set(directory.AttrEntryManagedBy, mgr.String())
	return s.add(w, r, c, e, true)
}

type newPerson struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request, c caller) error {
	var req newPerson
	name, err := s.decodeName(w, r, &req, &req.Name)
	if err != nil {
		return err
	}
	dn := s.idm.Policy().People.Child(rdn("uid", name))
	e := directory.NewEntry(dn)
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", directory.ClassAccount)
	e.Set("uid", name)
	e.Set("cn", name)
	e.Set("sn", name)
	if req.DisplayName != "" {
		e.Set("displayName", req.DisplayName)
	}
	return s.add(w, r, c, e, true)
}

type newGroup struct {
	Name string `json:"name"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, c caller) error {
	var req newGroup
	name, err := s.decodeName(w, r, &req, &req.Name)
	if err != nil {
		return err
	}
	dn := s.idm.Policy().Groups.Child(rdn("cn", name))
	e := directory.NewEntry(dn)
	e.Set("objectClass", "top", "groupOfNames")
	e.Set("cn", name)
	return s.add(w, r, c, e, false)
}

type newMember struct {
	Member string `json:"member"`
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, c caller) error {
	var req newMember
	name, err := s.decodeFor(w, r, &req)
	if err != nil {
		return err
	}
	member, err := s.resolve(r.Context(), c.ident, strings.TrimSpace(req.Member))
	if err != nil {
		return err
	}
	group := s.idm.Policy().Groups.Child(rdn("cn", name))
	err = s.idm.Modify(r.Context(), c.ident, group, []directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{member.String()}}})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
