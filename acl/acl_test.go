package acl_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

const base = "dc=idm,dc=example,dc=com"

const tokenID = "4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"

var policy = acl.NewPolicy(directory.MustParseDN(base))

func groupDN(name string) directory.DN {
	return directory.MustParseDN("cn=" + name + ",ou=groups," + base)
}

func personDN(name string) directory.DN {
	return directory.MustParseDN("uid=" + name + ",ou=people," + base)
}

func serviceDN(name string) directory.DN {
	return directory.MustParseDN("uid=" + name + ",ou=services," + base)
}

func tokenDN(account string) directory.DN {
	return directory.MustParseDN("ldapdTokenId=" + tokenID + ",uid=" + account + ",ou=services," + base)
}

// nesting is docs/design.md section 4's table: each built-in group and the groups it
// is a direct member of.
var nesting = map[string][]string{
	acl.GroupSystemAdmins:         {acl.GroupAccessControlAdmins, acl.GroupHighPrivilege},
	acl.GroupIDMAdmins:            {acl.GroupPeopleAdmins, acl.GroupGroupAdmins, acl.GroupServiceAccountAdmins, acl.GroupHighPrivilege},
	acl.GroupPeopleAdmins:         {acl.GroupHighPrivilege},
	acl.GroupGroupAdmins:          {acl.GroupHighPrivilege},
	acl.GroupServiceAccountAdmins: {acl.GroupHighPrivilege},
	acl.GroupAccessControlAdmins:  {acl.GroupHighPrivilege},
}

// memberships returns the transitive closure of the direct groups, as the
// caller of the policy must supply it.
func memberships(direct ...string) []string {
	var out []string
	todo := append([]string(nil), direct...)
	for len(todo) > 0 {
		g := todo[0]
		todo = todo[1:]
		if slices.Contains(out, g) {
			continue
		}
		out = append(out, g)
		todo = append(todo, nesting[g]...)
	}
	slices.Sort(out)
	return out
}

func account(dn directory.DN, direct ...string) acl.Subject {
	groups := map[string]bool{}
	for _, g := range memberships(direct...) {
		groups[groupDN(g).Norm()] = true
	}
	return acl.Subject{Kind: acl.Account, DN: dn, Groups: groups}
}

func readOnly(s acl.Subject) acl.Subject {
	s.ReadOnly = true
	return s
}

func setMemberOf(e *directory.Entry, direct []string) {
	for _, g := range memberships(direct...) {
		e.Add("memberOf", groupDN(g).String())
	}
}

func person(name string, direct ...string) *directory.Entry {
	e := directory.NewEntry(personDN(name))
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", directory.ClassAccount)
	e.Set("uid", name)
	e.Set("cn", name)
	e.Set("sn", name)
	e.Set("displayName", strings.ToUpper(name[:1])+name[1:])
	e.Set(directory.AttrSPN, name+"@idm.example.com")
	e.Set("mail", name+"@example.com")
	e.Set("telephoneNumber", "+61 2 5550 0100")
	e.Set("userPassword", "{ARGON2}$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA")
	setMemberOf(e, direct)
	return e
}

func group(name string, direct ...string) *directory.Entry {
	e := directory.NewEntry(groupDN(name))
	e.Set("objectClass", "top", "groupOfNames")
	e.Set("cn", name)
	setMemberOf(e, direct)
	return e
}

func service(name, managedBy string, direct ...string) *directory.Entry {
	e := directory.NewEntry(serviceDN(name))
	e.Set("objectClass", "top", directory.ClassAccount, directory.ClassServiceAccount)
	e.Set("uid", name)
	e.Set("displayName", "Service "+name)
	e.Set(directory.AttrSPN, name+"@idm.example.com")
	if managedBy != "" {
		e.Set(directory.AttrEntryManagedBy, managedBy)
	}
	setMemberOf(e, direct)
	return e
}

func token(account string) *directory.Entry {
	e := directory.NewEntry(tokenDN(account))
	e.Set("objectClass", "top", directory.ClassAPIToken)
	e.Set(directory.AttrTokenID, tokenID)
	e.Set(directory.AttrTokenLabel, "Test Token")
	e.Set(directory.AttrTokenPurpose, "ro")
	return e
}

// withClass returns a copy of e with an object class added.
func withClass(e *directory.Entry, class string) *directory.Entry {
	c := e.Clone()
	c.Add("objectClass", class)
	return c
}

// renamed returns a copy of e under dn.
func renamed(e *directory.Entry, dn string) *directory.Entry {
	c := e.Clone()
	c.DN = directory.MustParseDN(dn)
	return c
}

// tokenSelf is a service account acting through its own read-write token.
func tokenSelf(e *directory.Entry) acl.Subject {
	s := account(e.DN)
	s.Token = true
	return s
}

func other(dn string) *directory.Entry {
	e := directory.NewEntry(directory.MustParseDN(dn))
	e.Set("objectClass", "top", "organizationalUnit")
	return e
}

