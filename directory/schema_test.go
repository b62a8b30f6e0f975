package directory_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func TestBuiltin(t *testing.T) {
	s := directory.Builtin()
	if s == nil {
		t.Fatal("Builtin() = nil")
	}
	if directory.Builtin() != s {
		t.Error("Builtin() is not shared")
	}
	if len(s.AttributeTypes()) == 0 || len(s.ObjectClasses()) == 0 {
		t.Fatalf("Builtin() has %d attribute types and %d classes", len(s.AttributeTypes()), len(s.ObjectClasses()))
	}
}

// TestBuiltin_ClassesResolve checks that every class's SUP, MUST and MAY
// name something the schema knows, and every attribute's SUP and rules.
func TestBuiltin_ClassesResolve(t *testing.T) {
	s := directory.Builtin()
	for _, c := range s.ObjectClasses() {
		t.Run(c.Name(), func(t *testing.T) {
			if got, ok := s.Class(c.OID); !ok || got != c {
				t.Errorf("Class(%q) does not find the class", c.OID)
			}
			for _, n := range c.Names {
				if got, ok := s.Class(strings.ToUpper(n)); !ok || got != c {
					t.Errorf("Class(%q) does not find the class", strings.ToUpper(n))
				}
			}
			for _, sup := range c.Sup {
				if _, ok := s.Class(sup); !ok {
					t.Errorf("SUP %s does not resolve", sup)
				}
			}
			for _, n := range append(slices.Clone(c.Must), c.May...) {
				if _, ok := s.Attr(n); !ok {
					t.Errorf("MUST/MAY %s does not resolve", n)
				}
			}
		})
	}
	for _, a := range s.AttributeTypes() {
		t.Run(a.Name(), func(t *testing.T) {
			if a.Sup != "" {
				if sup, ok := s.Attr(a.Sup); !ok || !a.IsA(sup) {
					t.Errorf("SUP %s does not resolve", a.Sup)
				}
			}
			if a.Syntax == "" {
				t.Error("no syntax (not even inherited)")
			}
			if got, ok := s.Attr(a.OID); !ok || got != a {
				t.Errorf("Attr(%q) does not find the type", a.OID)
			}
		})
	}
}

func TestSchema_Attr(t *testing.T) {
	s := directory.Builtin()
	tests := []struct {
		name   string
		desc   string
		want   string // canonical name; "" for not found
		wantOp bool
	}{
		{"canonical", "cn", "cn", false},
		{"upper", "CN", "cn", false},
		{"alias", "commonName", "cn", false},
		{"alias mixed case", "COMMONname", "cn", false},
		{"oid", "2.5.4.3", "cn", false},
		{"option", "cn;lang-en", "cn", false},
		{"two options", "CN;lang-en;binary", "cn", false},
		{"oid with option", "2.5.4.3;lang-de", "cn", false},
		{"uid alias", "userid", "uid", false},
		{"mail alias", "rfc822Mailbox", "mail", false},
		{"operational", "entryUUID", "entryUUID", true},
		{"dsa operational", "namingContexts", "namingContexts", true},
		{"ldapd own", "LDAPDTOKENID", directory.AttrTokenID, false},
		{"unknown", "noSuchAttr", "", false},
		{"empty", "", "", false},
		{"only option", ";lang-en", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := s.Attr(tc.desc)
			if ok != (tc.want != "") {
				t.Fatalf("Attr(%q) ok = %v, want %v", tc.desc, ok, tc.want != "")
			}
			if !ok {
				return
			}
			if at.Name() != tc.want {
				t.Errorf("Attr(%q).Name() = %q, want %q", tc.desc, at.Name(), tc.want)
			}
			if at.Operational() != tc.wantOp {
				t.Errorf("Attr(%q).Operational() = %v, want %v", tc.desc, at.Operational(), tc.wantOp)
			}
		})
	}
}

