// Package acl decides who may do what in the directory: the Kanidm model of
// built-in groups described in docs/design.md section 4.
//
// # Basics
//
// A [Policy] knows the DNs of the conventional containers and of the
// built-in groups for one base DN. [Policy.Decide] answers whether a
// [Subject] may add, modify or delete a [Target]; [Policy.CanSee] and
// [Policy.CanReadAttr] filter search results. Everything is denied unless a
// rule below allows it, and the functions are pure: the caller supplies the
// subject's transitive group memberships and the target entries, so the
// package does no I/O and can be tested with tables.
//
// Rules, in short:
//   - userPassword is never readable over LDAP, by anyone.
//   - public attributes (names, spn, objectClass, group membership, RFC
//     2307 numbers, entryUUID, operational timestamps) are readable by all,
//     anonymous included; personal attributes (mail, phone numbers,
//     addresses, ...) need idm_people_pii_read, idm_people_admins or
//     system_admins, or being the entry itself; other attributes need an
//     administrator, a manager of the entry or the entry itself.
//   - token records are visible only to their account's managers and to
//     system_admins and idm_service_account_admins.
//   - writes: system_admins anything; idm_people_admins people;
//     idm_group_admins groups; idm_service_account_admins create and delete
//     service accounts and set entryManagedBy; managers update their
//     service accounts and issue and revoke their tokens; entries that are
//     members of idm_high_privilege are changed only by system_admins
//     (and, for entryManagedBy and the idm_high_privilege group itself, by
//     idm_access_control_admins); anyone may change their own password.
//   - a read-only token may not write at all.
//
// # Caveats
//
// Group membership must be transitive (the subject's memberOf, with nested
// groups resolved) and fresh: the caller reads it at the start of every
// operation so that a removal takes effect at once.
package acl

import (
	"fmt"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// SubjectKind says who is acting.
type SubjectKind uint8

// Subject kinds.
const (
	// Anonymous is an unauthenticated client.
	Anonymous SubjectKind = iota
	// Account is a bound account: a person or a service account (directly
	// or through an API token).
	Account
	// Root is the server itself or the local administration socket; it may
	// do anything except read secrets.
	Root
)

// Subject is the identity an operation runs as.
type Subject struct {
	Kind SubjectKind
	// DN of the account (Account only).
	DN directory.DN
	// Groups are the account's transitive group memberships (normalized DNs).
	Groups map[string]bool
	// ReadOnly is set for a read-only API token: every write is denied.
	ReadOnly bool
	// Token is set when the subject acts through an API token: it may not
	// turn the token into a lasting credential of its own account.
	Token bool
}

// Name is the subject's short name for messages.
func (s Subject) Name() string {
	switch s.Kind {
	case Anonymous:
		return "anonymous"
	case Root:
		return "root"
	}
	if v, ok := s.DN.RDN().Value("uid"); ok {
		return v
	}
	return s.DN.String()
}

// InGroup reports whether the subject is a (transitive) member of group.
func (s Subject) InGroup(group directory.DN) bool { return s.Groups[group.Norm()] }

// Op is a write operation.
type Op uint8

// Write operations.
const (
	OpAdd Op = iota
	OpModify
	OpDelete
	// OpRename is a ModifyDN: Target.Entry is the entry as it is,
	// Target.New the entry under its new name.
	OpRename
)

func (o Op) String() string { return [...]string{"add", "modify", "delete", "rename"}[o] }

// Target is the entry an operation acts on.
type Target struct {
	// Entry is the existing entry (Modify, Delete) or the proposed one (Add).
	Entry *directory.Entry
	// Account is, for a token record, the service account it belongs to.
	Account *directory.Entry
	// New is the entry as the write leaves it: for OpModify with the
	// client's changes applied (before the server derives anything), for
	// OpRename under its new DN. Object classes the write adds or removes
	// are read from the difference between Entry and New.
	New *directory.Entry
}

// Decision is the outcome of Decide; Reason explains a denial in words fit
// for the client.
type Decision struct {
	Allowed bool
	Reason  string
}

func allow() Decision { return Decision{Allowed: true} }

func deny(reason string) Decision { return Decision{Reason: reason} }

// Policy holds the DNs the rules refer to.
type Policy struct {
	Base                                                     directory.DN
	People, Groups, Services                                 directory.DN
	SystemAdmins, IDMAdmins, PeopleAdmins, GroupAdmins       directory.DN
	ServiceAccountAdmins, AccessControlAdmins, HighPrivilege directory.DN
	PIIRead                                                  directory.DN
	// Kanidm's groups: MailRead reads mail, UnixAuthRead reads what NSS
	// and PAM clients need; AllPersons and AllAccounts are dynamic (every
	// person, every account) and confer nothing by themselves.
	MailRead, UnixAuthRead, AllPersons, AllAccounts directory.DN
	// AnonymousRead is what anonymous clients may read (zero value:
	// AnonymousPublic).
	AnonymousRead AnonymousRead
	// classes are what the read rules make of each attribute name, under
	// its lower-case form and as spelled in the rules (read.go).
	classes map[string]attrClass
}

// AnonymousRead says what an anonymous client may read.
type AnonymousRead uint8

// Anonymous exposure levels.
const (
	// AnonymousPublic: every entry, with its public attributes (docs/design.md
	// section 4).
	AnonymousPublic AnonymousRead = iota
	// AnonymousPOSIX: only posixAccount and posixGroup entries, with the
	// attributes NSS clients read.
	AnonymousPOSIX
	// AnonymousNone: no entry (the root DSE and the subschema entry stay
	// readable: they are not directory entries).
	AnonymousNone
)

// ParseAnonymousRead parses public, posix or none.
func ParseAnonymousRead(s string) (AnonymousRead, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "public":
		return AnonymousPublic, nil
	case "posix":
		return AnonymousPOSIX, nil
	case "none":
		return AnonymousNone, nil
	}
	return 0, fmt.Errorf("invalid anonymous read level %q: want public, posix or none", s)
}

