package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestMemberOf: memberOf is maintained by the server with nested groups
// resolved, follows membership changes at once, and can be filtered on.
func TestMemberOf(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice")
	bob := addPerson(t, c, "bob")
	a := addGroup(t, c, "group_a", alice)
	b := addGroup(t, c, "group_b", bob)

	// memberOfBoth checks memberOf of dn with go-ldap and ldapsearch.
	memberOf := func(t *testing.T, dn string, want ...string) {
		t.Helper()
		got := values(read(t, c, dn, "memberOf"), "memberOf")
		if len(got) != len(want) {
			t.Fatalf("%s memberOf = %v, want %v", dn, got, want)
		}
		for _, g := range want {
			if !hasDN(got, g) {
				t.Fatalf("%s memberOf = %v, lacks %s", dn, got, g)
			}
		}
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-o", "ldif-wrap=no", "-b", dn, "-s", "base", "memberOf")...)
		if got := ldifValues(out, "memberOf"); len(got) != len(want) {
			t.Fatalf("ldapsearch: %s memberOf = %v, want %v", dn, got, want)
		}
	}
	// members checks (memberOf=group) with go-ldap and ldapsearch.
	members := func(t *testing.T, group string, want ...string) {
		t.Helper()
		filter := "(memberOf=" + group + ")"
		mustEqual(t, filter, dns(search(t, c, base, ldap.ScopeWholeSubtree, filter, "1.1")), lower(want...))
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-o", "ldif-wrap=no", "-b", base, filter, "1.1")...)
		mustEqual(t, "ldapsearch "+filter, ldifDNs(out), lower(want...))
	}

	t.Run("direct membership", func(t *testing.T) {
		memberOf(t, alice, a)
		members(t, a, alice)
	})
	t.Run("nested: A in B", func(t *testing.T) {
		addMember(t, c, b, a)
		memberOf(t, alice, a, b)
		memberOf(t, a, b)
		members(t, b, alice, bob, a)
	})
	t.Run("ldapmodify: remove A from B", func(t *testing.T) {
		tool(t, s, 0, modifyLDIF(b, "delete", "member", a), "ldapmodify", idmAdminArgs(s)...)
		memberOf(t, alice, a)
		memberOf(t, a)
		members(t, b, bob)
	})
	t.Run("ldapmodify: add A to B again", func(t *testing.T) {
		tool(t, s, 0, modifyLDIF(b, "add", "member", a), "ldapmodify", idmAdminArgs(s)...)
		memberOf(t, alice, a, b)
	})
	t.Run("three levels", func(t *testing.T) {
		top := addGroup(t, c, "group_top", b)
		memberOf(t, alice, a, b, top)
		memberOf(t, bob, b, top)
		members(t, top, alice, bob, a, b)
	})
	t.Run("a cycle terminates", func(t *testing.T) {
		addMember(t, c, a, groupDN("group_top"))
		memberOf(t, alice, a, b, groupDN("group_top"))
		memberOf(t, a, b, groupDN("group_top"))
		wantCode(t, "break the cycle", modify(c, a, ldap.DeleteAttribute, "member", groupDN("group_top")), 0)
		memberOf(t, a, b, groupDN("group_top"))
	})
	t.Run("replace the member list", func(t *testing.T) {
		wantCode(t, "replace members", modify(c, b, ldap.ReplaceAttribute, "member", alice), 0)
		memberOf(t, alice, a, b, groupDN("group_top"))
		memberOf(t, bob)
		memberOf(t, a)
	})
	t.Run("deleting a group", func(t *testing.T) {
		wantCode(t, "delete group_top", c.Del(ldap.NewDelRequest(groupDN("group_top"), nil)), 0)
		memberOf(t, alice, a, b)
		tool(t, s, 0, "", "ldapdelete", with(idmAdminArgs(s), a)...)
		memberOf(t, alice, b)
	})
	t.Run("built-in nesting", func(t *testing.T) {
		got := values(read(t, c, personDN("idm_admin"), "memberOf"), "memberOf")
		for _, g := range []string{"idm_admins", "idm_people_admins", "idm_group_admins", "idm_service_account_admins", "idm_high_privilege"} {
			if !hasDN(got, groupDN(g)) {
				t.Errorf("idm_admin memberOf lacks %s: %v", g, got)
			}
		}
		if slices.ContainsFunc(got, func(v string) bool { return strings.Contains(strings.ToLower(v), "system_admins") }) {
			t.Errorf("idm_admin is in system_admins: %v", got)
		}
	})
}
