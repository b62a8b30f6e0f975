package etcdstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// The tests below run against a member with etcd's default limits (128
// operations, 1.5 MiB per Txn): what an operator gets without tuning.

func defaultCluster(t *testing.T) *etcdtest.Cluster {
	return etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
}

func mustUpdate(t *testing.T, s directory.Store, fn func(directory.WriteTx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func mkEntry(dn string, attrs ...string) *directory.Entry {
	e := directory.NewEntry(directory.MustParseDN(dn))
	for _, a := range attrs {
		name, value, _ := strings.Cut(a, ": ")
		e.Add(name, value)
	}
	return e
}

func seedTree(t *testing.T, s directory.Store) {
	mustUpdate(t, s, func(tx directory.WriteTx) error {
		return errors.Join(
			tx.Add(mkEntry("dc=example,dc=com", "objectClass: domain", "dc: example")),
			tx.Add(mkEntry("ou=People,dc=example,dc=com", "objectClass: organizationalUnit", "ou: People")),
			tx.Add(mkEntry("ou=Groups,dc=example,dc=com", "objectClass: organizationalUnit", "ou: Groups")))
	})
}

func person(i int) *directory.Entry {
	uid := fmt.Sprintf("user%05d", i)
	e := mkEntry("uid="+uid+",ou=People,dc=example,dc=com",
		"objectClass: top", "objectClass: person", "objectClass: organizationalPerson", "objectClass: inetOrgPerson",
		"objectClass: posixAccount", "uid: "+uid, "cn: User "+uid, "sn: "+uid, "givenName: User",
		"mail: "+uid+"@example.com", "uidNumber: "+strconv.Itoa(10000+i), "gidNumber: 100", "homeDirectory: /home/"+uid,
		"displayName: User "+uid)
	for g := range 100 { // a member of 100 groups: memberOf overflows
		e.Add("memberOf", fmt.Sprintf("cn=g%d,ou=Groups,dc=example,dc=com", g))
	}
	return e
}

func searchCount(t *testing.T, s directory.Store, f string) int {
	t.Helper()
	flt, err := directory.ParseFilter(f, directory.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = s.View(context.Background(), func(tx directory.ReadTx) error {
		return tx.Search(directory.MustParseDN("dc=example,dc=com"), directory.ScopeSub, flt,
			func(*directory.Entry) error { n++; return nil })
	})
	if err != nil {
		t.Fatalf("Search(%s): %v", f, err)
	}
	return n
}

// TestLimitsOneEntryFits: every single-entry write of a large entry fits in
// etcd's default 128 operations, thanks to overflow keys, and the overflowed
// values are still found by equality searches.
func TestLimitsOneEntryFits(t *testing.T) {
	s := newStoreOn(t, defaultCluster(t), etcdstore.Options{})
	seedTree(t, s)
	const members = 5000
	group := mkEntry("cn=big,ou=Groups,dc=example,dc=com", "objectClass: groupOfNames", "cn: big")
	for i := range members {
		group.Add("member", fmt.Sprintf("uid=user%05d,ou=People,dc=example,dc=com", i))
	}
	mustUpdate(t, s, func(tx directory.WriteTx) error { return tx.Add(group) })
	mustUpdate(t, s, func(tx directory.WriteTx) error { return tx.Add(person(1)) })
	if n := searchCount(t, s, "(member=uid=user04999,ou=People,dc=example,dc=com)"); n != 1 {
		t.Fatalf("member search found %d entries, want 1", n)
	}
	if n := searchCount(t, s, "(memberOf=cn=g77,ou=Groups,dc=example,dc=com)"); n != 1 {
		t.Fatalf("memberOf search found %d entries, want 1", n)
	}
	// Modify a large group: one value in, one out.
	mustUpdate(t, s, func(tx directory.WriteTx) error {
		return tx.Modify(group.DN, []directory.Change{
			{Op: directory.ChangeAdd, Attr: "member", Values: []string{"uid=new,ou=People,dc=example,dc=com"}},
			{Op: directory.ChangeDelete, Attr: "member", Values: []string{"uid=user00000,ou=People,dc=example,dc=com"}},
		})
	})
	if n := searchCount(t, s, "(member=uid=new,ou=People,dc=example,dc=com)"); n != 1 {
		t.Fatalf("new member search found %d entries, want 1", n)
	}
	// Shrink below the overflow threshold and back: index keys follow.
	mustUpdate(t, s, func(tx directory.WriteTx) error {
		return tx.Modify(group.DN, []directory.Change{{Op: directory.ChangeReplace,
			Attr: "member", Values: []string{"uid=a,dc=example,dc=com", "uid=b,dc=example,dc=com"}}})
	})
	if n := searchCount(t, s, "(member=uid=b,dc=example,dc=com)"); n != 1 {
		t.Fatalf("member search after shrink found %d entries, want 1", n)
	}
	mustUpdate(t, s, func(tx directory.WriteTx) error { return tx.Delete(person(1).DN) })
	mustUpdate(t, s, func(tx directory.WriteTx) error { return tx.Delete(group.DN) })
	verify(t, s)
}

// TestLimitsTooLarge: an Update beyond the limits fails with a clear error
// that is adminLimitExceeded, and writes nothing.
func TestLimitsTooLarge(t *testing.T) {
	s := newStoreOn(t, defaultCluster(t), etcdstore.Options{})
	seedTree(t, s)
	err := s.Update(context.Background(), func(tx directory.WriteTx) error {
		for i := range 20 {
			if err := tx.Add(person(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, etcdstore.ErrTxnTooLarge) || !errors.Is(err, directory.ErrAdminLimitExceeded) {
		t.Fatalf("20 people in one Update: err = %v, want ErrTxnTooLarge and ErrAdminLimitExceeded", err)
	}
	if n := searchCount(t, s, "(objectClass=person)"); n != 0 {
		t.Fatalf("%d people stored after a failed Update, want 0", n)
	}
	huge := mkEntry("cn=huge,ou=Groups,dc=example,dc=com", "objectClass: groupOfNames", "cn: huge")
	for i := range 40000 {
		huge.Add("member", fmt.Sprintf("uid=user%05d,ou=People,dc=example,dc=com", i))
	}
	err = s.Update(context.Background(), func(tx directory.WriteTx) error { return tx.Add(huge) })
	if !errors.Is(err, etcdstore.ErrTxnTooLarge) {
		t.Fatalf("a 2 MB entry: err = %v, want ErrTxnTooLarge", err)
	}
	verify(t, s)
}

// TestConflictsAcrossClients: two stores over two clients (two ldapd nodes)
// doing read-modify-write on one counter and adds under one parent lose no
// update: conflicting commits run fn again.
func TestConflictsAcrossClients(t *testing.T) {
	c := defaultCluster(t)
	a := newStoreOn(t, c, etcdstore.Options{})
	cli2, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli2.Close() })
	b, err := etcdstore.Open(context.Background(), cli2, etcdstore.Options{Prefix: fmt.Sprintf("/test/%d/", prefixes.Load())})
	if err != nil {
		t.Fatal(err)
	}
	seedTree(t, a)
	const perWorker, workers = 20, 4
	var runs atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for i := range perWorker {
				err := s.Update(context.Background(), func(tx directory.WriteTx) error {
					runs.Add(1)
					n := 0
					if v, err := tx.Meta("counter"); err == nil {
						n, _ = strconv.Atoi(string(v))
					}
					if err := tx.SetMeta("counter", []byte(strconv.Itoa(n+1))); err != nil {
						return err
					}
					// A search makes this a ranged transaction.
					f, _ := directory.ParseFilter("(uid=nobody)", directory.Builtin())
					if err := tx.Search(directory.MustParseDN("dc=example,dc=com"), directory.ScopeSub, f,
						func(*directory.Entry) error { return nil }); err != nil {
						return err
					}
					return tx.Add(mkEntry(fmt.Sprintf("uid=w%d-%d,ou=People,dc=example,dc=com", w, i),
						"objectClass: account", fmt.Sprintf("uid: w%d-%d", w, i)))
				})
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		})
	}
	wg.Wait()
	var got []byte
	_ = b.View(context.Background(), func(tx directory.ReadTx) (err error) { got, err = tx.Meta("counter"); return err })
	if string(got) != strconv.Itoa(perWorker*workers) {
		t.Fatalf("counter = %s, want %d (lost updates)", got, perWorker*workers)
	}
	if n := searchCount(t, a, "(objectClass=account)"); n != perWorker*workers {
		t.Fatalf("%d accounts, want %d", n, perWorker*workers)
	}
	t.Logf("%d commits took %d runs of fn", perWorker*workers, runs.Load())
	verify(t, a)
}

// TestVerifyDetects: Verify reports keys changed behind the store's back.
func TestVerifyDetects(t *testing.T) {
	c := defaultCluster(t)
	s := newStoreOn(t, c, etcdstore.Options{})
	prefix := fmt.Sprintf("/test/%d/", prefixes.Load())
	seedTree(t, s)
	mustUpdate(t, s, func(tx directory.WriteTx) error { return tx.Add(person(1)) })
	verify(t, s)
	cli := c.Client(t)
	ctx := context.Background()
	// A stale index key for a value nobody has, and a dn key to nowhere.
	if _, err := cli.Put(ctx, prefix+"i/uid/=ghost\x00\x00\x00\x00\x00\x00\x00\x00\x07", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(ctx, prefix+"n/dc=com\x00dc=example\x00ou=nowhere", "\x00\x00\x00\x00\x00\x00\x00\x09"); err != nil {
		t.Fatal(err)
	}
	err := s.(interface{ Verify(context.Context) error }).Verify(ctx)
	if !errors.Is(err, etcdstore.ErrCorrupt) || !strings.Contains(err.Error(), "missing entry 7") ||
		!strings.Contains(err.Error(), "missing entry 9") {
		t.Fatalf("Verify = %v, want both problems reported", err)
	}
}

func verify(t *testing.T, s directory.Store) {
	t.Helper()
	if err := s.(interface{ Verify(context.Context) error }).Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}
