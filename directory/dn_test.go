package directory_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func mustDN(t testing.TB, s string) directory.DN {
	t.Helper()
	dn, err := directory.ParseDN(s)
	if err != nil {
		t.Fatalf("ParseDN(%q): %v", s, err)
	}
	return dn
}

func mustRDN(t testing.TB, s string) directory.RDN {
	t.Helper()
	r, err := directory.ParseRDN(s)
	if err != nil {
		t.Fatalf("ParseRDN(%q): %v", s, err)
	}
	return r
}

// TestParseDN checks what ParseDN makes of valid strings: the depth and the
// leftmost RDN's assertions (canonical type, unescaped value as given).
func TestParseDN(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		depth int
		first []directory.AVA // leftmost RDN, in input order
	}{
		{"root", "", 0, nil},
		{"root spaces", "   ", 0, nil},
		{"simple", "uid=alice,ou=people,dc=example,dc=com", 4, []directory.AVA{{Type: "uid", Value: "alice"}}},
		{"escaped comma", `cn=Smith\, John,dc=com`, 2, []directory.AVA{{Type: "cn", Value: "Smith, John"}}},
		{"escaped plus", `cn=a\+b,dc=com`, 2, []directory.AVA{{Type: "cn", Value: "a+b"}}},
		{"hex quote", `cn=\22quoted\22`, 1, []directory.AVA{{Type: "cn", Value: `"quoted"`}}},
		{"hex comma", `cn=a\2Cb`, 1, []directory.AVA{{Type: "cn", Value: "a,b"}}},
		{"hex utf8 pairs", `cn=caf\C3\A9`, 1, []directory.AVA{{Type: "cn", Value: "café"}}},
		{"raw utf8", "cn=café", 1, []directory.AVA{{Type: "cn", Value: "café"}}},
		{"escaped backslash", `cn=a\\b`, 1, []directory.AVA{{Type: "cn", Value: `a\b`}}},
		{"escaped equals", `cn=a\=b`, 1, []directory.AVA{{Type: "cn", Value: "a=b"}}},
		{"raw equals in value", `cn=a=b`, 1, []directory.AVA{{Type: "cn", Value: "a=b"}}},
		{"escaped leading space", `cn=\ a`, 1, []directory.AVA{{Type: "cn", Value: " a"}}},
		{"escaped trailing space", `cn=a\ `, 1, []directory.AVA{{Type: "cn", Value: "a "}}},
		{"escaped leading hash", `cn=\#a`, 1, []directory.AVA{{Type: "cn", Value: "#a"}}},
		{"ber octet string", "cn=#04024869", 1, []directory.AVA{{Type: "cn", Value: "Hi"}}},
		{"ber with oid type", "2.5.4.3=#04024869", 1, []directory.AVA{{Type: "cn", Value: "Hi"}}},
		{"ber empty octet string", "cn=#0400", 1, []directory.AVA{{Type: "cn", Value: ""}}},
		{"empty value", "cn=,dc=com", 2, []directory.AVA{{Type: "cn", Value: ""}}},
		{"multi-valued", "cn=a+sn=b,dc=com", 2, []directory.AVA{{Type: "cn", Value: "a"}, {Type: "sn", Value: "b"}}},
		{"spaces around separators", " cn = alice , dc = com ", 2, []directory.AVA{{Type: "cn", Value: "alice"}}},
		{"type case", "CN=Alice", 1, []directory.AVA{{Type: "cn", Value: "Alice"}}},
		{"oid type", "2.5.4.3=x", 1, []directory.AVA{{Type: "cn", Value: "x"}}},
		{"alias type", "commonName=x", 1, []directory.AVA{{Type: "cn", Value: "x"}}},
		{"unknown type kept", "fooBar=x", 1, []directory.AVA{{Type: "fooBar", Value: "x"}}},
		{"unknown oid kept", "1.2.3.4=x", 1, []directory.AVA{{Type: "1.2.3.4", Value: "x"}}},
		{"semicolon separator", "cn=a;dc=com", 2, []directory.AVA{{Type: "cn", Value: "a"}}},
		{"at max length", "cn=" + strings.Repeat("a", 16<<10-3), 1, []directory.AVA{{Type: "cn", Value: strings.Repeat("a", 16<<10-3)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn, err := directory.ParseDN(tc.in)
			if err != nil {
				t.Fatalf("ParseDN(%q): %v", tc.in, err)
			}
			if dn.Depth() != tc.depth {
				t.Errorf("Depth() = %d, want %d", dn.Depth(), tc.depth)
			}
			if dn.IsRoot() != (tc.depth == 0) {
				t.Errorf("IsRoot() = %v with depth %d", dn.IsRoot(), tc.depth)
			}
			if got := dn.RDN().AVAs(); !slices.Equal(got, tc.first) {
				t.Errorf("RDN().AVAs() = %q, want %q", got, tc.first)
			}
		})
	}
}

