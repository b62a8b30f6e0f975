package gateway_test

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/stacktest"
)

func TestModifyDN(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	const pw = "rename-me-pw-1"
	for _, name := range []string{"dave", "erin", "fay", "gus"} {
		addPerson(t, c, name, "userPassword", pw)
	}
	addPerson(t, c, "taken")

	t.Run("go-ldap/rename deleting the old RDN", func(t *testing.T) {
		wantCode(t, "modrdn", c.ModifyDN(ldap.NewModifyDNRequest(personDN("dave"), "uid=david", true, "")), 0)
		if exists(t, c, personDN("dave")) {
			t.Fatal("old DN still exists")
		}
		e := read(t, c, personDN("david"), "uid", "spn", "entryDN")
		mustEqual(t, "uid", values(e, "uid"), []string{"david"})
		mustEqual(t, "spn", values(e, "spn"), []string{"david@idm.example.com"})
		if !strings.EqualFold(e.GetAttributeValue("entryDN"), personDN("david")) {
			t.Fatalf("entryDN = %q", e.GetAttributeValue("entryDN"))
		}
		// The account binds under its new name, and not under the old one.
		if got := whoami(t, s.Bind(t, "david", pw)); got != "u: david@idm.example.com" {
			t.Fatalf("whoami = %q", got)
		}
		wantCode(t, "bind with the old name", s.Dial(t).Bind("dave", pw), ldap.LDAPResultInvalidCredentials)
	})
	t.Run("ldapmodrdn/-r deletes the old RDN", func(t *testing.T) {
		tool(t, s, 0, "", "ldapmodrdn", with(idmAdminArgs(s), "-r", personDN("erin"), "uid=erin2")...)
		mustEqual(t, "uid", values(read(t, c, personDN("erin2"), "uid"), "uid"), []string{"erin2"})
	})
	// An account's uid is its login name, one value: a rename replaces it
	// even when the client keeps the old RDN value (no second login name).
	t.Run("go-ldap/rename keeping the old RDN value replaces an account's uid", func(t *testing.T) {
		wantCode(t, "modrdn", c.ModifyDN(ldap.NewModifyDNRequest(personDN("fay"), "uid=fay2", false, "")), 0)
		mustEqual(t, "uid", sorted(values(read(t, c, personDN("fay2"), "uid"), "uid")), []string{"fay2"})
	})
	t.Run("ldapmodrdn/without -r replaces an account's uid", func(t *testing.T) {
		tool(t, s, 0, "", "ldapmodrdn", with(idmAdminArgs(s), personDN("gus"), "uid=gus2")...)
		mustEqual(t, "uid", sorted(values(read(t, c, personDN("gus2"), "uid"), "uid")), []string{"gus2"})
	})
	t.Run("go-ldap/onto an existing DN", func(t *testing.T) {
		err := c.ModifyDN(ldap.NewModifyDNRequest(personDN("david"), "uid=taken", true, ""))
		wantCode(t, "modrdn", err, ldap.LDAPResultEntryAlreadyExists)
		if !exists(t, c, personDN("david")) {
			t.Fatal("the source entry is gone")
		}
	})
	t.Run("ldapmodrdn/onto an existing DN", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultEntryAlreadyExists, "", "ldapmodrdn", with(idmAdminArgs(s), "-r", personDN("david"), "uid=taken")...)
	})
	t.Run("go-ldap/missing entry", func(t *testing.T) {
		err := c.ModifyDN(ldap.NewModifyDNRequest(personDN("nobody"), "uid=somebody", true, ""))
		wantCode(t, "modrdn", err, ldap.LDAPResultNoSuchObject)
		if got := ldapErr(t, err).MatchedDN; !strings.EqualFold(got, people) {
			t.Fatalf("matchedDN = %q", got)
		}
	})
	t.Run("ldapmodrdn/missing entry", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultNoSuchObject, "", "ldapmodrdn", with(idmAdminArgs(s), "-r", personDN("nobody"), "uid=somebody")...)
	})
	t.Run("go-ldap/new RDN with an undefined attribute type", func(t *testing.T) {
		err := c.ModifyDN(ldap.NewModifyDNRequest(personDN("david"), "fooBarBaz=x", true, ""))
		if code := stacktest.ResultCode(err); code == 0 {
			t.Fatal("rename to an undefined naming attribute succeeded")
		}
	})
}

