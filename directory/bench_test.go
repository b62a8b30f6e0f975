package directory_test

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func BenchmarkParseDN(b *testing.B) {
	for _, bc := range []struct{ name, dn string }{
		{"simple", "uid=alice,ou=people,dc=example,dc=com"},
		{"escaped", `cn=Smith\, John+sn=Smith,ou=People,DC=Example,DC=Com`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := directory.ParseDN(bc.dn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	e := entry(b, "uid=alice,ou=people,dc=example,dc=com",
		"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
		"objectClass", "inetOrgPerson", "objectClass", "posixAccount",
		"uid", "alice", "cn", "Alice Smith", "sn", "Smith", "uidNumber", "1000", "gidNumber", "100",
		"homeDirectory", "/home/alice", "mail", "alice@example.com",
		"member", "cn=x,dc=com")
	for _, bc := range []struct{ name, filter string }{
		{"equality", "(uid=alice)"},
		{"equality_fold", "(cn=ALICE SMITH)"},
		{"substring", "(cn=ali*smi*)"},
		{"and", "(&(objectClass=posixAccount)(uid=alice)(uidNumber>=1000))"},
	} {
		f := mustFilter(b, bc.filter)
		if !f.Match(e) {
			b.Fatalf("%s does not match", bc.filter)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(e)
			}
		})
	}
}
