package idm

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// TestSelectionWantsNameByKey: wantsName compared against the selected
// types' names and OIDs answers exactly as looking the name up in the
// schema does, for names in any case, with options, aliases, OIDs,
// unknown and non-ASCII names, and every kind of selection.
func TestSelectionWantsNameByKey(t *testing.T) {
	schema := directory.Builtin()
	var names []string
	for _, at := range schema.AttributeTypes() {
		names = append(names, at.OID)
		names = append(names, at.Names...)
	}
	names = append(names, "nosuchattr", "c\u00e9", "\u212Aey", "", ";", "1.1", "*", "+")
	rng := rand.New(rand.NewPCG(1, 2))
	vary := func(n string) string {
		b := []byte(n)
		for i := range b {
			if rng.IntN(2) == 0 && 'a' <= b[i]|0x20 && b[i]|0x20 <= 'z' {
				b[i] ^= 0x20
			}
		}
		if rng.IntN(8) == 0 {
			b = append(b, ";lang-en"...)
		}
		return string(b)
	}
	var sel selection
	fast := 0
	for range 2000 {
		attrs := make([]string, rng.IntN(5))
		for i := range attrs {
			attrs[i] = vary(names[rng.IntN(len(names))])
		}
		sel.parse(schema, attrs)
		if sel.byKey {
			fast++
		}
		for range 20 {
			name := vary(names[rng.IntN(len(names))])
			at, ok := schema.Attr(name)
			if want := ok && sel.wants(at); sel.wantsName(name) != want {
				t.Fatalf("selection %q: wantsName(%q) = %v, the schema says %v", attrs, name, !want, want)
			}
		}
	}
	if fast < 500 {
		t.Fatalf("only %d of 2000 selections took the fast path", fast)
	}
	if !strings.EqualFold("a", "A") || !equalFoldASCII("uId", "UiD") || equalFoldASCII("@", "`") || equalFoldASCII("[", "{") {
		t.Fatal("equalFoldASCII folds more than letters")
	}
}

// TestSelectionReparse: parse skips the work for the list it parsed last,
// but not for a different list in the same memory (a request's attribute
// list is the caller's, reused).
func TestSelectionReparse(t *testing.T) {
	schema := directory.Builtin()
	var sel selection
	attrs := []string{"uid", "cn"}
	sel.parse(schema, attrs)
	sel.parse(schema, attrs)
	attrs[1] = "mail"
	sel.parse(schema, attrs)
	if !sel.wantsName("mail") || sel.wantsName("cn") || !sel.wantsName("uid") {
		t.Fatalf("after parsing %q: mail %v, cn %v, uid %v", attrs, sel.wantsName("mail"), sel.wantsName("cn"), sel.wantsName("uid"))
	}
	sel.parse(schema, nil)
	if !sel.wantsName("cn") || !sel.allUser {
		t.Fatal("an empty list does not select every user attribute")
	}
}
