package directory_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func mustFilter(t testing.TB, s string) *directory.Filter {
	t.Helper()
	f, err := directory.ParseFilter(s, directory.Builtin())
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", s, err)
	}
	return f
}

// filterEntries are the entries TestFilter_Match runs every filter over,
// by short name.
func filterEntries(t testing.TB) map[string]*directory.Entry {
	return map[string]*directory.Entry{
		"alice": entry(t, "uid=alice,ou=people,dc=example,dc=com",
			"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
			"objectClass", "inetOrgPerson", "objectClass", "posixAccount",
			"uid", "alice", "cn", "Alice Smith", "sn", "Smith", "uidNumber", "9", "gidNumber", "100",
			"homeDirectory", "/home/Alice", "mail", "alice@example.com", "telephoneNumber", "+1 555 0100",
			"createTimestamp", "20240102030405Z"),
		"bob": entry(t, "uid=bob,ou=people,dc=example,dc=com",
			"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
			"objectClass", "inetOrgPerson", "objectClass", "posixAccount",
			"uid", "bob", "cn", "Bob Jones", "sn", "Jones", "uidNumber", "10", "gidNumber", "100",
			"homeDirectory", "/home/bob", "createTimestamp", "20250102030405Z"),
		"admins": entry(t, "cn=admins,ou=groups,dc=example,dc=com",
			"objectClass", "top", "objectClass", "groupOfNames", "objectClass", "posixGroup",
			"cn", "admins", "gidNumber", "500", "member", "UID=Alice, OU=People,DC=Example,DC=Com"),
	}
}

