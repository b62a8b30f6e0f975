package directory_test

import (
	"fmt"

	"github.com/ldapd/ldapd/directory"
)

// ExampleParseDN shows that DNs compare by meaning, not by spelling, and
// that an escaped comma is part of a value, not an RDN separator.
func ExampleParseDN() {
	dn, err := directory.ParseDN("UID=Alice, OU=People,DC=Example,DC=Com")
	if err != nil {
		panic(err)
	}
	same, _ := directory.ParseDN("uid=alice,ou=people,dc=example,dc=com")
	suffix, _ := directory.ParseDN("dc=example,dc=com")
	trap, _ := directory.ParseDN(`uid=a\,dc=example,dc=com`)

	fmt.Println(dn.String())
	fmt.Println(dn.Norm())
	fmt.Println(dn.Equal(same))
	fmt.Println(dn.Parent().String())
	fmt.Println(dn.IsDescendantOf(suffix))
	// Two RDNs, the first with the value "a,dc=example": not below suffix.
	fmt.Println(trap.Depth(), trap.IsDescendantOf(suffix))
	// Output:
	// uid=Alice,ou=People,dc=Example,dc=Com
	// uid=alice,ou=people,dc=example,dc=com
	// true
	// ou=People,dc=Example,dc=Com
	// true
	// 2 false
}

// ExampleParseFilter parses a filter, resolving it against the schema, and
// evaluates it with each attribute's matching rules.
func ExampleParseFilter() {
	schema := directory.Builtin()
	f, err := directory.ParseFilter("(&(objectClass=person)(cn=alice*)(uidNumber>=10))", schema)
	if err != nil {
		panic(err)
	}
	e := directory.NewEntry(directory.MustParseDN("uid=alice,ou=people,dc=example,dc=com"))
	e.Set("objectClass", "top", "person", "posixAccount")
	e.Set("cn", "Alice Smith")
	e.Set("uidNumber", "9")

	fmt.Println(f.Match(e)) // 9 < 10 as integers, though "9" > "10" as strings
	e.Set("uidNumber", "1000")
	fmt.Println(f.Match(e))
	fmt.Println(f.String())
	// Output:
	// false
	// true
	// (&(objectClass=person)(cn=alice*)(uidNumber>=10))
}
