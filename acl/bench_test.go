package acl_test

import (
	"testing"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

// The decisions a search and a write make per entry.

func benchSubject() acl.Subject {
	return acl.Subject{Kind: acl.Account, DN: serviceDN("reader"), Groups: map[string]bool{
		groupDN("idm_people_pii_read").Norm(): true, groupDN("staff").Norm(): true,
	}}
}

func benchPerson() *directory.Entry {
	e := directory.NewEntry(personDN("jo"))
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", directory.ClassAccount)
	e.Set("uid", "jo")
	e.Set("cn", "Jo")
	e.Set("sn", "Smith")
	e.Set("mail", "jo@example.com")
	e.Set("memberOf", groupDN("staff").String())
	return e
}

func BenchmarkCanSeeAndReadAttrs(b *testing.B) {
	sub, e := benchSubject(), benchPerson()
	b.ReportAllocs()
	for b.Loop() {
		if !policy.CanSee(sub, e, nil) {
			b.Fatal("not visible")
		}
		for _, a := range e.Attrs {
			policy.CanReadAttr(sub, e, a.Name)
		}
	}
}

func BenchmarkDecideModify(b *testing.B) {
	admin := acl.Subject{Kind: acl.Account, DN: personDN("idm_admin"), Groups: map[string]bool{
		groupDN(acl.GroupPeopleAdmins).Norm(): true,
	}}
	e := benchPerson()
	attrs := []string{"description"}
	b.ReportAllocs()
	for b.Loop() {
		if d := policy.Decide(admin, acl.OpModify, acl.Target{Entry: e}, attrs); !d.Allowed {
			b.Fatal(d.Reason)
		}
	}
}
