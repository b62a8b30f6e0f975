package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// addLDIF renders an add of dn with name, value pairs as LDIF.
func addLDIF(dn string, pairs ...string) string {
	lines := []string{"dn: " + dn}
	for i := 0; i+1 < len(pairs); i += 2 {
		lines = append(lines, pairs[i]+": "+pairs[i+1])
	}
	return ldif(lines...)
}

func TestAddSchemaChecks(t *testing.T) {
	s := stacktest.New(t)
	addPerson(t, s.IDMAdmin(t), "taken")
	person := func(uid string, extra ...string) []string {
		return append([]string{"objectClass", "inetOrgPerson", "uid", uid, "cn", uid, "sn", uid}, extra...)
	}
	posix := func(uid, uidNumber string) []string {
		return person(uid, "objectClass", "posixAccount", "uidNumber", uidNumber, "gidNumber", "100", "homeDirectory", "/home/"+uid)
	}
	cases := []struct {
		name, dn string
		pairs    []string
		admin    bool // as admin (system_admins) rather than idm_admin
		code     uint16
		matched  string
	}{
		{"missing MUST attribute", personDN("nosn"), []string{"objectClass", "inetOrgPerson", "uid", "nosn", "cn", "x"}, false, ldap.LDAPResultObjectClassViolation, ""},
		{"unknown objectClass", personDN("oc"), person("oc", "objectClass", "noSuchClass"), false, ldap.LDAPResultObjectClassViolation, ""},
		{"no objectClass", personDN("nooc"), []string{"uid", "nooc", "cn", "x", "sn", "x"}, false, ldap.LDAPResultObjectClassViolation, ""},
		{"attribute not allowed by the classes", personDN("notallowed"), person("notallowed", "uidNumber", "5"), false, ldap.LDAPResultObjectClassViolation, ""},
		{"two unrelated structural classes", personDN("twosc"), person("twosc", "objectClass", "organizationalRole"), false, ldap.LDAPResultObjectClassViolation, ""},
		{"undefined attribute type", personDN("undef"), person("undef", "fooBarBaz", "x"), false, ldap.LDAPResultUndefinedAttributeType, ""},
		{"invalid syntax uidNumber=abc", personDN("badnum"), posix("badnum", "abc"), false, ldap.LDAPResultInvalidAttributeSyntax, ""},
		{"invalid syntax in a DN value", groupDN("baddn"), []string{"objectClass", "groupOfNames", "cn", "baddn", "member", "not a dn"}, false, ldap.LDAPResultInvalidAttributeSyntax, ""},
		{"second value of a single-valued attribute", personDN("twodn"), person("twodn", "displayName", "a", "displayName", "b"), false, ldap.LDAPResultConstraintViolation, ""},
		{"duplicate value", personDN("dupval"), person("dupval", "description", "same", "description", "SAME"), false, ldap.LDAPResultAttributeOrValueExists, ""},
		{"attribute given twice, by name and alias", personDN("alias"), person("alias", "commonName", "other"), false, ldap.LDAPResultAttributeOrValueExists, ""},
		{"attribute given twice, by name and OID", personDN("oid"), person("oid", "2.5.4.4", "other"), false, ldap.LDAPResultAttributeOrValueExists, ""},
		{"already exists", personDN("taken"), person("taken"), false, ldap.LDAPResultEntryAlreadyExists, ""},
		{"built-in entry already exists", groupDN("idm_admins"), []string{"objectClass", "groupOfNames", "cn", "idm_admins"}, false, ldap.LDAPResultEntryAlreadyExists, ""},
		{"missing parent", "cn=x,ou=nowhere," + base, []string{"objectClass", "organizationalRole", "cn", "x"}, true, ldap.LDAPResultNoSuchObject, base},
		{"missing grandparent", "cn=x,ou=a,ou=nowhere," + base, []string{"objectClass", "organizationalRole", "cn", "x"}, true, ldap.LDAPResultNoSuchObject, base},
		{"naming attribute value absent", personDN("ghost"), person("someoneelse"), false, ldap.LDAPResultNamingViolation, ""},
		{"naming attribute missing", personDN("nouid"), []string{"objectClass", "inetOrgPerson", "cn", "x", "sn", "x"}, false, ldap.LDAPResultNamingViolation, ""},
		{"NO-USER-MODIFICATION entryUUID", personDN("uuid"), person("uuid", "entryUUID", "3f2a6b2e-1111-4222-8333-444455556666"), false, ldap.LDAPResultConstraintViolation, ""},
		{"NO-USER-MODIFICATION createTimestamp", personDN("ts"), person("ts", "createTimestamp", "20200101000000Z"), false, ldap.LDAPResultConstraintViolation, ""},
		{"memberOf is maintained by the server", personDN("mo"), person("mo", "memberOf", groupDN("idm_admins")), false, ldap.LDAPResultConstraintViolation, ""},
		{"NO-USER-MODIFICATION even for admin", personDN("uuid2"), person("uuid2", "entryUUID", "3f2a6b2e-1111-4222-8333-444455556666"), true, ldap.LDAPResultConstraintViolation, ""},
		// As OpenLDAP: "no global superior knowledge".
		{"outside the naming context", "cn=x,dc=example,dc=org", []string{"objectClass", "organizationalRole", "cn", "x"}, true, ldap.LDAPResultUnwillingToPerform, ""},
	}
	for _, tc := range cases {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			c := s.IDMAdmin(t)
			if tc.admin {
				c = s.Admin(t)
			}
			err := c.Add(&ldap.AddRequest{DN: tc.dn, Attributes: attrs(tc.pairs...)})
			wantCode(t, "add", err, tc.code)
			if tc.matched != "" && !strings.EqualFold(ldapErr(t, err).MatchedDN, tc.matched) {
				t.Fatalf("matchedDN = %q, want %q", ldapErr(t, err).MatchedDN, tc.matched)
			}
		})
		t.Run("ldapadd/"+tc.name, func(t *testing.T) {
			args := idmAdminArgs(s)
			if tc.admin {
				args = adminArgs(s)
			}
			out := tool(t, s, int(tc.code), addLDIF(tc.dn, tc.pairs...), "ldapadd", args...)
			if tc.matched != "" && !strings.Contains(out, "matched DN: "+tc.matched) {
				t.Fatalf("output lacks the matched DN %s:\n%s", tc.matched, out)
			}
		})
	}
	t.Run("go-ldap/invalid DN syntax", func(t *testing.T) {
		err := s.IDMAdmin(t).Add(&ldap.AddRequest{DN: "this is not a DN", Attributes: attrs("objectClass", "organizationalRole", "cn", "x")})
		wantCode(t, "add", err, ldap.LDAPResultInvalidDNSyntax)
	})
}