func TestParseDN_Invalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"type only", "uid"},
		{"no type", "=x"},
		{"empty rdn", "uid=a,,dc=b"},
		{"leading comma", ",dc=b"},
		{"trailing comma", "uid=a,"},
		{"empty rdn in multi-valued", "cn=a+,dc=b"},
		{"trailing backslash", `cn=a\`},
		{"trailing backslash after rdn", `cn=a,dc=b\`},
		{"bad hex pair", `cn=\zz`},
		{"half hex pair", `cn=\4`},
		{"bad ber hex", "cn=#zz"},
		{"odd ber hex", "cn=#040"},
		{"truncated ber", "cn=#0405ab"},
		{"trailing ber bytes", "cn=#04014100"},
		{"unescaped quote", `cn=a"b`},
		{"unescaped angle", "cn=a<b"},
		{"raw nul", "cn=a\x00b"},
		{"too long", "cn=" + strings.Repeat("a", 16<<10)},
		// Fuzz crasher: the type decodes to NUL, which String wrote raw.
		{"type with escaped nul", `\00=`},
		{"type with escaped equals", `c\=n=x`},
		{"type with escaped comma", `c\,n=x`},
		{"type with space", "c n=x"},
		{"type starting with digit", "1cn=x"},
		{"type with underscore", "c_n=x"},
		{"oid with empty arc", "2..5=x"},
		{"oid trailing dot", "2.5.=x"},
		{"invalid utf8 raw", "cn=\xff"},
		{"invalid utf8 escaped", `cn=\ff`},
		// Fuzz crasher: String wrote the byte raw; go-ldap read it back as U+FFFD.
		{"invalid utf8 escaped, unknown type", `A=\80`},
		{"invalid utf8 ber", "cn=#0401ff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn, err := directory.ParseDN(tc.in)
			if !errors.Is(err, directory.ErrInvalidDNSyntax) {
				t.Fatalf("ParseDN(%q) = %q, %v; want ErrInvalidDNSyntax", tc.in, dn.String(), err)
			}
			if _, err := directory.ParseRDN(tc.in); !errors.Is(err, directory.ErrInvalidDNSyntax) {
				t.Errorf("ParseRDN(%q) error = %v; want ErrInvalidDNSyntax", tc.in, err)
			}
		})
	}
}

// TestParseDN_LengthLimit: the 16 KiB limit applies to the String and
// Norm forms too, so that any accepted DN can be rendered and parsed back.
// String may be longer than the input: a raw '=' in a value is written
// escaped, and the alias gn is written givenName.
func TestParseDN_LengthLimit(t *testing.T) {
	const limit = 16 << 10
	tests := []struct {
		name string
		in   string
	}{
		{"raw equals signs", "cn=" + strings.Repeat("=", limit-3)},
		{"short alias", "gn=a" + strings.Repeat("+gn=a", (limit-4)/5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.in) > limit {
				t.Fatalf("test input is %d bytes, over the limit", len(tc.in))
			}
			dn, err := directory.ParseDN(tc.in)
			if err != nil {
				if !errors.Is(err, directory.ErrInvalidDNSyntax) {
					t.Fatalf("ParseDN: %v, want ErrInvalidDNSyntax", err)
				}
				return
			}
			if _, err := directory.ParseDN(dn.String()); err != nil {
				t.Errorf("ParseDN accepted a %d-byte DN whose %d-byte String() it rejects: %v", len(tc.in), len(dn.String()), err)
			}
			if _, err := directory.ParseDN(dn.Norm()); err != nil {
				t.Errorf("ParseDN accepted a %d-byte DN whose %d-byte Norm() it rejects: %v", len(tc.in), len(dn.Norm()), err)
			}
		})
	}
}

func TestParseRDN(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"single", "uid=alice", false},
		{"multi-valued", "cn=a+sn=b", false},
		{"two rdns", "uid=a,dc=com", true},
		{"root", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := directory.ParseRDN(tc.in)
			if tc.wantErr != (err != nil) {
				t.Fatalf("ParseRDN(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, directory.ErrInvalidDNSyntax) {
				t.Errorf("error %v is not ErrInvalidDNSyntax", err)
			}
		})
	}
}

