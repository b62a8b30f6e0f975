package gateway_test

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestRestart: every acknowledged write is in the store after the server
// and the store are closed and opened again.
func TestRestart(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	const alicePW, bobPW = "alice-before-restart-1", "bob-before-restart-1"
	alice := addPerson(t, c, "alice", "userPassword", alicePW, "mail", "alice@example.com")
	addGroup(t, c, "team", alice)
	if err := modify(c, alice, ldap.ReplaceAttribute, "description", "modified before restart"); err != nil {
		t.Fatal(err)
	}
	tool(t, s, 0, addLDIF(personDN("bob"), "objectClass", "inetOrgPerson", "uid", "bob", "cn", "bob", "sn", "bob", "userPassword", bobPW),
		"ldapadd", idmAdminArgs(s)...)
	tool(t, s, 0, "", "ldapmodrdn", with(idmAdminArgs(s), "-r", personDN("bob"), "uid=robert")...)
	addPerson(t, c, "gone")
	tool(t, s, 0, "", "ldapdelete", with(idmAdminArgs(s), personDN("gone"))...)
	uuid := read(t, c, alice, "entryUUID").GetAttributeValue("entryUUID")

	s.Restart(t)

	t.Run("go-ldap", func(t *testing.T) {
		c := s.IDMAdmin(t)
		e := read(t, c, alice, "description", "mail", "entryUUID", "memberOf")
		if e == nil {
			t.Fatal("alice is gone after the restart")
		}
		mustEqual(t, "description", values(e, "description"), []string{"modified before restart"})
		mustEqual(t, "mail", values(e, "mail"), []string{"alice@example.com"})
		mustEqual(t, "entryUUID", values(e, "entryUUID"), []string{uuid})
		if !hasDN(values(e, "memberOf"), groupDN("team")) {
			t.Fatalf("memberOf = %v", values(e, "memberOf"))
		}
		if exists(t, c, personDN("gone")) || exists(t, c, personDN("bob")) {
			t.Fatal("a deleted or renamed entry came back")
		}
		if got := whoami(t, s.Bind(t, "alice", alicePW)); got != "u: alice@idm.example.com" {
			t.Fatalf("whoami = %q", got)
		}
		wantCode(t, "bind with a wrong password", s.Dial(t).Bind("alice", "wrong"), ldap.LDAPResultInvalidCredentials)
	})
	t.Run("ldap-utils", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapwhoami", bindArgs(s, "robert", bobPW)...)
		if strings.TrimSpace(out) != "u: robert@idm.example.com" {
			t.Fatalf("ldapwhoami printed %q", out)
		}
		out = tool(t, s, 0, "", "ldapsearch", with(adminArgs(s), "-LLL", "-b", people, "(|(uid=alice)(uid=robert)(uid=gone))", "1.1")...)
		mustEqual(t, "entries", ldifDNs(out), lower(alice, personDN("robert")))
	})

	// Writes after a restart survive the next one.
	c = s.IDMAdmin(t)
	addPerson(t, c, "carol")
	wantCode(t, "add alice again", c.Add(&ldap.AddRequest{DN: alice, Attributes: attrs("objectClass", "inetOrgPerson", "uid", "alice", "cn", "a", "sn", "a")}),
		ldap.LDAPResultEntryAlreadyExists)
	s.Restart(t)
	if !exists(t, s.IDMAdmin(t), personDN("carol")) {
		t.Fatal("carol is gone after the second restart")
	}
	if !canBind(t, s, "alice", alicePW) {
		t.Fatal("alice's password is lost after the second restart")
	}
}
