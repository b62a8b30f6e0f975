package idm

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

// Kanidm's vocabulary, for clients configured by Kanidm's book. Everything
// here is an addition: a filter, bind name or DN that means something in
// RFC terms keeps that meaning, and Kanidm's forms are tried only where the
// RFC reading finds nothing.
//
//   - Filters: (class=X) is (objectClass=X); Kanidm's class values account,
//     group, service_account and object match what they name in Kanidm
//     (besides any entry with that objectClass); memberOf, member and
//     uniqueMember accept a name, an spn, a Kanidm DN (spn=NAME@DOMAIN,BASE,
//     name=NAME,BASE) or an entryUUID in place of the DN. memberOf of
//     idm_all_persons and idm_all_accounts matches every person or account.
//   - Names: a DN that is no entry, whose first RDN is spn=, name=, uid= or
//     uuid= and whose rest is empty or the base DN, names the entry with
//     that name, spn or entryUUID (binds, search bases, compare targets).
//   - Shapes: groups show spn (NAME@DOMAIN) and service accounts cn (their
//     name) when they have none stored; a filter that named Kanidm-only
//     class values gets them back among objectClass (kanidmClasses).
//
// The dynamic groups confer nothing: acl.Subject's groups come from stored
// memberOf only, which only member values of group entries produce.

// kanidmClass returns what Kanidm's class value v matches besides
// (objectClass=v), nil when v is no Kanidm-only class.
func kanidmClass(v string) []string {
	switch strings.ToLower(v) {
	case "account":
		return []string{directory.ClassAccount, directory.ClassServiceAccount}
	case "person":
		return []string{"person"}
	case "group":
		return []string{"groupOfNames", "groupOfUniqueNames", "posixGroup"}
	case "service_account":
		return []string{directory.ClassServiceAccount}
	}
	return nil
}

// kanidmClasses are the class values of Kanidm's vocabulary a filter
// used that no RFC class has: object, group, account (kanidm's, besides the
// RFC class), service_account. An entry returned for such a filter gets
// the values it fits among its objectClass values, because Kanidm clients
// check them: SSSD configured by Kanidm's guide (ldap_group_object_class =
// object) drops every entry whose objectClass lacks "object". RFC filters
// never add a value.
type kanidmClasses []string

func (k *kanidmClasses) add(v string) {
	v = strings.ToLower(v)
	if !slices.Contains(*k, v) {
		*k = append(*k, v)
	}
}

// shape adds the Kanidm class values e fits to out's objectClass, when out
// has objectClass. e is the stored entry.
func (k kanidmClasses) shape(e, out *directory.Entry) {
	if len(k) == 0 {
		return
	}
	i := slices.IndexFunc(out.Attrs, func(a directory.Attr) bool { return strings.EqualFold(a.Name, "objectClass") })
	if i < 0 {
		return
	}
	var extra []string
	for _, v := range k {
		fits := v == "object"
		for _, c := range kanidmClass(v) {
			fits = fits || hasClass(e, c)
		}
		if fits && !slices.ContainsFunc(out.Attrs[i].Values, func(x string) bool { return strings.EqualFold(x, v) }) {
			extra = append(extra, v)
		}
	}
	if len(extra) > 0 {
		out.Attrs[i].Values = append(slices.Clone(out.Attrs[i].Values), extra...)
	}
}

