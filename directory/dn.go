package directory

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// DN is a parsed, normalized distinguished name. The zero value is the
// root DN (the empty string), which names the root DSE.
//
// DNs are immutable values: every method returns a new DN. Two DNs name the
// same entry exactly when their Norm strings are equal; attribute types are
// compared by their canonical schema names and values with case folded and
// spaces collapsed (distinguishedNameMatch with caseIgnoreMatch values, which
// is the rule of every naming attribute in ldapd's schema).
type DN struct {
	rdns []RDN // leftmost (most specific) first
	norm string
}

// RDN is one relative distinguished name: one or more attribute-value
// assertions joined by '+'.
type RDN struct {
	avas []AVA
	norm string
}

// AVA is one attribute type and value of an RDN. Type is the canonical
// schema name where the type is known; Value is the unescaped value as given.
type AVA struct {
	Type  string
	Value string
}

// ParseDN parses an RFC 4514 string. The empty string is the root DN.
func ParseDN(s string) (DN, error) {
	if len(s) > maxDNLength {
		return DN{}, Errorf(ErrInvalidDNSyntax, fmt.Sprintf("DN longer than %d bytes", maxDNLength))
	}
	if strings.TrimSpace(s) == "" {
		return DN{}, nil
	}
	// go-ldap decodes invalid UTF-8 to U+FFFD and accepts any escaped bytes;
	// both would make String and Norm lossy, so DN strings must be UTF-8.
	if !utf8.ValidString(s) {
		return DN{}, Errorf(ErrInvalidDNSyntax, "DN is not valid UTF-8")
	}
	if dn, ok := parseSimpleDN(s); ok {
		return checkedDN(s, dn)
	}
	return parseGeneralDN(s)
}

// parseGeneralDN parses any RFC 4514 string with go-ldap's parser; s is
// non-empty, bounded and valid UTF-8.
func parseGeneralDN(s string) (DN, error) {
	parsed, err := ldap.ParseDN(s)
	if err != nil {
		return DN{}, &Error{Err: ErrInvalidDNSyntax, Message: fmt.Sprintf("invalid DN %q: %v", s, err)}
	}
	rdns := make([]RDN, 0, len(parsed.RDNs))
	for _, r := range parsed.RDNs {
		avas := make([]AVA, 0, len(r.Attributes))
		for _, a := range r.Attributes {
			if !validAttrType(a.Type) {
				return DN{}, &Error{Err: ErrInvalidDNSyntax, Message: fmt.Sprintf("invalid DN %q: bad attribute type %q", s, a.Type)}
			}
			if !utf8.ValidString(a.Value) {
				return DN{}, &Error{Err: ErrInvalidDNSyntax, Message: fmt.Sprintf("invalid DN %q: value is not valid UTF-8", s)}
			}
			avas = append(avas, AVA{Type: canonicalAttrName(a.Type), Value: a.Value})
		}
		if len(avas) == 0 {
			return DN{}, &Error{Err: ErrInvalidDNSyntax, Message: fmt.Sprintf("invalid DN %q: empty RDN", s)}
		}
		rdns = append(rdns, NewRDN(avas...))
	}
	return checkedDN(s, newDN(rdns))
}

// checkedDN bounds the rendered forms of a parsed DN.
func checkedDN(s string, dn DN) (DN, error) {
	// String and Norm can be longer than s (a raw '=' in a value is
	// written escaped; the alias gn is written givenName). Bound them too,
	// so that every accepted DN can be rendered and parsed back.
	if len(dn.norm) > maxDNLength || dn.stringLen() > maxDNLength {
		return DN{}, Errorf(ErrInvalidDNSyntax, fmt.Sprintf("DN longer than %d bytes once normalized", maxDNLength))
	}
	return dn, nil
}

