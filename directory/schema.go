package directory

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Usage is an attribute type's USAGE (RFC 4512 section 4.1.2).
type Usage uint8

// Attribute usages.
const (
	UserApplications Usage = iota
	DirectoryOperation
	DistributedOperation
	DSAOperation
)

func (u Usage) String() string {
	return [...]string{"userApplications", "directoryOperation", "distributedOperation", "dSAOperation"}[u]
}

// ClassKind is an object class's kind.
type ClassKind uint8

// Object class kinds.
const (
	Structural ClassKind = iota
	Abstract
	Auxiliary
)

func (k ClassKind) String() string { return [...]string{"STRUCTURAL", "ABSTRACT", "AUXILIARY"}[k] }

// Syntax OIDs used by the built-in schema (RFC 4517).
const (
	SyntaxBoolean         = "1.3.6.1.4.1.1466.115.121.1.7"
	SyntaxDN              = "1.3.6.1.4.1.1466.115.121.1.12"
	SyntaxDirectoryString = "1.3.6.1.4.1.1466.115.121.1.15"
	SyntaxGeneralizedTime = "1.3.6.1.4.1.1466.115.121.1.24"
	SyntaxIA5String       = "1.3.6.1.4.1.1466.115.121.1.26"
	SyntaxInteger         = "1.3.6.1.4.1.1466.115.121.1.27"
	SyntaxJPEG            = "1.3.6.1.4.1.1466.115.121.1.28"
	SyntaxNumericString   = "1.3.6.1.4.1.1466.115.121.1.36"
	SyntaxOID             = "1.3.6.1.4.1.1466.115.121.1.38"
	SyntaxOctetString     = "1.3.6.1.4.1.1466.115.121.1.40"
	SyntaxPostalAddress   = "1.3.6.1.4.1.1466.115.121.1.41"
	SyntaxTelephoneNumber = "1.3.6.1.4.1.1466.115.121.1.50"
	SyntaxUUID            = "1.3.6.1.1.16.1"
)

var syntaxNames = map[string]string{
	SyntaxBoolean: "Boolean", SyntaxDN: "DN", SyntaxDirectoryString: "Directory String",
	SyntaxGeneralizedTime: "Generalized Time", SyntaxIA5String: "IA5 String",
	SyntaxInteger: "INTEGER", SyntaxJPEG: "JPEG", SyntaxNumericString: "Numeric String",
	SyntaxOID: "OID", SyntaxOctetString: "Octet String", SyntaxPostalAddress: "Postal Address",
	SyntaxTelephoneNumber: "Telephone Number", SyntaxUUID: "UUID",
}

// AttributeType describes one attribute type (RFC 4512 section 4.1.2).
// Values of these fields are fixed once the schema is built.
type AttributeType struct {
	OID                string
	Names              []string // Names[0] is the canonical name
	Desc               string
	Sup                string
	Equality           string
	Ordering           string
	Substr             string
	Syntax             string
	SingleValue        bool
	NoUserModification bool
	Usage              Usage

	lower string // canonical name in lower case
	// eqFolds and subFolds: the equality (substring) rule normalizes with
	// foldSpace, so matching may take the allocation-free fold paths.
	eqFolds, subFolds bool
	sup               *AttributeType
	// subtypes is the type's canonical name and those of every type
	// derived from it (subtypeNames), shared by the filters that name it:
	// read only.
	subtypes []string
	eq       func(string) (string, bool)
	ord      func(string) (string, bool)
	sub      func(string) (string, bool)
}

// Name returns the canonical name.
func (a *AttributeType) Name() string { return a.Names[0] }

// LowerName returns the canonical name in lower case, for maps keyed
// case-insensitively.
func (a *AttributeType) LowerName() string {
	if a.lower == "" {
		return strings.ToLower(a.Names[0])
	}
	return a.lower
}

// Operational reports whether the type is operational (not returned for "*").
func (a *AttributeType) Operational() bool { return a.Usage != UserApplications }

// HasEquality reports whether values can be compared for equality.
func (a *AttributeType) HasEquality() bool { return a.eq != nil }

// Normalize returns the equality-normalized form of v; ok is false when
// the type has no equality rule or v is not a valid value for it.
func (a *AttributeType) Normalize(v string) (string, bool) {
	if a.eq == nil {
		return "", false
	}
	return a.eq(v)
}

