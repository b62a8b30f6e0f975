package writecheck

import (
	"errors"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
)

// keys is a set of stored DNs by dn key: the least a store answers.
type keys map[string]uint64

func (k keys) ID(key []byte) (uint64, bool, error) {
	id, ok := k[string(key)]
	return id, ok, nil
}

func (k keys) HasChildren(key []byte) (bool, error) {
	prefix := string(entrycodec.SubtreePrefix(key))
	for s := range k {
		if strings.HasPrefix(s, prefix) {
			return true, nil
		}
	}
	return false, nil
}

func stored(t *testing.T, dns ...string) keys {
	t.Helper()
	k := keys{}
	for i, s := range dns {
		key, err := entrycodec.DNKey(directory.MustParseDN(s))
		if err != nil {
			t.Fatal(err)
		}
		k[string(key)] = uint64(i + 1)
	}
	return k
}

func TestChecks(t *testing.T) {
	k := stored(t, "dc=example,dc=com", "ou=people,dc=example,dc=com", "uid=a,ou=people,dc=example,dc=com")
	dn := directory.MustParseDN
	rdn := func(s string) directory.RDN { return dn(s).RDNs()[0] }
	a, people, base := dn("uid=a,ou=people,dc=example,dc=com"), dn("ou=people,dc=example,dc=com"), dn("dc=example,dc=com")
	add := func(s string) error { _, err := Add(k, &directory.Entry{DN: dn(s)}); return err }
	del := func(d directory.DN) error { _, _, err := Delete(k, d); return err }
	rename := func(d directory.DN, r directory.RDN, p *directory.DN) error { _, err := Rename(k, d, r, p); return err }
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"add new", add("uid=b,ou=people,dc=example,dc=com"), nil},
		{"add new naming context", add("dc=other,dc=org"), nil},
		{"add existing", add("uid=a,ou=people,dc=example,dc=com"), directory.ErrEntryAlreadyExists},
		{"add empty DN", add(""), directory.ErrUnwillingToPerform},
		{"add below missing parent", add("uid=x,ou=gone,dc=example,dc=com"), directory.ErrNoSuchObject},
		{"delete leaf", del(a), nil},
		{"delete non-leaf", del(people), directory.ErrNotAllowedOnNonLeaf},
		{"delete missing", del(dn("uid=z,ou=people,dc=example,dc=com")), directory.ErrNoSuchObject},
		{"rename to a free name", rename(a, rdn("uid=b"), nil), nil},
		{"rename to its own name in other case", rename(a, rdn("UID=a"), nil), nil},
		{"rename below itself", rename(people, rdn("ou=x"), &a), directory.ErrUnwillingToPerform},
		{"rename to a missing parent", rename(a, rdn("uid=a"), new(dn("ou=gone,dc=example,dc=com"))), directory.ErrNoSuchObject},
		{"rename onto an entry", rename(a, rdn("ou=people"), &base), directory.ErrEntryAlreadyExists},
		{"rename to an empty RDN", rename(a, directory.RDN{}, nil), directory.ErrInvalidDNSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == nil && tc.err != nil || tc.want != nil && !errors.Is(tc.err, tc.want) {
				t.Errorf("err = %v, want %v", tc.err, tc.want)
			}
		})
	}
}

func TestLookupMatched(t *testing.T) {
	k := stored(t, "dc=example,dc=com")
	_, _, err := Lookup(k, directory.MustParseDN("uid=a,ou=people,dc=example,dc=com"))
	if m, ok := directory.MatchedDN(err); !errors.Is(err, directory.ErrNoSuchObject) || !ok || m.String() != "dc=example,dc=com" {
		t.Fatalf("Lookup = %v, want noSuchObject matching dc=example,dc=com", err)
	}
}

func TestRebase(t *testing.T) {
	dn := directory.MustParseDN
	got := Rebase(dn("uid=a,ou=people,dc=example,dc=com"), dn("ou=people,dc=example,dc=com"), dn("ou=staff,dc=example,dc=com"))
	if !got.Equal(dn("uid=a,ou=staff,dc=example,dc=com")) {
		t.Fatalf("Rebase = %s", got)
	}
}

// TestNames: an entry holds each attribute once, names compared ignoring
// case.
func TestNames(t *testing.T) {
	attr := func(name string) directory.Attr { return directory.Attr{Name: name, Values: []string{"x"}} }
	for _, tc := range []struct {
		attrs []directory.Attr
		ok    bool
	}{
		{nil, true},
		{[]directory.Attr{attr("cn"), attr("sn"), attr("c")}, true},
		{[]directory.Attr{attr("cn"), attr("sn"), attr("cn")}, false},
		{[]directory.Attr{attr("cn"), attr("CN")}, false},
		{[]directory.Attr{attr("objectClass"), attr("uid"), attr("objectclass")}, false},
	} {
		err := Names(&directory.Entry{Attrs: tc.attrs})
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, directory.ErrAttributeOrValueExists)) {
			t.Errorf("%v: %v, want ok %v", tc.attrs, err, tc.ok)
		}
	}
}