// parseSimpleDN parses the DNs clients send almost always, type=value
// pairs joined by commas with nothing to unescape, without go-ldap's
// general parser. Anything else (escapes, quotes, '+', spaces around a
// separator or at either end of a value, numeric OIDs, hex values, empty
// values) is left to ParseDN's general path: ok is false. Where it says ok
// the result is the general path's (FuzzSimpleDN checks that).
//
// It makes two allocations whatever the depth (up to 8): the RDNs and
// their AVAs together, and the normalized string, of which the RDNs'
// normalized forms are substrings. The AVAs view s, as the general
// path's do.
func parseSimpleDN(s string) (DN, bool) {
	n := strings.Count(s, ",") + 1
	if n > 64 {
		return DN{}, false
	}
	rdns, avas := rdnsAndAVAs(n)
	var endsArr [64]int // where each RDN's normalized form ends
	ends := endsArr[:n]
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < n; i++ {
		comp := s
		if j := strings.IndexByte(s, ','); j >= 0 {
			comp, s = s[:j], s[j+1:]
			if s == "" {
				return DN{}, false // trailing comma
			}
		} else {
			s = ""
		}
		eq := strings.IndexByte(comp, '=')
		if eq <= 0 || eq == len(comp)-1 {
			return DN{}, false
		}
		typ, val := comp[:eq], comp[eq+1:]
		if !simpleType(typ) || !simpleValue(val) {
			return DN{}, false
		}
		canon := canonicalAttrName(typ)
		avas[i] = AVA{Type: canon, Value: val}
		if i > 0 {
			b.WriteByte(',')
		}
		// As avaNorm: canon is already canonical.
		b.WriteString(lowerASCIIName(canon))
		b.WriteByte('=')
		writeEscaped(&b, normalizeDNValue(val))
		ends[i] = b.Len()
	}
	norm := b.String()
	start := 0
	for i := range rdns {
		rdns[i] = RDN{avas: avas[i : i+1 : i+1], norm: norm[start:ends[i]]}
		start = ends[i] + 1
	}
	return DN{rdns: rdns, norm: norm}, true
}

// rdnsAndAVAs returns n RDNs and n AVAs (one for each), in one allocation
// for DNs up to 8 deep.
func rdnsAndAVAs(n int) ([]RDN, []AVA) {
	switch {
	case n <= 4:
		b := new(struct {
			rdns [4]RDN
			avas [4]AVA
		})
		return b.rdns[:n:n], b.avas[:n:n]
	case n <= 6:
		b := new(struct {
			rdns [6]RDN
			avas [6]AVA
		})
		return b.rdns[:n:n], b.avas[:n:n]
	case n <= 8:
		b := new(struct {
			rdns [8]RDN
			avas [8]AVA
		})
		return b.rdns[:n:n], b.avas[:n:n]
	}
	return make([]RDN, n), make([]AVA, n)
}

// writeEscaped writes v escaped for an RFC 4514 string, as appendEscaped.
func writeEscaped(b *strings.Builder, v string) {
	from := 0
	for i := 0; i < len(v); i++ {
		if !needsEscape(v, i) {
			continue
		}
		b.WriteString(v[from:i])
		if v[i] == 0 {
			b.WriteString(`\00`)
		} else {
			b.WriteByte('\\')
			b.WriteByte(v[i])
		}
		from = i + 1
	}
	b.WriteString(v[from:])
}

// simpleType: a descr, ALPHA *(ALPHA / DIGIT / "-").
func simpleType(t string) bool {
	if t == "" || !('a' <= t[0] && t[0] <= 'z' || 'A' <= t[0] && t[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// simpleValue: printable ASCII or UTF-8 with no character RFC 4514 gives a
// meaning to, no space at either end, not starting with '#'.
func simpleValue(v string) bool {
	if v[0] == ' ' || v[0] == '#' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c < ' ' || c == 0x7f:
			return false
		case c == '\\' || c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '=':
			return false
		}
	}
	return true
}

// stringLen returns len(d.String()) without building the string.
func (d DN) stringLen() int {
	n := 0
	for i, r := range d.rdns {
		if i > 0 {
			n++
		}
		for j, a := range r.avas {
			if j > 0 {
				n++
			}
			n += len(a.Type) + 1
			for k := 0; k < len(a.Value); k++ {
				switch {
				case a.Value[k] == 0:
					n += 3
				case needsEscape(a.Value, k):
					n += 2
				default:
					n++
				}
			}
		}
	}
	return n
}

// validAttrType reports whether t is an RFC 4514 attributeType: a descr
// (ALPHA *(ALPHA / DIGIT / "-")) or a numericoid. go-ldap accepts escapes
// and spaces in types, which String could not render back.
func validAttrType(t string) bool {
	if t == "" {
		return false
	}
	isDigit := func(c byte) bool { return '0' <= c && c <= '9' }
	isAlpha := func(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
	if isAlpha(t[0]) {
		for i := 1; i < len(t); i++ {
			if c := t[i]; !isAlpha(c) && !isDigit(c) && c != '-' {
				return false
			}
		}
		return true
	}
	for _, arc := range strings.Split(t, ".") {
		if arc == "" || (len(arc) > 1 && arc[0] == '0') {
			return false
		}
		for i := 0; i < len(arc); i++ {
			if !isDigit(arc[i]) {
				return false
			}
		}
	}
	return strings.Contains(t, ".")
}

// MustParseDN is ParseDN for constants in tests and built-in data; it
// panics on error.
func MustParseDN(s string) DN {
	dn, err := ParseDN(s)
	if err != nil {
		panic(err)
	}
	return dn
}

const maxDNLength = 16 << 10

// NewRDN builds an RDN from its assertions.
func NewRDN(avas ...AVA) RDN {
	own := make([]AVA, len(avas))
	copy(own, avas)
	if len(own) == 1 { // the common case: one string, no sort
		return RDN{avas: own, norm: avaNorm(own[0])}
	}
	norms := make([]string, len(own))
	for i, a := range own {
		norms[i] = avaNorm(a)
	}
	slices.Sort(norms)
	return RDN{avas: own, norm: strings.Join(norms, "+")}
}

// avaNorm is the normalized form of one assertion: lower-case canonical
// type, '=', escaped case-folded value.
func avaNorm(a AVA) string {
	return lowerASCIIName(canonicalAttrName(a.Type)) + "=" + escapeValue(normalizeDNValue(a.Value))
}

// lowerASCIIName lower-cases an attribute type name without allocating for
// the canonical names of the built-in schema.
func lowerASCIIName(t string) string {
	if l, ok := builtinLowerNames()[t]; ok {
		return l
	}
	return strings.ToLower(t)
}

func newDN(rdns []RDN) DN {
	n := len(rdns) - 1
	for _, r := range rdns {
		n += len(r.norm)
	}
	if n <= 0 {
		return DN{rdns: rdns}
	}
	var b strings.Builder
	b.Grow(n)
	for i, r := range rdns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.norm)
	}
	return DN{rdns: rdns, norm: b.String()}
}

