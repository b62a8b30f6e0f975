package directory

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// FilterKind is the choice of an LDAP search filter (RFC 4511 section 4.5.1.7),
// numbered by its context tag.
type FilterKind uint8

// Filter kinds.
const (
	FilterAnd            FilterKind = 0
	FilterOr             FilterKind = 1
	FilterNot            FilterKind = 2
	FilterEquality       FilterKind = 3
	FilterSubstrings     FilterKind = 4
	FilterGreaterOrEqual FilterKind = 5
	FilterLessOrEqual    FilterKind = 6
	FilterPresent        FilterKind = 7
	FilterApprox         FilterKind = 8
	FilterExtensible     FilterKind = 9
)

// Filter is a search filter AST. Build one with the fields below (or with
// ParseFilter), then call Resolve once before Match.
type Filter struct {
	Kind     FilterKind
	Children []*Filter // And, Or: any number; Not: exactly one
	Attr     string    // attribute description; canonical after Resolve
	Value    string    // assertion value: equality, >=, <=, ~=, extensible
	// Substrings: Initial and Final are empty when absent.
	Initial, Final string
	Any            []string
	// Extensible match.
	Rule    string
	DNAttrs bool

	at       *AttributeType
	names    []string // f.at and its subtypes
	norm     string
	normOK   bool
	subNorm  []string // initial, any..., final
	ruleNorm func(string) (string, bool)
}

// Matching outcome of a filter on an entry: RFC 4511 filters are
// three-valued.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUndefined
)

// maxFilterDepth bounds recursion in Resolve, Match and String; the wire
// decoder enforces a tighter limit.
const maxFilterDepth = 256

// Resolve binds f to the schema: attribute descriptions become canonical
// names and assertion values are normalized once. An unknown attribute is
// not an error: it evaluates to Undefined, as RFC 4511 requires.
func (f *Filter) Resolve(s *Schema) error { return f.resolve(s, 0) }