func TestDN_Equal(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"identical", "uid=a,dc=com", "uid=a,dc=com", true},
		{"type case", "UID=a,DC=com", "uid=a,dc=com", true},
		{"value case", "uid=Alice,dc=COM", "uid=alice,dc=com", true},
		{"spaces around separators", "uid = a , dc = com", "uid=a,dc=com", true},
		{"inner spaces collapse", "cn=Alice   Smith", "cn=alice smith", true},
		{"unescaped outer spaces", "cn=  alice  ", "cn=alice", true},
		{"oid type", "2.5.4.3=x", "cn=x", true},
		{"alias type", "commonName=x", "cn=x", true},
		{"alias type upper", "COMMONNAME=X", "cn=x", true},
		{"multi-valued order", "cn=a+sn=b,dc=com", "sn=b+cn=a,dc=com", true},
		{"multi-valued alias order", "surname=B+commonName=A", "cn=a+sn=b", true},
		{"hex vs literal", `cn=a\2cb`, `cn=a\,b`, true},
		{"hex case", `cn=\C3\A9`, `cn=\c3\a9`, true},
		{"ber vs literal", "cn=#04024869", "cn=hi", true},
		{"escaped vs raw hash inside", `cn=a\#b`, "cn=a#b", true},
		{"unicode case", "cn=ÉCOLE", "cn=école", true},
		{"semicolon vs comma", "cn=a;dc=com", "cn=a,dc=com", true},
		{"edge tab is not case-sensitive", `cn=\09X`, `cn=\09x`, true},
		{"edge tab is insignificant", `cn=\09x\0a`, `cn=x`, true},
		{"inner tab is kept", `cn=a\09b`, `cn=a b`, false},
		{"different value", "uid=a,dc=com", "uid=b,dc=com", false},
		{"different type", "uid=a", "cn=a", false},
		{"different depth", "uid=a,dc=com", "uid=a", false},
		{"rdn order matters", "dc=a,dc=b", "dc=b,dc=a", false},
		{"multi-valued vs single", "cn=a+sn=b", "cn=a", false},
		{"escaped comma is not a separator", `uid=a\,dc=com`, "uid=a,dc=com", false},
		{"escaped plus is not a separator", `cn=a\+sn=b`, "cn=a+sn=b", false},
		{"root vs non-root", "", "dc=com", false},
		{"root vs root", "", " ", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustDN(t, tc.a), mustDN(t, tc.b)
			if got := a.Equal(b); got != tc.want {
				t.Errorf("ParseDN(%q).Equal(ParseDN(%q)) = %v, want %v (norms %q, %q)", tc.a, tc.b, got, tc.want, a.Norm(), b.Norm())
			}
			if got := b.Equal(a); got != tc.want {
				t.Errorf("Equal is not symmetric")
			}
			if got := a.Norm() == b.Norm(); got != tc.want {
				t.Errorf("Norm equality = %v, want %v (norms %q, %q)", got, tc.want, a.Norm(), b.Norm())
			}
		})
	}
}