// The directory of the tests.
var (
	// demo_service is managed by demo_group (the seed's workflow);
	// solo_service by the account carol; hp_service by demo_group, but it is
	// a member of idm_admins and so of idm_high_privilege; orphan_service has
	// no manager.
	demoService   = service("demo_service", groupDN("demo_group").String())
	soloService   = service("solo_service", personDN("carol").String())
	hpService     = service("hp_service", groupDN("demo_group").String(), acl.GroupIDMAdmins)
	orphanService = service("orphan_service", "")
	// shout_service names its manager in another case and spacing: DNs
	// compare normalized.
	shoutService = service("shout_service", "CN=Demo_Group, OU=Groups, DC=IDM, DC=Example, DC=Com")

	demoToken = token("demo_service")
	soloToken = token("solo_service")
	hpToken   = token("hp_service")

	bob        = person("bob")
	carol      = person("carol")
	demoUser   = person("demo_user", "demo_group")
	idmAdmin   = person("idm_admin", acl.GroupIDMAdmins, acl.GroupHighPrivilege)
	adminEntry = person("admin", acl.GroupSystemAdmins, acl.GroupHighPrivilege)

	demoGroup     = group("demo_group")
	idmAdmins     = group(acl.GroupIDMAdmins, nesting[acl.GroupIDMAdmins]...)
	systemAdmins  = group(acl.GroupSystemAdmins, nesting[acl.GroupSystemAdmins]...)
	highPrivilege = group(acl.GroupHighPrivilege)
	piiRead       = group(acl.GroupPIIRead)

	baseEntry   = other(base)
	peopleOU    = other("ou=people," + base)
	servicesOU  = other("ou=services," + base)
	newOU       = other("ou=hosts," + base)
	belowPerson = other("ou=devices,uid=bob,ou=people," + base)
	// ghost is an inetOrgPerson where groups live: not a person.
	ghost = func() *directory.Entry {
		e := person("ghost")
		e.DN = directory.MustParseDN("uid=ghost,ou=groups," + base)
		return e
	}()
)

// Subjects.
var (
	anonymous = acl.Subject{Kind: acl.Anonymous}
	root      = acl.Subject{Kind: acl.Root}

	admin      = account(personDN("admin"), acl.GroupSystemAdmins, acl.GroupHighPrivilege)
	idmAdminS  = account(personDN("idm_admin"), acl.GroupIDMAdmins, acl.GroupHighPrivilege)
	peopleAdm  = account(personDN("alice"), acl.GroupPeopleAdmins)
	groupAdm   = account(personDN("gary"), acl.GroupGroupAdmins)
	saAdm      = account(personDN("sam"), acl.GroupServiceAccountAdmins)
	aclAdm     = account(personDN("dave"), acl.GroupAccessControlAdmins)
	piiReader  = account(personDN("pat"), acl.GroupPIIRead)
	bobS       = account(personDN("bob"))
	carolS     = account(personDN("carol"))
	demoUserS  = account(personDN("demo_user"), "demo_group")
	outsider   = account(personDN("demo_user")) // demo_user before joining demo_group
	demoSvcS   = account(serviceDN("demo_service"))
	demoSvcTok = readOnly(account(serviceDN("demo_service"), acl.GroupPIIRead))
)

func TestMemberships(t *testing.T) {
	// The fixtures must model docs/design.md's transitive membership, or every
	// Decide row below tests the wrong thing.
	got := memberships(acl.GroupIDMAdmins)
	want := []string{acl.GroupHighPrivilege, acl.GroupIDMAdmins, acl.GroupGroupAdmins, acl.GroupPeopleAdmins, acl.GroupServiceAccountAdmins}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("memberships(idm_admins) = %v, want %v", got, want)
	}
	if !admin.InGroup(policy.AccessControlAdmins) || !admin.InGroup(policy.HighPrivilege) {
		t.Fatalf("admin should be in idm_access_control_admins and idm_high_privilege: %v", admin.Groups)
	}
}