// NewDN builds a DN from its RDNs, leftmost (most specific) first.
func NewDN(rdns ...RDN) DN {
	own := make([]RDN, len(rdns))
	copy(own, rdns)
	return newDN(own)
}

// IsRoot reports whether d is the empty DN.
func (d DN) IsRoot() bool { return len(d.rdns) == 0 }

// Norm returns the normalized string form; equal DNs have equal Norms.
func (d DN) Norm() string { return d.norm }

// Equal reports whether d and o name the same entry.
func (d DN) Equal(o DN) bool { return d.norm == o.norm }

// Depth returns the number of RDNs.
func (d DN) Depth() int { return len(d.rdns) }

// RDN returns the leftmost RDN; the zero RDN for the root.
func (d DN) RDN() RDN {
	if len(d.rdns) == 0 {
		return RDN{}
	}
	return d.rdns[0]
}

// RDNs returns the RDNs, leftmost first. The slice must not be modified.
func (d DN) RDNs() []RDN { return d.rdns }

// Parent returns the DN with the leftmost RDN removed; the root's parent is
// the root.
func (d DN) Parent() DN {
	if len(d.rdns) <= 1 {
		return DN{}
	}
	return DN{rdns: d.rdns[1:], norm: d.norm[len(d.rdns[0].norm)+1:]}
}

// Child returns the DN of the entry named r under d.
func (d DN) Child(r RDN) DN {
	rdns := make([]RDN, 0, len(d.rdns)+1)
	rdns = append(rdns, r)
	rdns = append(rdns, d.rdns...)
	return newDN(rdns)
}

