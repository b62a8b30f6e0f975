package gateway_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// modifyLDIF renders a one-change LDIF modify: op is add, delete or replace.
func modifyLDIF(dn, op, attr string, vals ...string) string {
	lines := []string{"dn: " + dn, "changetype: modify", op + ": " + attr}
	for _, v := range vals {
		lines = append(lines, attr+": "+v)
	}
	return ldif(lines...)
}

func sorted(vals []string) []string {
	out := slices.Clone(vals)
	slices.Sort(out)
	return out
}

func TestModifyValues(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice", "description", "one")
	bob := addPerson(t, c, "bob", "description", "one")
	steps := []struct {
		name  string
		op    uint
		ldif  string // the LDIF change type
		vals  []string
		after []string
	}{
		{"add values", ldap.AddAttribute, "add", []string{"two", "three"}, []string{"one", "three", "two"}},
		{"delete a value", ldap.DeleteAttribute, "delete", []string{"two"}, []string{"one", "three"}},
		{"delete a value in another case", ldap.DeleteAttribute, "delete", []string{"THREE"}, []string{"one"}},
		{"replace", ldap.ReplaceAttribute, "replace", []string{"four", "five"}, []string{"five", "four"}},
		{"delete the attribute", ldap.DeleteAttribute, "delete", nil, nil},
		{"add to an absent attribute", ldap.AddAttribute, "add", []string{"six"}, []string{"six"}},
		{"replace with nothing removes", ldap.ReplaceAttribute, "replace", nil, nil},
		{"replace of an absent attribute with nothing is fine", ldap.ReplaceAttribute, "replace", nil, nil},
	}
	// The same steps on alice with go-ldap and on bob with ldapmodify.
	for _, st := range steps {
		t.Run("go-ldap/"+st.name, func(t *testing.T) {
			wantCode(t, "modify", modify(c, alice, st.op, "description", st.vals...), 0)
			mustEqual(t, "description", sorted(values(read(t, c, alice, "description"), "description")), st.after)
		})
		t.Run("ldapmodify/"+st.name, func(t *testing.T) {
			tool(t, s, 0, modifyLDIF(bob, st.ldif, "description", st.vals...), "ldapmodify", idmAdminArgs(s)...)
			mustEqual(t, "description", sorted(values(read(t, c, bob, "description"), "description")), st.after)
		})
	}

	t.Run("go-ldap/operational attributes follow", func(t *testing.T) {
		before := read(t, c, alice, "modifyTimestamp", "createTimestamp")
		s.Clock.Advance(2 * time.Hour)
		if err := modify(s.Admin(t), alice, ldap.ReplaceAttribute, "displayName", "Alice"); err != nil {
			t.Fatal(err)
		}
		after := read(t, c, alice, "modifyTimestamp", "createTimestamp", "modifiersName", "creatorsName")
		if after.GetAttributeValue("modifyTimestamp") <= before.GetAttributeValue("modifyTimestamp") {
			t.Errorf("modifyTimestamp %s did not advance from %s", after.GetAttributeValue("modifyTimestamp"), before.GetAttributeValue("modifyTimestamp"))
		}
		if after.GetAttributeValue("createTimestamp") != before.GetAttributeValue("createTimestamp") {
			t.Errorf("createTimestamp changed")
		}
		if !strings.EqualFold(after.GetAttributeValue("modifiersName"), personDN("admin")) {
			t.Errorf("modifiersName = %q, want admin", after.GetAttributeValue("modifiersName"))
		}
		if !strings.EqualFold(after.GetAttributeValue("creatorsName"), personDN("idm_admin")) {
			t.Errorf("creatorsName = %q, want idm_admin", after.GetAttributeValue("creatorsName"))
		}
	})

	t.Run("ldapmodify/several changes in one LDIF", func(t *testing.T) {
		tool(t, s, 0, ldif("dn: "+bob, "changetype: modify",
			"add: description", "description: x", "description: y", "-",
			"replace: displayName", "displayName: Bob B.", "-",
			"add: mail", "mail: bob@example.com", "-",
			"delete: description", "description: x", "-"), "ldapmodify", idmAdminArgs(s)...)
		e := read(t, c, bob, "description", "displayName", "mail")
		mustEqual(t, "description", values(e, "description"), []string{"y"})
		mustEqual(t, "displayName", values(e, "displayName"), []string{"Bob B."})
		mustEqual(t, "mail", values(e, "mail"), []string{"bob@example.com"})
	})
}

