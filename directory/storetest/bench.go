package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// BenchEntries is the number of users Populate adds for the search and
// get benchmarks.
const BenchEntries = 10_000

// benchUser returns user i of the benchmark population, a typical
// inetOrgPerson/posixAccount of about 400 bytes.
func benchUser(i int) *directory.Entry {
	uid := fmt.Sprintf("user%05d", i)
	return entry("uid="+uid+",ou=People,dc=example,dc=com",
		"objectClass: top", "objectClass: person", "objectClass: organizationalPerson",
		"objectClass: inetOrgPerson", "objectClass: posixAccount",
		"uid: "+uid, "cn: User "+uid, "sn: Number "+uid, "givenName: User",
		"mail: "+uid+"@example.com", fmt.Sprintf("uidNumber: %d", 10000+i), "gidNumber: 100",
		"homeDirectory: /home/"+uid, "description: benchmark user "+uid,
		"userPassword: {ARGON2}$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$aGFzaGhhc2hoYXNo")
}

// Populate adds the suffix, ou=People and n benchmark users, 1,000 per
// transaction.
func Populate(tb testing.TB, s directory.Store, n int) {
	tb.Helper()
	update(tb, s, func(tx directory.WriteTx) error {
		if err := tx.Add(entry(suffix, "objectClass: top", "objectClass: domain", "dc: example")); err != nil {
			return err
		}
		return tx.Add(entry(people, "objectClass: top", "objectClass: organizationalUnit", "ou: People"))
	})
	for start := 0; start < n; start += 1000 {
		update(tb, s, func(tx directory.WriteTx) error {
			for i := start; i < min(start+1000, n); i++ {
				if err := tx.Add(benchUser(i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// BenchAdd measures one Add per Update (one commit each).
func BenchAdd(b *testing.B, newStore func(testing.TB) directory.Store) {
	s := newStore(b)
	Populate(b, s, 0)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		e := benchUser(i)
		i++
		if err := s.Update(context.Background(), func(tx directory.WriteTx) error { return tx.Add(e) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchGet measures one Get per View among BenchEntries entries.
func BenchGet(b *testing.B, newStore func(testing.TB) directory.Store) {
	s := newStore(b)
	Populate(b, s, BenchEntries)
	dns := make([]directory.DN, 1024)
	for i := range dns {
		dns[i] = dn(fmt.Sprintf("uid=user%05d,ou=People,dc=example,dc=com", i*7919%BenchEntries))
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		name := dns[i%len(dns)]
		i++
		err := s.View(context.Background(), func(tx directory.ReadTx) error {
			_, err := tx.Get(name)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchSearchIndexedEq measures a subtree search for (uid=…) among
// BenchEntries entries: one index lookup, one match.
func BenchSearchIndexedEq(b *testing.B, newStore func(testing.TB) directory.Store) {
	benchSearch(b, newStore, func(i int) string { return fmt.Sprintf("(uid=user%05d)", i*7919%BenchEntries) }, 1)
}

// BenchSearchScanSubstring measures a subtree search with a substring
// filter no index answers, among BenchEntries entries: a full scan, one
// match.
func BenchSearchScanSubstring(b *testing.B, newStore func(testing.TB) directory.Store) {
	benchSearch(b, newStore, func(i int) string { return fmt.Sprintf("(cn=*r%05d)", i*7919%BenchEntries) }, 1)
}

func benchSearch(b *testing.B, newStore func(testing.TB) directory.Store, filterOf func(int) string, want int) {
	s := newStore(b)
	Populate(b, s, BenchEntries)
	filters := make([]*directory.Filter, 64)
	for i := range filters {
		filters[i] = filter(b, filterOf(i))
	}
	base := dn(suffix)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		f := filters[i%len(filters)]
		i++
		n := 0
		err := s.View(context.Background(), func(tx directory.ReadTx) error {
			return tx.Search(base, directory.ScopeSub, f, func(*directory.Entry) error { n++; return nil })
		})
		if err != nil || n != want {
			b.Fatalf("Search(%s) = %d entries, %v; want %d", f, n, err, want)
		}
	}
}
