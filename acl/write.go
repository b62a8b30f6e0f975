package acl

import (
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// The write policy is one allow-list: for each role a subject can hold
// towards an entry and each kind of entry, the operations the role may
// perform and the object classes and attributes it may write. A write is
// allowed when one role the subject holds grants the operation and every
// attribute and object class the write touches; everything else is
// refused with a reason that names the rule. docs/security.md prints the
// table.

// Role is what a subject is to the entry it writes.
type Role uint8

// Roles, from the subject's groups and its relation to the entry.
const (
	// RoleSystemAdmin is a member of system_admins: every kind and class,
	// every attribute the server does not maintain.
	RoleSystemAdmin Role = iota
	// RolePeopleAdmin is a member of idm_people_admins.
	RolePeopleAdmin
	// RoleGroupAdmin is a member of idm_group_admins.
	RoleGroupAdmin
	// RoleServiceAccountAdmin is a member of idm_service_account_admins.
	RoleServiceAccountAdmin
	// RoleAccessControlAdmin is a member of idm_access_control_admins.
	RoleAccessControlAdmin
	// RoleManager manages the service account (its entryManagedBy names
	// the subject or a group the subject is in).
	RoleManager
	// RoleSelf is the entry itself.
	RoleSelf
)

var roleNames = [...]string{"system_admins", "idm_people_admins", "idm_group_admins",
	"idm_service_account_admins", "idm_access_control_admins", "managers", "the account itself"}

func (r Role) String() string { return roleNames[r] }

// Grant is what one role may write on one kind of entry.
type Grant struct {
	Role Role
	Kind Kind
	// Ops the role may perform on the kind (OpAdd, OpModify, OpDelete,
	// OpRename).
	Ops []Op
	// Classes the role may give an entry it adds, or add to or remove
	// from one it modifies. Nil: none (objectClass may not change).
	Classes []string
	// Attrs the role may set on Add and change on Modify (objectClass is
	// governed by Classes). On Add, Naming attributes are allowed too.
	Attrs []string
	// HighPrivilege: the grant applies to entries that are members of
	// idm_high_privilege too. Grants without it do not.
	HighPrivilege bool
	// Only, when set, narrows the grant to the entries it accepts; Note
	// says which, for the documentation.
	Only func(p *Policy, e *directory.Entry) bool
	Note string
}

// Attribute and class sets of the grants.
var (
	personClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson", directory.ClassAccount,
		"posixAccount", "shadowAccount", "ldapPublicKey"}
	personAttrs = []string{"cn", "sn", "givenName", "initials", "displayName", "description", "title",
		"mail", "telephoneNumber", "mobile", "homePhone", "pager", "facsimileTelephoneNumber", "postalAddress",
		"homePostalAddress", "street", "postalCode", "postOfficeBox", "l", "st", "o", "ou", "jpegPhoto",
		"employeeNumber", "employeeType", "carLicense", "roomNumber", "physicalDeliveryOfficeName",
		"preferredLanguage", "departmentNumber", "manager", "secretary", "labeledURI", "seeAlso",
		"businessCategory", "userPassword", directory.AttrAccountDisabled,
		"uidNumber", "gidNumber", "homeDirectory", "loginShell", "gecos",
		"shadowLastChange", "shadowMin", "shadowMax", "shadowWarning", "shadowInactive", "shadowExpire", "shadowFlag",
		"sshPublicKey"}
	groupClasses = []string{"top", "groupOfNames", "groupOfUniqueNames", "posixGroup"}
	// memberUid is written together with member (the server keeps the two
	// in step, idm/posix.go), so a role that may write memberUid must be
	// able to write member (acl_test TestMemberUIDOnlyWithMember).
	groupAttrs = []string{"member", "uniqueMember", "description", "businessCategory", "seeAlso", "owner",
		"o", "ou", "gidNumber", "memberUid"}
	serviceClasses = []string{"top", directory.ClassServiceAccount, directory.ClassAccount, "posixAccount", "ldapPublicKey"}
	serviceAttrs   = []string{"cn", "displayName", "description", "mail", "seeAlso", "userPassword",
		directory.AttrAccountDisabled, directory.AttrEntryManagedBy, "homeDirectory", "loginShell", "gecos", "sshPublicKey"}
	// What a manager may change on its service account (docs/design.md section 4).
	managerAttrs = []string{"description", "displayName", "userPassword", directory.AttrAccountDisabled}
)

