package idm

import (
	"testing"
	"time"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/tokens"
)

// unversioned hides a store's Version, as a shared (etcd) store has none.
type unversioned struct{ directory.Store }

func TestNoMemoWithoutStoreVersion(t *testing.T) {
	s := &Service{store: unversioned{}, now: time.Now}
	id := Identity{Kind: acl.Account, memo: &subjectMemo{}}
	id.memo.put(0, acl.Subject{Kind: acl.Account}, time.Time{})
	if _, _, ok := s.memoized(id); ok {
		t.Fatal("a store without a version served a memoized subject")
	}
}

func TestSubjectMemo(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var nilMemo *subjectMemo
	if _, ok := nilMemo.get(0, clock); ok {
		t.Fatal("nil memo hit")
	}
	nilMemo.put(1, acl.Subject{}, time.Time{}) // no panic
	m := &subjectMemo{}
	if _, ok := m.get(0, clock); ok {
		t.Fatal("empty memo hit")
	}
	m.put(7, acl.Subject{Kind: acl.Account, ReadOnly: true}, now.Add(time.Second))
	if sub, ok := m.get(7, clock); !ok || !sub.ReadOnly {
		t.Fatalf("same version: %v %v", sub, ok)
	}
	if _, ok := m.get(8, clock); ok {
		t.Fatal("hit at another version")
	}
	now = now.Add(time.Second)
	if _, ok := m.get(7, clock); ok {
		t.Fatal("hit at the expiry")
	}
}

func TestTokenStatesBounded(t *testing.T) {
	var c tokenStates
	for i := range maxTokenStates + 10 {
		var id tokens.ID
		id[0], id[1] = byte(i), byte(i>>8)
		c.put(id, 1, tokenState{})
		if len(c.m) > maxTokenStates {
			t.Fatalf("%d states cached", len(c.m))
		}
	}
	var id tokens.ID
	id[0] = 0xff
	c.put(id, 3, tokenState{account: directory.MustParseDN("uid=a,dc=x")})
	if _, ok := c.get(id, 2); ok {
		t.Fatal("hit at another version")
	}
	if st, ok := c.get(id, 3); !ok || st.account.String() != "uid=a,dc=x" {
		t.Fatalf("get: %v %v", st, ok)
	}
}
