package indexdef

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// TestKeyBytes pins the stored bytes of every index key kind: both stores
// keep them on disk and in etcd, so a change here needs a migration.
func TestKeyBytes(t *testing.T) {
	const id = 0x0102030405060708
	idb := "\x01\x02\x03\x04\x05\x06\x07\x08"
	long := strings.Repeat("z", MaxInlineNorm+1)
	sum := sha256.Sum256([]byte(long))
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"eq", EqKey("alice", id), "=alice\x00" + idb},
		{"eq empty", EqKey("", id), "=\x00" + idb},
		{"eq with NUL", EqKey("x\x00y", id), "=x\x00y\x00" + idb},
		{"eq longest inline", EqKey(long[1:], id), "=" + long[1:] + "\x00" + idb},
		{"eq hashed", EqKey(long, id), "#" + string(sum[:]) + "\x00" + idb},
		{"eq prefix", EqPrefix("alice"), "=alice\x00"},
		{"append", AppendEqKey([]byte("junk")[:0], "alice", id), "=alice\x00" + idb},
		{"append hashed", AppendEqKey(nil, long, id), "#" + string(sum[:]) + "\x00" + idb},
		{"presence", PresKey(id), "*" + idb},
		{"overflow", OverflowKey(id), "!" + idb},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
		if tc.name == "eq prefix" {
			continue
		}
		if got, ok := KeyID(tc.got); !ok || got != id {
			t.Errorf("%s: KeyID = %x, %v; want %x", tc.name, got, ok, uint64(id))
		}
	}
	for _, bad := range []string{"", "*\x01", "=alice" + idb, "?" + idb, "*" + idb + "x"} {
		if _, ok := KeyID([]byte(bad)); ok {
			t.Errorf("KeyID(%q) accepted a malformed key", bad)
		}
	}
}

// TestKeysBudget: the zero budget indexes every value; a budget turns an
// attribute with too many values into one overflow key, then the largest
// attributes until the entry fits.
func TestKeysBudget(t *testing.T) {
	p, err := New(directory.Builtin(), []string{"objectClass", "cn", "mail", "member"})
	if err != nil {
		t.Fatal(err)
	}
	e := directory.NewEntry(directory.MustParseDN("cn=g,dc=example,dc=com"))
	e.Set("objectClass", "top", "groupOfNames")
	e.Set("cn", "g", "G", "group") // g and G share a key
	e.Set("description", "not indexed")
	var members []string
	for i := range 5 {
		members = append(members, fmt.Sprintf("uid=u%d,dc=example,dc=com", i))
	}
	e.Set("member", members...)
	count := func(keys []Key) map[string]string {
		out := map[string]string{}
		for i, k := range keys {
			if i > 0 && CompareKeys(keys[i-1], k) >= 0 {
				t.Fatalf("keys not sorted and unique at %d: %q", i, keys)
			}
			out[k.Attr] += string(k.Key[0])
		}
		return out
	}
	for _, tc := range []struct {
		budget Budget
		want   map[string]string // attr -> key kinds, in key order
	}{
		{Budget{}, map[string]string{"cn": "*==", "member": "*=====", "objectClass": "*=="}},
		{Budget{MaxValues: 4, MaxKeys: 56}, map[string]string{"cn": "*==", "member": "!*", "objectClass": "*=="}},
		// 3 + 6 + 3 = 12 keys: member overflows to 2 keys (8 in all),
		// then cn (tied with objectClass at 2 values: by name) to 2 (7).
		{Budget{MaxValues: 32, MaxKeys: 8}, map[string]string{"cn": "*==", "member": "!*", "objectClass": "*=="}},
		{Budget{MaxValues: 32, MaxKeys: 7}, map[string]string{"cn": "!*", "member": "!*", "objectClass": "*=="}},
	} {
		got := count(p.Keys(e, 7, tc.budget))
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("budget %+v: keys %v, want %v", tc.budget, got, tc.want)
		}
	}
}