func TestDecide(t *testing.T) {
	pw := []string{"userPassword"}
	mb := []string{directory.AttrEntryManagedBy}
	member := []string{"member"}
	desc := []string{"description"}
	tests := []struct {
		name   string
		sub    acl.Subject
		op     acl.Op
		target acl.Target
		attrs  []string
		allow  bool
		reason string // substring of Reason when denied
	}{
		// Anonymous clients write nothing.
		{name: "anonymous add person", sub: anonymous, op: acl.OpAdd, target: acl.Target{Entry: bob}, reason: "anonymous"},
		{name: "anonymous modify group", sub: anonymous, op: acl.OpModify, target: acl.Target{Entry: demoGroup}, attrs: member, reason: "bind first"},
		{name: "anonymous modify service account", sub: anonymous, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: desc},
		{name: "anonymous delete token", sub: anonymous, op: acl.OpDelete, target: acl.Target{Entry: demoToken, Account: demoService}},
		{name: "anonymous add container", sub: anonymous, op: acl.OpAdd, target: acl.Target{Entry: newOU}},

		// A read-only token writes nothing, whoever it acts for.
		{name: "read-only system admin add person", sub: readOnly(admin), op: acl.OpAdd, target: acl.Target{Entry: bob}, reason: "read-only"},
		{name: "read-only system admin modify base", sub: readOnly(admin), op: acl.OpModify, target: acl.Target{Entry: baseEntry}, attrs: desc, reason: "read-only"},
		{name: "read-only system admin delete group", sub: readOnly(admin), op: acl.OpDelete, target: acl.Target{Entry: demoGroup}, reason: "--rw"},
		{name: "read-only manager add token", sub: readOnly(demoUserS), op: acl.OpAdd, target: acl.Target{Entry: demoToken, Account: demoService}, reason: "read-only"},
		{name: "read-only self password", sub: readOnly(bobS), op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: pw, reason: "read-only"},
		{name: "read-only service account token modify self", sub: demoSvcTok, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: desc, reason: "read-only"},

		// Root (the server itself) writes anything.
		{name: "root modify base", sub: root, op: acl.OpModify, target: acl.Target{Entry: baseEntry}, attrs: desc, allow: true},
		{name: "root delete high-privilege service account", sub: root, op: acl.OpDelete, target: acl.Target{Entry: hpService}, allow: true},

		// system_admins: everything.
		{name: "system admin add person", sub: admin, op: acl.OpAdd, target: acl.Target{Entry: bob}, allow: true},
		{name: "system admin modify high-privilege person", sub: admin, op: acl.OpModify, target: acl.Target{Entry: idmAdmin}, attrs: pw, allow: true},
		{name: "system admin delete high-privilege group", sub: admin, op: acl.OpDelete, target: acl.Target{Entry: idmAdmins}, allow: true},
		{name: "system admin modify idm_high_privilege members", sub: admin, op: acl.OpModify, target: acl.Target{Entry: highPrivilege}, attrs: member, allow: true},
		{name: "system admin modify base", sub: admin, op: acl.OpModify, target: acl.Target{Entry: baseEntry}, attrs: desc, allow: true},
		{name: "system admin add container", sub: admin, op: acl.OpAdd, target: acl.Target{Entry: newOU}, allow: true},
		{name: "system admin delete high-privilege service account", sub: admin, op: acl.OpDelete, target: acl.Target{Entry: hpService}, allow: true},
		{name: "system admin set entryManagedBy of high-privilege service account", sub: admin, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: mb, allow: true},
		{name: "system admin add token", sub: admin, op: acl.OpAdd, target: acl.Target{Entry: demoToken, Account: demoService}, allow: true},
		{name: "system admin modify token", sub: admin, op: acl.OpModify, target: acl.Target{Entry: demoToken, Account: demoService}, attrs: []string{directory.AttrTokenLabel}, reason: "cannot be modified"},

		// idm_people_admins: people, unless high-privilege.
		{name: "people admin add person", sub: peopleAdm, op: acl.OpAdd, target: acl.Target{Entry: bob}, allow: true},
		{name: "people admin modify person", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"mail", "displayName"}, allow: true},
		{name: "people admin set person password", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: pw, allow: true},
		{name: "people admin delete person", sub: peopleAdm, op: acl.OpDelete, target: acl.Target{Entry: bob}, allow: true},
		{name: "people admin set high-privilege person password", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: idmAdmin}, attrs: pw, reason: "idm_high_privilege"},
		{name: "people admin modify system admin", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: adminEntry}, attrs: desc, reason: "idm_high_privilege"},
		{name: "people admin delete high-privilege person", sub: peopleAdm, op: acl.OpDelete, target: acl.Target{Entry: idmAdmin}, reason: "idm_high_privilege"},
		{name: "people admin add group", sub: peopleAdm, op: acl.OpAdd, target: acl.Target{Entry: demoGroup}, reason: "alice may not add groups: not a member of idm_group_admins"},
		{name: "people admin add service account", sub: peopleAdm, op: acl.OpAdd, target: acl.Target{Entry: demoService}, reason: "not a member of idm_service_account_admins"},
		{name: "idm_admin add person (transitive)", sub: idmAdminS, op: acl.OpAdd, target: acl.Target{Entry: carol}, allow: true},
		{name: "idm_admin modify system admin", sub: idmAdminS, op: acl.OpModify, target: acl.Target{Entry: adminEntry}, attrs: pw, reason: "idm_high_privilege"},

		// Self service: own password and display name only.
		{name: "self set password", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: pw, allow: true},
		{name: "self set password lower case", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"userpassword"}, allow: true},
		{name: "self set display name", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"displayName"}, allow: true},
		{name: "self set password and display name", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"userPassword", "displayName"}, allow: true},
		{name: "self set mail", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"mail"}, reason: "bob may not change mail of uid=bob: the account itself may change only userPassword, displayName"},
		{name: "self set password and uidNumber", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"userPassword", "uidNumber"}, reason: "may not change uidNumber"},
		{name: "self modify nothing named", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: bob}, reason: "idm_people_admins"},
		{name: "self delete", sub: bobS, op: acl.OpDelete, target: acl.Target{Entry: bob}, reason: "idm_people_admins"},
		{name: "other person's password", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: carol}, attrs: pw, reason: "idm_people_admins"},
		{name: "high-privilege self set password", sub: idmAdminS, op: acl.OpModify, target: acl.Target{Entry: idmAdmin}, attrs: pw, allow: true},
		{name: "high-privilege self set mail", sub: idmAdminS, op: acl.OpModify, target: acl.Target{Entry: idmAdmin}, attrs: []string{"mail"}, reason: "the account itself may change only userPassword"},

		// idm_group_admins: groups, unless high-privilege.
		{name: "group admin add group", sub: groupAdm, op: acl.OpAdd, target: acl.Target{Entry: demoGroup}, allow: true},
		{name: "group admin modify members", sub: groupAdm, op: acl.OpModify, target: acl.Target{Entry: demoGroup}, attrs: member, allow: true},
		{name: "group admin delete group", sub: groupAdm, op: acl.OpDelete, target: acl.Target{Entry: demoGroup}, allow: true},
		{name: "group admin modify high-privilege group", sub: groupAdm, op: acl.OpModify, target: acl.Target{Entry: idmAdmins}, attrs: member, reason: "cn=idm_admins is a member of idm_high_privilege"},
		{name: "group admin modify idm_high_privilege", sub: groupAdm, op: acl.OpModify, target: acl.Target{Entry: highPrivilege}, attrs: member, reason: "idm_high_privilege"},
		{name: "group admin delete system_admins", sub: groupAdm, op: acl.OpDelete, target: acl.Target{Entry: systemAdmins}, reason: "built-in group"},
		{name: "group admin modify person", sub: groupAdm, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: desc, reason: "idm_people_admins"},
		{name: "people admin modify group", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: demoGroup}, attrs: member, reason: "idm_group_admins"},
		{name: "idm_admin modify members (transitive)", sub: idmAdminS, op: acl.OpModify, target: acl.Target{Entry: piiRead}, attrs: member, allow: true},

		// idm_service_account_admins: create, delete, set entryManagedBy.
		{name: "service account admin create", sub: saAdm, op: acl.OpAdd, target: acl.Target{Entry: demoService}, allow: true},
		{name: "service account admin delete", sub: saAdm, op: acl.OpDelete, target: acl.Target{Entry: demoService}, allow: true},
		{name: "service account admin set entryManagedBy", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: mb, allow: true},
		{name: "idm_admin create service account (transitive)", sub: idmAdminS, op: acl.OpAdd, target: acl.Target{Entry: demoService}, allow: true},
		{name: "service account admin add token", sub: saAdm, op: acl.OpAdd, target: acl.Target{Entry: demoToken, Account: demoService}, reason: "sam may not manage demo_service: not a member of demo_group"},
		{name: "service account admin delete token", sub: saAdm, op: acl.OpDelete, target: acl.Target{Entry: demoToken, Account: demoService}, allow: true},
		{name: "service account admin modify group", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: demoGroup}, attrs: member, reason: "idm_group_admins"},
		{name: "people admin create service account", sub: peopleAdm, op: acl.OpAdd, target: acl.Target{Entry: soloService}, reason: "idm_service_account_admins"},
		{name: "plain account create service account", sub: bobS, op: acl.OpAdd, target: acl.Target{Entry: demoService}, reason: "bob may not add service accounts: not a member of idm_service_account_admins"},

		// Managers: update the account (not entryManagedBy), add and delete
		// its tokens, never modify a token record.
		{name: "group manager modify service account", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: []string{"displayName", "description"}, allow: true},
		{name: "group manager set entryManagedBy", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: []string{"displayName", directory.AttrEntryManagedBy}, reason: "demo_user may not change entryManagedBy of demo_service: not a member of idm_service_account_admins"},
		{name: "group manager delete service account", sub: demoUserS, op: acl.OpDelete, target: acl.Target{Entry: demoService}, reason: "idm_service_account_admins"},
		{name: "group manager add token", sub: demoUserS, op: acl.OpAdd, target: acl.Target{Entry: demoToken, Account: demoService}, allow: true},
		{name: "group manager delete token", sub: demoUserS, op: acl.OpDelete, target: acl.Target{Entry: demoToken, Account: demoService}, allow: true},
		{name: "group manager modify token", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoToken, Account: demoService}, attrs: []string{directory.AttrTokenPurpose}, reason: "cannot be modified"},
		{name: "service account admin modify token", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: demoToken, Account: demoService}, attrs: []string{directory.AttrTokenExpiry}, reason: "cannot be modified"},
		{name: "group manager named in other case", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: shoutService}, attrs: desc, allow: true},
		{name: "account manager modify service account", sub: carolS, op: acl.OpModify, target: acl.Target{Entry: soloService}, attrs: desc, allow: true},
		{name: "account manager add token", sub: carolS, op: acl.OpAdd, target: acl.Target{Entry: soloToken, Account: soloService}, allow: true},
		{name: "account manager delete token", sub: carolS, op: acl.OpDelete, target: acl.Target{Entry: soloToken, Account: soloService}, allow: true},
		{name: "non-member modify service account", sub: outsider, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: desc, reason: "demo_user may not manage demo_service: not a member of demo_group"},
		{name: "non-member add token", sub: outsider, op: acl.OpAdd, target: acl.Target{Entry: demoToken, Account: demoService}, reason: "demo_user may not manage demo_service: not a member of demo_group"},
		{name: "non-member delete token", sub: carolS, op: acl.OpDelete, target: acl.Target{Entry: demoToken, Account: demoService}, reason: "carol may not manage demo_service: not a member of demo_group"},
		{name: "not the managing account", sub: bobS, op: acl.OpAdd, target: acl.Target{Entry: soloToken, Account: soloService}, reason: "bob may not manage solo_service: it is managed by carol"},
		{name: "unmanaged service account", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: orphanService}, attrs: desc, reason: "it has no manager"},
		{name: "token without its account", sub: demoUserS, op: acl.OpAdd, target: acl.Target{Entry: demoToken}, reason: "no service account"},
		{name: "service account modifies itself", sub: demoSvcS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: desc, reason: "demo_service may not manage demo_service"},

		// High privilege: entryManagedBy of a high-privilege service account
		// belongs to idm_access_control_admins alone.
		{name: "access control admin set entryManagedBy of high-privilege service account", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: mb, allow: true},
		{name: "service account admin set entryManagedBy of high-privilege service account", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: mb, reason: "only idm_access_control_admins"},
		{name: "idm_admin set entryManagedBy of high-privilege service account", sub: idmAdminS, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: mb, reason: "only idm_access_control_admins"},
		{name: "service account admin modify high-privilege service account", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: pw, reason: "idm_high_privilege"},
		{name: "service account admin delete high-privilege service account", sub: saAdm, op: acl.OpDelete, target: acl.Target{Entry: hpService}, reason: "only system_admins"},
		{name: "manager modify high-privilege service account", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: desc, allow: true},
		{name: "manager set entryManagedBy of high-privilege service account", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: mb, reason: "only idm_access_control_admins"},
		{name: "manager add token of high-privilege service account", sub: demoUserS, op: acl.OpAdd, target: acl.Target{Entry: hpToken, Account: hpService}, allow: true},
		{name: "access control admin modify high-privilege service account", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: hpService}, attrs: desc, reason: "dave may not change description of hp_service: idm_access_control_admins may change only entryManagedBy"},
		{name: "access control admin delete high-privilege service account", sub: aclAdm, op: acl.OpDelete, target: acl.Target{Entry: hpService}, reason: "only system_admins"},
		{name: "access control admin set entryManagedBy of ordinary service account", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: mb, reason: "not a member of idm_service_account_admins"},
		{name: "access control admin modify idm_high_privilege members", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: highPrivilege}, attrs: member, allow: true},
		{name: "access control admin modify idm_high_privilege description", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: highPrivilege}, attrs: []string{"member", "description"}, reason: "idm_high_privilege"},
		{name: "access control admin modify members of other high-privilege group", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: idmAdmins}, attrs: member, reason: "idm_access_control_admins may change only entryManagedBy"},
		{name: "access control admin set entryManagedBy of high-privilege group", sub: aclAdm, op: acl.OpModify, target: acl.Target{Entry: idmAdmins}, attrs: mb, allow: true},
		{name: "access control admin delete idm_high_privilege", sub: aclAdm, op: acl.OpDelete, target: acl.Target{Entry: highPrivilege}, reason: "only system_admins"},
		{name: "access control admin add person", sub: aclAdm, op: acl.OpAdd, target: acl.Target{Entry: bob}, reason: "idm_people_admins"},

		// Everything else (the base, containers, odd places) is for
		// system_admins.
		{name: "idm_admin modify base", sub: idmAdminS, op: acl.OpModify, target: acl.Target{Entry: baseEntry}, attrs: desc, reason: "only system_admins"},
		{name: "idm_admin add container", sub: idmAdminS, op: acl.OpAdd, target: acl.Target{Entry: newOU}, reason: "only system_admins"},
		{name: "people admin delete people container", sub: peopleAdm, op: acl.OpDelete, target: acl.Target{Entry: peopleOU}, reason: "only system_admins"},
		{name: "service account admin modify services container", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: servicesOU}, attrs: desc, reason: "only system_admins"},
		{name: "people admin add below a person", sub: peopleAdm, op: acl.OpAdd, target: acl.Target{Entry: belowPerson}, reason: "only system_admins"},
		{name: "plain account modify base", sub: bobS, op: acl.OpModify, target: acl.Target{Entry: baseEntry}, attrs: desc, reason: "only system_admins"},

		// The allow-list (issue #12): classes, attributes, kinds.
		{name: "manager adds extensibleObject", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService, New: withClass(demoService, "extensibleObject")}, attrs: []string{"objectClass"}, reason: "extensibleObject"},
		{name: "manager adds member", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: member, reason: "managers of a service account may change only description"},
		{name: "manager adds posixAccount", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService, New: withClass(demoService, "posixAccount")}, attrs: []string{"objectClass", "uidNumber"}, reason: "may not change the object classes of demo_service"},
		{name: "manager sets uidNumber", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: []string{"uidNumber"}, reason: "may not change uidNumber"},
		{name: "manager disables its service account", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: []string{directory.AttrAccountDisabled}, allow: true},
		{name: "manager sets its service account's password", sub: demoUserS, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: pw, allow: true},
		{name: "rw token sets its own account's password", sub: tokenSelf(demoService), op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: pw, reason: "API token may not set its own account's password"},
		{name: "people admin adds extensibleObject", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob, New: withClass(bob, "extensibleObject")}, attrs: []string{"objectClass"}, reason: "extensibleObject"},
		{name: "people admin adds posixAccount", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob, New: withClass(bob, "posixAccount")}, attrs: []string{"objectClass"}, allow: true},
		{name: "people admin adds groupOfNames class", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob, New: withClass(bob, "groupOfUniqueNames")}, attrs: []string{"objectClass"}, reason: "may not use object class groupOfUniqueNames"},
		{name: "people admin sets member", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: member, reason: "may not change member"},
		{name: "people admin sets uid", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"uid"}, reason: "may not change uid"},
		{name: "people admin sets entryManagedBy of a person", sub: peopleAdm, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: mb, reason: "may not change entryManagedBy"},
		{name: "group admin gives a group a password", sub: groupAdm, op: acl.OpModify, target: acl.Target{Entry: demoGroup}, attrs: pw, reason: "may not change userPassword"},
		{name: "group admin adds posixGroup", sub: groupAdm, op: acl.OpModify, target: acl.Target{Entry: demoGroup, New: withClass(demoGroup, "posixGroup")}, attrs: []string{"objectClass", "gidNumber"}, allow: true},
		{name: "group admin adds a person under ou=groups", sub: groupAdm, op: acl.OpAdd, target: acl.Target{Entry: ghost}, reason: "only system_admins"},
		{name: "group admin deletes idm_people_pii_read", sub: groupAdm, op: acl.OpDelete, target: acl.Target{Entry: piiRead}, reason: "built-in group"},
		{name: "group admin renames idm_people_pii_read", sub: groupAdm, op: acl.OpRename, target: acl.Target{Entry: piiRead, New: renamed(piiRead, "cn=pii,ou=groups,"+base)}, reason: "built-in group"},
		{name: "group admin renames a group", sub: groupAdm, op: acl.OpRename, target: acl.Target{Entry: demoGroup, New: renamed(demoGroup, "cn=team,ou=groups,"+base)}, allow: true},
		{name: "group admin moves a group into ou=people", sub: groupAdm, op: acl.OpRename, target: acl.Target{Entry: demoGroup, New: renamed(demoGroup, "cn=team,ou=people,"+base)}, reason: "may not turn a group into a entry"},
		{name: "system admin renames idm_people_pii_read", sub: admin, op: acl.OpRename, target: acl.Target{Entry: piiRead, New: renamed(piiRead, "cn=pii,ou=groups,"+base)}, allow: true},
		{name: "system admin writes memberOf", sub: admin, op: acl.OpModify, target: acl.Target{Entry: bob}, attrs: []string{"memberOf"}, reason: "maintained by the server"},
		{name: "system admin writes a token id", sub: admin, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: []string{directory.AttrTokenID}, reason: "maintained by the server"},
		{name: "system admin adds extensibleObject", sub: admin, op: acl.OpModify, target: acl.Target{Entry: bob, New: withClass(bob, "extensibleObject")}, attrs: []string{"objectClass"}, allow: true},
		{name: "service account admin sets uidNumber", sub: saAdm, op: acl.OpModify, target: acl.Target{Entry: demoService}, attrs: []string{"uidNumber"}, reason: "may not change uidNumber"},
		{name: "service account admin renames a service account", sub: saAdm, op: acl.OpRename, target: acl.Target{Entry: demoService, New: renamed(demoService, "uid=svc2,ou=services,"+base)}, allow: true},
		{name: "manager renames its service account", sub: demoUserS, op: acl.OpRename, target: acl.Target{Entry: demoService, New: renamed(demoService, "uid=svc2,ou=services,"+base)}, reason: "service accounts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.Decide(tc.sub, tc.op, tc.target, tc.attrs)
			if d.Allowed != tc.allow {
				t.Fatalf("Decide(%s, %s, %s, %v) = %+v, want Allowed=%v", tc.sub.Name(), tc.op, tc.target.Entry.DN, tc.attrs, d, tc.allow)
			}
			if d.Allowed {
				return
			}
			if d.Reason == "" {
				t.Fatalf("denial has no Reason")
			}
			if !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("Reason = %q, want it to contain %q", d.Reason, tc.reason)
			}
		})
	}
}