// grants is the allow-list. system_admins are not listed: they may write
// every kind with every class and attribute but the server-maintained ones.
var grants = []Grant{
	{Role: RolePeopleAdmin, Kind: KindPerson, Ops: []Op{OpAdd, OpModify, OpDelete, OpRename},
		Classes: personClasses, Attrs: personAttrs},
	{Role: RoleGroupAdmin, Kind: KindGroup, Ops: []Op{OpAdd, OpModify, OpDelete, OpRename},
		Classes: groupClasses, Attrs: groupAttrs},
	{Role: RoleServiceAccountAdmin, Kind: KindServiceAccount, Ops: []Op{OpAdd, OpModify, OpDelete, OpRename},
		Classes: serviceClasses, Attrs: serviceAttrs},
	{Role: RoleManager, Kind: KindServiceAccount, Ops: []Op{OpModify}, Attrs: managerAttrs, HighPrivilege: true},
	{Role: RoleSelf, Kind: KindPerson, Ops: []Op{OpModify}, Classes: []string{"ldapPublicKey"},
		Attrs: []string{"userPassword", "displayName", "sshPublicKey"}},
	{Role: RoleSelf, Kind: KindPerson, Ops: []Op{OpModify}, Attrs: []string{"userPassword"}, HighPrivilege: true},
	{Role: RoleAccessControlAdmin, Kind: KindServiceAccount, Ops: []Op{OpModify},
		Attrs: []string{directory.AttrEntryManagedBy}, HighPrivilege: true, Note: "members of idm_high_privilege only",
		Only: func(p *Policy, e *directory.Entry) bool { return p.isHighPrivilege(e) }},
	{Role: RoleAccessControlAdmin, Kind: KindGroup, Ops: []Op{OpModify},
		Attrs: []string{directory.AttrEntryManagedBy}, HighPrivilege: true, Note: "members of idm_high_privilege only",
		Only: func(p *Policy, e *directory.Entry) bool { return p.isHighPrivilege(e) }},
	{Role: RoleAccessControlAdmin, Kind: KindGroup, Ops: []Op{OpModify}, Attrs: []string{"member"}, HighPrivilege: true,
		Note: "idm_high_privilege itself", Only: func(p *Policy, e *directory.Entry) bool { return e.DN.Equal(p.HighPrivilege) }},
}

// Grants returns the allow-list, for documentation and tests.
func Grants() []Grant { return slices.Clone(grants) }

// serverMaintained are the attributes no client writes, system_admins
// included: the server derives them (memberOf, spn, the operational
// attributes) or writes them itself (token records). memberUid is not
// among them: RFC 2307 tools write it, and the server keeps it in step
// with member.
var serverMaintained = set("memberOf", "entryUUID", "createTimestamp", "modifyTimestamp", "creatorsName",
	"modifiersName", "structuralObjectClass", "entryDN", "hasSubordinates", "subschemaSubentry",
	directory.AttrSPN, directory.AttrTokenID, directory.AttrTokenLabel, directory.AttrTokenPurpose,
	directory.AttrTokenIssuedAt, directory.AttrTokenExpiry, directory.AttrTokenIssuedBy)

// ServerMaintained reports whether clients may never write attr.
func ServerMaintained(attr string) bool { return serverMaintained[strings.ToLower(attr)] }

// builtinGroups may be renamed or deleted only by system_admins: their
// names are what the rules and the clients' configuration refer to.
func (p *Policy) isBuiltinGroup(dn directory.DN) bool {
	for _, g := range []directory.DN{p.SystemAdmins, p.IDMAdmins, p.PeopleAdmins, p.GroupAdmins,
		p.ServiceAccountAdmins, p.AccessControlAdmins, p.HighPrivilege, p.PIIRead, p.MailRead, p.UnixAuthRead,
		p.AllPersons, p.AllAccounts} {
		if g.Equal(dn) {
			return true
		}
	}
	return false
}

// Decide answers whether s may perform op on t. attrs are the attributes
// the write names (canonical names; for Add, those the client gave; for
// Modify, those it changes; ignored for Delete and Rename). Classes added or
// removed come from t.Entry and t.New.
func (p *Policy) Decide(s Subject, op Op, t Target, attrs []string) Decision {
	return p.decide(s, op, t, attrs, false)
}

