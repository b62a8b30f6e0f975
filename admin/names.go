package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// The conventional containers under the base DN.
const (
	ouPeople   = "people"
	ouGroups   = "groups"
	ouServices = "services"
)

// Object classes the client creates and searches for.
const (
	classGroup  = "groupOfNames"
	classPerson = "inetOrgPerson"
)

func rdn(attr, value string) directory.RDN {
	return directory.NewRDN(directory.AVA{Type: attr, Value: value})
}

func container(base directory.DN, ou string) directory.DN { return base.Child(rdn("ou", ou)) }

func serviceAccountDN(base directory.DN, name string) directory.DN {
	return container(base, ouServices).Child(rdn("uid", name))
}

func personDN(base directory.DN, name string) directory.DN {
	return container(base, ouPeople).Child(rdn("uid", name))
}

func groupDN(base directory.DN, name string) directory.DN {
	return container(base, ouGroups).Child(rdn("cn", name))
}

func tokenDN(base directory.DN, account, id string) directory.DN {
	return serviceAccountDN(base, account).Child(rdn(directory.AttrTokenID, id))
}

// domainOf derives the domain from a base DN made only of dc= components:
// dc=idm,dc=example,dc=com gives idm.example.com; anything else gives "".
func domainOf(base directory.DN) string {
	var labels []string
	for _, r := range base.RDNs() {
		avas := r.AVAs()
		if len(avas) != 1 || !strings.EqualFold(avas[0].Type, "dc") {
			return ""
		}
		labels = append(labels, avas[0].Value)
	}
	return strings.Join(labels, ".")
}

// localName turns what the user typed for an object of this directory
// into its bare name: "demo_service" stays, "demo_service@idm.example.com"
// loses its domain when the domain is this directory's.
func localName(typed, domain string) (string, error) {
	if typed == "" {
		return "", &Error{Msg: "empty name"}
	}
	at := strings.LastIndexByte(typed, '@')
	if at < 0 {
		return typed, nil
	}
	name, dom := typed[:at], typed[at+1:]
	if domain == "" || !strings.EqualFold(dom, domain) || name == "" {
		return "", &Error{Msg: fmt.Sprintf("%s is not a name in this directory's domain %s", typed, domainOrUnknown(domain)), kind: ErrNotFound}
	}
	return name, nil
}

func domainOrUnknown(d string) string {
	if d == "" {
		return "(unknown)"
	}
	return d
}

// DisplayName returns a short name for a DN of this directory: the value of
// its first RDN when the DN is directly in ou=people, ou=groups or
// ou=services under the base (uid=demo_user,ou=people,BASE gives
// demo_user), else the DN itself.
func (c *Client) DisplayName(dn string) string { return displayName(c.base, dn) }

func displayName(base directory.DN, dn string) string {
	d, err := directory.ParseDN(dn)
	if err != nil || d.Depth() != base.Depth()+2 {
		return dn
	}
	parent := d.Parent()
	if !parent.Parent().Equal(base) {
		return dn
	}
	for _, ou := range []string{ouPeople, ouGroups, ouServices} {
		if parent.Equal(container(base, ou)) {
			avas := d.RDN().AVAs()
			if len(avas) == 1 {
				return avas[0].Value
			}
		}
	}
	return dn
}

// resolveFilter is the search for a bare name: a group, a service account
// or a person with that name.
func resolveFilter(name string) string {
	n := ldap.EscapeFilter(name)
	return fmt.Sprintf("(|(&(objectClass=%s)(cn=%s))(&(objectClass=%s)(uid=%s))(&(objectClass=%s)(uid=%s)))",
		classGroup, n, directory.ClassServiceAccount, n, classPerson, n)
}

// Resolve turns a name as a user types it for a manager or a member into a
// DN: a DN (anything containing '=') is returned as given, once its syntax
// is checked; an spn (name@domain, for this directory's domain) and a bare
// name are looked up among groups, service accounts and people in the whole
// base subtree. No match is an *Error matching ErrNotFound; more than one
// matches ErrAmbiguous and lists them.
func (c *Client) Resolve(ctx context.Context, name string) (string, error) {
	if strings.ContainsRune(name, '=') {
		dn, err := directory.ParseDN(name)
		if err != nil || dn.IsRoot() {
			return "", &Error{Msg: fmt.Sprintf("%q is not a valid DN", name), Err: err}
		}
		return dn.String(), nil
	}
	bare, err := localName(name, c.domain)
	if err != nil {
		return "", err
	}
	req := ldap.NewSearchRequest(c.base.String(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		resolveFilter(bare), []string{"1.1"}, nil)
	entries, err := c.search(ctx, req, op{action: "look up " + name})
	if err != nil {
		return "", err
	}
	return pickOne(name, entries)
}

func pickOne(name string, entries []*ldap.Entry) (string, error) {
	switch len(entries) {
	case 0:
		return "", &Error{Msg: fmt.Sprintf("no group or account named %s", name), kind: ErrNotFound}
	case 1:
		return entries[0].DN, nil
	}
	dns := make([]string, len(entries))
	for i, e := range entries {
		dns[i] = e.DN
	}
	return "", &Error{
		Msg:  fmt.Sprintf("%s names %d entries (%s): give the full DN", name, len(dns), strings.Join(dns, "; ")),
		kind: ErrAmbiguous,
	}
}