func TestAttributeType_Rules(t *testing.T) {
	s := directory.Builtin()
	attr := func(name string) *directory.AttributeType {
		at, ok := s.Attr(name)
		if !ok {
			t.Fatalf("no attribute %s", name)
		}
		return at
	}
	t.Run("cn inherits from name", func(t *testing.T) {
		cn, name := attr("cn"), attr("name")
		if !cn.IsA(name) || name.IsA(cn) {
			t.Errorf("cn.IsA(name) = %v, name.IsA(cn) = %v", cn.IsA(name), name.IsA(cn))
		}
		if cn.Equality != directory.RuleCaseIgnore || cn.Syntax != directory.SyntaxDirectoryString {
			t.Errorf("cn rules not inherited: EQUALITY %q SYNTAX %q", cn.Equality, cn.Syntax)
		}
	})
	t.Run("integer ordering is numeric", func(t *testing.T) {
		c, ok := attr("uidNumber").Compare("9", "10")
		if !ok || c >= 0 {
			t.Errorf("Compare(9, 10) = %d, %v; want < 0", c, ok)
		}
		c, ok = attr("uidNumber").Compare("-10", "-9")
		if !ok || c >= 0 {
			t.Errorf("Compare(-10, -9) = %d, %v; want < 0", c, ok)
		}
		c, ok = attr("uidNumber").Compare("123456789012345678901234567890", "99")
		if !ok || c <= 0 {
			t.Errorf("Compare(big, 99) = %d, %v; want > 0", c, ok)
		}
		if _, ok := attr("uidNumber").Compare("abc", "1"); ok {
			t.Error("Compare(abc, 1) ok")
		}
		if _, ok := attr("cn").Compare("a", "b"); ok {
			t.Error("cn has no ordering rule, Compare ok")
		}
	})
	t.Run("normalize", func(t *testing.T) {
		for _, tc := range []struct{ attr, in, want string }{
			{"cn", "  Alice   SMITH ", "alice smith"},
			{"homeDirectory", "/home/Alice", "/home/Alice"},
			{"member", "UID=A, DC=Com", "uid=a,dc=com"},
			{"telephoneNumber", "+1 555-0100", "+15550100"},
			{"entryUUID", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
		} {
			got, ok := attr(tc.attr).Normalize(tc.in)
			if !ok || got != tc.want {
				t.Errorf("%s.Normalize(%q) = %q, %v; want %q", tc.attr, tc.in, got, ok, tc.want)
			}
		}
		if _, ok := attr("uidNumber").Normalize("007"); ok {
			t.Error("uidNumber.Normalize(007) ok; leading zeros are not an RFC 4517 Integer")
		}
		if _, ok := attr("namingContexts").Normalize("dc=com"); ok {
			t.Error("namingContexts has no equality rule, Normalize ok")
		}
	})
}

// TestSchema_DescriptionStrings checks that every subschema description
// looks like an RFC 4512 description: parenthesized, with NAME and the
// OID.
func TestSchema_DescriptionStrings(t *testing.T) {
	s := directory.Builtin()
	var all []string
	for _, a := range s.AttributeTypes() {
		str := a.String()
		if !strings.HasPrefix(str, "( "+a.OID+" NAME ") {
			t.Errorf("attribute type %s: %q does not start with its OID and NAME", a.Name(), str)
		}
		if !strings.Contains(str, " SYNTAX ") {
			t.Errorf("attribute type %s: %q has no SYNTAX", a.Name(), str)
		}
		all = append(all, str)
	}
	for _, c := range s.ObjectClasses() {
		str := c.String()
		if !strings.HasPrefix(str, "( "+c.OID+" NAME ") {
			t.Errorf("object class %s: %q does not start with its OID and NAME", c.Name(), str)
		}
		if !strings.Contains(str, " "+c.Kind.String()) {
			t.Errorf("object class %s: %q has no kind", c.Name(), str)
		}
		all = append(all, str)
	}
	all = append(all, s.MatchingRules()...)
	all = append(all, s.Syntaxes()...)
	for _, str := range all {
		if !strings.HasPrefix(str, "( ") || !strings.HasSuffix(str, " )") {
			t.Errorf("%q is not of the form ( ... )", str)
		}
		if strings.Count(str, "(") != strings.Count(str, ")") {
			t.Errorf("%q has unbalanced parentheses", str)
		}
		if strings.Count(str, "'")%2 != 0 {
			t.Errorf("%q has unbalanced quotes", str)
		}
	}
	if cn, _ := s.Attr("cn"); cn.String() != "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )" {
		t.Errorf("cn.String() = %q", cn.String())
	}
	if c, _ := s.Class("posixGroup"); c.String() != "( 1.3.6.1.1.1.2.2 NAME 'posixGroup' SUP top AUXILIARY MUST ( cn $ gidNumber ) MAY ( userPassword $ memberUid $ description ) )" {
		t.Errorf("posixGroup.String() = %q", c.String())
	}
}

func TestNewSchema_Errors(t *testing.T) {
	at := func(oid, name, sup string) *directory.AttributeType {
		return &directory.AttributeType{OID: oid, Names: []string{name}, Sup: sup,
			Equality: directory.RuleCaseIgnore, Syntax: directory.SyntaxDirectoryString}
	}
	tests := []struct {
		name    string
		attrs   []*directory.AttributeType
		classes []*directory.ObjectClass
	}{
		{"duplicate attribute", []*directory.AttributeType{at("1.1", "a", ""), at("1.2", "A", "")}, nil},
		{"unknown attribute SUP", []*directory.AttributeType{at("1.1", "a", "nope")}, nil},
		{"unknown matching rule", []*directory.AttributeType{{OID: "1.1", Names: []string{"a"}, Equality: "fooMatch"}}, nil},
		{"unknown class SUP", nil, []*directory.ObjectClass{{OID: "2.1", Names: []string{"c"}, Sup: []string{"nope"}}}},
		{"unknown MUST", nil, []*directory.ObjectClass{{OID: "2.1", Names: []string{"c"}, Must: []string{"nope"}}}},
		{"duplicate class", nil, []*directory.ObjectClass{{OID: "2.1", Names: []string{"c"}}, {OID: "2.1", Names: []string{"d"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := directory.NewSchema(tc.attrs, tc.classes); err == nil {
				t.Error("NewSchema succeeded")
			}
		})
	}
}

// entry builds an entry from a DN and name, value pairs.
func entry(t testing.TB, dn string, kv ...string) *directory.Entry {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatal("entry: odd number of name, value arguments")
	}
	e := directory.NewEntry(mustDN(t, dn))
	for i := 0; i < len(kv); i += 2 {
		e.Add(kv[i], kv[i+1])
	}
	return e
}

func alice(t testing.TB) *directory.Entry {
	return entry(t, "uid=alice,ou=people,dc=example,dc=com",
		"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson",
		"objectClass", "inetOrgPerson", "objectClass", "posixAccount",
		"uid", "alice", "cn", "Alice Smith", "sn", "Smith", "givenName", "Alice",
		"uidNumber", "9", "gidNumber", "100", "homeDirectory", "/home/Alice",
		"mail", "alice@example.com", "telephoneNumber", "+1 555 0100")
}

func TestSchema_Check(t *testing.T) {
	s := directory.Builtin()
	// with returns e with extra attribute values, without removes
	// attributes.
	with := func(e *directory.Entry, kv ...string) *directory.Entry {
		for i := 0; i < len(kv); i += 2 {
			e.Add(kv[i], kv[i+1])
		}
		return e
	}
	without := func(e *directory.Entry, names ...string) *directory.Entry {
		for _, n := range names {
			e.Delete(n)
		}
		return e
	}
	set := func(e *directory.Entry, name string, values ...string) *directory.Entry {
		e.Set(name, values...)
		return e
	}
	group := func(t *testing.T, kv ...string) *directory.Entry {
		return entry(t, "cn=admins,ou=groups,dc=example,dc=com", kv...)
	}
	tests := []struct {
		name    string
		entry   func(t *testing.T) *directory.Entry
		wantErr error  // nil for valid
		wantSOC string // structural class when valid
	}{
		{"valid inetOrgPerson", func(t *testing.T) *directory.Entry {
			return alice(t)
		}, nil, "inetOrgPerson"},
		{"valid with only the leaf class listed", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob,dc=com", "objectClass", "inetOrgPerson", "cn", "Bob", "sn", "B")
		}, nil, "inetOrgPerson"},
		{"class names any case and by OID", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob,dc=com", "objectClass", "INETORGPERSON", "objectClass", "2.5.6.6", "cn", "Bob", "sn", "B")
		}, nil, "inetOrgPerson"},
		{"attribute names any case", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob,dc=com", "OBJECTCLASS", "person", "CN", "Bob", "Sn", "B")
		}, nil, "person"},
		{"inetOrgPerson missing sn", func(t *testing.T) *directory.Entry {
			return without(alice(t), "sn")
		}, directory.ErrObjectClassViolation, ""},
		{"posixAccount missing uidNumber", func(t *testing.T) *directory.Entry {
			return without(alice(t), "uidNumber")
		}, directory.ErrObjectClassViolation, ""},
		{"attribute not allowed", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob,dc=com", "objectClass", "person", "cn", "Bob", "sn", "B", "mail", "bob@example.com")
		}, directory.ErrObjectClassViolation, ""},
		{"extensibleObject allows any", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob,dc=com", "objectClass", "person", "objectClass", "extensibleObject",
				"cn", "Bob", "sn", "B", "mail", "bob@example.com")
		}, nil, "person"},
		{"unknown attribute", func(t *testing.T) *directory.Entry {
			return with(alice(t), "favouriteColour", "blue")
		}, directory.ErrUndefinedAttributeType, ""},
		{"unknown attribute with extensibleObject", func(t *testing.T) *directory.Entry {
			return with(alice(t), "objectClass", "extensibleObject", "favouriteColour", "blue")
		}, directory.ErrUndefinedAttributeType, ""},
		{"unknown object class", func(t *testing.T) *directory.Entry {
			return with(alice(t), "objectClass", "wizard")
		}, directory.ErrObjectClassViolation, ""},
		{"no objectClass", func(t *testing.T) *directory.Entry {
			return without(alice(t), "objectClass")
		}, directory.ErrObjectClassViolation, ""},
		{"two unrelated structural classes", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "objectClass", "person", "cn", "admins", "sn", "x")
		}, directory.ErrObjectClassViolation, ""},
		{"two structural siblings", func(t *testing.T) *directory.Entry {
			return entry(t, "ou=x,dc=com", "objectClass", "organizationalUnit", "objectClass", "organization", "ou", "x", "o", "y")
		}, directory.ErrObjectClassViolation, ""},
		{"no structural class", func(t *testing.T) *directory.Entry {
			return entry(t, "uid=svc,dc=com", "objectClass", "top", "objectClass", "posixAccount", "objectClass", "shadowAccount",
				"cn", "svc", "uid", "svc", "uidNumber", "1", "gidNumber", "1", "homeDirectory", "/")
		}, directory.ErrObjectClassViolation, ""},
		{"posixGroup on groupOfNames", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "top", "objectClass", "groupOfNames", "objectClass", "posixGroup",
				"cn", "admins", "gidNumber", "500", "member", "uid=alice,ou=people,dc=example,dc=com", "memberUid", "alice")
		}, nil, "groupOfNames"},
		{"posixGroup on empty groupOfNames", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "objectClass", "posixGroup", "cn", "admins", "gidNumber", "500")
		}, nil, "groupOfNames"},
		{"posixAccount and posixGroup on groupOfNames", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "objectClass", "posixGroup", "objectClass", "posixAccount",
				"cn", "admins", "gidNumber", "500", "uid", "admins", "uidNumber", "500", "homeDirectory", "/nonexistent")
		}, nil, "groupOfNames"},
		{"posixGroup missing gidNumber", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "objectClass", "posixGroup", "cn", "admins")
		}, directory.ErrObjectClassViolation, ""},
		{"single-value violation", func(t *testing.T) *directory.Entry {
			return with(alice(t), "uidNumber", "10")
		}, directory.ErrConstraintViolation, ""},
		{"single-value violation on inherited class", func(t *testing.T) *directory.Entry {
			return with(alice(t), "displayName", "A", "displayName", "B")
		}, directory.ErrConstraintViolation, ""},
		{"bad integer syntax", func(t *testing.T) *directory.Entry {
			return set(alice(t), "uidNumber", "abc")
		}, directory.ErrInvalidAttributeSyntax, ""},
		{"bad DN syntax", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "cn", "admins", "member", "not a dn")
		}, directory.ErrInvalidAttributeSyntax, ""},
		{"empty directory string", func(t *testing.T) *directory.Entry {
			return set(alice(t), "givenName", "")
		}, directory.ErrInvalidAttributeSyntax, ""},
		{"IA5 violation", func(t *testing.T) *directory.Entry {
			return set(alice(t), "mail", "ålice@example.com")
		}, directory.ErrInvalidAttributeSyntax, ""},
		{"duplicate values", func(t *testing.T) *directory.Entry {
			return with(alice(t), "givenName", "Alice")
		}, directory.ErrAttributeOrValueExists, ""},
		{"duplicate values differing in case", func(t *testing.T) *directory.Entry {
			return with(alice(t), "cn", "ALICE  smith")
		}, directory.ErrAttributeOrValueExists, ""},
		{"duplicate DN values differing in form", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "cn", "admins",
				"member", "uid=a,dc=com", "member", "UID=A, DC=COM")
		}, directory.ErrAttributeOrValueExists, ""},
		{"case-exact values are distinct", func(t *testing.T) *directory.Entry {
			return group(t, "objectClass", "groupOfNames", "objectClass", "posixGroup", "cn", "admins", "gidNumber", "1",
				"memberUid", "alice", "memberUid", "Alice")
		}, nil, "groupOfNames"},
		{"attribute with no values", func(t *testing.T) *directory.Entry {
			e := alice(t)
			e.Attrs = append(e.Attrs, directory.Attr{Name: "description"})
			return e
		}, directory.ErrConstraintViolation, ""},
		{"RDN value missing", func(t *testing.T) *directory.Entry {
			return set(alice(t), "uid", "bob")
		}, directory.ErrNamingViolation, ""},
		{"RDN value present in another case", func(t *testing.T) *directory.Entry {
			return set(alice(t), "uid", "ALICE")
		}, nil, "inetOrgPerson"},
		{"RDN value among several", func(t *testing.T) *directory.Entry {
			return set(alice(t), "uid", "al", "alice")
		}, nil, "inetOrgPerson"},
		{"multi-valued RDN missing one value", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob+sn=Jones,dc=com", "objectClass", "person", "cn", "Bob", "sn", "Smith")
		}, directory.ErrNamingViolation, ""},
		{"multi-valued RDN", func(t *testing.T) *directory.Entry {
			return entry(t, "cn=Bob+sn=Jones,dc=com", "objectClass", "person", "cn", "Bob", "sn", "Jones")
		}, nil, "person"},
		{"RDN by alias type", func(t *testing.T) *directory.Entry {
			return entry(t, "commonName=Bob,dc=com", "objectClass", "person", "cn", "bob", "sn", "x")
		}, nil, "person"},
		{"operational attributes allowed", func(t *testing.T) *directory.Entry {
			return with(alice(t), "entryUUID", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
				"createTimestamp", "20240102030405Z", "creatorsName", "cn=admin,dc=example,dc=com",
				"memberOf", "cn=admins,ou=groups,dc=example,dc=com")
		}, nil, "inetOrgPerson"},
		{"operational attribute syntax still checked", func(t *testing.T) *directory.Entry {
			return with(alice(t), "createTimestamp", "yesterday")
		}, directory.ErrInvalidAttributeSyntax, ""},
		{"ldapd service account", func(t *testing.T) *directory.Entry {
			return entry(t, "uid=backup,ou=services,dc=example,dc=com",
				"objectClass", directory.ClassServiceAccount, "uid", "backup",
				directory.AttrEntryManagedBy, "cn=admins,ou=groups,dc=example,dc=com")
		}, nil, directory.ClassServiceAccount},
		{"domain with dcObject", func(t *testing.T) *directory.Entry {
			return entry(t, "dc=example,dc=com", "objectClass", "domain", "objectClass", "dcObject", "dc", "example")
		}, nil, "domain"},
		{"dc is single-valued", func(t *testing.T) *directory.Entry {
			return entry(t, "dc=example,dc=com", "objectClass", "domain", "dc", "example", "dc", "other")
		}, directory.ErrConstraintViolation, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.entry(t)
			soc, err := s.Check(e)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Check() = %v, want success", err)
				}
				if soc == nil || soc.Name() != tc.wantSOC {
					t.Errorf("Check() structural class = %v, want %s", soc, tc.wantSOC)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Check() = %v, want %v", err, tc.wantErr)
			}
			if directory.Message(err) == "" {
				t.Errorf("Check() error %v carries no message", err)
			}
		})
	}
}