func TestModifyErrors(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice", "cn", "Alice Smith", "description", "keep",
		"objectClass", "posixAccount", "uidNumber", "10001", "gidNumber", "10100", "homeDirectory", "/home/alice")
	g := addGroup(t, c, "team", alice)
	type change struct {
		op         string
		attr       string
		vals       []string
		goLDAPOpID uint
	}
	ch := func(op, attr string, vals ...string) change {
		id := map[string]uint{"add": ldap.AddAttribute, "delete": ldap.DeleteAttribute, "replace": ldap.ReplaceAttribute}[op]
		return change{op, attr, vals, id}
	}
	cases := []struct {
		name    string
		dn      string
		changes []change
		code    uint16
		matched string
	}{
		{"delete a missing value", alice, []change{ch("delete", "description", "absent")}, ldap.LDAPResultNoSuchAttribute, ""},
		{"delete an absent attribute", alice, []change{ch("delete", "mail")}, ldap.LDAPResultNoSuchAttribute, ""},
		{"add an existing value", alice, []change{ch("add", "description", "keep")}, ldap.LDAPResultAttributeOrValueExists, ""},
		{"add an existing value in another case", alice, []change{ch("add", "cn", "ALICE SMITH")}, ldap.LDAPResultAttributeOrValueExists, ""},
		{"change the structural objectClass", alice, []change{ch("replace", "objectClass", "top", "organizationalRole")}, ldap.LDAPResultObjectClassModsProhibited, ""},
		{"remove the structural objectClass", alice, []change{ch("delete", "objectClass", "inetOrgPerson")}, ldap.LDAPResultObjectClassModsProhibited, ""},
		{"group to person", g, []change{ch("replace", "objectClass", "inetOrgPerson"), ch("add", "sn", "x")}, ldap.LDAPResultObjectClassModsProhibited, ""},
		{"remove the RDN value", alice, []change{ch("delete", "uid", "alice")}, ldap.LDAPResultNotAllowedOnRDN, ""},
		{"replace the RDN value", alice, []change{ch("replace", "uid", "alice2")}, ldap.LDAPResultNotAllowedOnRDN, ""},
		{"remove a MUST attribute", alice, []change{ch("delete", "sn")}, ldap.LDAPResultObjectClassViolation, ""},
		{"attribute the classes do not allow", alice, []change{ch("add", "roleOccupant", personDN("admin"))}, ldap.LDAPResultObjectClassViolation, ""},
		{"undefined attribute type", alice, []change{ch("add", "fooBarBaz", "x")}, ldap.LDAPResultUndefinedAttributeType, ""},
		{"invalid syntax", alice, []change{ch("replace", "uidNumber", "abc")}, ldap.LDAPResultInvalidAttributeSyntax, ""},
		{"single-valued", alice, []change{ch("add", "uidNumber", "10002")}, ldap.LDAPResultConstraintViolation, ""},
		{"NO-USER-MODIFICATION entryUUID", alice, []change{ch("replace", "entryUUID", "3f2a6b2e-1111-4222-8333-444455556666")}, ldap.LDAPResultConstraintViolation, ""},
		{"memberOf is maintained by the server", alice, []change{ch("add", "memberOf", groupDN("idm_admins"))}, ldap.LDAPResultConstraintViolation, ""},
		{"missing entry is no upsert", personDN("nobody"), []change{ch("replace", "description", "x")}, ldap.LDAPResultNoSuchObject, people},
		{"missing entry two levels down", "cn=x,ou=nowhere," + base, []change{ch("replace", "description", "x")}, ldap.LDAPResultNoSuchObject, base},
		{"one bad change fails them all", alice, []change{ch("add", "description", "new"), ch("delete", "description", "absent")}, ldap.LDAPResultNoSuchAttribute, ""},
	}
	check := func(t *testing.T) {
		t.Helper()
		e := read(t, c, alice, "description", "objectClass", "uid", "uidNumber", "sn")
		mustEqual(t, "description", values(e, "description"), []string{"keep"})
		mustEqual(t, "uid", values(e, "uid"), []string{"alice"})
		mustEqual(t, "uidNumber", values(e, "uidNumber"), []string{"10001"})
		if exists(t, c, personDN("nobody")) {
			t.Fatal("modify of a missing entry created it")
		}
	}
	for _, tc := range cases {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			req := ldap.NewModifyRequest(tc.dn, nil)
			for _, x := range tc.changes {
				req.Changes = append(req.Changes, ldap.Change{Operation: x.goLDAPOpID, Modification: ldap.PartialAttribute{Type: x.attr, Vals: x.vals}})
			}
			err := c.Modify(req)
			wantCode(t, "modify", err, tc.code)
			if tc.matched != "" && !strings.EqualFold(ldapErr(t, err).MatchedDN, tc.matched) {
				t.Fatalf("matchedDN = %q, want %q", ldapErr(t, err).MatchedDN, tc.matched)
			}
			check(t)
		})
		t.Run("ldapmodify/"+tc.name, func(t *testing.T) {
			lines := []string{"dn: " + tc.dn, "changetype: modify"}
			for _, x := range tc.changes {
				lines = append(lines, x.op+": "+x.attr)
				for _, v := range x.vals {
					lines = append(lines, x.attr+": "+v)
				}
				lines = append(lines, "-")
			}
			out := tool(t, s, int(tc.code), ldif(lines...), "ldapmodify", idmAdminArgs(s)...)
			if tc.matched != "" && !strings.Contains(out, "matched DN: "+tc.matched) {
				t.Fatalf("output lacks the matched DN %s:\n%s", tc.matched, out)
			}
			check(t)
		})
	}
}