// kanidmFilter returns f with Kanidm's vocabulary translated into filters
// the store evaluates, f itself when there is nothing to translate. tx
// resolves names in memberOf and member assertions; used collects the
// Kanidm class values f named.
func (s *Service) kanidmFilter(tx directory.ReadTx, f *directory.Filter, used *kanidmClasses) *directory.Filter {
	switch f.Kind {
	case directory.FilterAnd, directory.FilterOr, directory.FilterNot:
		var out *directory.Filter
		for i, c := range f.Children {
			r := s.kanidmFilter(tx, c, used)
			if r == c {
				continue
			}
			if out == nil {
				clone := *f
				clone.Children = append([]*directory.Filter(nil), f.Children...)
				out = &clone
			}
			out.Children[i] = r
		}
		if out != nil {
			return out
		}
		return f
	}
	if f.Attribute() == nil && strings.EqualFold(f.Attr, "class") {
		g := *f
		g.Attr = "objectClass"
		_ = g.Resolve(s.schema)
		if r := s.kanidmFilter(tx, &g, used); r != &g {
			return r
		}
		return &g
	}
	if f.Kind != directory.FilterEquality || f.Attribute() == nil {
		return f
	}
	switch f.Attr {
	case "objectClass":
		if strings.EqualFold(f.Value, "object") {
			used.add("object")
			return &directory.Filter{Kind: directory.FilterAnd}
		}
		classes := kanidmClass(f.Value)
		if classes == nil || (len(classes) == 1 && strings.EqualFold(classes[0], f.Value)) {
			return f
		}
		if _, rfc := s.schema.Class(f.Value); !rfc {
			used.add(f.Value)
		}
		or := []*directory.Filter{f}
		for _, c := range classes {
			or = append(or, s.eqFilter("objectClass", c))
		}
		return &directory.Filter{Kind: directory.FilterOr, Children: or}
	case "memberOf", "member", "uniqueMember":
		dn, ok := s.kanidmTarget(tx, f.Value, f.Attr == "memberOf")
		if !ok {
			return f
		}
		g := s.eqFilter(f.Attr, dn.String())
		if f.Attr != "memberOf" {
			return g
		}
		var dynamic string
		switch {
		case dn.Equal(s.policy.AllPersons):
			dynamic = "person"
		case dn.Equal(s.policy.AllAccounts):
			dynamic = "account"
		default:
			return g
		}
		or := []*directory.Filter{g}
		for _, c := range kanidmClass(dynamic) {
			or = append(or, s.eqFilter("objectClass", c))
		}
		return &directory.Filter{Kind: directory.FilterOr, Children: or}
	case directory.AttrSPN:
		// Groups show an spn they do not store (kanidmShape).
		name, ok := s.localName(f.Value)
		if !ok {
			return f
		}
		// (cn=NAME) is indexed where entryDN is not; a groupOfNames of that
		// cn outside ou=groups matches too, which costs nothing to expose.
		return &directory.Filter{Kind: directory.FilterOr, Children: []*directory.Filter{f,
			{Kind: directory.FilterAnd, Children: []*directory.Filter{
				s.eqFilter("cn", name), s.eqFilter("objectClass", "groupOfNames")}}}}
	case "cn":
		// Service accounts show their name as cn (kanidmShape).
		return &directory.Filter{Kind: directory.FilterOr, Children: []*directory.Filter{f,
			{Kind: directory.FilterAnd, Children: []*directory.Filter{
				s.eqFilter("uid", f.Value), s.eqFilter("objectClass", directory.ClassServiceAccount)}}}}
	}
	return f
}

// kanidmTarget resolves v, the value of a memberOf or member assertion or a
// DN the client named, to an existing entry's DN, when v is not that DN
// already: a name, an spn, a Kanidm DN or an entryUUID. preferGroup says
// which of a group and an account of the same name v means.
func (s *Service) kanidmTarget(tx directory.ReadTx, v string, preferGroup bool) (directory.DN, bool) {
	if dn, err := directory.ParseDN(v); err == nil {
		typ, name, ok := s.kanidmRDN(dn)
		if !ok {
			if dn.Equal(s.policy.AllPersons) || dn.Equal(s.policy.AllAccounts) {
				return dn, true
			}
			return directory.DN{}, false
		}
		if typ == "uuid" {
			return s.byUUID(tx, name)
		}
		v = name
	}
	if _, err := uuid.Parse(v); err == nil && len(v) == 36 {
		return s.byUUID(tx, v)
	}
	name, ok := s.localName(v)
	if !ok {
		return directory.DN{}, false
	}
	candidates := []directory.DN{
		s.policy.People.Child(s.rdn("uid", name)),
		s.policy.Services.Child(s.rdn("uid", name)),
		s.policy.Groups.Child(s.rdn("cn", name)),
	}
	if preferGroup {
		candidates[0], candidates[2] = candidates[2], candidates[0]
	}
	for _, dn := range candidates {
		if e, err := tx.Get(dn); err == nil {
			if k := s.policy.KindOf(e); k == acl.KindGroup || k == acl.KindPerson || k == acl.KindServiceAccount {
				return dn, true
			}
		}
	}
	return directory.DN{}, false
}

