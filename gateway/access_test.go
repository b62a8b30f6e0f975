package gateway_test

import (
	"slices"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

const bobPW = "bob-secret-pw-1"

// accessFixture: alice with personal attributes in group staff, and bob,
// an ordinary account with a password and no rights.
func accessFixture(t *testing.T) *stacktest.Stack {
	t.Helper()
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice", "cn", "Alice Smith", "displayName", "Alice S.",
		"mail", "alice@example.com", "telephoneNumber", "+1 555 0101")
	addPerson(t, c, "bob", "userPassword", bobPW)
	addGroup(t, c, "staff", alice)
	return s
}

func TestAccessAnonymousReads(t *testing.T) {
	s := accessFixture(t)
	alice := personDN("alice")
	public := lower("objectClass", "uid", "cn", "sn", "displayName", "spn", "memberOf")

	t.Run("go-ldap/public attributes only", func(t *testing.T) {
		e := read(t, s.Dial(t), alice, "*", "memberOf")
		mustEqual(t, "attributes", attrNames(e), public)
		if !hasDN(values(e, "memberOf"), groupDN("staff")) {
			t.Fatalf("memberOf = %v", values(e, "memberOf"))
		}
	})
	t.Run("go-ldap/asking for personal attributes by name returns nothing", func(t *testing.T) {
		e := read(t, s.Dial(t), alice, "mail", "telephoneNumber", "userPassword")
		mustEqual(t, "attributes", attrNames(e), nil)
	})
	t.Run("ldapsearch/public attributes only", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", alice, "-s", "base", "*", "memberOf")...)
		mustEqual(t, "attributes", ldifAttrNames(out), public)
	})

	// A filter on a hidden attribute must not tell anonymous whether the
	// value is there: alice (who has mail and telephoneNumber) and bob (who
	// has neither) get the same answer, as if the attributes were absent.
	oracles := []struct {
		filter string
		want   []string
	}{
		{"(mail=alice@example.com)", nil},
		{"(mail=*)", nil},
		{"(mail=alice*)", nil},
		{"(mail>=a)", nil},
		{"(mail~=alice@example.com)", nil},
		{"(mail:caseIgnoreIA5Match:=alice@example.com)", nil},
		{"(telephoneNumber=*)", nil},
		{"(&(uid=alice)(mail=alice@example.com))", nil},
		{"(|(uid=nobody)(mail=alice@example.com))", nil},
		{"(userPassword=*)", nil},
		{"(&(objectClass=inetOrgPerson)(!(mail=alice@example.com)))", lower(personDN("admin"), personDN("idm_admin"), alice, personDN("bob"))},
	}
	for _, tc := range oracles {
		t.Run("go-ldap/no existence oracle "+tc.filter, func(t *testing.T) {
			got := search(t, s.Dial(t), people, ldap.ScopeWholeSubtree, tc.filter, "1.1")
			mustEqual(t, "entries", dns(got), tc.want)
		})
		t.Run("ldapsearch/no existence oracle "+tc.filter, func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", people, tc.filter, "1.1")...)
			mustEqual(t, "entries", ldifDNs(out), tc.want)
		})
	}
	t.Run("go-ldap/a filter on public attributes still works", func(t *testing.T) {
		got := search(t, s.Dial(t), people, ldap.ScopeWholeSubtree, "(&(displayName=Alice*)(memberOf="+groupDN("staff")+"))", "1.1")
		mustEqual(t, "entries", dns(got), lower(alice))
	})
	t.Run("go-ldap/compare of a hidden attribute is refused", func(t *testing.T) {
		_, err := s.Dial(t).Compare(alice, "mail", "alice@example.com")
		wantCode(t, "compare mail", err, ldap.LDAPResultInsufficientAccessRights)
	})
	t.Run("ldapcompare/hidden attribute is refused", func(t *testing.T) {
		tool(t, s, ldap.LDAPResultInsufficientAccessRights, "", "ldapcompare", with(anonArgs(s), alice, "mail:alice@example.com")...)
	})
}

