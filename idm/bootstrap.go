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

// metaBootstrapping records the domain a first start is creating, so that
// an interrupted first start resumes only for the same domain.
const metaBootstrapping = "bootstrap.domain"

// StoredDomain reads the domain a store was created for at its first
// start; "" if it holds no directory yet.
func StoredDomain(ctx context.Context, store directory.Store) (string, error) {
	var domain string
	err := store.View(ctx, func(tx directory.ReadTx) error {
		v, err := tx.Meta(metaDomain)
		if errors.Is(err, directory.ErrMetaNotFound) {
			return nil
		}
		domain = string(v)
		return err
	})
	return domain, err
}

// Bootstrap prepares the store on first start: the base entry, the
// conventional containers, the built-in accounts (admin, idm_admin, without
// passwords until recover-account sets them) and the built-in groups of
// docs/design.md section 4. On later starts it checks that the store belongs to the
// configured domain. It reports whether this was the first start.
//
// The first start writes the built-in entries (createBuiltin: one
// transaction on boltstore, one per entry on etcd, which allows 128
// operations in one by default), and writes the domain last: a first start that is interrupted
// is resumed by the next one (existing built-in entries are kept), and a
// store is never served before it is complete. Several nodes starting at
// once on one etcd store converge the same way.
func (s *Service) Bootstrap(ctx context.Context) (bool, error) {
	done, err := s.checkDomain(ctx)
	if err != nil || done {
		if err == nil {
			err = s.rederiveMemberOf(ctx)
		}
		if err == nil {
			err = s.addNewBuiltinGroups(ctx)
		}
		return false, err
	}
	err = s.store.Update(ctx, func(tx directory.WriteTx) error {
		v, err := tx.Meta(metaBootstrapping)
		switch {
		case err == nil && string(v) != s.domain:
			return fmt.Errorf("%w: an interrupted first start was creating domain %q; refusing to create %q in the same store",
				ErrDomainMismatch, v, s.domain)
		case err != nil && !errors.Is(err, directory.ErrMetaNotFound):
			return err
		}
		return tx.SetMeta(metaBootstrapping, []byte(s.domain))
	})
	if err != nil {
		return false, err
	}
	entries, err := s.builtinEntries()
	if err != nil {
		return false, err
	}
	if err := s.createBuiltin(ctx, entries); err != nil {
		return false, err
	}
	err = s.store.Update(ctx, func(tx directory.WriteTx) error {
		if _, err := tx.Meta(metaDomain); err == nil {
			return nil // another node finished first
		}
		if err := tx.SetMeta(metaKanidmGroups, []byte("1")); err != nil {
			return err
		}
		if err := tx.SetMeta(metaBaseDN, []byte(s.base.String())); err != nil {
			return err
		}
		return tx.SetMeta(metaDomain, []byte(s.domain))
	})
	if err != nil {
		return false, err
	}
	_, err = s.checkDomain(ctx)
	return err == nil, err
}