// MayWrite is the first half of Decide: whether s holds a role that may
// perform op on an entry of t.Entry's kind at all, whatever it writes
// (attrs only shape the reason of a refusal). A caller asks it before
// checking the write against the schema, so that those who may write the
// entry hear of schema errors, and asks Decide after.
func (p *Policy) MayWrite(s Subject, op Op, t Target, attrs []string) Decision {
	return p.decide(s, op, t, attrs, true)
}

func (p *Policy) decide(s Subject, op Op, t Target, attrs []string, coarse bool) Decision {
	switch {
	case s.Kind == Root:
		return allow()
	case s.Kind == Anonymous:
		return deny("anonymous clients may not " + op.String() + " entries; bind first")
	case s.ReadOnly:
		return deny("the API token is read-only; generate one with --rw to write")
	}
	e := t.Entry
	k := p.KindOf(e)
	if k == KindToken {
		return p.decideToken(s, op, t)
	}
	if op == OpAdd && attrs == nil && !coarse {
		// The entry as stored: what the server maintains is not the
		// client's doing.
		for _, a := range e.Attrs {
			if !ServerMaintained(a.Name) {
				attrs = append(attrs, a.Name)
			}
		}
	}
	for _, a := range attrs {
		if ServerMaintained(a) && !coarse {
			return deny(a + " is maintained by the server and cannot be written")
		}
	}
	var classes []string
	if !coarse {
		classes = p.classesTouched(op, t)
	}
	if op == OpRename {
		if d := p.decideRename(s, t); !d.Allowed {
			return d
		}
	}
	if s.InGroup(p.SystemAdmins) {
		return allow()
	}
	if op == OpDelete && p.isBuiltinGroup(e.DN) {
		return deny(e.DN.RDN().String() + " is a built-in group: only " + GroupSystemAdmins + " may rename or delete it")
	}
	if slices.ContainsFunc(classes, func(c string) bool { return strings.EqualFold(c, "extensibleObject") }) {
		return deny("only " + GroupSystemAdmins + " may use extensibleObject")
	}
	if op == OpModify && s.Token && p.isSelf(s, e.DN) && containsAttr(attrs, "userPassword") {
		return deny("an API token may not set its own account's password")
	}
	high := p.isHighPrivilege(e)
	var held []Grant // the grants of roles s holds on this kind, for the reason
	for _, g := range grants {
		if g.Kind != k || !p.holds(s, g.Role, e) || (g.Only != nil && !g.Only(p, e)) {
			continue
		}
		if high && !g.HighPrivilege {
			continue
		}
		held = append(held, g)
		if !slices.Contains(g.Ops, op) {
			continue
		}
		if coarse {
			return allow()
		}
		if bad := notIn(classes, g.Classes); bad != "" {
			continue
		}
		if bad := p.attrsOutside(op, e, attrs, g); bad != "" {
			continue
		}
		if op == OpModify && len(attrs) == 0 {
			continue
		}
		return allow()
	}
	return p.denial(s, op, e, k, high, held, classes, attrs)
}

// holds reports whether s holds role towards e.
func (p *Policy) holds(s Subject, r Role, e *directory.Entry) bool {
	switch r {
	case RoleSystemAdmin:
		return s.InGroup(p.SystemAdmins)
	case RolePeopleAdmin:
		return s.InGroup(p.PeopleAdmins)
	case RoleGroupAdmin:
		return s.InGroup(p.GroupAdmins)
	case RoleServiceAccountAdmin:
		return s.InGroup(p.ServiceAccountAdmins)
	case RoleAccessControlAdmin:
		return s.InGroup(p.AccessControlAdmins)
	case RoleManager:
		return p.isManager(s, e)
	case RoleSelf:
		return p.isSelf(s, e.DN)
	}
	return false
}

// attrsOutside returns the first of attrs that g does not allow for op on
// e, "" when all are allowed. objectClass is decided by the classes; on Add
// the naming attribute is part of the name the grant allows.
func (p *Policy) attrsOutside(op Op, e *directory.Entry, attrs []string, g Grant) string {
	for _, a := range attrs {
		switch {
		case strings.EqualFold(a, "objectClass"):
			if g.Classes == nil {
				return a
			}
		case containsAttr(g.Attrs, a):
		case op == OpAdd && isNaming(e, a):
		case op == OpRename:
		default:
			return a
		}
	}
	return ""
}