func TestFilter_Match(t *testing.T) {
	entries := filterEntries(t)
	all := []string{"admins", "alice", "bob"}
	tests := []struct {
		name   string
		filter string
		want   []string // names of matching entries, sorted
	}{
		// Equality.
		{"equality case-insensitive cn", "(cn=alice smith)", []string{"alice"}},
		{"equality case-insensitive uid", "(uid=ALICE)", []string{"alice"}},
		{"equality insignificant spaces", "(cn=  Alice   Smith )", []string{"alice"}},
		{"equality attribute alias and case", "(COMMONNAME=Bob Jones)", []string{"bob"}},
		{"equality attribute by oid", "(2.5.4.3=bob jones)", []string{"bob"}},
		{"equality case-exact homeDirectory", "(homeDirectory=/home/Alice)", []string{"alice"}},
		{"equality case-exact homeDirectory miss", "(homeDirectory=/home/alice)", nil},
		{"equality integer", "(uidNumber=10)", []string{"bob"}},
		{"equality invalid integer is undefined", "(uidNumber=010)", nil},
		{"not of undefined is undefined", "(!(uidNumber=010))", nil},
		{"equality telephone", "(telephoneNumber=+15550100)", []string{"alice"}},
		{"equality objectClass", "(objectClass=INETORGPERSON)", []string{"alice", "bob"}},
		{"equality generalized time", "(createTimestamp=20240102040405+0100)", []string{"alice"}},
		// Substrings.
		{"substring initial", "(cn=Al*)", []string{"alice"}},
		{"substring final", "(cn=*SMITH)", []string{"alice"}},
		{"substring any", "(cn=*ice*)", []string{"alice"}},
		{"substring initial any final", "(cn=a*e*h)", []string{"alice"}},
		{"substring any order matters", "(cn=*smith*alice*)", nil},
		{"substring initial and final must not overlap", "(uid=ali*ice)", nil},
		{"substring no match", "(cn=a*x*)", nil},
		{"substring several any", "(cn=*o*o*)", []string{"bob"}},
		{"substring on DN-syntax attribute has no rule", "(member=uid*)", nil},
		{"substring on case-exact attribute without SUBSTR uses equality", "(homeDirectory=/home/A*)", []string{"alice"}},
		{"star alone is presence", "(cn=*)", all},
		// Ordering.
		{"greater-or-equal numeric", "(uidNumber>=10)", []string{"bob"}},
		{"greater-or-equal numeric inclusive", "(uidNumber>=9)", []string{"alice", "bob"}},
		{"less-or-equal numeric", "(uidNumber<=9)", []string{"alice"}},
		{"less-or-equal negative", "(uidNumber<=-1)", nil},
		{"ordering invalid assertion", "(uidNumber>=abc)", nil},
		{"ordering without rule is undefined", "(cn>=a)", nil},
		{"ordering time", "(createTimestamp>=20250101000000Z)", []string{"bob"}},
		// Presence.
		{"present", "(mail=*)", []string{"alice"}},
		{"present objectClass", "(objectClass=*)", all},
		{"present subtype", "(name=*)", all},
		{"present unknown attribute", "(favouriteColour=*)", nil},
		{"present entryDN", "(entryDN=*)", all},
		// Approx.
		{"approx", "(cn~=alice smith)", []string{"alice"}},
		// Boolean.
		{"not", "(!(uid=alice))", []string{"admins", "bob"}},
		{"and", "(&(objectClass=person)(uidNumber>=9))", []string{"alice", "bob"}},
		{"or", "(|(uid=bob)(cn=admins))", []string{"admins", "bob"}},
		{"nested", "(&(|(uid=alice)(uid=bob))(!(sn=jones)))", []string{"alice"}},
		{"empty and is true", "(&)", all},
		{"empty or is false", "(|)", nil},
		{"not empty or", "(!(|))", all},
		// Undefined (unknown attributes and bad assertions).
		{"unknown attribute", "(unknown=x)", nil},
		{"not unknown attribute", "(!(unknown=x))", nil},
		{"or with undefined", "(|(unknown=x)(uid=bob))", []string{"bob"}},
		{"and with undefined and false is false", "(!(&(unknown=x)(uid=nobody)))", all},
		{"and with undefined and true is undefined", "(!(&(unknown=x)(objectClass=*)))", nil},
		// Extensible.
		{"extensible caseExactMatch", "(cn:caseExactMatch:=Alice Smith)", []string{"alice"}},
		{"extensible caseExactMatch miss", "(cn:caseExactMatch:=alice smith)", nil},
		{"extensible rule by oid", "(cn:2.5.13.5:=Alice Smith)", []string{"alice"}},
		{"extensible attribute default rule", "(cn:=ALICE SMITH)", []string{"alice"}},
		{"extensible dn attributes by rule", "(:dn:2.5.13.2:=people)", []string{"alice", "bob"}},
		{"extensible dn attributes named", "(ou:dn:=PEOPLE)", []string{"alice", "bob"}},
		{"extensible DN keyword any case (RFC 4515 example form)", "(:DN:2.5.13.2:=people)", []string{"alice", "bob"}},
		{"extensible DN keyword any case, named", "(ou:Dn:=people)", []string{"alice", "bob"}},
		{"extensible without dn does not see the DN", "(ou:=people)", nil},
		{"extensible rule only, any attribute", "(:caseIgnoreMatch:=jones)", []string{"bob"}},
		{"extensible unknown rule", "(cn:fooMatch:=x)", nil},
		{"not extensible unknown rule", "(!(cn:fooMatch:=x))", nil},
		{"extensible unknown attribute", "(foo:caseExactMatch:=x)", nil},
		// Subtypes, DN-valued attributes.
		{"supertype matches subtype", "(name=alice smith)", []string{"alice"}},
		{"supertype matches group", "(name=admins)", []string{"admins"}},
		{"subtype does not match supertype", "(sn=alice smith)", nil},
		{"entryDN", "(entryDN=UID=Alice,OU=People,DC=Example,DC=Com)", []string{"alice"}},
		{"entryDN miss", "(entryDN=ou=people,dc=example,dc=com)", nil},
		{"entryDN invalid", "(entryDN=not a dn)", nil},
		{"member differently cased", "(member=uid=alice,ou=people,dc=example,dc=com)", []string{"admins"}},
		{"member alias types and spaces", "(member=userid=ALICE , organizationalUnitName=people,dc=example,dc=com)", []string{"admins"}},
		{"member invalid DN", "(member=uid=alice,,dc=com)", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFilter(t, tc.filter)
			var got []string
			for name, e := range entries {
				if f.Match(e) {
					got = append(got, name)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s matches %q, want %q", tc.filter, got, tc.want)
			}
			for name, e := range entries {
				checkReads(t, f, name, e)
			}
		})
	}
}

// checkReads: Match gives the same answer on e restricted to the
// attributes f.Reads names (what a store decodes to match a scan).
func checkReads(t *testing.T, f *directory.Filter, name string, e *directory.Entry) {
	t.Helper()
	names, all := f.Reads()
	if all {
		return
	}
	part := &directory.Entry{DN: e.DN}
	for _, a := range e.Attrs {
		if slices.ContainsFunc(names, func(n string) bool { return strings.EqualFold(n, a.Name) }) {
			part.Attrs = append(part.Attrs, a)
		}
	}
	if got, want := f.Match(part), f.Match(e); got != want {
		t.Errorf("%s on %s with only %q: %v, on the whole entry %v", f, name, names, got, want)
	}
}