func (f *Filter) resolve(s *Schema, depth int) error {
	if depth > maxFilterDepth {
		return Errorf(ErrUnwillingToPerform, "filter nested too deeply")
	}
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		if f.Kind == FilterNot && len(f.Children) != 1 {
			return Errorf(ErrUnwillingToPerform, "not filter must have exactly one child")
		}
		for _, c := range f.Children {
			if err := c.resolve(s, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	f.at = nil
	if f.Attr != "" {
		if at, ok := s.Attr(f.Attr); ok {
			f.at = at
			f.Attr = at.Name()
			f.names = at.subtypes
		}
	}
	if f.at == nil {
		// An extensible match may name only a rule (":dn:2.5.13.2:=x").
		// Bind it here: Match must not write to f, which may be shared.
		f.ruleNorm, f.norm, f.normOK = nil, "", false
		if f.Kind == FilterExtensible && f.Rule != "" {
			if f.ruleNorm = normalizer(f.Rule); f.ruleNorm != nil {
				f.norm, f.normOK = f.ruleNorm(f.Value)
			}
		}
		return nil
	}
	switch f.Kind {
	case FilterEquality, FilterApprox:
		f.norm, f.normOK = f.at.Normalize(f.Value)
	case FilterSubstrings:
		norm := f.at.sub
		if norm == nil {
			norm = f.at.eq
		}
		f.subNorm, f.normOK = nil, norm != nil
		if norm != nil {
			for _, part := range append(append([]string{f.Initial}, f.Any...), f.Final) {
				n, ok := norm(part)
				if part != "" && !ok {
					// A fragment the rule cannot normalize (say "uid" under
					// distinguishedNameMatch) would be compared raw against
					// normalized values: Undefined instead.
					f.normOK = false
				}
				if part != "" && n == "" {
					n = part
				}
				f.subNorm = append(f.subNorm, n)
			}
		}
	case FilterExtensible:
		rule := f.Rule
		if rule == "" {
			rule = f.at.Equality
		}
		f.ruleNorm = normalizer(rule)
		if f.ruleNorm != nil {
			f.norm, f.normOK = f.ruleNorm(f.Value)
		}
	}
	return nil
}

// Match reports whether e matches f (the filter evaluates to TRUE).
func (f *Filter) Match(e *Entry) bool { return f.eval(e) == triTrue }

func (f *Filter) eval(e *Entry) tri {
	switch f.Kind {
	case FilterAnd, FilterOr:
		// One decisive child settles it (FALSE for AND, TRUE for OR);
		// else any Undefined child makes the whole Undefined (RFC 4511
		// 4.5.1.7), and an empty AND is TRUE, an empty OR FALSE.
		decisive, res := triFalse, triTrue
		if f.Kind == FilterOr {
			decisive, res = triTrue, triFalse
		}
		for _, c := range f.Children {
			switch c.eval(e) {
			case decisive:
				return decisive
			case triUndefined:
				res = triUndefined
			}
		}
		return res
	case FilterNot:
		switch f.Children[0].eval(e) {
		case triTrue:
			return triFalse
		case triFalse:
			return triTrue
		}
		return triUndefined
	case FilterExtensible:
		return f.evalExtensible(e)
	}
	if f.at == nil {
		return triUndefined
	}
	if f.Kind == FilterPresent {
		if f.at.Name() == "objectClass" || f.at.Name() == "entryDN" || f.at.Name() == "hasSubordinates" {
			return triTrue
		}
		return boolTri(f.anyValue(e, func(string) bool { return true }))
	}
	if f.at.Name() == "entryDN" {
		return f.evalEntryDN(e)
	}
	switch f.Kind {
	case FilterEquality, FilterApprox:
		if !f.normOK {
			return triUndefined
		}
		return boolTri(f.anyValue(e, func(v string) bool {
			if f.at.eqFolds && f.Kind == FilterEquality && foldIsLower(v) {
				return len(v) == len(f.norm) && equalLower(v, f.norm)
			}
			n, ok := f.at.Normalize(v)
			return ok && n == f.norm
		}))
	case FilterSubstrings:
		if !f.normOK {
			return triUndefined
		}
		norm := f.at.sub
		if norm == nil {
			norm = f.at.eq
		}
		return boolTri(f.anyValue(e, func(v string) bool {
			if f.at.subFolds && foldIsLower(v) {
				return substringsMatchLower(v, f.subNorm)
			}
			n, ok := norm(v)
			return ok && substringsMatch(n, f.subNorm)
		}))
	case FilterGreaterOrEqual, FilterLessOrEqual:
		if f.at.ord == nil {
			return triUndefined
		}
		if _, ok := f.at.ord(f.Value); !ok {
			return triUndefined
		}
		return boolTri(f.anyValue(e, func(v string) bool {
			c, ok := f.at.Compare(v, f.Value)
			if !ok {
				return false
			}
			if f.Kind == FilterGreaterOrEqual {
				return c >= 0
			}
			return c <= 0
		}))
	}
	return triUndefined
}

// Reads reports the attributes Match may look at (canonical names,
// subtypes included), or all when it may look at any attribute (an
// extensible match without an attribute type). Match gives the same answer
// on an entry holding only those attributes (the DN aside: entryDN and
// extensible matches with :dn read the DN). f must be resolved.
func (f *Filter) Reads() (names []string, all bool) {
	all = f.reads(&names, 0)
	return names, all
}

// AppendReads is Reads appending the names to names.
func (f *Filter) AppendReads(names []string) ([]string, bool) {
	all := f.reads(&names, 0)
	return names, all
}

func (f *Filter) reads(names *[]string, depth int) bool {
	if depth > maxFilterDepth {
		return true
	}
	if f.Kind == FilterExtensible && f.at == nil && f.Attr == "" {
		return true
	}
	for _, n := range f.names {
		if !slices.Contains(*names, n) {
			*names = append(*names, n)
		}
	}
	for _, c := range f.Children {
		if c.reads(names, depth+1) {
			return true
		}
	}
	return false
}

// anyValue applies pred to every value of f's attribute and its subtypes.
func (f *Filter) anyValue(e *Entry, pred func(string) bool) bool {
	for _, a := range e.Attrs {
		if !f.isAttr(a.Name) {
			continue
		}
		for _, v := range a.Values {
			if pred(v) {
				return true
			}
		}
	}
	return false
}

func (f *Filter) isAttr(name string) bool {
	for _, n := range f.names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// subtypeNames lists at and every attribute type derived from it.
func subtypeNames(s *Schema, at *AttributeType) []string {
	names := []string{at.Name()}
	for _, other := range s.attrList {
		if other != at && other.IsA(at) {
			names = append(names, other.Name())
		}
	}
	return names
}

func (f *Filter) evalEntryDN(e *Entry) tri {
	if f.Kind != FilterEquality || !f.normOK {
		return triUndefined
	}
	return boolTri(e.DN.Norm() == f.norm)
}

func (f *Filter) evalExtensible(e *Entry) tri {
	if f.ruleNorm == nil || !f.normOK {
		return triUndefined
	}
	match := func(v string) bool {
		n, ok := f.ruleNorm(v)
		return ok && n == f.norm
	}
	if f.at != nil && f.anyValue(e, match) {
		return triTrue
	}
	if f.at == nil && f.Attr == "" {
		for _, a := range e.Attrs {
			for _, v := range a.Values {
				if match(v) {
					return triTrue
				}
			}
		}
	}
	if f.DNAttrs {
		for _, r := range e.DN.RDNs() {
			for _, ava := range r.AVAs() {
				if (f.Attr == "" || strings.EqualFold(ava.Type, f.Attr)) && match(ava.Value) {
					return triTrue
				}
			}
		}
	}
	if f.at == nil && f.Attr != "" {
		return triUndefined
	}
	return triFalse
}

func boolTri(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// substringsMatch checks v against parts = initial, any..., final (empty
// initial/final mean absent).
func substringsMatch(v string, parts []string) bool {
	initial, final, any := parts[0], parts[len(parts)-1], parts[1:len(parts)-1]
	if !strings.HasPrefix(v, initial) {
		return false
	}
	v = v[len(initial):]
	if len(final) > len(v) || !strings.HasSuffix(v, final) {
		return false
	}
	v = v[:len(v)-len(final)]
	for _, a := range any {
		i := strings.Index(v, a)
		if i < 0 {
			return false
		}
		v = v[i+len(a):]
	}
	return true
}

// String renders f in RFC 4515 form.
func (f *Filter) String() string {
	var b strings.Builder
	f.write(&b, 0)
	return b.String()
}

func (f *Filter) write(b *strings.Builder, depth int) {
	if depth > maxFilterDepth {
		b.WriteString("(...)")
		return
	}
	b.WriteByte('(')
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		b.WriteByte("&|!"[f.Kind])
		for _, c := range f.Children {
			c.write(b, depth+1)
		}
	case FilterEquality:
		b.WriteString(f.Attr + "=" + escapeFilter(f.Value))
	case FilterApprox:
		b.WriteString(f.Attr + "~=" + escapeFilter(f.Value))
	case FilterGreaterOrEqual:
		b.WriteString(f.Attr + ">=" + escapeFilter(f.Value))
	case FilterLessOrEqual:
		b.WriteString(f.Attr + "<=" + escapeFilter(f.Value))
	case FilterPresent:
		b.WriteString(f.Attr + "=*")
	case FilterSubstrings:
		b.WriteString(f.Attr + "=" + escapeFilter(f.Initial) + "*")
		for _, a := range f.Any {
			b.WriteString(escapeFilter(a) + "*")
		}
		b.WriteString(escapeFilter(f.Final))
	case FilterExtensible:
		b.WriteString(f.Attr)
		if f.DNAttrs {
			b.WriteString(":dn")
		}
		if f.Rule != "" {
			b.WriteString(":" + f.Rule)
		}
		b.WriteString(":=" + escapeFilter(f.Value))
	}
	b.WriteByte(')')
}

func escapeFilter(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError:
			// Invalid UTF-8, and U+FFFD itself, are rejected by the
			// parser when unescaped; escape every byte.
			for j := i; j < i+size; j++ {
				fmt.Fprintf(&b, `\%02x`, v[j])
			}
		case r == '*' || r == '(' || r == ')' || r == '\\' || r == 0:
			fmt.Fprintf(&b, `\%02x`, r)
		default:
			b.WriteString(v[i : i+size])
		}
		i += size
	}
	return b.String()
}

// maxFilterString bounds the filter strings ParseFilter accepts.
const maxFilterString = 64 << 10

// ParseFilter parses an RFC 4515 filter string and resolves it against s.
func ParseFilter(str string, s *Schema) (*Filter, error) {
	if len(str) > maxFilterString {
		return nil, Errorf(ErrUnwillingToPerform, "filter string too long")
	}
	if strings.Count(str, "(") > maxFilterDepth*8 {
		return nil, Errorf(ErrUnwillingToPerform, "filter too complex")
	}
	p, err := ldap.CompileFilter(str)
	if err != nil {
		return nil, fmt.Errorf("parse filter %s: %w", quote(str), Errorf(ErrUnwillingToPerform, err.Error()))
	}
	f, err := filterFromBER(p, 0)
	if err != nil {
		return nil, fmt.Errorf("parse filter %s: %w", quote(str), err)
	}
	if err := f.Resolve(s); err != nil {
		return nil, err
	}
	return f, nil
}

func filterFromBER(p *ber.Packet, depth int) (*Filter, error) {
	if depth > maxFilterDepth {
		return nil, Errorf(ErrUnwillingToPerform, "filter nested too deeply")
	}
	f := &Filter{Kind: FilterKind(p.Tag)}
	str := func(q *ber.Packet) string { return string(q.Data.Bytes()) }
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		for _, c := range p.Children {
			cf, err := filterFromBER(c, depth+1)
			if err != nil {
				return nil, err
			}
			f.Children = append(f.Children, cf)
		}
	case FilterEquality, FilterGreaterOrEqual, FilterLessOrEqual, FilterApprox:
		if len(p.Children) != 2 {
			return nil, Errorf(ErrUnwillingToPerform, "malformed assertion")
		}
		f.Attr, f.Value = str(p.Children[0]), str(p.Children[1])
	case FilterPresent:
		f.Attr = str(p)
	case FilterSubstrings:
		if len(p.Children) != 2 {
			return nil, Errorf(ErrUnwillingToPerform, "malformed substrings")
		}
		f.Attr = str(p.Children[0])
		// RFC 4511 requires at least one substring; go-ldap turns "(cn=**)"
		// into none, which String would render as the presence "(cn=*)".
		if len(p.Children[1].Children) == 0 {
			return nil, Errorf(ErrUnwillingToPerform, "substrings filter with no substrings")
		}
		for _, c := range p.Children[1].Children {
			switch c.Tag {
			case 0:
				f.Initial = str(c)
			case 1:
				f.Any = append(f.Any, str(c))
			case 2:
				f.Final = str(c)
			}
		}
	case FilterExtensible:
		for _, c := range p.Children {
			switch c.Tag {
			case 1:
				f.Rule = str(c)
			case 2:
				f.Attr = str(c)
			case 3:
				f.Value = str(c)
			case 4:
				f.DNAttrs = len(c.Data.Bytes()) > 0 && c.Data.Bytes()[0] != 0
			}
		}
		// go-ldap matches the ":dn" keyword case-sensitively, so RFC 4515's
		// own "(:DN:2.4.6.8.10:=Dino)" arrives as the rule "DN:2.4.6.8.10",
		// and "(cn:dn)" (no ":=") as the rule "dn", which String cannot
		// render without it reading back as dnAttributes.
		if !f.DNAttrs && len(f.Rule) >= 2 && strings.EqualFold(f.Rule[:2], "dn") && (len(f.Rule) == 2 || f.Rule[2] == ':') {
			f.DNAttrs = true
			f.Rule = strings.TrimPrefix(f.Rule[2:], ":")
		}
		if f.Rule != "" && !validAttrType(f.Rule) {
			return nil, Errorf(ErrUnwillingToPerform, "invalid matching rule "+quote(f.Rule))
		}
	default:
		return nil, Errorf(ErrUnwillingToPerform, fmt.Sprintf("unknown filter kind %d", p.Tag))
	}
	return f, nil
}

// Equal reports whether two filters have the same structure and values
// (as given; it does not apply matching rules).
func (f *Filter) Equal(o *Filter) bool {
	if f.Kind != o.Kind || !strings.EqualFold(f.Attr, o.Attr) || f.Value != o.Value || f.Initial != o.Initial ||
		f.Final != o.Final || f.Rule != o.Rule || f.DNAttrs != o.DNAttrs ||
		len(f.Any) != len(o.Any) || len(f.Children) != len(o.Children) {
		return false
	}
	for i := range f.Any {
		if f.Any[i] != o.Any[i] {
			return false
		}
	}
	for i := range f.Children {
		if !f.Children[i].Equal(o.Children[i]) {
			return false
		}
	}
	return true
}

// EqualityKey returns the attribute and normalized assertion value of an
// equality filter on a known attribute, for index lookups.
func (f *Filter) EqualityKey() (attr, norm string, ok bool) {
	if f.Kind != FilterEquality || f.at == nil || !f.normOK {
		return "", "", false
	}
	return f.at.Name(), f.norm, true
}

// Attribute returns the resolved attribute type, nil when unknown or for
// and/or/not.
func (f *Filter) Attribute() *AttributeType { return f.at }