func TestCanSee(t *testing.T) {
	tests := []struct {
		name    string
		sub     acl.Subject
		entry   *directory.Entry
		account *directory.Entry
		want    bool
	}{
		{name: "anonymous token", sub: anonymous, entry: demoToken, account: demoService},
		{name: "root token", sub: root, entry: demoToken, account: demoService, want: true},
		{name: "system admin token", sub: admin, entry: demoToken, account: demoService, want: true},
		{name: "service account admin token", sub: saAdm, entry: demoToken, account: demoService, want: true},
		{name: "idm_admin token (transitive)", sub: idmAdminS, entry: demoToken, account: demoService, want: true},
		{name: "group manager token", sub: demoUserS, entry: demoToken, account: demoService, want: true},
		{name: "group manager token via read-only token", sub: readOnly(demoUserS), entry: demoToken, account: demoService, want: true},
		{name: "account manager token", sub: carolS, entry: soloToken, account: soloService, want: true},
		{name: "unrelated account token", sub: bobS, entry: demoToken, account: demoService},
		{name: "other account's manager token", sub: carolS, entry: demoToken, account: demoService},
		{name: "non-member token", sub: outsider, entry: demoToken, account: demoService},
		{name: "people admin token", sub: peopleAdm, entry: demoToken, account: demoService},
		{name: "group admin token", sub: groupAdm, entry: demoToken, account: demoService},
		{name: "pii reader token", sub: piiReader, entry: demoToken, account: demoService},
		{name: "service account its own token", sub: demoSvcS, entry: demoToken, account: demoService},
		{name: "manager token without account", sub: demoUserS, entry: demoToken},
		{name: "anonymous person", sub: anonymous, entry: bob, want: true},
		{name: "anonymous group", sub: anonymous, entry: highPrivilege, want: true},
		{name: "anonymous service account", sub: anonymous, entry: demoService, want: true},
		{name: "anonymous base", sub: anonymous, entry: baseEntry, want: true},
		{name: "unrelated high-privilege service account", sub: bobS, entry: hpService, want: true},
		{name: "unrelated container", sub: bobS, entry: servicesOU, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := policy.CanSee(tc.sub, tc.entry, tc.account); got != tc.want {
				t.Errorf("CanSee(%s, %s) = %v, want %v", tc.sub.Name(), tc.entry.DN, got, tc.want)
			}
		})
	}
}