func isNaming(e *directory.Entry, attr string) bool {
	for _, ava := range e.DN.RDN().AVAs() {
		if strings.EqualFold(ava.Type, attr) {
			return true
		}
	}
	return false
}

// classesTouched returns the object classes the write gives (Add) or adds
// or removes (Modify).
func (p *Policy) classesTouched(op Op, t Target) []string {
	switch op {
	case OpAdd:
		return t.Entry.Get("objectClass")
	case OpModify:
		if t.New == nil {
			return nil
		}
		var out []string
		before, after := t.Entry.Get("objectClass"), t.New.Get("objectClass")
		for _, c := range after {
			if !containsAttr(before, c) {
				out = append(out, c)
			}
		}
		for _, c := range before {
			if !containsAttr(after, c) {
				out = append(out, c)
			}
		}
		return out
	}
	return nil
}

// decideRename applies the rules that hold for every role: an entry keeps
// its kind, and built-in groups keep their names, unless system_admins
// rename them. The caller then asks whether the role may rename the kind.
func (p *Policy) decideRename(s Subject, t Target) Decision {
	if t.New == nil {
		return deny("rename without its target")
	}
	if s.InGroup(p.SystemAdmins) {
		return allow()
	}
	name := t.Entry.DN.RDN().String()
	if p.isBuiltinGroup(t.Entry.DN) {
		return deny(name + " is a built-in group: only " + GroupSystemAdmins + " may rename or delete it")
	}
	if from, to := p.KindOf(t.Entry), p.KindOf(t.New); from != to {
		return deny("a rename may not turn a " + from.String() + " into a " + to.String() + ": only " + GroupSystemAdmins + " may")
	}
	return allow()
}

// denial explains why no grant allowed the write, naming the rule.
func (p *Policy) denial(s Subject, op Op, e *directory.Entry, k Kind, high bool, held []Grant, classes, attrs []string) Decision {
	name := e.DN.RDN().String()
	if k == KindServiceAccount {
		name = accountName(e)
	}
	if op == OpDelete && p.isBuiltinGroup(e.DN) {
		return deny(name + " is a built-in group: only " + GroupSystemAdmins + " may rename or delete it")
	}
	for _, g := range held {
		if !slices.Contains(g.Ops, op) {
			continue
		}
		if bad := notIn(classes, g.Classes); bad != "" {
			if len(g.Classes) == 0 {
				return deny(s.Name() + " may not change the object classes of " + name + ": " + g.Role.String() +
					" may change only " + listOrNothing(g.Attrs))
			}
			return deny(s.Name() + " may not use object class " + bad + " on a " + k.String() + ": " + g.Role.String() +
				" may use only " + strings.Join(g.Classes, ", "))
		}
		if bad := p.attrsOutside(op, e, attrs, g); bad != "" {
			if g.Role == RoleManager && strings.EqualFold(bad, directory.AttrEntryManagedBy) && !high {
				return deny(s.Name() + " may not change entryManagedBy of " + accountName(e) + ": not a member of " + GroupServiceAccountAdmins)
			}
			if g.Role == RoleManager {
				return deny(s.Name() + " may not change " + bad + " of " + accountName(e) +
					": managers of a service account may change only " + strings.Join(g.Attrs, ", ") + p.adminHint(bad, k, high))
			}
			return deny(s.Name() + " may not " + verb(op) + " " + bad + " of " + name + ": " + g.Role.String() +
				" may " + verb(op) + " only " + listOrNothing(g.Attrs) + p.adminHint(bad, k, high))
		}
	}
	if high {
		if op == OpModify && containsAttr(attrs, directory.AttrEntryManagedBy) {
			return deny(name + " is a member of " + GroupHighPrivilege + ": only " + GroupAccessControlAdmins + " may change its entryManagedBy")
		}
		if k == KindServiceAccount && op == OpModify && !s.InGroup(p.ServiceAccountAdmins) {
			return deny(s.Name() + " may not manage " + accountName(e) + ": " + p.notManagerReason(e))
		}
		return deny(name + " is a member of " + GroupHighPrivilege + ": only " + GroupSystemAdmins + " may " + op.String() + " it")
	}
	switch k {
	case KindPerson:
		return deny(s.Name() + " may not " + op.String() + " people: not a member of " + GroupPeopleAdmins)
	case KindGroup:
		return deny(s.Name() + " may not " + op.String() + " groups: not a member of " + GroupGroupAdmins)
	case KindServiceAccount:
		if op == OpModify && containsAttr(attrs, directory.AttrEntryManagedBy) {
			return deny(s.Name() + " may not change entryManagedBy of " + accountName(e) + ": not a member of " + GroupServiceAccountAdmins)
		}
		if op == OpModify {
			return deny(s.Name() + " may not manage " + accountName(e) + ": " + p.notManagerReason(e))
		}
		return deny(s.Name() + " may not " + op.String() + " service accounts: not a member of " + GroupServiceAccountAdmins)
	}
	return deny(s.Name() + " may not " + op.String() + " " + e.DN.String() + ": only " + GroupSystemAdmins + " may")
}