func (a AnonymousRead) String() string { return [...]string{"public", "posix", "none"}[a] }

// Names of the built-in groups.
const (
	GroupSystemAdmins         = "system_admins"
	GroupIDMAdmins            = "idm_admins"
	GroupPeopleAdmins         = "idm_people_admins"
	GroupGroupAdmins          = "idm_group_admins"
	GroupServiceAccountAdmins = "idm_service_account_admins"
	GroupAccessControlAdmins  = "idm_access_control_admins"
	GroupHighPrivilege        = "idm_high_privilege"
	GroupPIIRead              = "idm_people_pii_read"
	GroupMailRead             = "idm_account_mail_read"
	GroupUnixAuthRead         = "idm_unix_authentication_read"
	GroupAllPersons           = "idm_all_persons"
	GroupAllAccounts          = "idm_all_accounts"
)

// NewPolicy returns the built-in policy for the directory rooted at base.
func NewPolicy(base directory.DN) *Policy {
	ou := func(name string) directory.DN {
		return base.Child(directory.NewRDN(directory.AVA{Type: "ou", Value: name}))
	}
	p := &Policy{Base: base, People: ou("people"), Groups: ou("groups"), Services: ou("services")}
	g := func(name string) directory.DN {
		return p.Groups.Child(directory.NewRDN(directory.AVA{Type: "cn", Value: name}))
	}
	p.SystemAdmins, p.IDMAdmins, p.PeopleAdmins = g(GroupSystemAdmins), g(GroupIDMAdmins), g(GroupPeopleAdmins)
	p.GroupAdmins, p.ServiceAccountAdmins = g(GroupGroupAdmins), g(GroupServiceAccountAdmins)
	p.AccessControlAdmins, p.HighPrivilege, p.PIIRead = g(GroupAccessControlAdmins), g(GroupHighPrivilege), g(GroupPIIRead)
	p.MailRead, p.UnixAuthRead = g(GroupMailRead), g(GroupUnixAuthRead)
	p.AllPersons, p.AllAccounts = g(GroupAllPersons), g(GroupAllAccounts)
	p.classes = map[string]attrClass{}
	p.classify(classPassword, "userPassword")
	p.classify(classMail, "mail")
	p.classify(classHasSubordinates, "hasSubordinates")
	p.classify(classPublic, "objectClass", "uid", "cn", "sn", "givenName", "initials", "displayName", "name",
		directory.AttrSPN, "member", "memberOf", "memberUid", "uniqueMember", "owner", "uidNumber", "gidNumber",
		"homeDirectory", "loginShell", "gecos", "sshPublicKey", "entryUUID", "entryDN", "dc", "ou", "o", "description", "title",
		"seeAlso", "businessCategory", "labeledURI", directory.AttrEntryManagedBy, "structuralObjectClass",
		"hasSubordinates", "subschemaSubentry", "createTimestamp", "modifyTimestamp", "creatorsName",
		"modifiersName", directory.AttrAccountDisabled,
		// the root DSE and subschema entry
		"namingContexts", "supportedControl", "supportedExtension", "supportedLDAPVersion",
		"supportedSASLMechanisms", "supportedFeatures", "vendorName", "vendorVersion",
		"attributeTypes", "objectClasses", "matchingRules", "ldapSyntaxes")
	p.classify(classPII, "mail", "telephoneNumber", "mobile", "homePhone", "pager", "facsimileTelephoneNumber",
		"postalAddress", "homePostalAddress", "street", "postalCode", "postOfficeBox", "l", "st", "c",
		"jpegPhoto", "employeeNumber", "carLicense", "roomNumber", "physicalDeliveryOfficeName",
		"preferredLanguage", "departmentNumber", "employeeType", "manager", "secretary")
	// What NSS clients (nslcd, sssd) read of posixAccount and posixGroup
	// entries: all anonymous clients see under --anonymous-read posix.
	p.classify(classNSS, "objectClass", "uid", "cn", "uidNumber", "gidNumber", "homeDirectory", "loginShell", "gecos",
		"memberUid", "member", "memberOf", "uniqueMember", "entryUUID", "entryDN", "structuralObjectClass",
		"createTimestamp", "modifyTimestamp", "sshPublicKey", "hasSubordinates", "subschemaSubentry")
	// What idm_unix_authentication_read adds: the shadow attributes PAM's
	// account checks read (password expiry and the like).
	p.classify(classUnixAuth, "shadowLastChange", "shadowMin", "shadowMax", "shadowWarning", "shadowInactive",
		"shadowExpire", "shadowFlag")
	return p
}

