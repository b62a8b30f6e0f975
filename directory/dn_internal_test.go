package directory

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestDN_stringLen pins the allocation-free length ParseDN checks against
// the limit to the real String length.
func TestDN_stringLen(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"root", ""},
		{"simple", "uid=alice,dc=example,dc=com"},
		{"escapes", `cn=a\,b\+c\"d\\e\<f\>g\;h\=i,dc=com`},
		{"raw equals", "cn=a=b=c"},
		{"nul", `cn=a\00b`},
		{"leading and trailing", `cn=\ \#a\ `},
		{"multi-valued alias", "gn=a+surname=b,2.5.4.3=c"},
		{"utf8", `cn=caf\C3\A9`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn := MustParseDN(tc.in)
			if got, want := dn.stringLen(), len(dn.String()); got != want {
				t.Errorf("stringLen() = %d, len(String()) = %d (%q)", got, want, dn.String())
			}
		})
	}
}

// simpleDNSeeds are DNs of the shapes clients send, for the simple parser.
var simpleDNSeeds = []string{
	"uid=alice,ou=people,dc=idm,dc=example,dc=com", "UID=Alice,OU=People,DC=IDM,DC=Example,DC=com",
	"cn=John  Smith,dc=com", "cn=café,dc=com", "ldapdTokenId=5f0c,uid=svc,ou=services,dc=x",
	"gn=a,surname=b", "cn=a#b,dc=com", "cn=a b", "dn=token", "cn=a-b_c.d@e:f/g?h!i",
	// not simple: left to the general parser
	"cn=a\\,b", "cn=a+sn=b", "cn= a", "cn=a ", "cn=#616263", "cn=\"q\"", "2.5.4.3=x", "cn=a, dc=b",
	"cn=", "=a", "cn=a,", ",cn=a", "cn=a,,dc=b", "cn=a;dc=b", "cn=a=b", "c n=a", "cn=a\x01",
}

// TestSimpleDNMatchesGeneral: for every seed the simple parser accepts, the
// general parser gives the same DN (norm, string and assertions).
func TestSimpleDNMatchesGeneral(t *testing.T) {
	accepted := 0
	for _, s := range simpleDNSeeds {
		if checkSimpleDN(t, s) {
			accepted++
		}
	}
	if accepted < 10 {
		t.Errorf("the simple parser took only %d of the seeds", accepted)
	}
}

// FuzzSimpleDN: wherever the simple parser says ok, it agrees with the
// general parser.
func FuzzSimpleDN(f *testing.F) {
	for _, s := range simpleDNSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxDNLength || !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
			return
		}
		checkSimpleDN(t, s)
	})
}

func checkSimpleDN(t *testing.T, s string) bool {
	t.Helper()
	fast, ok := parseSimpleDN(s)
	if !ok {
		return false
	}
	slow, err := parseGeneralDN(s)
	if err != nil {
		t.Fatalf("%q: simple parser accepted, general parser: %v", s, err)
	}
	if fast.Norm() != slow.Norm() || fast.String() != slow.String() || !reflect.DeepEqual(fast.rdns, slow.rdns) {
		t.Fatalf("%q: simple %q / %q, general %q / %q", s, fast.Norm(), fast.String(), slow.Norm(), slow.String())
	}
	// The RDNs' normalized forms are substrings of the DN's: every
	// ancestor, cut from it by Parent, is the general path's too.
	for f, g := fast.Parent(), slow.Parent(); !g.IsRoot(); f, g = f.Parent(), g.Parent() {
		if f.Norm() != g.Norm() || !reflect.DeepEqual(f.rdns, g.rdns) {
			t.Fatalf("%q: ancestor %q, general %q", s, f.Norm(), g.Norm())
		}
	}
	return true
}

// TestParseDN_SimpleAllocs: a DN of the common shape costs two
// allocations (its RDNs with their AVAs, and its normalized string),
// however deep, and no more with a value to lower-case than the one the
// folded value needs.
func TestParseDN_SimpleAllocs(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"uid=user1,ou=people,dc=idm,dc=example,dc=com", 2},
		{"dc=com", 2},
		{"cn=a,cn=b,cn=c,cn=d,cn=e,cn=f,cn=g,cn=h", 2},
		{"uid=Alice,ou=people,dc=com", 3},
	}
	for _, tc := range tests {
		got := testing.AllocsPerRun(100, func() {
			if _, err := ParseDN(tc.in); err != nil {
				t.Fatal(err)
			}
		})
		if got > tc.want {
			t.Errorf("ParseDN(%q): %v allocations, want <= %v", tc.in, got, tc.want)
		}
	}
}
