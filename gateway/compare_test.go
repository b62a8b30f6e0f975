package gateway_test

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestCompare(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice", "cn", "Alice Smith", "userPassword", "alice-pw-1",
		"objectClass", "posixAccount", "uidNumber", "10001", "gidNumber", "10000", "homeDirectory", "/home/alice")
	cases := []struct {
		name, dn, attr, value string
		code                  int // 6 compareTrue, 5 compareFalse, or an error
	}{
		{"true", alice, "cn", "Alice Smith", ldap.LDAPResultCompareTrue},
		{"true ignoring case", alice, "CN", "alice SMITH", ldap.LDAPResultCompareTrue},
		{"true on an integer", alice, "uidNumber", "10001", ldap.LDAPResultCompareTrue},
		{"true on objectClass", alice, "objectClass", "person", ldap.LDAPResultCompareTrue},
		{"true on entryDN", alice, "entryDN", alice, ldap.LDAPResultCompareTrue},
		{"false", alice, "cn", "Bob", ldap.LDAPResultCompareFalse},
		{"false on an integer", alice, "uidNumber", "10002", ldap.LDAPResultCompareFalse},
		{"missing attribute", alice, "mail", "alice@example.com", ldap.LDAPResultNoSuchAttribute},
		{"undefined attribute type", alice, "noSuchAttribute", "x", ldap.LDAPResultUndefinedAttributeType},
		{"userPassword is never compared", alice, "userPassword", "alice-pw-1", ldap.LDAPResultInsufficientAccessRights},
		{"missing entry", personDN("nobody"), "cn", "x", ldap.LDAPResultNoSuchObject},
	}
	for _, tc := range cases {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			ok, err := c.Compare(tc.dn, tc.attr, tc.value)
			switch tc.code {
			case ldap.LDAPResultCompareTrue, ldap.LDAPResultCompareFalse:
				if err != nil || ok != (tc.code == ldap.LDAPResultCompareTrue) {
					t.Fatalf("compare = %v, %v; want %v", ok, err, tc.code == ldap.LDAPResultCompareTrue)
				}
			default:
				wantCode(t, "compare", err, uint16(tc.code))
			}
		})
		t.Run("ldapcompare/"+tc.name, func(t *testing.T) {
			out := tool(t, s, tc.code, "", "ldapcompare", with(idmAdminArgs(s), tc.dn, tc.attr+":"+tc.value)...)
			switch tc.code {
			case ldap.LDAPResultCompareTrue:
				if strings.TrimSpace(out) != "TRUE" {
					t.Fatalf("ldapcompare printed %q, want TRUE", out)
				}
			case ldap.LDAPResultCompareFalse:
				if strings.TrimSpace(out) != "FALSE" {
					t.Fatalf("ldapcompare printed %q, want FALSE", out)
				}
			}
		})
	}
	t.Run("go-ldap/userPassword compare denied to admin too", func(t *testing.T) {
		_, err := s.Admin(t).Compare(alice, "userPassword", "alice-pw-1")
		wantCode(t, "compare", err, ldap.LDAPResultInsufficientAccessRights)
	})
	t.Run("ldapcompare/userPassword compare denied to the owner", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultInsufficientAccessRights, "", "ldapcompare", with(bindArgs(s, "alice", "alice-pw-1"), alice, "userPassword:alice-pw-1")...)
	})
	t.Run("ldapcompare/anonymous on a public attribute", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultCompareTrue, "", "ldapcompare", with(anonArgs(s), alice, "uid:alice")...)
	})
}