// lowerName lower-cases an attribute name, without allocating for the
// names of the built-in schema (AttributeType.LowerName).
func (p *Policy) lowerName(attr string) string {
	if at, ok := directory.Builtin().Attr(attr); ok && strings.EqualFold(at.Name(), attr) {
		return at.LowerName()
	}
	return strings.ToLower(attr)
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}

// isHighPrivilege reports whether e is idm_high_privilege or a member of it.
func (p *Policy) isHighPrivilege(e *directory.Entry) bool {
	if e == nil {
		return false
	}
	if e.DN.Equal(p.HighPrivilege) {
		return true
	}
	for _, v := range e.Get("memberOf") {
		if dn, err := directory.ParseDN(v); err == nil && dn.Equal(p.HighPrivilege) {
			return true
		}
	}
	return false
}

// isManager reports whether s manages the service account e: s is its
// entryManagedBy account or a member of that group.
func (p *Policy) isManager(s Subject, e *directory.Entry) bool {
	if s.Kind != Account || e == nil {
		return false
	}
	v := e.First(directory.AttrEntryManagedBy)
	if v == "" {
		return false
	}
	mgr, err := directory.ParseDN(v)
	if err != nil {
		return false
	}
	return mgr.Equal(s.DN) || s.InGroup(mgr)
}

func (p *Policy) isSelf(s Subject, dn directory.DN) bool { return s.Kind == Account && s.DN.Equal(dn) }

// CanSee reports whether the entry e may be returned to s at all. For a
// token record, account is its service account.
// SeenByDN reports whether CanSee of an entry named dn depends on nothing
// but the name: true for every entry but token records, which only their
// account's managers and admins see. A caller may then skip reading the
// entry to decide.
func (p *Policy) SeenByDN(dn directory.DN) bool { return p.positionOf(dn) != KindToken }

func (p *Policy) CanSee(s Subject, e, account *directory.Entry) bool {
	if s.Kind == Anonymous && p.AnonymousRead != AnonymousPublic {
		return p.AnonymousRead == AnonymousPOSIX && (hasClass(e, "posixAccount") || hasClass(e, "posixGroup"))
	}
	if p.positionOf(e.DN) != KindToken {
		return true
	}
	switch {
	case s.Kind == Root:
		return true
	case s.Kind != Account:
		return false
	}
	return s.InGroup(p.SystemAdmins) || s.InGroup(p.ServiceAccountAdmins) || p.isManager(s, account)
}

// CanReadAttr reports whether s may read attribute attr (a canonical name)
// of e, an entry s can see (the rules are AttrReader.CanRead's).
func (p *Policy) CanReadAttr(s Subject, e *directory.Entry, attr string) bool {
	r := p.AttrReader(s)
	r.Entry(e)
	return r.CanRead(attr)
}

func containsAttr(attrs []string, name string) bool {
	for _, a := range attrs {
		if strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}