func TestAddPassword(t *testing.T) {
	s := stacktest.New(t)
	const pw = "plain text password 1"
	carol := addPerson(t, s.IDMAdmin(t), "carol", "userPassword", pw)
	tool(t, s, 0, addLDIF(personDN("dan"), "objectClass", "inetOrgPerson", "uid", "dan", "cn", "dan", "sn", "dan", "userPassword", pw),
		"ldapadd", idmAdminArgs(s)...)

	// A plaintext value in a Modify is hashed too.
	const pw2 = "plain text password 2"
	erin := addPerson(t, s.IDMAdmin(t), "erin")
	wantCode(t, "modify userPassword", modify(s.IDMAdmin(t), erin, ldap.ReplaceAttribute, "userPassword", pw2), 0)
	tool(t, s, 0, modifyLDIF(personDN("dan"), "replace", "userPassword", pw2), "ldapmodify", idmAdminArgs(s)...)

	t.Run("stored as an argon2id hash", func(t *testing.T) {
		for _, dn := range []string{carol, personDN("dan"), erin} {
			err := s.Store.View(context.Background(), func(tx directory.ReadTx) error {
				e, err := tx.Get(directory.MustParseDN(dn))
				if err != nil {
					return err
				}
				got := e.Get("userPassword")
				if len(got) != 1 || !strings.HasPrefix(got[0], "{ARGON2}$argon2id$") || strings.Contains(got[0], "plain text") {
					t.Errorf("%s: stored userPassword %q, want one {ARGON2} hash", dn, got)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("go-ldap/bind with it", func(t *testing.T) {
		c := s.Bind(t, carol, pw)
		if got := whoami(t, c); got != "u: carol@idm.example.com" {
			t.Fatalf("whoami = %q", got)
		}
	})
	t.Run("go-ldap/bind with a password set by Modify", func(t *testing.T) {
		if got := whoami(t, s.Bind(t, "erin", pw2)); got != "u: erin@idm.example.com" {
			t.Fatalf("whoami = %q", got)
		}
	})
	t.Run("ldapwhoami/bind with a password set by ldapmodify", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapwhoami", bindArgs(s, "dan", pw2)...)
		if strings.TrimSpace(out) != "u: dan@idm.example.com" {
			t.Fatalf("ldapwhoami printed %q", out)
		}
	})
	readers := []struct {
		name   string
		bindAs func(t testing.TB) *ldap.Conn
		args   []string
	}{
		{"admin", s.Admin, adminArgs(s)},
		{"idm_admin", s.IDMAdmin, idmAdminArgs(s)},
		{"the owner", func(t testing.TB) *ldap.Conn { return s.Bind(t, "carol", pw) }, bindArgs(s, "carol", pw)},
		{"anonymous", s.Dial, anonArgs(s)},
	}
	for _, r := range readers {
		t.Run("go-ldap/hash never returned to "+r.name, func(t *testing.T) {
			c := r.bindAs(t)
			for _, list := range [][]string{nil, {"*"}, {"+"}, {"*", "+"}, {"userPassword"}, {"userpassword", "cn"}} {
				if e := read(t, c, carol, list...); e == nil || hasAttr(e, "userPassword") {
					t.Fatalf("attributes %v: entry %v", list, e)
				}
			}
			if got := search(t, c, people, ldap.ScopeWholeSubtree, "(userPassword=*)", "1.1"); len(got) != 0 {
				t.Fatalf("(userPassword=*) matched %v", dns(got))
			}
		})
		t.Run("ldapsearch/hash never returned to "+r.name, func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapsearch", with(r.args, "-LLL", "-b", people, "(uid=*)", "*", "+", "userPassword")...)
			if strings.Contains(strings.ToLower(out), "userpassword") || strings.Contains(out, "ARGON2") {
				t.Fatalf("password hash returned:\n%s", out)
			}
		})
	}
}

func TestAddPosix(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	posixPerson := func(name, uidNumber string) []string {
		return []string{"objectClass", "posixAccount", "objectClass", "shadowAccount",
			"uidNumber", uidNumber, "gidNumber", "20000", "homeDirectory", "/home/" + name,
			"loginShell", "/bin/zsh", "gecos", name + " the tester"}
	}
	t.Run("go-ldap/person with posixAccount", func(t *testing.T) {
		erin := addPerson(t, c, "erin", posixPerson("erin", "20001")...)
		e := read(t, s.Dial(t), erin, "uidNumber", "gidNumber", "homeDirectory", "loginShell", "objectClass")
		mustEqual(t, "uidNumber", values(e, "uidNumber"), []string{"20001"})
		mustEqual(t, "gidNumber", values(e, "gidNumber"), []string{"20000"})
		mustEqual(t, "homeDirectory", values(e, "homeDirectory"), []string{"/home/erin"})
		mustEqual(t, "loginShell", values(e, "loginShell"), []string{"/bin/zsh"})
	})
	t.Run("ldapadd/person with posixAccount", func(t *testing.T) {
		pairs := append([]string{"objectClass", "inetOrgPerson", "uid", "frank", "cn", "Frank", "sn", "F"}, posixPerson("frank", "20002")...)
		tool(t, s, 0, addLDIF(personDN("frank"), pairs...), "ldapadd", idmAdminArgs(s)...)
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", people,
			"(&(objectClass=posixAccount)(uidNumber=20002))", "uid", "homeDirectory", "loginShell")...)
		mustEqual(t, "uid", ldifValues(out, "uid"), []string{"frank"})
		mustEqual(t, "homeDirectory", ldifValues(out, "homeDirectory"), []string{"/home/frank"})
	})
	t.Run("go-ldap/groupOfNames and posixGroup on one entry", func(t *testing.T) {
		err := c.Add(&ldap.AddRequest{DN: groupDN("devs"), Attributes: attrs("objectClass", "groupOfNames", "objectClass", "posixGroup",
			"cn", "devs", "gidNumber", "20000", "member", personDN("erin"))})
		wantCode(t, "add", err, 0)
		got := search(t, s.Dial(t), groups, ldap.ScopeSingleLevel, "(&(objectClass=posixGroup)(objectClass=groupOfNames)(gidNumber=20000))", "cn", "structuralObjectClass")
		if len(got) != 1 || got[0].GetAttributeValue("structuralObjectClass") != "groupOfNames" {
			t.Fatalf("posix group search: %v", got)
		}
		if e := read(t, c, personDN("erin"), "memberOf"); !hasDN(values(e, "memberOf"), groupDN("devs")) {
			t.Fatalf("erin memberOf = %v", values(e, "memberOf"))
		}
	})
	t.Run("ldapadd/groupOfNames and posixGroup on one entry", func(t *testing.T) {
		tool(t, s, 0, addLDIF(groupDN("ops"), "objectClass", "top", "objectClass", "groupOfNames", "objectClass", "posixGroup",
			"cn", "ops", "gidNumber", "20001", "member", personDN("frank")), "ldapadd", idmAdminArgs(s)...)
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", groups, "(&(objectClass=posixGroup)(gidNumber=20001))", "cn", "member")...)
		mustEqual(t, "cn", ldifValues(out, "cn"), []string{"ops"})
	})
}

// TestAddLegacyHashTakenLiterally: over LDAP a value that looks like a
// legacy hash ({SSHA}, {SHA}) is not stored as a hash, so no writer can
// downgrade an account to a fast hash; it is the password, hashed with
// argon2id. (ldapd import keeps legacy hashes for migrations.)
func TestAddLegacyHashTakenLiterally(t *testing.T) {
	s := stacktest.New(t)
	const literal = "{SSHA}dGhpcyBpcyBub3QgYSBoYXNoIGF0IGFsbA=="
	dn := addPerson(t, s.IDMAdmin(t), "frank", "userPassword", literal)
	err := s.Store.View(context.Background(), func(tx directory.ReadTx) error {
		e, err := tx.Get(directory.MustParseDN(dn))
		if err != nil {
			return err
		}
		if got := e.Get("userPassword"); len(got) != 1 || !strings.HasPrefix(got[0], "{ARGON2}$argon2id$") {
			t.Errorf("stored userPassword %q, want an argon2id hash of the literal value", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Dial(t)
	wantCode(t, "bind with the literal value", c.Bind(dn, literal), 0)
}