func TestCanReadAttr(t *testing.T) {
	type row struct {
		name  string
		sub   acl.Subject
		entry *directory.Entry
		attr  string
		want  bool
	}
	tests := []row{
		// Password hashes: nobody.
		{name: "userPassword root", sub: root, entry: bob, attr: "userPassword"},
		{name: "userPassword system admin", sub: admin, entry: bob, attr: "userPassword"},
		{name: "userPassword self", sub: bobS, entry: bob, attr: "userPassword"},
		{name: "userPassword people admin", sub: peopleAdm, entry: bob, attr: "userPassword"},
		{name: "userPassword anonymous", sub: anonymous, entry: bob, attr: "userPassword"},
		{name: "userPassword other case", sub: admin, entry: bob, attr: "USERPASSWORD"},
		{name: "userPassword of service account manager", sub: demoUserS, entry: demoService, attr: "userPassword"},

		// Personal attributes of a person.
		{name: "mail other case anonymous", sub: anonymous, entry: bob, attr: "MAIL"},
		{name: "mail people admin on service account", sub: peopleAdm, entry: demoService, attr: "mail"},

		// Other attributes: administrators, managers and self.
		{name: "token label manager", sub: demoUserS, entry: demoToken, attr: directory.AttrTokenLabel, want: true},
		{name: "token label anonymous", sub: anonymous, entry: demoToken, attr: directory.AttrTokenLabel},
		{name: "token id anonymous", sub: anonymous, entry: demoToken, attr: directory.AttrTokenID},
		{name: "shadowLastChange people admin", sub: peopleAdm, entry: bob, attr: "shadowLastChange", want: true},
		{name: "shadowLastChange plain account", sub: carolS, entry: bob, attr: "shadowLastChange"},
		{name: "shadowLastChange self", sub: bobS, entry: bob, attr: "shadowLastChange", want: true},
		{name: "shadowExpire service account manager", sub: demoUserS, entry: demoService, attr: "shadowExpire", want: true},
		{name: "shadowExpire service account admin", sub: saAdm, entry: demoService, attr: "shadowExpire", want: true},
		{name: "shadowExpire service account non-member", sub: outsider, entry: demoService, attr: "shadowExpire"},
	}
	public := []string{"cn", "uid", "displayName", directory.AttrSPN, "memberOf", "uidNumber", "gidNumber", "entryUUID", "objectClass", directory.AttrEntryManagedBy}
	for _, a := range public {
		tests = append(tests,
			row{name: a + " anonymous person", sub: anonymous, entry: bob, attr: a, want: true},
			row{name: a + " anonymous service account", sub: anonymous, entry: demoService, attr: a, want: true})
	}
	tests = append(tests, row{name: "member anonymous group", sub: anonymous, entry: highPrivilege, attr: "member", want: true})
	for _, a := range []string{"mail", "telephoneNumber", "mobile", "postalAddress"} {
		tests = append(tests,
			row{name: a + " anonymous", sub: anonymous, entry: bob, attr: a},
			row{name: a + " plain account", sub: carolS, entry: bob, attr: a},
			row{name: a + " group admin", sub: groupAdm, entry: bob, attr: a},
			row{name: a + " service account admin", sub: saAdm, entry: bob, attr: a},
			row{name: a + " pii reader", sub: piiReader, entry: bob, attr: a, want: true},
			row{name: a + " service account with pii read", sub: demoSvcTok, entry: bob, attr: a, want: true},
			row{name: a + " people admin", sub: peopleAdm, entry: bob, attr: a, want: true},
			row{name: a + " idm_admin (transitive)", sub: idmAdminS, entry: bob, attr: a, want: true},
			row{name: a + " system admin", sub: admin, entry: bob, attr: a, want: true},
			row{name: a + " self", sub: bobS, entry: bob, attr: a, want: true},
			row{name: a + " root", sub: root, entry: bob, attr: a, want: true})
	}
	tests = append(tests,
		row{name: "hasSubordinates anonymous person", sub: anonymous, entry: bob, attr: "hasSubordinates", want: true},
		row{name: "hasSubordinates anonymous service account", sub: anonymous, entry: demoService, attr: "hasSubordinates"},
		row{name: "hasSubordinates manager service account", sub: demoUserS, entry: demoService, attr: "hasSubordinates", want: true})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := policy.CanReadAttr(tc.sub, tc.entry, tc.attr); got != tc.want {
				t.Errorf("CanReadAttr(%s, %s, %s) = %v, want %v", tc.sub.Name(), tc.entry.DN, tc.attr, got, tc.want)
			}
		})
	}
	// A search keeps one AttrReader for its subject and moves it from
	// entry to entry: it answers as CanReadAttr does for each.
	for _, s := range tests {
		r := policy.AttrReader(s.sub)
		for _, tc := range tests {
			r.Entry(tc.entry)
			if got, want := r.CanRead(tc.attr), policy.CanReadAttr(s.sub, tc.entry, tc.attr); got != want {
				t.Errorf("AttrReader(%s) on %s, %s = %v after other entries, CanReadAttr says %v", s.sub.Name(), tc.entry.DN, tc.attr, got, want)
			}
		}
	}
}

