package idm

import (
	"context"
	"errors"
	"fmt"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

const metaDomain = "domain"

// ErrDomainMismatch is returned by Bootstrap when the store was created for
// another domain.
var ErrDomainMismatch = errors.New("domain mismatch")

// Bootstrap prepares the store on first start: the base entry, the
// conventional containers, the built-in accounts (admin, idm_admin, without
// passwords until recover-account sets them) and the built-in groups of
// SPEC section 4. On later starts it checks that the store belongs to the
// configured domain. It reports whether this was the first start.
func (s *Service) Bootstrap(ctx context.Context) (bool, error) {
	first := false
	err := s.store.Update(ctx, func(tx directory.WriteTx) error {
		stored, err := tx.Meta(metaDomain)
		switch {
		case err == nil:
			if string(stored) != s.domain {
				return fmt.Errorf("%w: the data directory belongs to domain %q; refusing to serve it as %q (the domain is fixed at first start)",
					ErrDomainMismatch, stored, s.domain)
			}
			first = false
			return nil
		case !errors.Is(err, directory.ErrMetaNotFound):
			return err
		}
		first = true
		if err := s.createBuiltins(tx); err != nil {
			return err
		}
		return tx.SetMeta(metaDomain, []byte(s.domain))
	})
	return first, err
}

func (s *Service) createBuiltins(tx directory.WriteTx) error {
	root := acl.Subject{Kind: acl.Root}
	p := s.policy
	add := func(e *directory.Entry) error {
		if err := s.schema.ExpandObjectClasses(e); err != nil {
			return err
		}
		s.deriveAccountAttrs(e)
		s.stampNew(e, root)
		if _, err := s.schema.Check(e); err != nil {
			return fmt.Errorf("built-in entry %s: %w", e.DN, err)
		}
		return tx.Add(e)
	}
	labels := s.base.RDN()
	dc, _ := labels.Value("dc")
	base := directory.NewEntry(s.base)
	base.Set("objectClass", "top", "domain")
	base.Set("dc", dc)
	base.Set("description", "ldapd directory for "+s.domain)
	if err := add(base); err != nil {
		return err
	}
	for _, ou := range []struct {
		dn   directory.DN
		desc string
	}{{p.People, "People and built-in accounts"}, {p.Groups, "Groups"}, {p.Services, "Service accounts"}} {
		e := directory.NewEntry(ou.dn)
		name, _ := ou.dn.RDN().Value("ou")
		e.Set("objectClass", "top", "organizationalUnit")
		e.Set("ou", name)
		e.Set("description", ou.desc)
		if err := add(e); err != nil {
			return err
		}
	}
	accounts := map[string]string{"admin": "System Administrator", "idm_admin": "Identity Administrator"}
	var all []directory.DN
	for _, name := range []string{"admin", "idm_admin"} {
		e := directory.NewEntry(p.People.Child(s.rdn("uid", name)))
		e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", directory.ClassAccount)
		e.Set("uid", name)
		e.Set("cn", name)
		e.Set("sn", name)
		e.Set("displayName", accounts[name])
		if err := add(e); err != nil {
			return err
		}
		all = append(all, e.DN)
	}
	person := func(name string) string { return p.People.Child(s.rdn("uid", name)).String() }
	groups := []struct {
		dn      directory.DN
		desc    string
		members []string
	}{
		{p.SystemAdmins, "System administrators: everything except reading secrets", []string{person("admin")}},
		{p.IDMAdmins, "Identity administrators", []string{person("idm_admin")}},
		{p.PeopleAdmins, "Create, modify and delete people and set their passwords", []string{p.IDMAdmins.String()}},
		{p.GroupAdmins, "Create, modify and delete groups and their members", []string{p.IDMAdmins.String()}},
		{p.ServiceAccountAdmins, "Create and delete service accounts, set entryManagedBy", []string{p.IDMAdmins.String()}},
		{p.AccessControlAdmins, "Change entryManagedBy of high-privilege entries and idm_high_privilege membership", []string{p.SystemAdmins.String()}},
		{p.HighPrivilege, "Protected entries: people admins cannot change them", []string{person("admin"), person("idm_admin"),
			p.SystemAdmins.String(), p.IDMAdmins.String(), p.PeopleAdmins.String(), p.GroupAdmins.String(),
			p.ServiceAccountAdmins.String(), p.AccessControlAdmins.String()}},
		{p.PIIRead, "Read personal attributes (mail, phone numbers, addresses)", nil},
	}
	for _, g := range groups {
		e := directory.NewEntry(g.dn)
		cn, _ := g.dn.RDN().Value("cn")
		e.Set("objectClass", "top", "groupOfNames")
		e.Set("cn", cn)
		e.Set("description", g.desc)
		e.Set("member", g.members...)
		if err := add(e); err != nil {
			return err
		}
		all = append(all, g.dn)
	}
	return s.refreshMemberOf(tx, all)
}
