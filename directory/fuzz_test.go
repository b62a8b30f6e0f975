package directory_test

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// Seeds beyond these live in testdata/fuzz/<FuzzName>/, including every
// crasher found so far.

// FuzzParseDN: ParseDN never panics, and an accepted DN survives
// String and Norm: ParseDN(dn.String()) equals dn with the same String,
// and the Norm re-parses to the same Norm.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{
		"", "uid=alice,ou=people,dc=example,dc=com", `cn=Smith\, John+sn=x,dc=com`,
		`cn=\22q\22`, "cn=#04024869", "2.5.4.3=x", "commonName=x", " cn = a , dc = b ",
		`cn=\ a\ `, `cn=\#`, `uid=a\,dc=com`, "cn=a;dc=b", "gn=x+GN=y", `cn=a=b`,
		"uid", "=x", "uid=a,,dc=b", `cn=a\`, `cn=\zz`, "cn=#zz", `cn=caf\C3\A9`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dn, err := directory.ParseDN(s)
		if err != nil {
			return
		}
		str := dn.String()
		again, err := directory.ParseDN(str)
		if err != nil {
			t.Fatalf("ParseDN(%q) ok, but ParseDN(String() = %q): %v", s, str, err)
		}
		if !again.Equal(dn) {
			t.Fatalf("ParseDN(%q): String() = %q re-parses with norm %q, want %q", s, str, again.Norm(), dn.Norm())
		}
		if again.String() != str {
			t.Fatalf("ParseDN(%q): String() not stable: %q then %q", s, str, again.String())
		}
		fromNorm, err := directory.ParseDN(dn.Norm())
		if err != nil {
			t.Fatalf("ParseDN(%q): Norm() = %q does not parse: %v", s, dn.Norm(), err)
		}
		if fromNorm.Norm() != dn.Norm() {
			t.Fatalf("ParseDN(%q): Norm() not stable: %q then %q", s, dn.Norm(), fromNorm.Norm())
		}
		if dn.IsRoot() {
			return
		}
		parent := dn.Parent()
		if !dn.IsDescendantOf(parent) || !dn.IsWithin(parent) || parent.IsDescendantOf(dn) {
			t.Fatalf("ParseDN(%q): not a descendant of its parent %q", s, parent.String())
		}
		if !parent.Child(dn.RDN()).Equal(dn) {
			t.Fatalf("ParseDN(%q): Parent().Child(RDN()) = %q", s, parent.Child(dn.RDN()).String())
		}
		if !directory.ScopeOne.InScope(parent, dn) || !directory.ScopeBase.InScope(dn, again) {
			t.Fatalf("ParseDN(%q): scope checks fail", s)
		}
	})
}

// FuzzParseFilter: ParseFilter never panics; an accepted filter's String
// re-parses to an Equal filter that matches the same entries; Match on a
// fixed entry does not panic.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"(cn=alice)", "(cn=*)", "(cn=a*b*c)", `(cn=\2a\28\29\5c\00)`, "(uidNumber>=10)", "(uidNumber<=9)",
		"(cn~=x)", "(&(objectClass=person)(|(uid=a)(!(uid=b))))", "(&)", "(|)", "(!(unknown=x))",
		"(cn:caseExactMatch:=Alice)", "(:dn:2.5.13.2:=people)", "(ou:dn:=people)", "(name=alice)",
		"(entryDN=uid=alice,ou=people,dc=example,dc=com)", "(member=UID=ALICE,OU=People,DC=Example,DC=Com)",
		"(cn=**)", `(cn=\ff)`, "(createTimestamp>=20240101000000Z)", "(homeDirectory=/home/*)",
	} {
		f.Add(s)
	}
	s := directory.Builtin()
	f.Fuzz(func(t *testing.T, str string) {
		e := fuzzEntry(t)
		flt, err := directory.ParseFilter(str, s)
		if err != nil {
			return
		}
		matched := flt.Match(e)
		out := flt.String()
		if len(out) > 64<<10 {
			// Canonical attribute names can be longer than aliases
			// ("gn" is "givenName"), so String may pass the input limit.
			return
		}
		again, err := directory.ParseFilter(out, s)
		if err != nil {
			t.Fatalf("ParseFilter(%q) ok, but ParseFilter(String() = %q): %v", str, out, err)
		}
		if !again.Equal(flt) {
			t.Fatalf("ParseFilter(%q): String() = %q re-parses as %q", str, out, again.String())
		}
		if again.String() != out {
			t.Fatalf("ParseFilter(%q): String() not stable: %q then %q", str, out, again.String())
		}
		if again.Match(e) != matched {
			t.Fatalf("ParseFilter(%q): Match = %v, but %v after the String round trip", str, matched, !matched)
		}
	})
}

func fuzzEntry(t testing.TB) *directory.Entry {
	return entry(t, "uid=alice+cn=A\\,B,ou=people,dc=example,dc=com",
		"objectClass", "top", "objectClass", "person", "objectClass", "inetOrgPerson", "objectClass", "posixAccount",
		"uid", "alice", "cn", "A,B", "cn", "Alice Smith", "sn", "Smith", "uidNumber", "9", "gidNumber", "100",
		"homeDirectory", "/home/Alice", "mail", "alice@example.com", "telephoneNumber", "+1 555 0100",
		"member", "cn=x,dc=com", "member", "not a DN", "createTimestamp", "20240102030405Z",
		"entryUUID", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "userPassword", "\x00\xff", "description", "")
}