// createBuiltin adds the built-in entries a first start has not added yet
// and their memberOf. A store that takes a bulk load in one transaction
// (boltstore, whose transactions have no size limit) takes them all in
// one: 2 fdatasyncs instead of 82; others get one transaction per entry
// (etcd allows 128 operations in one). Either way an interrupted first
// start leaves entries that the next one keeps, and the domain is written
// after them.
func (s *Service) createBuiltin(ctx context.Context, entries []*directory.Entry) error {
	add := func(tx directory.WriteTx, e *directory.Entry) error {
		if _, err := tx.Get(e.DN); err == nil {
			return nil // created by an interrupted first start, or another node
		}
		if err := tx.Add(e.Clone()); err != nil {
			return fmt.Errorf("create built-in entry %s: %w", e.DN, err)
		}
		return nil
	}
	memberOf := func(tx directory.WriteTx, e *directory.Entry) error {
		if err := s.refreshMemberOf(tx, []directory.DN{e.DN}); err != nil {
			return fmt.Errorf("memberOf of %s: %w", e.DN, err)
		}
		return nil
	}
	if _, ok := directory.As[directory.BulkAdder](s.store); ok {
		return s.store.Update(ctx, func(tx directory.WriteTx) error {
			for _, e := range entries {
				if err := add(tx, e); err != nil {
					return err
				}
			}
			for _, e := range entries {
				if err := memberOf(tx, e); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for _, step := range []func(directory.WriteTx, *directory.Entry) error{add, memberOf} {
		for _, e := range entries {
			if err := s.store.Update(ctx, func(tx directory.WriteTx) error { return step(tx, e) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDomain reports whether the store is bootstrapped, refusing a store
// made for another domain.
func (s *Service) checkDomain(ctx context.Context) (bool, error) {
	done := false
	err := s.store.View(ctx, func(tx directory.ReadTx) error {
		stored, err := tx.Meta(metaDomain)
		switch {
		case errors.Is(err, directory.ErrMetaNotFound):
			return nil
		case err != nil:
			return err
		case string(stored) != s.domain:
			return fmt.Errorf("%w: the data directory belongs to domain %q; refusing to serve it as %q (the domain is fixed at first start)",
				ErrDomainMismatch, stored, s.domain)
		}
		if v, err := tx.Meta(metaBaseDN); errors.Is(err, directory.ErrMetaNotFound) || (err == nil && len(v) == 0) {
			// Created before the base DN was stored: its base is the
			// domain's, and New kept any other one given.
			derived, _ := BaseDN(s.domain)
			if !derived.Equal(s.base) {
				return fmt.Errorf("%w: the data directory was created with base DN %q; refusing to serve it as %q (the base DN is fixed at first start)",
					ErrDomainMismatch, derived, s.base)
			}
		}
		done = true
		return nil
	})
	return done, err
}

// builtinEntries builds the entries of a new directory, parents first,
// stamped and schema-checked.
func (s *Service) builtinEntries() ([]*directory.Entry, error) {
	root := acl.Subject{Kind: acl.Root}
	p := s.policy
	var out []*directory.Entry
	add := func(e *directory.Entry) error {
		if err := s.schema.ExpandObjectClasses(e); err != nil {
			return err
		}
		s.deriveAccountAttrs(e)
		s.stampNew(e, root)
		if _, err := s.schema.Check(e); err != nil {
			return fmt.Errorf("built-in entry %s: %w", e.DN, err)
		}
		out = append(out, e)
		return nil
	}
	naming := s.base.RDN().AVAs()[0]
	base := directory.NewEntry(s.base)
	base.Set("objectClass", "top", baseClass(naming.Type))
	base.Set(naming.Type, naming.Value)
	base.Set("description", "ldapd directory for "+s.domain)
	if err := add(base); err != nil {
		return nil, err
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
			return nil, err
		}
	}
	accounts := map[string]string{"admin": "System Administrator", "idm_admin": "Identity Administrator"}
	for _, name := range []string{"admin", "idm_admin"} {
		e := directory.NewEntry(p.People.Child(s.rdn("uid", name)))
		e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", directory.ClassAccount)
		e.Set("uid", name)
		e.Set("cn", name)
		e.Set("sn", name)
		e.Set("displayName", accounts[name])
		if err := add(e); err != nil {
			return nil, err
		}
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
	for _, g := range s.kanidmGroups() {
		groups = append(groups, struct {
			dn      directory.DN
			desc    string
			members []string
		}{g.dn, g.desc, nil})
	}
	for _, g := range groups {
		e := directory.NewEntry(g.dn)
		cn, _ := g.dn.RDN().Value("cn")
		e.Set("objectClass", "top", "groupOfNames")
		e.Set("cn", cn)
		e.Set("description", g.desc)
		e.Set("member", g.members...)
		if err := add(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// metaKanidmGroups records that a directory created before Kanidm's
// groups (idm_account_mail_read, ...) was given them; they are added once,
// so that system_admins may delete them for good.
const metaKanidmGroups = "builtin.kanidm-groups"

type builtinGroup struct {
	dn   directory.DN
	desc string
}

// kanidmGroups are the built-in groups named after Kanidm's, which its
// runbooks and client configurations use (docs/design.md section 4).
func (s *Service) kanidmGroups() []builtinGroup {
	p := s.policy
	return []builtinGroup{
		{p.MailRead, "Read mail of accounts (Kanidm's idm_account_mail_read)"},
		{p.UnixAuthRead, "Read what NSS and PAM clients need to authenticate people (shadow attributes)"},
		{p.AllPersons, "Dynamic: every person is a member (not stored); for memberOf filters"},
		{p.AllAccounts, "Dynamic: every account, people and service accounts (not stored); for memberOf filters"},
	}
}

// addNewBuiltinGroups gives a directory bootstrapped by an earlier version
// the built-in groups it lacks, once.
func (s *Service) addNewBuiltinGroups(ctx context.Context) error {
	return s.store.Update(ctx, func(tx directory.WriteTx) error {
		if v, err := tx.Meta(metaKanidmGroups); err == nil && string(v) == "1" {
			return nil
		} else if err != nil && !errors.Is(err, directory.ErrMetaNotFound) {
			return err
		}
		root := acl.Subject{Kind: acl.Root}
		for _, g := range s.kanidmGroups() {
			if _, err := tx.Get(g.dn); err == nil {
				continue
			}
			e := directory.NewEntry(g.dn)
			cn, _ := g.dn.RDN().Value("cn")
			e.Set("objectClass", "top", "groupOfNames")
			e.Set("cn", cn)
			e.Set("description", g.desc)
			if err := s.schema.ExpandObjectClasses(e); err != nil {
				return err
			}
			s.stampNew(e, root)
			if _, err := s.schema.Check(e); err != nil {
				return fmt.Errorf("built-in entry %s: %w", e.DN, err)
			}
			if err := tx.Add(e); err != nil {
				return fmt.Errorf("create built-in group %s: %w", e.DN, err)
			}
		}
		return tx.SetMeta(metaKanidmGroups, []byte("1"))
	})
}
