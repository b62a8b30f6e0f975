package directory_test

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/ldapd/ldapd/directory"
)

// ChildAVA builds the same DN as Child(NewRDN(...)), whatever the type's
// spelling and the value's case, spaces and special characters, and owns
// its strings.
func TestChildAVA(t *testing.T) {
	parents := []directory.DN{{}, mustDN(t, "dc=example,dc=com"), mustDN(t, `OU=People+CN=x\,y,dc=Example`)}
	deep := "dc=com"
	for depth := 2; depth <= 10; depth++ { // across the sizes ChildAVA allocates
		deep = fmt.Sprintf("ou=d%d,%s", depth, deep)
		parents = append(parents, mustDN(t, deep))
	}
	avas := []directory.AVA{
		{Type: "uid", Value: "user1"},
		{Type: "uid", Value: "  Mixed   Case "},
		{Type: "UID", Value: "x"},
		{Type: "userid", Value: "alias"},
		{Type: "cn", Value: `a,b+c="d"\e<f>;#g`},
		{Type: "cn", Value: ""},
		{Type: "x-Custom", Value: "Ünïcode"},
		{Type: "1.2.3.4", Value: "oid"},
	}
	for _, p := range parents {
		for _, a := range avas {
			typ, val := []byte(a.Type), []byte(a.Value) // memory the caller reuses
			got := p.ChildAVA(unsafe.String(unsafe.SliceData(typ), len(typ)), unsafe.String(unsafe.SliceData(val), len(val)))
			clear(typ)
			clear(val)
			want := p.Child(directory.NewRDN(a))
			if got.Norm() != want.Norm() || got.String() != want.String() || !got.Equal(want) || got.Depth() != want.Depth() {
				t.Errorf("%q.ChildAVA(%q, %q) = %q (norm %q), want %q (norm %q)", p, a.Type, a.Value, got, got.Norm(), want, want.Norm())
			}
			if !got.Parent().Equal(p) || got.RDN().Norm() != want.RDN().Norm() {
				t.Errorf("%q.ChildAVA(%q, %q): parent %q, RDN %q", p, a.Type, a.Value, got.Parent(), got.RDN().Norm())
			}
		}
	}
}