// kanidmRDN recognizes Kanidm's DN forms: one spn=, name=, uid= or uuid=
// value directly under the base DN or alone.
func (s *Service) kanidmRDN(dn directory.DN) (typ, value string, ok bool) {
	if dn.IsRoot() || (!dn.Parent().IsRoot() && !dn.Parent().Equal(s.base)) {
		return "", "", false
	}
	avas := dn.RDN().AVAs()
	if len(avas) != 1 {
		return "", "", false
	}
	switch typ = strings.ToLower(avas[0].Type); typ {
	case "spn", "name", "uid", "uuid":
		return typ, avas[0].Value, true
	}
	return "", "", false
}

// localName strips @DOMAIN from an spn; a name of another domain is not
// local. A bare name is returned as it is.
func (s *Service) localName(v string) (string, bool) {
	if at := strings.LastIndexByte(v, '@'); at >= 0 {
		if !strings.EqualFold(v[at+1:], s.domain) {
			return "", false
		}
		v = v[:at]
	}
	return v, v != ""
}

// byUUID finds the account or group whose entryUUID is v.
func (s *Service) byUUID(tx directory.ReadTx, v string) (directory.DN, bool) {
	var found []directory.DN
	err := tx.Search(s.base, directory.ScopeSub, s.eqFilter("entryUUID", v), func(e *directory.Entry) error {
		if k := s.policy.KindOf(e); k == acl.KindGroup || k == acl.KindPerson || k == acl.KindServiceAccount {
			found = append(found, e.DN)
		}
		return nil
	})
	if err != nil || len(found) != 1 {
		return directory.DN{}, false
	}
	return found[0], true
}

// kanidmEntryDN maps a Kanidm DN (spn=NAME@DOMAIN,BASE, name=NAME,BASE,
// uuid=...) that names no entry to the entry it means, for search bases
// and compare targets; dn itself otherwise.
func (s *Service) kanidmEntryDN(tx directory.ReadTx, dn directory.DN) directory.DN {
	if _, _, ok := s.kanidmRDN(dn); !ok {
		return dn
	}
	if _, err := tx.Get(dn); err == nil {
		return dn
	}
	if real, ok := s.kanidmTarget(tx, dn.String(), false); ok {
		return real
	}
	return dn
}

// kanidmShape adds to out, the readable copy of stored entry e (its Attrs
// may be appended to, their values must not be changed in place), what
// Kanidm's clients expect and the store does not hold: spn of groups and
// cn of service accounts, each only if sub may read it.
//
// The dynamic groups are not added to memberOf values: memberOf lists the
// stored group memberships, the ones that confer rights, and an audit
// reading it should not have to tell the two apart. They are members in
// memberOf filters (kanidmFilter), which is where Kanidm's clients use them.
func (s *Service) kanidmShape(sub acl.Subject, e, out *directory.Entry) {
	switch s.policy.KindOf(e) {
	case acl.KindGroup:
		if !e.Has(directory.AttrSPN) && s.policy.CanReadAttr(sub, e, directory.AttrSPN) {
			if cn, ok := e.DN.RDN().Value("cn"); ok {
				out.Attrs = append(out.Attrs, directory.Attr{Name: directory.AttrSPN, Values: []string{s.SPN(cn)}})
			}
		}
	case acl.KindServiceAccount:
		if !e.Has("cn") && s.policy.CanReadAttr(sub, e, "cn") {
			if uid, ok := e.DN.RDN().Value("uid"); ok {
				out.Attrs = append(out.Attrs, directory.Attr{Name: "cn", Values: []string{uid}})
			}
		}
	}
}