// adminHint names who may change attr when it is entryManagedBy of a
// service account, the one attribute a second group governs.
func (p *Policy) adminHint(attr string, k Kind, high bool) string {
	if high && strings.EqualFold(attr, directory.AttrEntryManagedBy) {
		return " (entryManagedBy of a member of " + GroupHighPrivilege + ": only " + GroupAccessControlAdmins + ")"
	}
	if k == KindServiceAccount && strings.EqualFold(attr, directory.AttrEntryManagedBy) {
		return " (entryManagedBy: not a member of " + GroupServiceAccountAdmins + ")"
	}
	return ""
}

func verb(op Op) string {
	if op == OpAdd {
		return "set"
	}
	return "change"
}

func listOrNothing(attrs []string) string {
	if len(attrs) == 0 {
		return "nothing"
	}
	return strings.Join(attrs, ", ")
}

func accountName(e *directory.Entry) string {
	if v, ok := e.DN.RDN().Value("uid"); ok {
		return v
	}
	return e.DN.RDN().String()
}

// notIn returns the first of values not in allowed (case-insensitively).
func notIn(values, allowed []string) string {
	for _, v := range values {
		if !containsAttr(allowed, v) {
			return v
		}
	}
	return ""
}

func (p *Policy) decideToken(s Subject, op Op, t Target) Decision {
	if op == OpModify || op == OpRename {
		return deny("API token records cannot be modified; destroy the token and generate a new one")
	}
	if s.InGroup(p.SystemAdmins) {
		return allow()
	}
	if t.Account == nil {
		return deny("token record has no service account")
	}
	if p.isManager(s, t.Account) || (op == OpDelete && s.InGroup(p.ServiceAccountAdmins)) {
		return allow()
	}
	return deny(s.Name() + " may not manage " + accountName(t.Account) + ": " + p.notManagerReason(t.Account))
}

func (p *Policy) notManagerReason(e *directory.Entry) string {
	mgr, err := directory.ParseDN(e.First(directory.AttrEntryManagedBy))
	if err != nil || mgr.IsRoot() {
		return "it has no manager"
	}
	if ava := mgr.RDN().AVAs(); len(ava) > 0 {
		if strings.EqualFold(ava[0].Type, "cn") {
			return "not a member of " + ava[0].Value
		}
		return "it is managed by " + ava[0].Value
	}
	return "not its manager"
}

// TokenAccess says whether s may see the token records of the service
// account, and if not why, in the words of the rule that refuses it. It
// depends on nothing but s and the account's entryManagedBy (both public),
// never on whether records exist, so a server may tell it to s.
func (p *Policy) TokenAccess(s Subject, account *directory.Entry) Decision {
	rec := directory.NewEntry(account.DN.Child(directory.NewRDN(directory.AVA{Type: directory.AttrTokenID, Value: "00000000-0000-0000-0000-000000000000"})))
	rec.Set("objectClass", "top", directory.ClassAPIToken)
	if p.CanSee(s, rec, account) {
		return allow()
	}
	if s.Kind == Anonymous {
		return deny("token records of " + accountName(account) + " are shown only to its managers and admins; bind first")
	}
	if d := p.decideToken(Subject{Kind: s.Kind, DN: s.DN, Groups: s.Groups}, OpAdd, Target{Entry: rec, Account: account}); !d.Allowed {
		return d
	}
	return deny(s.Name() + " may not see the token records of " + accountName(account))
}