func TestAccessPIIRead(t *testing.T) {
	s := accessFixture(t)
	alice := personDN("alice")
	bob := s.Bind(t, "bob", bobPW)

	if e := read(t, bob, alice, "mail"); hasAttr(e, "mail") {
		t.Fatalf("bob reads mail before joining %s", "idm_people_pii_read")
	}
	addMember(t, s.IDMAdmin(t), groupDN("idm_people_pii_read"), personDN("bob"))

	t.Run("go-ldap", func(t *testing.T) {
		e := read(t, bob, alice, "mail", "telephoneNumber")
		mustEqual(t, "mail", values(e, "mail"), []string{"alice@example.com"})
		mustEqual(t, "telephoneNumber", values(e, "telephoneNumber"), []string{"+1 555 0101"})
		got := search(t, bob, people, ldap.ScopeWholeSubtree, "(mail=alice@example.com)", "1.1")
		mustEqual(t, "entries", dns(got), lower(alice))
		ok, err := bob.Compare(alice, "mail", "alice@example.com")
		if err != nil || !ok {
			t.Fatalf("compare mail = %v, %v", ok, err)
		}
	})
	t.Run("ldapsearch", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(bindArgs(s, "bob", bobPW), "-LLL", "-b", people, "(mail=alice@example.com)", "mail")...)
		mustEqual(t, "mail", ldifValues(out, "mail"), []string{"alice@example.com"})
	})
	t.Run("go-ldap/password hashes stay hidden", func(t *testing.T) {
		if e := read(t, bob, personDN("bob"), "userPassword", "*", "+"); hasAttr(e, "userPassword") {
			t.Fatal("userPassword returned")
		}
	})
}

func TestAccessOrdinaryUserWrites(t *testing.T) {
	s := accessFixture(t)
	bob := s.Bind(t, "bob", bobPW)
	alice := personDN("alice")
	denied := uint16(ldap.LDAPResultInsufficientAccessRights)

	t.Run("go-ldap/add person", func(t *testing.T) {
		err := bob.Add(&ldap.AddRequest{DN: personDN("mallory"), Attributes: attrs("objectClass", "inetOrgPerson", "uid", "mallory", "cn", "m", "sn", "m")})
		wantCode(t, "add", err, denied)
	})
	t.Run("go-ldap/add group", func(t *testing.T) {
		err := bob.Add(&ldap.AddRequest{DN: groupDN("bobs"), Attributes: attrs("objectClass", "groupOfNames", "cn", "bobs")})
		wantCode(t, "add", err, denied)
	})
	t.Run("go-ldap/modify another person", func(t *testing.T) {
		wantCode(t, "modify", modify(bob, alice, ldap.ReplaceAttribute, "displayName", "pwned"), denied)
	})
	t.Run("go-ldap/join a group", func(t *testing.T) {
		wantCode(t, "modify", modify(bob, groupDN("staff"), ldap.AddAttribute, "member", personDN("bob")), denied)
	})
	t.Run("go-ldap/delete another person", func(t *testing.T) {
		wantCode(t, "delete", bob.Del(ldap.NewDelRequest(alice, nil)), denied)
	})
	t.Run("go-ldap/rename another person", func(t *testing.T) {
		wantCode(t, "modrdn", bob.ModifyDN(ldap.NewModifyDNRequest(alice, "uid=alice2", true, "")), denied)
	})
	t.Run("go-ldap/set another person's password", func(t *testing.T) {
		_, err := bob.PasswordModify(ldap.NewPasswordModifyRequest(alice, "", "new-pw-for-alice"))
		wantCode(t, "password modify", err, denied)
	})
	t.Run("go-ldap/own display name is allowed", func(t *testing.T) {
		wantCode(t, "modify self", modify(bob, personDN("bob"), ldap.ReplaceAttribute, "displayName", "Bobby"), 0)
	})
	t.Run("go-ldap/anonymous may not write", func(t *testing.T) {
		wantCode(t, "anonymous modify", modify(s.Dial(t), alice, ldap.ReplaceAttribute, "displayName", "x"), denied)
	})

	bobArgs := bindArgs(s, "bob", bobPW)
	t.Run("ldapadd", func(t *testing.T) {
		tool(t, s, int(denied), ldif("dn: "+personDN("mallory"), "objectClass: inetOrgPerson", "uid: mallory", "cn: m", "sn: m"), "ldapadd", bobArgs...)
	})
	t.Run("ldapmodify", func(t *testing.T) {
		tool(t, s, int(denied), ldif("dn: "+alice, "changetype: modify", "replace: displayName", "displayName: pwned"), "ldapmodify", bobArgs...)
	})
	t.Run("ldapdelete", func(t *testing.T) {
		tool(t, s, int(denied), "", "ldapdelete", with(bobArgs, alice)...)
	})
	t.Run("ldapmodrdn", func(t *testing.T) {
		tool(t, s, int(denied), "", "ldapmodrdn", with(bobArgs, "-r", alice, "uid=alice2")...)
	})
	t.Run("ldappasswd", func(t *testing.T) {
		// ldappasswd exits 1 on any failure; the result code is printed.
		out := tool(t, s, 1, "", "ldappasswd", with(bobArgs, "-s", "new-pw-for-alice", alice)...)
		wantResult(t, out, denied)
	})
	if e := read(t, s.IDMAdmin(t), alice, "displayName"); e.GetAttributeValue("displayName") != "Alice S." {
		t.Fatalf("alice changed: %v", e.GetAttributeValue("displayName"))
	}
}

