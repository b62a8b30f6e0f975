package console

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
)

// Everything the console shows is read with idm.Service.Search as the
// caller, so it shows exactly what an LDAP search with the same identity
// returns.

// search runs a search as ident and collects the entries.
func (s *Server) search(ctx context.Context, ident idm.Identity, base directory.DN, scope directory.Scope, filter string, attrs ...string) ([]*directory.Entry, error) {
	f, err := directory.ParseFilter(filter, s.idm.Schema())
	if err != nil {
		return nil, err
	}
	var out []*directory.Entry
	_, err = s.idm.Search(ctx, ident, idm.SearchRequest{Base: base, Scope: scope, Filter: f, Attrs: attrs},
		func(e *directory.Entry) error {
			out = append(out, e)
			return nil
		})
	return out, err
}

// readEntry reads one entry as ident.
func (s *Server) readEntry(ctx context.Context, ident idm.Identity, dn directory.DN, attrs ...string) (*directory.Entry, error) {
	es, err := s.search(ctx, ident, dn, directory.ScopeBase, "(objectClass=*)", attrs...)
	if err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, directory.NoSuchObject(dn, directory.DN{})
	}
	return es[0], nil
}

// localName turns a bare name or an spn of this domain into a bare name.
func (s *Server) localName(name string) (string, error) {
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		if !strings.EqualFold(name[at+1:], s.idm.Domain()) {
			return "", errorf(http.StatusNotFound, "no such service account: "+name+" is not in "+s.idm.Domain())
		}
		name = name[:at]
	}
	if name == "" || strings.ContainsAny(name, ",=+<>#;\\\"") {
		return "", errorf(http.StatusBadRequest, "not an account name: "+name)
	}
	return name, nil
}

func rdn(typ, v string) directory.RDN { return directory.NewRDN(directory.AVA{Type: typ, Value: v}) }

// serviceAccountDN is where the service account name lives.
func (s *Server) serviceAccountDN(name string) directory.DN {
	return s.idm.Policy().Services.Child(rdn("uid", name))
}

// shortName is the name of an entry directly under ou=people, ou=groups
// or ou=services, else its DN.
func (s *Server) shortName(dn string) string {
	d, err := directory.ParseDN(dn)
	if err != nil {
		return dn
	}
	p := s.idm.Policy()
	for _, c := range []directory.DN{p.People, p.Groups, p.Services} {
		if d.Parent().Equal(c) && len(d.RDN().AVAs()) == 1 {
			return d.RDN().AVAs()[0].Value
		}
	}
	return dn
}

// serviceAccount is a service account as the console lists it.
type serviceAccount struct {
	Name        string `json:"name"`
	DN          string `json:"dn"`
	SPN         string `json:"spn"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
	ManagedBy   string `json:"managed_by"`
	ManagedByDN string `json:"managed_by_dn"`
	// SeesTokens says whether the caller may see the account's token
	// records: idm lets hasSubordinates of a service account through only
	// to those who may (acl), so this is idm's decision, not ours.
	SeesTokens bool `json:"sees_tokens"`
}

var serviceAccountAttrs = []string{"uid", "spn", "displayName", "description", directory.AttrEntryManagedBy, "hasSubordinates"}

func (s *Server) serviceAccountFrom(e *directory.Entry) serviceAccount {
	return serviceAccount{
		Name: e.First("uid"), DN: e.DN.String(), SPN: e.First(directory.AttrSPN), DisplayName: e.First("displayName"),
		Description: e.First("description"), ManagedByDN: e.First(directory.AttrEntryManagedBy),
		ManagedBy: s.shortName(e.First(directory.AttrEntryManagedBy)), SeesTokens: e.Has("hasSubordinates"),
	}
}

// serviceAccounts lists the service accounts ident may see, by name.
func (s *Server) serviceAccounts(ctx context.Context, ident idm.Identity) ([]serviceAccount, error) {
	es, err := s.search(ctx, ident, s.idm.Policy().Services, directory.ScopeOne,
		"(objectClass="+directory.ClassServiceAccount+")", serviceAccountAttrs...)
	if err != nil {
		return nil, err
	}
	out := make([]serviceAccount, 0, len(es))
	for _, e := range es {
		out = append(out, s.serviceAccountFrom(e))
	}
	slices.SortFunc(out, func(a, b serviceAccount) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// managedAccount reads the service account name and fails unless ident
// may manage its tokens.
func (s *Server) managedAccount(ctx context.Context, ident idm.Identity, name string) (serviceAccount, error) {
	name, err := s.localName(name)
	if err != nil {
		return serviceAccount{}, err
	}
	e, err := s.readEntry(ctx, ident, s.serviceAccountDN(name), serviceAccountAttrs...)
	if err != nil {
		return serviceAccount{}, err
	}
	sa := s.serviceAccountFrom(e)
	if !sa.SeesTokens {
		return sa, errorf(http.StatusForbidden, "you may not manage the API tokens of "+name+
			": ask an administrator to make you a member of its manager"+ifNotEmpty(" (", sa.ManagedBy, ")"))
	}
	return sa, nil
}

func ifNotEmpty(pre, v, post string) string {
	if v == "" {
		return ""
	}
	return pre + v + post
}

// tokenJSON is a token record as the CLI prints it with -o json (times in
// UTC here); one definition, in package admin.
type tokenJSON = admin.TokenJSON

// tokens lists the token records of the service account at dn, oldest
// first.
func (s *Server) tokens(ctx context.Context, ident idm.Identity, dn directory.DN) ([]tokenJSON, error) {
	es, err := s.search(ctx, ident, dn, directory.ScopeOne, "(objectClass="+directory.ClassAPIToken+")",
		directory.AttrTokenID, directory.AttrTokenLabel, directory.AttrTokenPurpose,
		directory.AttrTokenIssuedAt, directory.AttrTokenExpiry, directory.AttrTokenIssuedBy)
	if err != nil {
		return nil, err
	}
	out := make([]tokenJSON, 0, len(es))
	for _, e := range es {
		t := admin.Token{ID: e.First(directory.AttrTokenID), Label: e.First(directory.AttrTokenLabel),
			Purpose: e.First(directory.AttrTokenPurpose), IssuedBy: e.First(directory.AttrTokenIssuedBy)}
		// An unreadable time shows as none, as before.
		t.IssuedAt, _ = directory.ParseGeneralizedTime(e.First(directory.AttrTokenIssuedAt))
		t.Expiry, _ = directory.ParseGeneralizedTime(e.First(directory.AttrTokenExpiry))
		out = append(out, t.JSON(time.UTC, s.shortName))
	}
	slices.SortFunc(out, func(a, b tokenJSON) int {
		return cmp.Or(cmp.Compare(a.IssuedAt, b.IssuedAt), cmp.Compare(a.TokenID, b.TokenID))
	})
	return out, nil
}

// whoami is the caller's DN and spn.
type whoami struct {
	DN  string `json:"dn"`
	SPN string `json:"spn"`
}

func (s *Server) who(ctx context.Context, ident idm.Identity) (whoami, error) {
	authz, err := s.idm.WhoAmI(ctx, ident)
	if err != nil {
		return whoami{}, err
	}
	return whoami{DN: ident.DN.String(), SPN: strings.TrimPrefix(authz, "u: ")}, nil
}