func TestParseFilter_Shape(t *testing.T) {
	tests := []struct {
		name   string
		filter string
		want   *directory.Filter
	}{
		{"star alone is presence", "(cn=*)", &directory.Filter{Kind: directory.FilterPresent, Attr: "cn"}},
		{"attribute canonicalized", "(commonName;lang-en=x)", &directory.Filter{Kind: directory.FilterEquality, Attr: "cn", Value: "x"}},
		{"unknown attribute kept", "(fooBar=x)", &directory.Filter{Kind: directory.FilterEquality, Attr: "fooBar", Value: "x"}},
		{"substrings", `(cn=a*b*c\2a*d)`, &directory.Filter{Kind: directory.FilterSubstrings, Attr: "cn", Initial: "a", Any: []string{"b", "c*"}, Final: "d"}},
		{"substrings double star", "(cn=a**d)", &directory.Filter{Kind: directory.FilterSubstrings, Attr: "cn", Initial: "a", Final: "d"}},
		{"escapes", `(cn=\28\29\2a\5c\00)`, &directory.Filter{Kind: directory.FilterEquality, Attr: "cn", Value: "()*\\\x00"}},
		{"extensible", "(cn:dn:caseExactMatch:=x)", &directory.Filter{Kind: directory.FilterExtensible, Attr: "cn", Rule: "caseExactMatch", DNAttrs: true, Value: "x"}},
		{"not", "(!(a=b))", &directory.Filter{Kind: directory.FilterNot, Children: []*directory.Filter{{Kind: directory.FilterEquality, Attr: "a", Value: "b"}}}},
		{"empty and", "(&)", &directory.Filter{Kind: directory.FilterAnd}},
		{"rfc 4515 DN example", "(:DN:2.4.6.8.10:=Dino)", &directory.Filter{Kind: directory.FilterExtensible, Rule: "2.4.6.8.10", DNAttrs: true, Value: "Dino"}},
		// Fuzz crasher: go-ldap accepts a missing ":=" and read "dn" as a rule.
		{"extensible without value", "(0:dn)", &directory.Filter{Kind: directory.FilterExtensible, Attr: "0", DNAttrs: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustFilter(t, tc.filter)
			if !f.Equal(tc.want) {
				t.Errorf("ParseFilter(%q) = %s %+v, want %s %+v", tc.filter, f, *f, tc.want, *tc.want)
			}
		})
	}
}

