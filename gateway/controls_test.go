package gateway_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/stacktest"
)

const unknownOID = "1.3.6.1.4.1.99999.1.2.3"

func TestUnknownCriticalControl(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice", "description", "before")
	critical := []ldap.Control{ldap.NewControlString(unknownOID, true, "")}
	optional := []ldap.Control{ldap.NewControlString(unknownOID, false, "")}

	t.Run("go-ldap/search", func(t *testing.T) {
		_, err := c.Search(ldap.NewSearchRequest(alice, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, critical))
		wantCode(t, "search with a critical unknown control", err, ldap.LDAPResultUnavailableCriticalExtension)
		_, err = c.Search(ldap.NewSearchRequest(alice, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, optional))
		wantCode(t, "search with a non-critical unknown control", err, 0)
	})
	t.Run("go-ldap/modify is not applied", func(t *testing.T) {
		req := ldap.NewModifyRequest(alice, critical)
		req.Replace("description", []string{"after"})
		wantCode(t, "modify", c.Modify(req), ldap.LDAPResultUnavailableCriticalExtension)
		mustEqual(t, "description", values(read(t, c, alice, "description"), "description"), []string{"before"})
	})
	t.Run("go-ldap/add, delete, modrdn, bind", func(t *testing.T) {
		add := &ldap.AddRequest{DN: personDN("bob"), Attributes: attrs("objectClass", "inetOrgPerson", "uid", "bob", "cn", "b", "sn", "b"), Controls: critical}
		wantCode(t, "add", c.Add(add), ldap.LDAPResultUnavailableCriticalExtension)
		wantCode(t, "delete", c.Del(ldap.NewDelRequest(alice, critical)), ldap.LDAPResultUnavailableCriticalExtension)
		mdn := ldap.NewModifyDNWithControlsRequest(alice, "uid=alice2", true, "", critical)
		wantCode(t, "modrdn", c.ModifyDN(mdn), ldap.LDAPResultUnavailableCriticalExtension)
		_, err := c.SimpleBind(&ldap.SimpleBindRequest{Username: "idm_admin", Password: s.IDMAdminPW, Controls: critical})
		wantCode(t, "bind", err, ldap.LDAPResultUnavailableCriticalExtension)
		if !exists(t, c, alice) || exists(t, c, personDN("bob")) {
			t.Fatal("an operation with a critical unknown control had an effect")
		}
	})
	t.Run("ldapsearch/-e !oid", func(t *testing.T) {
		out := tool(t, s, ldap.LDAPResultUnavailableCriticalExtension, "", "ldapsearch", with(idmAdminArgs(s), "-e", "!"+unknownOID, "-b", alice, "-s", "base")...)
		wantResult(t, out, ldap.LDAPResultUnavailableCriticalExtension)
		tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-e", unknownOID, "-b", alice, "-s", "base")...)
	})
	t.Run("ldapmodify/-e !oid", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultUnavailableCriticalExtension, modifyLDIF(alice, "replace", "description", "after"),
			"ldapmodify", with(idmAdminArgs(s), "-e", "!"+unknownOID)...)
		mustEqual(t, "description", values(read(t, c, alice, "description"), "description"), []string{"before"})
	})
	t.Run("ldapcompare/-e !oid", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultUnavailableCriticalExtension, "", "ldapcompare", with(idmAdminArgs(s), "-e", "!"+unknownOID, alice, "uid:alice")...)
	})
	t.Run("ldapdelete/-e !oid", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultUnavailableCriticalExtension, "", "ldapdelete", with(idmAdminArgs(s), "-e", "!"+unknownOID, alice)...)
		if !exists(t, c, alice) {
			t.Fatal("deleted despite the critical unknown control")
		}
	})
	t.Run("ldapwhoami/-e !oid", func(t *testing.T) {
		// ldapwhoami sends -e controls with the WhoAmI request and exits 1
		// when it fails, printing the result code.
		out := tool(t, s, 1, "", "ldapwhoami", with(idmAdminArgs(s), "-e", "!"+unknownOID)...)
		wantResult(t, out, ldap.LDAPResultUnavailableCriticalExtension)
	})
	t.Run("ldapsearch/critical controls ldapd knows", func(t *testing.T) {
		tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-E", "!pr=10/noprompt", "-b", people, "-s", "one", "1.1")...)
		tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-MM", "-b", people, "-s", "one", "1.1")...)
	})
}

func TestUnknownExtendedOperation(t *testing.T) {
	s := stacktest.New(t)
	t.Run("go-ldap", func(t *testing.T) {
		_, err := s.IDMAdmin(t).Extended(ldap.NewExtendedRequest(unknownOID, nil))
		wantCode(t, "unknown extended operation", err, ldap.LDAPResultProtocolError)
		// The connection is still usable.
		c := s.Dial(t)
		_, err = c.Extended(ldap.NewExtendedRequest(unknownOID, nil))
		wantCode(t, "anonymous unknown extended operation", err, ldap.LDAPResultProtocolError)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami = %q", got)
		}
	})
	t.Run("ldapexop", func(t *testing.T) {
		// ldapexop exits 1 on a failed operation, printing the result code.
		out := tool(t, s, 1, "", "ldapexop", with(idmAdminArgs(s), unknownOID)...)
		wantResult(t, out, ldap.LDAPResultProtocolError)
	})
	t.Run("ldapexop/whoami", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapexop", with(idmAdminArgs(s), "whoami")...)
		if want := idmAdminSPN; !containsLine(out, want) {
			t.Fatalf("ldapexop whoami printed %q, want %q", out, want)
		}
	})
}
