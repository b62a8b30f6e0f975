package entrycodec

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// benchEntry is shaped like an imported person: the inetOrgPerson
// attributes of scripts/bench/genldif and the operational ones import adds.
func benchEntry() *directory.Entry {
	return &directory.Entry{DN: directory.MustParseDN("uid=user4711,ou=people,dc=idm,dc=example,dc=com"), Attrs: []directory.Attr{
		{Name: "objectClass", Values: []string{"top", "person", "organizationalPerson", "inetOrgPerson"}},
		{Name: "uid", Values: []string{"user4711"}},
		{Name: "cn", Values: []string{"User 4711"}},
		{Name: "sn", Values: []string{"4711"}},
		{Name: "mail", Values: []string{"user4711@example.com"}},
		{Name: "userPassword", Values: []string{"{SSHA}iZ9VEoY6PELh9FXS6r455wiSvAiZsO9Ku51eew=="}},
		{Name: "entryUUID", Values: []string{"5b0c3f1e-8a7d-4c1b-9e2f-0a1b2c3d4e5f"}},
		{Name: "createTimestamp", Values: []string{"20260101000000Z"}},
		{Name: "modifyTimestamp", Values: []string{"20260101000000Z"}},
		{Name: "creatorsName", Values: []string{"uid=admin,ou=people,dc=idm,dc=example,dc=com"}},
		{Name: "modifiersName", Values: []string{"uid=admin,ou=people,dc=idm,dc=example,dc=com"}},
	}}
}

// BenchmarkDecodeAttrsIntoKeep is the scan's per-entry decoding: only the
// attribute a (cn=*N*) filter reads is kept.
func BenchmarkDecodeAttrsIntoKeep(b *testing.B) {
	raw := string(Encode(benchEntry()))
	keep := []string{"cn"}
	var e directory.Entry
	var vals []string
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if _, vals, err = DecodeAttrsInto(raw, &e, vals, keep); err != nil || len(e.Attrs) != 1 {
			b.Fatal(err, e.Attrs)
		}
	}
}

// BenchmarkDecodeDNCached is a search's per-entry DN decoding: entries of
// one parent, whose DN the cache holds.
func BenchmarkDecodeDNCached(b *testing.B) {
	var c ParentCache
	secs := []string{EncodeDN(directory.MustParseDN("uid=user4711,ou=people,dc=idm,dc=example,dc=com")),
		EncodeDN(directory.MustParseDN("uid=user4712,ou=people,dc=idm,dc=example,dc=com"))}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := DecodeDNCached(secs[i&1], &c); err != nil {
			b.Fatal(err)
		}
	}
}
