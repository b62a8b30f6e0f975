package storetest

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// The fixture: two suffixes, a two-level people tree and groups. Every
// entry is valid under directory.Builtin() (seed checks it), although
// stores do not check schema themselves.
const (
	suffix      = "dc=example,dc=com"
	people      = "ou=People,dc=example,dc=com"
	contractors = "ou=Contractors,ou=People,dc=example,dc=com"
	groups      = "ou=Groups,dc=example,dc=com"
	alice       = "uid=alice,ou=People,dc=example,dc=com"
	bob         = "uid=bob,ou=People,dc=example,dc=com"
	carol       = "uid=carol,ou=People,dc=example,dc=com"
	dave        = "uid=dave,ou=Contractors,ou=People,dc=example,dc=com"
	admins      = "cn=admins,ou=Groups,dc=example,dc=com"
	emptyGroup  = "cn=empty,ou=Groups,dc=example,dc=com"
	other       = "o=Other"
	otherAlice  = "uid=alice,o=Other"

	aliceUUID = "5b4a3f2e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
)

// exampleDNs lists the entries under suffix, suffix included.
var exampleDNs = []string{suffix, people, contractors, groups, alice, bob, carol, dave, admins, emptyGroup}

// fixture returns fresh fixture entries, parents before children.
func fixture() []*directory.Entry {
	person := []string{"objectClass: top", "objectClass: person", "objectClass: organizationalPerson",
		"objectClass: inetOrgPerson", "objectClass: posixAccount"}
	return []*directory.Entry{
		entry(suffix, "objectClass: top", "objectClass: domain", "dc: example", "description: Example Corp"),
		entry(people, "objectClass: top", "objectClass: organizationalUnit", "ou: People"),
		entry(groups, "objectClass: top", "objectClass: organizationalUnit", "ou: Groups"),
		entry(alice, append(person, "uid: alice", "cn: Alice Liddell", "sn: Liddell", "givenName: Alice",
			"mail: Alice@Example.com", "uidNumber: 1000", "gidNumber: 1000", "homeDirectory: /home/alice",
			"description: likes rabbits", "telephoneNumber: +1 555 0100", "entryUUID: "+aliceUUID)...),
		entry(bob, append(person, "uid: bob", "cn: Bob Builder", "sn: Builder", "mail: bob@example.com",
			"uidNumber: 1001", "gidNumber: 1000", "homeDirectory: /home/bob", "title: Engineer")...),
		entry(carol, append(person, "uid: carol", "cn: Carol Danvers", "sn: Danvers", "displayName: Captain",
			"uidNumber: 1002", "gidNumber: 1002", "homeDirectory: /home/carol")...),
		entry(contractors, "objectClass: top", "objectClass: organizationalUnit", "ou: Contractors"),
		entry(dave, append(person, "uid: dave", "cn: Dave Smith", "sn: Smith", "uidNumber: 2000",
			"gidNumber: 2000", "homeDirectory: /home/dave", "description: temporary")...),
		entry(admins, "objectClass: top", "objectClass: groupOfNames", "objectClass: posixGroup", "cn: admins",
			"gidNumber: 500", "member: "+alice, "member: "+bob),
		entry(emptyGroup, "objectClass: top", "objectClass: groupOfNames", "cn: empty"),
		entry(other, "objectClass: top", "objectClass: organization", "o: Other"),
		entry(otherAlice, "objectClass: top", "objectClass: account", "uid: alice", "description: the other alice"),
	}
}

// seed adds the fixture in one Update and returns the entries added.
func seed(t testing.TB, s directory.Store) []*directory.Entry {
	t.Helper()
	es := fixture()
	for _, e := range es {
		if _, err := directory.Builtin().Check(e); err != nil {
			t.Fatalf("fixture entry %s is invalid: %v", e.DN, err)
		}
	}
	update(t, s, func(tx directory.WriteTx) error {
		for _, e := range es {
			if err := tx.Add(e.Clone()); err != nil {
				return err
			}
		}
		return nil
	})
	return fixture()
}

// byDN returns the entry of es named name.
func byDN(es []*directory.Entry, name string) *directory.Entry {
	for _, e := range es {
		if e.DN.Equal(dn(name)) {
			return e
		}
	}
	return nil
}