func TestAccessIDMAdminManagesPeopleAndGroups(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	t.Run("go-ldap", func(t *testing.T) {
		dave := addPerson(t, c, "dave")
		g := addGroup(t, c, "team", dave)
		wantCode(t, "modify person", modify(c, dave, ldap.ReplaceAttribute, "displayName", "Dave"), 0)
		wantCode(t, "modify group", modify(c, g, ldap.ReplaceAttribute, "description", "the team"), 0)
		wantCode(t, "delete group", c.Del(ldap.NewDelRequest(g, nil)), 0)
		wantCode(t, "delete person", c.Del(ldap.NewDelRequest(dave, nil)), 0)
	})
	t.Run("ldap-utils", func(t *testing.T) {
		args := idmAdminArgs(s)
		tool(t, s, 0, ldif("dn: "+personDN("erin"), "objectClass: inetOrgPerson", "uid: erin", "cn: Erin", "sn: E",
			"", "dn: "+groupDN("erins"), "objectClass: groupOfNames", "cn: erins", "member: "+personDN("erin")), "ldapadd", args...)
		tool(t, s, 0, ldif("dn: "+personDN("erin"), "changetype: modify", "replace: displayName", "displayName: Erin E."), "ldapmodify", args...)
		tool(t, s, 0, "", "ldapdelete", with(args, groupDN("erins"), personDN("erin"))...)
	})
	t.Run("go-ldap/idm_admin may not create entries outside people, groups and services", func(t *testing.T) {
		err := c.Add(&ldap.AddRequest{DN: "ou=elsewhere," + base, Attributes: attrs("objectClass", "organizationalUnit", "ou", "elsewhere")})
		wantCode(t, "add ou", err, ldap.LDAPResultInsufficientAccessRights)
	})
}