// TestMemberUIDOnlyWithMember: the server turns memberUid values naming
// accounts into member values (idm/posix.go), so every grant that lets a
// role write memberUid must let it write member too; otherwise memberUid
// would be a way round the member rules.
func TestMemberUIDOnlyWithMember(t *testing.T) {
	for _, g := range acl.Grants() {
		has := func(a string) bool {
			for _, x := range g.Attrs {
				if strings.EqualFold(x, a) {
					return true
				}
			}
			return false
		}
		if has("memberUid") && !has("member") {
			t.Errorf("%s on %s may write memberUid but not member", g.Role, g.Kind)
		}
	}
	if acl.ServerMaintained("memberUid") {
		t.Error("memberUid is server-maintained: RFC 2307 tools cannot write it")
	}
}

// TestKanidmReadGroups: idm_account_mail_read reads mail of accounts and
// nothing else personal; idm_unix_authentication_read the shadow
// attributes; neither userPassword.
func TestKanidmReadGroups(t *testing.T) {
	base := directory.MustParseDN("dc=example,dc=com")
	p := acl.NewPolicy(base)
	person := directory.NewEntry(directory.MustParseDN("uid=alice,ou=people,dc=example,dc=com"))
	person.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
	group := directory.NewEntry(directory.MustParseDN("cn=g,ou=groups,dc=example,dc=com"))
	group.Set("objectClass", "top", "groupOfNames")
	sub := func(g directory.DN) acl.Subject {
		return acl.Subject{Kind: acl.Account, DN: directory.MustParseDN("uid=app,ou=services,dc=example,dc=com"),
			Groups: map[string]bool{g.Norm(): true}}
	}
	mail, unix := sub(p.MailRead), sub(p.UnixAuthRead)
	cases := []struct {
		name string
		s    acl.Subject
		e    *directory.Entry
		attr string
		want bool
	}{
		{"mail_read reads mail", mail, person, "mail", true},
		{"mail_read not telephone", mail, person, "telephoneNumber", false},
		{"mail_read not shadow", mail, person, "shadowExpire", false},
		{"mail_read not a group's mail", mail, group, "mail", false},
		{"unix reads shadowExpire", unix, person, "shadowExpire", true},
		{"unix not mail", unix, person, "mail", false},
		{"unix not userPassword", unix, person, "userPassword", false},
		{"mail not userPassword", mail, person, "userPassword", false},
	}
	for _, tc := range cases {
		if got := p.CanReadAttr(tc.s, tc.e, tc.attr); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