// IsA reports whether a is other or a subtype of it.
func (a *AttributeType) IsA(other *AttributeType) bool {
	for t := a; t != nil; t = t.sup {
		if t == other {
			return true
		}
	}
	return false
}

// Compare orders two values by the ordering rule; ok is false when there
// is no ordering rule or a value is invalid.
func (a *AttributeType) Compare(x, y string) (int, bool) {
	if a.ord == nil {
		return 0, false
	}
	nx, ok1 := a.ord(x)
	ny, ok2 := a.ord(y)
	if !ok1 || !ok2 {
		return 0, false
	}
	if ruleName(a.Ordering) == RuleIntegerOrdering {
		return compareIntegers(nx, ny), true
	}
	return strings.Compare(nx, ny), true
}

// ValidateValue checks v against the attribute's syntax.
func (a *AttributeType) ValidateValue(v string) error {
	bad := func(why string) error {
		return Errorf(ErrInvalidAttributeSyntax, fmt.Sprintf("%s: value %s %s", a.Name(), quote(v), why))
	}
	switch a.Syntax {
	case SyntaxOctetString, SyntaxJPEG:
		return nil
	case SyntaxDirectoryString, SyntaxPostalAddress:
		if v == "" {
			return bad("is empty")
		}
		if !utf8.ValidString(v) {
			return bad("is not valid UTF-8")
		}
	case SyntaxIA5String:
		for i := 0; i < len(v); i++ {
			if v[i] >= 0x80 {
				return bad("is not IA5 (ASCII)")
			}
		}
	case SyntaxInteger:
		if _, ok := normalizeInteger(v); !ok {
			return bad("is not an integer")
		}
	case SyntaxBoolean:
		if v != "TRUE" && v != "FALSE" {
			return bad("is not TRUE or FALSE")
		}
	case SyntaxDN:
		if _, err := ParseDN(v); err != nil {
			return bad("is not a DN")
		}
	case SyntaxGeneralizedTime:
		if _, err := ParseGeneralizedTime(v); err != nil {
			return bad("is not a GeneralizedTime")
		}
	case SyntaxUUID:
		if !validUUID(v) {
			return bad("is not a UUID")
		}
	case SyntaxTelephoneNumber, SyntaxNumericString, SyntaxOID:
		if strings.TrimSpace(v) == "" {
			return bad("is empty")
		}
	}
	return nil
}

// String renders the RFC 4512 AttributeTypeDescription.
func (a *AttributeType) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "( %s NAME %s", a.OID, qdescrs(a.Names))
	term(&b, "DESC", quoted(a.Desc))
	term(&b, "SUP", a.Sup)
	term(&b, "EQUALITY", a.Equality)
	term(&b, "ORDERING", a.Ordering)
	term(&b, "SUBSTR", a.Substr)
	term(&b, "SYNTAX", a.Syntax)
	if a.SingleValue {
		b.WriteString(" SINGLE-VALUE")
	}
	if a.NoUserModification {
		b.WriteString(" NO-USER-MODIFICATION")
	}
	if a.Usage != UserApplications {
		fmt.Fprintf(&b, " USAGE %s", a.Usage)
	}
	b.WriteString(" )")
	return b.String()
}

// ObjectClass describes one object class (RFC 4512 section 4.1.1).
type ObjectClass struct {
	OID   string
	Names []string
	Desc  string
	Sup   []string
	Kind  ClassKind
	Must  []string
	May   []string

	sups []*ObjectClass
	// What c and its superclasses together require and allow, computed
	// once when the schema is built (checkAttributes).
	must       []*AttributeType
	allowed    map[*AttributeType]bool
	extensible bool // extensibleObject is c or a superclass
}

// Name returns the canonical name.
func (c *ObjectClass) Name() string { return c.Names[0] }

// String renders the RFC 4512 ObjectClassDescription.
func (c *ObjectClass) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "( %s NAME %s", c.OID, qdescrs(c.Names))
	term(&b, "DESC", quoted(c.Desc))
	term(&b, "SUP", oids(c.Sup))
	fmt.Fprintf(&b, " %s", c.Kind)
	term(&b, "MUST", oids(c.Must))
	term(&b, "MAY", oids(c.May))
	b.WriteString(" )")
	return b.String()
}

