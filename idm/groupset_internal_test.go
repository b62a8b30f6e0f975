package idm

import (
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func TestGroupSetMemo(t *testing.T) {
	var c dnNorms
	e := directory.NewEntry(directory.MustParseDN("uid=a,dc=x"))
	e.Set("memberOf", "CN=Admins, dc=X", "not a dn")
	for range 2 { // memo miss, then hit
		got := c.groupSet(e)
		want := directory.MustParseDN("cn=admins,dc=x").Norm()
		if len(got) != 1 || !got[want] {
			t.Fatalf("groupSet = %v, want {%s}", got, want)
		}
	}
	for i := range maxDNNorms + 10 { // bounded: starts over when full
		c.norm("cn=g" + string(rune('a'+i%26)) + ",dc=x" + string(rune('0'+i%10)) + string(rune(i)))
	}
	if n := c.n.Load(); n > maxDNNorms {
		t.Fatalf("memo holds %d > %d", n, maxDNNorms)
	}
}