func TestDN_String(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"root", "", ""},
		{"simple", "uid=alice,dc=example,dc=com", "uid=alice,dc=example,dc=com"},
		{"canonical types, values as given", "UID=Alice, 2.5.4.3=Bob ,commonName=Carol", "uid=Alice,cn=Bob,cn=Carol"},
		{"multi-valued keeps order", "sn=b+cn=a", "sn=b+cn=a"},
		{"escapes specials", `cn=a\,b\+c\"d\\e\<f\>g\;h\=i`, `cn=a\,b\+c\"d\\e\<f\>g\;h\=i`},
		{"hex decoded", `cn=\22x\22`, `cn=\"x\"`},
		{"leading and trailing space", `cn=\ a\ `, `cn=\ a\ `},
		{"leading hash", `cn=\#a`, `cn=\#a`},
		{"ber decoded", "cn=#04024869", "cn=Hi"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn := mustDN(t, tc.in)
			if got := dn.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDN_StringRoundTrip checks ParseDN(dn.String()) equals dn, with the
// same assertions, for values that need every kind of escape.
func TestDN_StringRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"root", ""},
		{"simple", "uid=alice,ou=people,dc=example,dc=com"},
		{"specials", `cn=a\,b\+c\"d\\e\<f\>g\;h\=i,dc=com`},
		{"leading and trailing spaces", `cn=\  a \ ,dc=com`},
		{"only spaces", `cn=\ \ `},
		{"leading hash", `cn=\#1`},
		{"inner hash", `cn=a#1`},
		{"nul", `cn=a\00b`},
		{"control char", `cn=a\0ab`},
		{"utf8", `cn=J\C3\BCrgen`},
		{"multi-valued", `cn=a\+b+sn=c\,d,dc=com`},
		{"empty value", "cn="},
		{"ber", "1.2.3=#04024869"},
		{"unknown type", "fooBar=X"},
		{"trailing backslash pair", `cn=a\\`},
		{"backslash then space", `cn=a\\\ `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn := mustDN(t, tc.in)
			s := dn.String()
			again, err := directory.ParseDN(s)
			if err != nil {
				t.Fatalf("ParseDN(%q) (String of %q): %v", s, tc.in, err)
			}
			if !again.Equal(dn) {
				t.Errorf("ParseDN(String()) = %q (norm %q), want norm %q", again.String(), again.Norm(), dn.Norm())
			}
			if again.String() != s {
				t.Errorf("String() not stable: %q then %q", s, again.String())
			}
			for i, r := range dn.RDNs() {
				if got, want := again.RDNs()[i].AVAs(), r.AVAs(); !slices.Equal(got, want) {
					t.Errorf("RDN %d AVAs = %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestDN_Parent(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"root", "", ""},
		{"suffix", "dc=com", ""},
		{"two", "dc=example,dc=com", "dc=com"},
		{"deep", "uid=a,ou=people,dc=example,dc=com", "ou=people,dc=example,dc=com"},
		{"escaped comma in leftmost", `cn=a\,b,dc=com`, "dc=com"},
		{"multi-valued leftmost", `cn=a+sn=b\,c,DC=Com`, "dc=com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustDN(t, tc.in).Parent()
			want := mustDN(t, tc.want)
			if !got.Equal(want) || got.Norm() != want.Norm() {
				t.Errorf("Parent() = %q (norm %q), want %q (norm %q)", got.String(), got.Norm(), want.String(), want.Norm())
			}
			if got.Depth() != want.Depth() {
				t.Errorf("Parent().Depth() = %d, want %d", got.Depth(), want.Depth())
			}
		})
	}
}

func TestDN_Child(t *testing.T) {
	tests := []struct {
		name, parent, rdn, want string
	}{
		{"under root", "", "dc=com", "dc=com"},
		{"simple", "dc=example,dc=com", "ou=people", "ou=people,dc=example,dc=com"},
		{"escaped value", "dc=com", `cn=a\,b`, `cn=a\,b,dc=com`},
		{"multi-valued", "dc=com", "cn=a+sn=b", "sn=b+cn=a,dc=com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := mustDN(t, tc.parent)
			got := parent.Child(mustRDN(t, tc.rdn))
			want := mustDN(t, tc.want)
			if !got.Equal(want) {
				t.Errorf("Child() = %q, want %q", got.String(), want.String())
			}
			if !got.Parent().Equal(parent) {
				t.Errorf("Child().Parent() = %q, want %q", got.Parent().String(), parent.String())
			}
			if !got.RDN().Equal(mustRDN(t, tc.rdn)) {
				t.Errorf("Child().RDN() = %q, want %q", got.RDN().String(), tc.rdn)
			}
		})
	}
}

func TestDN_RDN(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		want      string // "" for the zero RDN
		attr      string
		wantValue string
		wantOK    bool
	}{
		{"root", "", "", "uid", "", false},
		{"leftmost", "uid=Alice,dc=com", "UID=alice", "uid", "Alice", true},
		{"lookup any case", "uid=Alice,dc=com", "uid=alice", "UID", "Alice", true},
		{"alias typed", "commonName=Bob,dc=com", "cn=bob", "cn", "Bob", true},
		{"multi-valued", "cn=a+sn=b,dc=com", "sn=B+cn=A", "sn", "b", true},
		{"missing attr", "uid=a,dc=com", "uid=a", "cn", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustDN(t, tc.in).RDN()
			if tc.want == "" {
				if !r.IsZero() {
					t.Errorf("RDN() = %q, want zero", r.String())
				}
			} else if !r.Equal(mustRDN(t, tc.want)) {
				t.Errorf("RDN() = %q, want %q", r.String(), tc.want)
			}
			v, ok := r.Value(tc.attr)
			if v != tc.wantValue || ok != tc.wantOK {
				t.Errorf("Value(%q) = %q, %v; want %q, %v", tc.attr, v, ok, tc.wantValue, tc.wantOK)
			}
		})
	}
}

