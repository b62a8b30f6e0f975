package directory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Check compares values without building a map (check.go); these tests
// hold it to the verdicts of the map-based implementation it replaced,
// kept below as mapCheck.

// mapCheck is Check as it was: object classes in a map, one valueSet
// (a map of norms) per attribute.
func (s *Schema) mapCheck(e *Entry) (*ObjectClass, error) {
	ocs := e.Get("objectClass")
	if len(ocs) == 0 {
		return nil, Errorf(ErrObjectClassViolation, "entry has no objectClass")
	}
	classes := map[*ObjectClass]bool{}
	var inOrder []*ObjectClass
	for _, name := range ocs {
		c, ok := s.Class(name)
		if !ok {
			return nil, Errorf(ErrObjectClassViolation, "unknown objectClass "+quote(name))
		}
		if !classes[c] {
			inOrder = append(inOrder, c)
		}
		classes[c] = true
	}
	// The map's order was random; the builtin schema has no class with
	// two structural superclasses, so any order gives the same verdict.
	structural, err := structuralClass(inOrder)
	if err != nil {
		return nil, err
	}
	extensible := false
	for c := range classes {
		extensible = extensible || c.extensible
	}
	for _, c := range inOrder {
		for _, at := range c.must {
			if !e.Has(at.Name()) {
				return nil, Errorf(ErrObjectClassViolation, "object class requires attribute "+at.Name())
			}
		}
	}
	for _, a := range e.Attrs {
		at, ok := s.Attr(a.Name)
		if !ok {
			return nil, Errorf(ErrUndefinedAttributeType, a.Name)
		}
		allowed := false
		for c := range classes {
			allowed = allowed || c.allowed[at]
		}
		if !at.Operational() && !extensible && !allowed {
			return nil, Errorf(ErrObjectClassViolation, fmt.Sprintf("attribute %s not allowed by the entry's object classes", at.Name()))
		}
		if len(a.Values) == 0 {
			return nil, Errorf(ErrConstraintViolation, at.Name()+": attribute with no values")
		}
		if at.SingleValue && len(a.Values) > 1 {
			return nil, Errorf(ErrConstraintViolation, at.Name()+": multiple values provided for single-valued attribute")
		}
		seen := newValueSet(s, at.Name(), nil)
		for i, v := range a.Values {
			if err := at.ValidateValue(v); err != nil {
				return nil, err
			}
			if seen.index(v) >= 0 {
				return nil, Errorf(ErrAttributeOrValueExists, fmt.Sprintf("%s: duplicate value %s", at.Name(), quote(v)))
			}
			seen.add(v, i)
		}
	}
	for _, ava := range e.DN.RDN().AVAs() {
		if !e.HasValue(s, ava.Type, ava.Value) {
			return nil, Errorf(ErrNamingViolation, fmt.Sprintf("value of naming attribute %s is not present in entry", ava.Type))
		}
	}
	return structural, nil
}

// sameVerdict fails t unless Check and mapCheck agree on e: the same
// structural class, or errors with the same sentinel and message.
func sameVerdict(t *testing.T, s *Schema, e *Entry) (accepted bool) {
	t.Helper()
	got, gotErr := s.Check(e)
	want, wantErr := s.mapCheck(e)
	if got != want || (gotErr == nil) != (wantErr == nil) ||
		(gotErr != nil && (gotErr.Error() != wantErr.Error() || !errors.Is(gotErr, errors.Unwrap(wantErr)))) {
		t.Fatalf("Check(%v) = %v, %v; the map-based check says %v, %v", e, got, gotErr, want, wantErr)
	}
	if gotErr == nil {
		if sc, err := s.CheckClasses(e); sc != got || err != nil {
			t.Fatalf("CheckClasses(%v) = %v, %v; Check says %v", e, sc, err, got)
		}
	}
	return gotErr == nil
}