func TestModifyDNNewSuperior(t *testing.T) {
	s := stacktest.New(t)
	admin := s.Admin(t)
	for _, ou := range []string{"archive", "old"} {
		if err := admin.Add(&ldap.AddRequest{DN: "ou=" + ou + "," + base, Attributes: attrs("objectClass", "organizationalUnit", "ou", ou)}); err != nil {
			t.Fatal(err)
		}
	}
	alice := addPerson(t, admin, "alice")
	g1 := addGroup(t, admin, "g1", alice)
	g2 := addGroup(t, admin, "g2", alice)
	archive := "ou=archive," + base

	t.Run("go-ldap/move", func(t *testing.T) {
		req := ldap.NewModifyDNRequest(g1, "cn=g1", true, archive)
		wantCode(t, "move", admin.ModifyDN(req), 0)
		moved := "cn=g1," + archive
		if exists(t, admin, g1) || !exists(t, admin, moved) {
			t.Fatal("entry not moved")
		}
		// Only groups directly under ou=groups confer membership: the
		// archived group keeps its member values and confers nothing.
		mustEqual(t, "alice memberOf", values(read(t, admin, alice, "memberOf"), "memberOf"), []string{g2})
		mustEqual(t, "archived member", values(read(t, admin, moved, "member"), "member"), []string{alice})
	})
	t.Run("ldapmodrdn/-s moves", func(t *testing.T) {
		tool(t, s, 0, "", "ldapmodrdn", with(adminArgs(s), "-r", "-s", archive, g2, "cn=g2-archived")...)
		moved := "cn=g2-archived," + archive
		mustEqual(t, "cn", values(read(t, admin, moved, "cn"), "cn"), []string{"g2-archived"})
		mustEqual(t, "alice memberOf", values(read(t, admin, alice, "memberOf"), "memberOf"), nil)
	})
	t.Run("go-ldap/move under a missing superior", func(t *testing.T) {
		err := admin.ModifyDN(ldap.NewModifyDNRequest("cn=g1,"+archive, "cn=g1", true, "ou=nowhere,"+base))
		wantCode(t, "move", err, ldap.LDAPResultNoSuchObject)
	})
	t.Run("ldapmodrdn/-s onto an existing DN", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultEntryAlreadyExists, "", "ldapmodrdn", with(adminArgs(s), "-r", "-s", archive, groupDN("idm_admins"), "cn=g1")...)
	})
	t.Run("go-ldap/rename a container moves its subtree", func(t *testing.T) {
		wantCode(t, "rename ou=archive", admin.ModifyDN(ldap.NewModifyDNRequest(archive, "ou=attic", true, "")), 0)
		attic := "ou=attic," + base
		got := dns(search(t, admin, attic, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1"))
		mustEqual(t, "subtree", got, lower(attic, "cn=g1,"+attic, "cn=g2-archived,"+attic))
		mustEqual(t, "alice memberOf", values(read(t, admin, alice, "memberOf"), "memberOf"), nil)
		mustEqual(t, "moved member", values(read(t, admin, "cn=g1,"+attic, "member"), "member"), []string{alice})
	})
	t.Run("go-ldap/moving a group back under ou=groups restores its membership", func(t *testing.T) {
		wantCode(t, "move back", admin.ModifyDN(ldap.NewModifyDNRequest("cn=g1,ou=attic,"+base, "cn=g1", true, groups)), 0)
		mustEqual(t, "alice memberOf", lower(values(read(t, admin, alice, "memberOf"), "memberOf")...), lower(g1))
	})
}

// TestModifyDNMember: renaming a member rewrites the member values that
// name it, and memberOf stays right on both sides.
func TestModifyDNMember(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice")
	bob := addPerson(t, c, "bob")
	inner := addGroup(t, c, "inner", alice, bob)
	outer := addGroup(t, c, "outer", inner)

	check := func(t *testing.T, member string) {
		t.Helper()
		members := values(read(t, c, inner, "member"), "member")
		if !hasDN(members, member) || len(members) != 2 {
			t.Fatalf("inner members = %v, want %s and one more", members, member)
		}
		memberOf := values(read(t, c, member, "memberOf"), "memberOf")
		if !hasDN(memberOf, inner) || !hasDN(memberOf, outer) || len(memberOf) != 2 {
			t.Fatalf("%s memberOf = %v", member, memberOf)
		}
		got := dns(search(t, c, people, ldap.ScopeSingleLevel, "(memberOf="+outer+")", "1.1"))
		if !hasDN(got, member) {
			t.Fatalf("(memberOf=outer) = %v, lacks %s", got, member)
		}
	}
	t.Run("go-ldap/rename a member", func(t *testing.T) {
		wantCode(t, "modrdn", c.ModifyDN(ldap.NewModifyDNRequest(alice, "uid=alice2", true, "")), 0)
		check(t, personDN("alice2"))
		if hasDN(values(read(t, c, inner, "member"), "member"), alice) {
			t.Fatal("the old DN is still a member")
		}
	})
	t.Run("ldapmodrdn/rename a member", func(t *testing.T) {
		tool(t, s, 0, "", "ldapmodrdn", with(idmAdminArgs(s), "-r", bob, "uid=bob2")...)
		check(t, personDN("bob2"))
	})
	t.Run("go-ldap/rename a nested group", func(t *testing.T) {
		wantCode(t, "modrdn", c.ModifyDN(ldap.NewModifyDNRequest(inner, "cn=inner2", true, "")), 0)
		inner = groupDN("inner2")
		if !hasDN(values(read(t, c, outer, "member"), "member"), inner) {
			t.Fatalf("outer members = %v", values(read(t, c, outer, "member"), "member"))
		}
		check(t, personDN("alice2"))
		check(t, personDN("bob2"))
	})
}