// TestDN_IsDescendantOf_IsWithin: IsWithin is IsDescendantOf or Equal, on
// the same pairs.
func TestDN_IsDescendantOf_IsWithin(t *testing.T) {
	tests := []struct {
		name, dn, ancestor string
		descendant, within bool
	}{
		{"child", "uid=a,dc=com", "dc=com", true, true},
		{"grandchild", "uid=a,ou=p,dc=com", "dc=com", true, true},
		{"case-insensitive", "UID=A,DC=COM", "dc=com", true, true},
		{"alias types", "commonName=x,domainComponent=com", "DC=com", true, true},
		{"self is not a descendant", "dc=com", "dc=com", false, true},
		{"self in other case", "dc=com", "DC=COM", false, true},
		{"parent is not a descendant", "dc=com", "uid=a,dc=com", false, false},
		{"everything is below root", "dc=com", "", true, true},
		{"root is not below root", "", "", false, true},
		{"root is not below anything", "", "dc=com", false, false},
		{"escaped comma is one rdn", `uid=a\,dc=com`, "dc=com", false, false},
		{"escaped comma deeper", `cn=x,uid=a\,dc=com`, "dc=com", false, false},
		{"string suffix but not rdn suffix", "dc=xcom", "dc=com", false, false},
		{"string suffix deeper", "uid=a,dc=xcom", "dc=com", false, false},
		{"sibling", "uid=a,dc=com", "uid=b,dc=com", false, false},
		{"different suffix", "uid=a,dc=org", "dc=com", false, false},
		{"escaped plus in ancestor", `uid=a,cn=x\+y,dc=com`, `cn=x\+y,dc=com`, true, true},
		{"multi-valued ancestor", "uid=a,cn=x+sn=y,dc=com", "sn=y+cn=x,dc=com", true, true},
		{"multi-valued not subset", "uid=a,cn=x+sn=y,dc=com", "cn=x,dc=com", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dn, anc := mustDN(t, tc.dn), mustDN(t, tc.ancestor)
			if got := dn.IsDescendantOf(anc); got != tc.descendant {
				t.Errorf("ParseDN(%q).IsDescendantOf(%q) = %v, want %v", tc.dn, tc.ancestor, got, tc.descendant)
			}
			if got := dn.IsWithin(anc); got != tc.within {
				t.Errorf("ParseDN(%q).IsWithin(%q) = %v, want %v", tc.dn, tc.ancestor, got, tc.within)
			}
		})
	}
}

// TestScope_InScope: each scope below a base and below the root DN.
func TestScope_InScope(t *testing.T) {
	const base = "ou=people,dc=example,dc=com"
	tests := []struct {
		name     string
		scope    directory.Scope
		base, dn string
		want     bool
	}{
		{"base: self", directory.ScopeBase, base, "OU=People,DC=Example,DC=Com", true},
		{"base: child", directory.ScopeBase, base, "uid=a," + base, false},
		{"base: parent", directory.ScopeBase, base, "dc=example,dc=com", false},
		{"one: self", directory.ScopeOne, base, base, false},
		{"one: child", directory.ScopeOne, base, "uid=a," + base, true},
		{"one: grandchild", directory.ScopeOne, base, "cn=x,uid=a," + base, false},
		{"one: parent", directory.ScopeOne, base, "dc=example,dc=com", false},
		{"one: escaped comma trap", directory.ScopeOne, base, `uid=a\,ou=people,dc=example,dc=com`, false},
		{"sub: self", directory.ScopeSub, base, base, true},
		{"sub: child", directory.ScopeSub, base, "uid=a," + base, true},
		{"sub: grandchild", directory.ScopeSub, base, "cn=x,uid=a," + base, true},
		{"sub: parent", directory.ScopeSub, base, "dc=example,dc=com", false},
		{"sub: sibling subtree", directory.ScopeSub, base, "uid=a,ou=groups,dc=example,dc=com", false},
		{"invalid scope", directory.Scope(3), base, base, false},
		{"root base: root", directory.ScopeBase, "", "", true},
		{"root base: suffix", directory.ScopeBase, "", "dc=com", false},
		{"root one: suffix", directory.ScopeOne, "", "dc=com", true},
		{"root one: below suffix", directory.ScopeOne, "", "dc=example,dc=com", false},
		{"root sub: anything", directory.ScopeSub, "", "uid=a,dc=example,dc=com", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.scope.InScope(mustDN(t, tc.base), mustDN(t, tc.dn)); got != tc.want {
				t.Errorf("%v.InScope(%q, %q) = %v, want %v", tc.scope, tc.base, tc.dn, got, tc.want)
			}
		})
	}
}

func TestScope_String(t *testing.T) {
	for s, want := range map[directory.Scope]string{
		directory.ScopeBase: "base", directory.ScopeOne: "one", directory.ScopeSub: "sub", 9: "invalid",
	} {
		if got := s.String(); got != want {
			t.Errorf("Scope(%d).String() = %q, want %q", s, got, want)
		}
	}
}