// TestSchema_Check_StructuralOrder repeats a valid chain check many times:
// Check walks a map, so an order-dependent bug shows up only sometimes.
func TestSchema_Check_StructuralOrder(t *testing.T) {
	s := directory.Builtin()
	e := alice(t)
	for range 100 {
		soc, err := s.Check(e)
		if err != nil || soc.Name() != "inetOrgPerson" {
			t.Fatalf("Check() = %v, %v", soc, err)
		}
	}
	bad := entry(t, "cn=x,dc=com", "objectClass", "inetOrgPerson", "objectClass", "person",
		"objectClass", "groupOfNames", "cn", "x", "sn", "y")
	for range 100 {
		if _, err := s.Check(bad); !errors.Is(err, directory.ErrObjectClassViolation) {
			t.Fatalf("Check() = %v, want ErrObjectClassViolation", err)
		}
	}
}

func TestSchema_ExpandObjectClasses(t *testing.T) {
	s := directory.Builtin()
	tests := []struct {
		name    string
		in      []string
		want    []string // in any order
		wantErr error
	}{
		{"inetOrgPerson", []string{"inetOrgPerson"}, []string{"top", "person", "organizationalPerson", "inetOrgPerson"}, nil},
		{"canonicalizes case and OID", []string{"INETORGPERSON", "1.3.6.1.1.1.2.0"},
			[]string{"top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount"}, nil},
		{"no duplicates", []string{"top", "person", "organizationalPerson", "person"}, []string{"top", "person", "organizationalPerson"}, nil},
		{"group with aux", []string{"groupOfNames", "posixGroup"}, []string{"top", "groupOfNames", "posixGroup"}, nil},
		{"class without SUP", []string{"subschema"}, []string{"subschema"}, nil},
		{"unknown", []string{"person", "wizard"}, nil, directory.ErrObjectClassViolation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := directory.NewEntry(directory.DN{})
			e.Set("objectClass", tc.in...)
			err := s.ExpandObjectClasses(e)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ExpandObjectClasses() = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ExpandObjectClasses(): %v", err)
			}
			got := slices.Clone(e.Get("objectClass"))
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("objectClass = %q, want %q", e.Get("objectClass"), tc.want)
			}
			// A superclass comes before its subclasses.
			pos := map[string]int{}
			for i, n := range e.Get("objectClass") {
				pos[n] = i
			}
			for _, n := range e.Get("objectClass") {
				c, _ := s.Class(n)
				for _, sup := range c.Sup {
					if pos[sup] > pos[n] {
						t.Errorf("superclass %s listed after %s", sup, n)
					}
				}
			}
		})
	}
}