func TestDelete(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice")
	bob := addPerson(t, c, "bob")
	g := addGroup(t, c, "team", alice, bob)

	t.Run("go-ldap/leaf", func(t *testing.T) {
		wantCode(t, "delete", c.Del(ldap.NewDelRequest(alice, nil)), 0)
		_, err := c.Search(ldap.NewSearchRequest(alice, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
		wantCode(t, "search deleted entry", err, ldap.LDAPResultNoSuchObject)
		if hasDN(values(read(t, c, g, "member"), "member"), alice) {
			t.Fatal("deleted entry is still a member of its group")
		}
	})
	t.Run("ldapdelete/leaf", func(t *testing.T) {
		tool(t, s, 0, "", "ldapdelete", with(idmAdminArgs(s), bob)...)
		tool(t, s, ldap.LDAPResultNoSuchObject, "", "ldapsearch", with(idmAdminArgs(s), "-b", bob, "-s", "base")...)
		if vals := values(read(t, c, g, "member"), "member"); len(vals) != 0 {
			t.Fatalf("members left: %v", vals)
		}
	})
	t.Run("go-ldap/missing", func(t *testing.T) {
		err := c.Del(ldap.NewDelRequest(alice, nil))
		wantCode(t, "delete again", err, ldap.LDAPResultNoSuchObject)
		if got := ldapErr(t, err).MatchedDN; !strings.EqualFold(got, people) {
			t.Fatalf("matchedDN = %q, want %q", got, people)
		}
	})
	t.Run("ldapdelete/missing", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultNoSuchObject, "", "ldapdelete", with(idmAdminArgs(s), bob)...)
	})
	t.Run("go-ldap/non-leaf", func(t *testing.T) {
		wantCode(t, "delete ou=people", s.Admin(t).Del(ldap.NewDelRequest(people, nil)), ldap.LDAPResultNotAllowedOnNonLeaf)
		wantCode(t, "delete the suffix", s.Admin(t).Del(ldap.NewDelRequest(base, nil)), ldap.LDAPResultNotAllowedOnNonLeaf)
	})
	t.Run("ldapdelete/non-leaf", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultNotAllowedOnNonLeaf, "", "ldapdelete", with(adminArgs(s), groups)...)
		if read(t, c, groups) == nil {
			t.Fatal("ou=groups is gone")
		}
	})
	t.Run("ldapdelete/invalid DN", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultInvalidDNSyntax, "", "ldapdelete", with(idmAdminArgs(s), "not a dn")...)
	})
}

// TestModifyIncrement covers the Modify-Increment extension (RFC 4525)
// with go-ldap and with ldapmodify's "increment:" change.
func TestModifyIncrement(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	dn := addPerson(t, c, "counter", "objectClass", "posixAccount", "uidNumber", "20000", "gidNumber", "20000",
		"homeDirectory", "/home/counter")
	inc := ldap.NewModifyRequest(dn, nil)
	inc.Increment("uidNumber", "5")
	wantCode(t, "increment", c.Modify(inc), 0)
	if got := values(read(t, c, dn, "uidNumber"), "uidNumber"); len(got) != 1 || got[0] != "20005" {
		t.Fatalf("uidNumber after +5 = %v", got)
	}
	ldif := "dn: " + dn + "\nchangetype: modify\nincrement: uidNumber\nuidNumber: -3\n-\n"
	tool(t, s, 0, ldif, "ldapmodify", idmAdminArgs(s)...)
	if got := values(read(t, c, dn, "uidNumber"), "uidNumber"); len(got) != 1 || got[0] != "20002" {
		t.Fatalf("uidNumber after ldapmodify -3 = %v", got)
	}
	bad := ldap.NewModifyRequest(dn, nil)
	bad.Increment("cn", "1")
	wantCode(t, "increment of a non-integer attribute", c.Modify(bad), ldap.LDAPResultConstraintViolation)
}