// term writes " KEYWORD value" to b, or nothing for an empty value: the
// optional terms of RFC 4512 descriptions.
func term(b *strings.Builder, keyword, value string) {
	if value != "" {
		b.WriteString(" " + keyword + " " + value)
	}
}

// quoted is a qdstring, or "" for an empty s.
func quoted(s string) string {
	if s == "" {
		return ""
	}
	return "'" + s + "'"
}

func qdescrs(names []string) string {
	if len(names) == 1 {
		return "'" + names[0] + "'"
	}
	return "( '" + strings.Join(names, "' '") + "' )"
}

// oids is an oid or oidlist, or "" for no names.
func oids(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return "( " + strings.Join(names, " $ ") + " )"
}

// Schema is a set of attribute types and object classes. It is immutable
// once built and safe for concurrent use.
type Schema struct {
	attrs     map[string]*AttributeType // by lower-case name and OID
	exact     map[string]*AttributeType // by name as defined, so that Attr of a canonical name does not allocate
	classes   map[string]*ObjectClass
	attrList  []*AttributeType
	classList []*ObjectClass
}

// Builtin returns ldapd's built-in schema: core (RFC 4512, 4519), cosine,
// inetOrgPerson (RFC 2798), RFC 2307bis (posixAccount, shadowAccount,
// posixGroup as auxiliary classes), RFC 4530 entryUUID, memberOf and
// ldapd's own classes. The value is shared and immutable.
func Builtin() *Schema { return builtinSchema() }

var builtinSchema = sync.OnceValue(func() *Schema {
	s, err := NewSchema(builtinAttributeTypes(), builtinObjectClasses())
	if err != nil {
		panic("directory: built-in schema is inconsistent: " + err.Error())
	}
	return s
})

// NewSchema builds a schema, resolving SUP references and matching rules.
func NewSchema(attrs []*AttributeType, classes []*ObjectClass) (*Schema, error) {
	s := &Schema{attrs: map[string]*AttributeType{}, exact: map[string]*AttributeType{}, classes: map[string]*ObjectClass{}}
	for _, a := range attrs {
		for _, key := range append([]string{a.OID}, a.Names...) {
			k := strings.ToLower(key)
			if _, dup := s.attrs[k]; dup {
				return nil, fmt.Errorf("attribute type %s defined twice", key)
			}
			s.attrs[k] = a
			s.exact[key] = a
		}
		a.lower = strings.ToLower(a.Names[0])
		s.attrList = append(s.attrList, a)
	}
	for _, a := range attrs {
		if a.Sup != "" {
			sup, ok := s.attrs[strings.ToLower(a.Sup)]
			if !ok {
				return nil, fmt.Errorf("attribute type %s: unknown SUP %s", a.Name(), a.Sup)
			}
			a.sup = sup
		}
	}
	for _, a := range attrs {
		for t := a.sup; t != nil; t = t.sup {
			if a.Equality == "" {
				a.Equality = t.Equality
			}
			if a.Ordering == "" {
				a.Ordering = t.Ordering
			}
			if a.Substr == "" {
				a.Substr = t.Substr
			}
			if a.Syntax == "" {
				a.Syntax = t.Syntax
			}
		}
		for _, r := range []struct {
			name string
			fn   *func(string) (string, bool)
		}{{a.Equality, &a.eq}, {a.Ordering, &a.ord}, {a.Substr, &a.sub}} {
			if r.name == "" {
				continue
			}
			if *r.fn = normalizer(r.name); *r.fn == nil {
				return nil, fmt.Errorf("attribute type %s: unknown matching rule %s", a.Name(), r.name)
			}
		}
		a.eqFolds = foldsCase(a.Equality)
		a.subFolds = foldsCase(a.Substr) || (a.Substr == "" && a.eqFolds)
	}
	for _, a := range attrs {
		a.subtypes = subtypeNames(s, a)
	}
	for _, c := range classes {
		for _, key := range append([]string{c.OID}, c.Names...) {
			k := strings.ToLower(key)
			if _, dup := s.classes[k]; dup {
				return nil, fmt.Errorf("object class %s defined twice", key)
			}
			s.classes[k] = c
		}
		s.classList = append(s.classList, c)
	}
	for _, c := range classes {
		for _, name := range c.Sup {
			sup, ok := s.classes[strings.ToLower(name)]
			if !ok {
				return nil, fmt.Errorf("object class %s: unknown SUP %s", c.Name(), name)
			}
			c.sups = append(c.sups, sup)
		}
		for _, name := range append(append([]string{}, c.Must...), c.May...) {
			if _, ok := s.attrs[strings.ToLower(name)]; !ok {
				return nil, fmt.Errorf("object class %s: unknown attribute %s", c.Name(), name)
			}
		}
	}
	for _, c := range classes {
		s.closeClass(c)
	}
	return s, nil
}