// ChildAVA is Child(NewRDN(AVA{Type: typ, Value: value})) for a type as
// stored in a DN (a canonical schema name, see AVA), built for decoding
// stored DNs: typ and value are copied, so they may view memory the caller
// reuses, and the copies, the RDN's normalized form and the DN's share one
// string allocation.
func (d DN) ChildAVA(typ, value string) DN {
	lt, ok := builtinLowerNames()[typ]
	if !ok {
		lt = lowerASCIIName(canonicalAttrName(typ))
	}
	nv := escapeValue(normalizeDNValue(value))
	rdnLen := len(lt) + 1 + len(nv)
	n := len(typ) + len(value) + rdnLen
	if !d.IsRoot() {
		n += 1 + len(d.norm)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(typ)
	b.WriteString(value)
	b.WriteString(lt)
	b.WriteByte('=')
	b.WriteString(nv)
	if !d.IsRoot() {
		b.WriteByte(',')
		b.WriteString(d.norm)
	}
	all := b.String()
	norm := all[len(typ)+len(value):]
	rdns, avas := rdnsWithAVA(len(d.rdns) + 1)
	avas[0] = AVA{Type: all[:len(typ)], Value: all[len(typ) : len(typ)+len(value)]}
	rdns[0] = RDN{avas: avas, norm: norm[:rdnLen]}
	copy(rdns[1:], d.rdns)
	return DN{rdns: rdns, norm: norm}
}

// rdnsWithAVA returns n RDNs and one AVA for the first, in one allocation
// for DNs up to 8 deep (an entry's DN in most trees): ChildAVA makes one
// for every entry a search returns.
func rdnsWithAVA(n int) ([]RDN, []AVA) {
	switch {
	case n <= 4:
		b := new(struct {
			rdns [4]RDN
			ava  [1]AVA
		})
		return b.rdns[:n:n], b.ava[:]
	case n <= 6:
		b := new(struct {
			rdns [6]RDN
			ava  [1]AVA
		})
		return b.rdns[:n:n], b.ava[:]
	case n <= 8:
		b := new(struct {
			rdns [8]RDN
			ava  [1]AVA
		})
		return b.rdns[:n:n], b.ava[:]
	}
	return make([]RDN, n), make([]AVA, 1)
}

// IsDescendantOf reports whether d is strictly below ancestor.
func (d DN) IsDescendantOf(ancestor DN) bool {
	if len(d.rdns) <= len(ancestor.rdns) {
		return false
	}
	if ancestor.IsRoot() {
		return true
	}
	return strings.HasSuffix(d.norm, ","+ancestor.norm) && d.suffixRDNsEqual(ancestor)
}

// suffixRDNsEqual guards IsDescendantOf against a suffix match that splits
// an escaped value; comparing RDN by RDN is exact.
func (d DN) suffixRDNsEqual(ancestor DN) bool {
	off := len(d.rdns) - len(ancestor.rdns)
	for i, r := range ancestor.rdns {
		if d.rdns[off+i].norm != r.norm {
			return false
		}
	}
	return true
}

// IsWithin reports whether d is scope-base equal to or below base.
func (d DN) IsWithin(base DN) bool { return d.Equal(base) || d.IsDescendantOf(base) }

// String returns the RFC 4514 form with types and values as given.
func (d DN) String() string {
	if len(d.rdns) == 0 {
		return ""
	}
	return string(d.AppendString(make([]byte, 0, d.stringLen())))
}

// AppendString appends the String form of d to b.
func (d DN) AppendString(b []byte) []byte {
	for i, r := range d.rdns {
		if i > 0 {
			b = append(b, ',')
		}
		b = r.appendString(b)
	}
	return b
}

// AVAs returns the assertions of r. The slice must not be modified.
func (r RDN) AVAs() []AVA { return r.avas }

// Norm returns the normalized form of r.
func (r RDN) Norm() string { return r.norm }

// Equal reports whether two RDNs are the same.
func (r RDN) Equal(o RDN) bool { return r.norm == o.norm }

// IsZero reports whether r has no assertions.
func (r RDN) IsZero() bool { return len(r.avas) == 0 }

// Value returns the value for the attribute type name (canonical, any case).
func (r RDN) Value(attr string) (string, bool) {
	for _, a := range r.avas {
		if strings.EqualFold(a.Type, attr) {
			return a.Value, true
		}
	}
	return "", false
}

// String returns the RFC 4514 form of r.
func (r RDN) String() string { return string(r.appendString(nil)) }

func (r RDN) appendString(b []byte) []byte {
	for i, a := range r.avas {
		if i > 0 {
			b = append(b, '+')
		}
		b = append(b, a.Type...)
		b = append(b, '=')
		b = appendEscaped(b, a.Value)
	}
	return b
}

// ParseRDN parses a single RDN such as "uid=alice" or "cn=a+sn=b".
func ParseRDN(s string) (RDN, error) {
	dn, err := ParseDN(s)
	if err != nil {
		return RDN{}, err
	}
	if dn.Depth() != 1 {
		return RDN{}, Errorf(ErrInvalidDNSyntax, fmt.Sprintf("%q is not a single RDN", s))
	}
	return dn.RDN(), nil
}

// normalizeDNValue applies caseIgnoreMatch normalization: fold case, drop
// leading and trailing spaces, collapse inner runs of spaces.
func normalizeDNValue(v string) string { return foldSpace(v) }

// escapeValue escapes an attribute value for an RFC 4514 string.
func escapeValue(v string) string {
	for i := 0; i < len(v); i++ {
		if needsEscape(v, i) {
			return string(appendEscaped(make([]byte, 0, len(v)+4), v))
		}
	}
	return v
}

// appendEscaped appends v escaped for an RFC 4514 string.
func appendEscaped(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == 0:
			b = append(b, `\00`...)
		case needsEscape(v, i):
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}

func needsEscape(v string, i int) bool {
	c := v[i]
	switch c {
	case ',', '+', '"', '\\', '<', '>', ';', '=', 0:
		return true
	case ' ':
		return i == 0 || i == len(v)-1
	case '#':
		return i == 0
	}
	return false
}