// TestAccessHighPrivilege: a member of idm_people_admins manages people but
// not those in idm_high_privilege.
func TestAccessHighPrivilege(t *testing.T) {
	s := stacktest.New(t)
	admin := s.Admin(t)
	idmAdmin := s.IDMAdmin(t)
	const pw = "people-admin-pw-1"
	padmin := addPerson(t, idmAdmin, "padmin", "userPassword", pw)
	vip := addPerson(t, idmAdmin, "vip")
	plain := addPerson(t, idmAdmin, "plain")
	// Both groups are high-privilege: only system_admins change them.
	wantCode(t, "idm_admin adds to idm_people_admins", modify(idmAdmin, groupDN("idm_people_admins"), ldap.AddAttribute, "member", padmin),
		ldap.LDAPResultInsufficientAccessRights)
	addMember(t, admin, groupDN("idm_people_admins"), padmin)
	addMember(t, admin, groupDN("idm_high_privilege"), vip)

	c := s.Bind(t, "padmin", pw)
	denied := uint16(ldap.LDAPResultInsufficientAccessRights)
	t.Run("go-ldap/modify an ordinary person", func(t *testing.T) {
		wantCode(t, "modify plain", modify(c, plain, ldap.ReplaceAttribute, "displayName", "Plain"), 0)
	})
	t.Run("go-ldap/modify a high-privilege person", func(t *testing.T) {
		wantCode(t, "modify vip", modify(c, vip, ldap.ReplaceAttribute, "displayName", "VIP"), denied)
	})
	t.Run("go-ldap/set a high-privilege person's password", func(t *testing.T) {
		_, err := c.PasswordModify(ldap.NewPasswordModifyRequest(vip, "", "take-over-pw-1"))
		wantCode(t, "password modify vip", err, denied)
		_, err = c.PasswordModify(ldap.NewPasswordModifyRequest("idm_admin", "", "take-over-pw-1"))
		wantCode(t, "password modify idm_admin", err, denied)
	})
	t.Run("go-ldap/delete a high-privilege person", func(t *testing.T) {
		wantCode(t, "delete vip", c.Del(ldap.NewDelRequest(vip, nil)), denied)
	})
	t.Run("ldapmodify/high-privilege person", func(t *testing.T) {
		tool(t, s, int(denied), ldif("dn: "+vip, "changetype: modify", "replace: displayName", "displayName: VIP"),
			"ldapmodify", bindArgs(s, "padmin", pw)...)
	})
	t.Run("ldapdelete/high-privilege person", func(t *testing.T) {
		tool(t, s, int(denied), "", "ldapdelete", with(bindArgs(s, "padmin", pw), vip)...)
	})
	t.Run("ldapmodify/ordinary person", func(t *testing.T) {
		tool(t, s, 0, ldif("dn: "+plain, "changetype: modify", "replace: displayName", "displayName: Plain 2"),
			"ldapmodify", bindArgs(s, "padmin", pw)...)
	})
	t.Run("go-ldap/system_admins may", func(t *testing.T) {
		wantCode(t, "admin modifies vip", modify(admin, vip, ldap.ReplaceAttribute, "displayName", "VIP"), 0)
	})
}

// TestAccessHiddenBase: a token record is invisible to anonymous; searching
// from it answers noSuchObject exactly as for a record that does not
// exist, matched DN included.
func TestAccessHiddenBase(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	svc := addService(t, c, "svc1")
	value, err := ber.DecodePacketErr(wire.AppendGenerateToken(nil, wire.GenerateToken{Account: svc, Label: "ci"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Extended(ldap.NewExtendedRequest(gateway.GenerateTokenOID, value)); err != nil {
		t.Fatalf("generate token: %v", err)
	}
	records := search(t, c, svc, ldap.ScopeSingleLevel, "(objectClass=ldapdApiToken)", "1.1")
	if len(records) != 1 {
		t.Fatalf("idm_admin sees %d token records, want 1", len(records))
	}
	record := records[0].DN
	missing := "ldapdTokenId=00000000-0000-4000-8000-000000000000," + svc

	anon := s.Dial(t)
	for _, tc := range []struct{ name, base string }{
		{"existing hidden record", record},
		{"record that does not exist", missing},
		{"below an existing hidden record", "cn=x," + record},
	} {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			_, err := anon.Search(ldap.NewSearchRequest(tc.base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
			wantCode(t, "search", err, ldap.LDAPResultNoSuchObject)
			if got := ldapErr(t, err).MatchedDN; !strings.EqualFold(got, svc) {
				t.Fatalf("matchedDN = %q, want the service account %q", got, svc)
			}
			_, err = anon.Compare(tc.base, "objectClass", "top")
			wantCode(t, "compare", err, ldap.LDAPResultNoSuchObject)
		})
		t.Run("ldapsearch/"+tc.name, func(t *testing.T) {
			out := tool(t, s, ldap.LDAPResultNoSuchObject, "", "ldapsearch", with(anonArgs(s), "-b", tc.base, "-s", "base")...)
			if !strings.Contains(out, "matchedDN: "+svc) {
				t.Fatalf("output lacks matchedDN %s:\n%s", svc, out)
			}
		})
	}
	t.Run("go-ldap/subtree search from the account hides the record", func(t *testing.T) {
		got := dns(search(t, anon, svc, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1"))
		mustEqual(t, "entries", got, lower(svc))
	})
	t.Run("ldapsearch/subtree search hides the record", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", services, "(objectClass=ldapdApiToken)", "1.1")...)
		if slices.Contains(ldifDNs(out), strings.ToLower(record)) {
			t.Fatalf("anonymous sees the token record:\n%s", out)
		}
	})
}