// closeClass computes what c and its superclasses require and allow.
func (s *Schema) closeClass(c *ObjectClass) {
	c.allowed = map[*AttributeType]bool{}
	seen := map[*ObjectClass]bool{}
	var walk func(k *ObjectClass)
	walk = func(k *ObjectClass) {
		if seen[k] {
			return
		}
		seen[k] = true
		if strings.EqualFold(k.Name(), "extensibleObject") {
			c.extensible = true
		}
		for _, n := range k.Must {
			at := s.attrs[strings.ToLower(n)]
			if !slices.Contains(c.must, at) {
				c.must = append(c.must, at)
			}
			c.allowed[at] = true
		}
		for _, n := range k.May {
			c.allowed[s.attrs[strings.ToLower(n)]] = true
		}
		for _, sup := range k.sups {
			walk(sup)
		}
	}
	walk(c)
}

// Attr looks up an attribute description (a name or OID, any case, with
// any ";options" ignored).
func (s *Schema) Attr(desc string) (*AttributeType, bool) {
	if i := strings.IndexByte(desc, ';'); i >= 0 {
		desc = desc[:i]
	}
	if a, ok := s.exact[desc]; ok {
		return a, true
	}
	a, ok := s.attrs[strings.ToLower(desc)]
	return a, ok
}

// Class looks up an object class by name or OID, any case.
func (s *Schema) Class(name string) (*ObjectClass, bool) {
	c, ok := s.classes[strings.ToLower(name)]
	return c, ok
}

// AttributeTypes returns every attribute type in definition order.
func (s *Schema) AttributeTypes() []*AttributeType { return s.attrList }

// ObjectClasses returns every object class in definition order.
func (s *Schema) ObjectClasses() []*ObjectClass { return s.classList }

// MatchingRules returns the RFC 4512 descriptions of the matching rules.
func (s *Schema) MatchingRules() []string {
	syntaxOf := map[string]string{}
	for _, a := range s.attrList {
		for _, r := range []string{a.Equality, a.Ordering, a.Substr} {
			if r != "" && syntaxOf[r] == "" {
				syntaxOf[r] = a.Syntax
			}
		}
	}
	var out []string
	for _, r := range matchingRuleOIDs {
		syn := syntaxOf[r[0]]
		if syn == "" {
			syn = SyntaxDirectoryString
		}
		out = append(out, fmt.Sprintf("( %s NAME '%s' SYNTAX %s )", r[1], r[0], syn))
	}
	return out
}

// Syntaxes returns the RFC 4512 descriptions of the syntaxes in use.
func (s *Schema) Syntaxes() []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range s.attrList {
		if a.Syntax == "" || seen[a.Syntax] {
			continue
		}
		seen[a.Syntax] = true
		out = append(out, fmt.Sprintf("( %s DESC '%s' )", a.Syntax, syntaxNames[a.Syntax]))
	}
	return out
}

// canonicalAttrName maps a name or OID to the canonical name of the
// built-in schema; unknown names are returned unchanged.
func canonicalAttrName(name string) string {
	names := builtinAttrNames()
	if canon, ok := names[name]; ok {
		return canon
	}
	if canon, ok := names[strings.ToLower(name)]; ok {
		return canon
	}
	return name
}

// builtinLowerNames maps the canonical name of every built-in attribute
// type to its lower-case form.
var builtinLowerNames = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, a := range builtinAttributeTypes() {
		m[a.Names[0]] = strings.ToLower(a.Names[0])
	}
	return m
})

// builtinAttrNames maps every lower-case name and OID of the built-in
// attribute types to the canonical name. It is separate from Builtin so
// that DN parsing does not depend on building the whole schema.
var builtinAttrNames = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, a := range builtinAttributeTypes() {
		m[strings.ToLower(a.OID)] = a.Names[0]
		for _, n := range a.Names {
			m[strings.ToLower(n)] = a.Names[0]
			m[n] = a.Names[0] // as written: found without lower-casing
		}
	}
	return m
})