func TestCheck_SameVerdictsAsMapCheck(t *testing.T) {
	s := Builtin()
	person := func(extra ...Attr) *Entry {
		e := &Entry{DN: MustParseDN("uid=ann,ou=people,dc=example,dc=com"), Attrs: []Attr{
			{Name: "objectClass", Values: []string{"top", "person", "organizationalPerson", "inetOrgPerson"}},
			{Name: "uid", Values: []string{"ann"}}, {Name: "cn", Values: []string{"Ann"}}, {Name: "sn", Values: []string{"A"}},
		}}
		e.Attrs = append(e.Attrs, extra...)
		return e
	}
	classed := func(ocs ...string) *Entry {
		e := person()
		e.Attrs[0].Values = ocs
		return e
	}
	classedPosix := func(extra ...Attr) *Entry {
		e := classed("inetOrgPerson", "posixAccount")
		e.Attrs = append(e.Attrs, extra...)
		return e
	}
	many := func(prefix string, n int, dupOf int) []string {
		var vs []string
		for i := range n {
			vs = append(vs, fmt.Sprintf("%s%d", prefix, i))
		}
		if dupOf >= 0 {
			vs = append(vs, strings.ToUpper(vs[dupOf]))
		}
		return vs
	}
	for _, tc := range []struct {
		name   string
		e      *Entry
		accept bool
	}{
		{"valid person", person(), true},
		{"mail differing in case (caseIgnoreIA5)", person(Attr{Name: "mail", Values: []string{"a@x.org", "A@X.ORG"}}), false},
		{"cn differing in inner spaces", person(Attr{Name: "CN", Values: []string{"Ann  B", "ann b"}}), false},
		{"two distinct cn", person(Attr{Name: "cn", Values: []string{"Ann B", "Ann C"}}), true},
		{"exact duplicate description", person(Attr{Name: "description", Values: []string{"x", "x"}}), false},
		{"telephone numbers equal but for spaces and dashes", person(Attr{Name: "telephoneNumber", Values: []string{"+1 555-0100", "+15550100"}}), false},
		{"nine distinct values (the map path)", person(Attr{Name: "description", Values: many("d", 9, -1)}), true},
		{"nine values, the last a case duplicate (map path)", person(Attr{Name: "mail", Values: many("u@x", 8, 3)}), false},
		{"eight values, a case duplicate (pairwise path)", person(Attr{Name: "mail", Values: many("u@x", 7, 6)}), false},
		{"duplicate objectClass in another case", classed("person", "inetOrgPerson", "PERSON"), false},
		{"classes in another case", classed("INETORGPERSON"), true},
		{"unknown attribute", person(Attr{Name: "fooBar", Values: []string{"x"}}), false},
		{"attribute not allowed", person(Attr{Name: "member", Values: []string{"cn=x"}}), false},
		{"single-valued with two values", person(Attr{Name: "displayName", Values: []string{"a", "b"}}), false},
		{"integer syntax violated", classedPosix(Attr{Name: "uidNumber", Values: []string{"x"}}, Attr{Name: "gidNumber", Values: []string{"1"}},
			Attr{Name: "homeDirectory", Values: []string{"/h"}}), false},
		{"bad syntax after a duplicate", person(Attr{Name: "mail", Values: []string{"a@b", "A@B", "\u00fc"}}), false},
		{"no values", person(Attr{Name: "description"}), false},
		{"naming value missing", &Entry{DN: MustParseDN("uid=bob,dc=example,dc=com"), Attrs: person().Attrs}, false},
		{"naming value in another case", &Entry{DN: MustParseDN("UID=ANN,dc=example,dc=com"), Attrs: person().Attrs}, true},
		{"no structural class", &Entry{DN: MustParseDN("cn=x,dc=com"), Attrs: []Attr{{Name: "objectClass", Values: []string{"top"}}, {Name: "cn", Values: []string{"x"}}}}, false},
		{"two structural chains", classed("inetOrgPerson", "organizationalUnit"), false},
		{"unknown class", classed("inetOrgPerson", "nosuchclass"), false},
		{"no objectClass", &Entry{DN: MustParseDN("cn=x,dc=com"), Attrs: []Attr{{Name: "cn", Values: []string{"x"}}}}, false},
		{"must attribute missing", &Entry{DN: MustParseDN("cn=x,dc=com"), Attrs: []Attr{{Name: "objectClass", Values: []string{"person"}}, {Name: "cn", Values: []string{"x"}}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameVerdict(t, s, tc.e); got != tc.accept {
				t.Errorf("accepted = %v, want %v", got, tc.accept)
			}
		})
	}
}

// TestCheck_RandomEntriesSameVerdicts draws entries from a small pool of
// classes, attribute names (in several cases, with aliases) and values
// (equal under the matching rules in several spellings, some invalid), so
// that every branch of Check is reached, and compares the verdicts.
func TestCheck_RandomEntriesSameVerdicts(t *testing.T) {
	s := Builtin()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	classes := []string{"top", "person", "organizationalPerson", "inetOrgPerson", "INETORGPERSON", "posixAccount",
		"groupOfNames", "organizationalUnit", "extensibleObject", "account", "simpleSecurityObject", "domain"}
	names := []string{"cn", "CN", "commonName", "sn", "uid", "UID", "mail", "description", "uidNumber", "gidNumber",
		"homeDirectory", "member", "ou", "displayName", "telephoneNumber", "userPassword", "entryUUID", "dc", "x-unknown", "title"}
	values := []string{"a", "A", " a ", "a  b", "A B", "1", "01", "-1", "x@y.org", "X@Y.ORG", "+1 555", "+1555",
		"cn=a,dc=b", "CN=A, DC=B", "", "über", "/home/a", "12345678-1234-1234-1234-123456789abc", "b", "c", "d", "e", "f", "g", "h", "i"}
	accepted := 0
	for range 20000 {
		rdnName, rdnValue := names[r.IntN(3)], values[r.IntN(3)]
		e := &Entry{DN: MustParseDN(fmt.Sprintf("%s=%s,dc=example,dc=com", rdnName, rdnValue))}
		if r.IntN(4) == 0 {
			// A valid person to start from, so that every seed reaches
			// the accepting paths; the attributes added below may still
			// break it.
			e.Attrs = append(e.Attrs,
				Attr{Name: "objectClass", Values: []string{"top", "person"}},
				Attr{Name: rdnName, Values: []string{rdnValue}},
				Attr{Name: "sn", Values: []string{values[3+r.IntN(len(values)-3)]}})
			for range r.IntN(3) {
				e.Attrs = append(e.Attrs, Attr{Name: []string{"description", "telephoneNumber", "seeAlso"}[r.IntN(3)],
					Values: []string{values[r.IntN(len(values))]}})
			}
		} else if r.IntN(10) > 0 {
			var ocs []string
			for range 1 + r.IntN(4) {
				ocs = append(ocs, classes[r.IntN(len(classes))])
			}
			e.Attrs = append(e.Attrs, Attr{Name: "objectClass", Values: ocs})
		}
		for range r.IntN(7) {
			var vs []string
			n := r.IntN(12)
			if r.IntN(3) > 0 {
				n = min(n, 2)
			}
			for range n {
				vs = append(vs, values[r.IntN(len(values))])
			}
			e.Attrs = append(e.Attrs, Attr{Name: names[r.IntN(len(names))], Values: vs})
		}
		if sameVerdict(t, s, e) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Error("no random entry was accepted: the generator misses the valid paths")
	}
}