func TestParseFilter_Invalid(t *testing.T) {
	tests := []struct {
		name   string
		filter string
	}{
		{"empty", ""},
		{"no parens", "cn=x"},
		{"unbalanced", "(cn=x"},
		{"trailing garbage", "(cn=x))"},
		{"bad escape", `(cn=\zz)`},
		{"short escape", `(cn=\2)`},
		{"empty not", "(!)"},
		{"no operator", "(cn)"},
		{"substrings with no substrings", "(cn=**)"},
		{"substrings with only stars", "(cn=***)"},
		{"matching rule with colon", "(cn:a:b:=x)"},
		{"matching rule with space", "(cn:case Exact:=x)"},
		{"too deep", "(" + repeat("!(", 300) + "a=b" + repeat(")", 301)},
		{"too deep without parens", "(" + repeat("!", 300) + "a=b)"},
		{"too long", "(cn=" + repeat("a", 64<<10) + ")"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := directory.ParseFilter(tc.filter, directory.Builtin())
			if err == nil {
				t.Fatalf("ParseFilter(%q) = %s, want error", tc.filter, f)
			}
			if !errors.Is(err, directory.ErrUnwillingToPerform) {
				t.Errorf("ParseFilter(%q) error %v is not ErrUnwillingToPerform", tc.filter, err)
			}
		})
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

// TestFilter_StringRoundTrip checks ParseFilter(f.String()) equals f, for
// parsed filters and for filters built by hand with values that need
// escaping.
func TestFilter_StringRoundTrip(t *testing.T) {
	parsed := []string{
		"(cn=alice)",
		`(cn=a\2ab\28c\29d\5ce\00f)`,
		`(cn=\2a*\28*\29*\5c*\00)`,
		"(cn=a*)", "(cn=*a)", "(cn=*a*)", "(cn=a*b*c*d)",
		"(uidNumber>=10)", "(uidNumber<=10)", "(cn~=x)", "(cn=*)",
		"(&)", "(|)", "(!(cn=x))", "(&(cn=a)(|(sn=b)(!(uid=c))))",
		"(unknownAttr=x)", "(!(unknownAttr=*))",
		"(cn:caseExactMatch:=Alice)", "(:dn:2.5.13.2:=people)", "(cn:dn:=x)", "(:caseIgnoreMatch:=x)",
		"(:DN:2.5.13.2:=people)", "(0:dn)", "(cn:dn:dn:=x)", "(cn:foo)",
		`(cn:=\2a)`,
		"(cn=caf\xc3\xa9)", `(cn=caf\c3\a9)`,
		`(cn=\ff\fe)`,
		`(cn=\ef\bf\bd)`,
		"(member=uid=a,dc=com)",
	}
	for _, s := range parsed {
		t.Run(s, func(t *testing.T) {
			checkFilterRoundTrip(t, mustFilter(t, s))
		})
	}
	built := []struct {
		name string
		f    *directory.Filter
	}{
		{"equality specials", &directory.Filter{Kind: directory.FilterEquality, Attr: "cn", Value: "a*b(c)d\\e\x00f"}},
		{"approx specials", &directory.Filter{Kind: directory.FilterApprox, Attr: "cn", Value: "(*)"}},
		{"ge specials", &directory.Filter{Kind: directory.FilterGreaterOrEqual, Attr: "cn", Value: `\`}},
		{"le empty", &directory.Filter{Kind: directory.FilterLessOrEqual, Attr: "cn", Value: ""}},
		{"substrings specials", &directory.Filter{Kind: directory.FilterSubstrings, Attr: "cn",
			Initial: "*", Any: []string{"(", ")"}, Final: "\\\x00"}},
		{"extensible specials", &directory.Filter{Kind: directory.FilterExtensible, Attr: "cn", Rule: "2.5.13.5", DNAttrs: true, Value: "*)("}},
		{"non-UTF-8 value", &directory.Filter{Kind: directory.FilterEquality, Attr: "cn", Value: "a\xffb\xc3"}},
		{"replacement character value", &directory.Filter{Kind: directory.FilterEquality, Attr: "cn", Value: "\uFFFD"}},
		{"nested", &directory.Filter{Kind: directory.FilterOr, Children: []*directory.Filter{
			{Kind: directory.FilterNot, Children: []*directory.Filter{{Kind: directory.FilterPresent, Attr: "mail"}}},
			{Kind: directory.FilterAnd},
		}}},
	}
	for _, tc := range built {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.f.Resolve(directory.Builtin()); err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			checkFilterRoundTrip(t, tc.f)
		})
	}
}

func checkFilterRoundTrip(t *testing.T, f *directory.Filter) {
	t.Helper()
	s := f.String()
	again, err := directory.ParseFilter(s, directory.Builtin())
	if err != nil {
		t.Fatalf("ParseFilter(%q): %v", s, err)
	}
	if !again.Equal(f) {
		t.Errorf("ParseFilter(%q) = %s %+v, want %+v", s, again, *again, *f)
	}
	if again.String() != s {
		t.Errorf("String() not stable: %q then %q", s, again.String())
	}
}

func TestFilter_EqualityKey(t *testing.T) {
	tests := []struct {
		name, filter, attr, norm string
		ok                       bool
	}{
		{"cn", "(commonName=  Alice  )", "cn", "alice", true},
		{"member", "(member=UID=A,DC=COM)", "member", "uid=a,dc=com", true},
		{"invalid value", "(uidNumber=x)", "", "", false},
		{"unknown attribute", "(foo=x)", "", "", false},
		{"not equality", "(cn=a*)", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attr, norm, ok := mustFilter(t, tc.filter).EqualityKey()
			if attr != tc.attr || norm != tc.norm || ok != tc.ok {
				t.Errorf("EqualityKey() = %q, %q, %v; want %q, %q, %v", attr, norm, ok, tc.attr, tc.norm, tc.ok)
			}
		})
	}
}

// TestFilter_MatchConcurrent: a resolved filter is read-only, so a backend
// may match it from several goroutines. Run with -race.
func TestFilter_MatchConcurrent(t *testing.T) {
	entries := filterEntries(t)
	for _, s := range []string{
		"(:dn:2.5.13.2:=people)", "(cn:fooMatch:=x)", "(:caseIgnoreMatch:=jones)",
		"(foo:caseExactMatch:=x)", "(&(cn=a*)(uidNumber>=9)(member=uid=a,dc=com))",
	} {
		t.Run(s, func(t *testing.T) {
			f := mustFilter(t, s)
			want := map[string]bool{}
			for name, e := range entries {
				want[name] = f.Match(e)
			}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for name, e := range entries {
						if got := f.Match(e); got != want[name] {
							t.Errorf("concurrent Match(%s) = %v, want %v", name, got, want[name])
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestFilter_ResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		f    *directory.Filter
	}{
		{"not without child", &directory.Filter{Kind: directory.FilterNot}},
		{"not with two children", &directory.Filter{Kind: directory.FilterNot, Children: []*directory.Filter{
			{Kind: directory.FilterPresent, Attr: "cn"}, {Kind: directory.FilterPresent, Attr: "sn"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.f.Resolve(directory.Builtin()); !errors.Is(err, directory.ErrUnwillingToPerform) {
				t.Errorf("Resolve() = %v, want ErrUnwillingToPerform", err)
			}
		})
	}
}
