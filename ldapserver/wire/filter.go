package wire

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FilterKind is the CHOICE alternative of a Filter; its value is the
// alternative's context tag number (RFC 4511 §4.5.1).
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

var filterKindNames = [...]string{
	"and", "or", "not", "equalityMatch", "substrings",
	"greaterOrEqual", "lessOrEqual", "present", "approxMatch", "extensibleMatch",
}

// String returns the RFC 4511 name of the alternative, such as "substrings".
func (k FilterKind) String() string {
	if int(k) < len(filterKindNames) {
		return filterKindNames[k]
	}
	return "filter(" + strconv.Itoa(int(k)) + ")"
}

// Filter is a decoded search filter (RFC 4511 §4.5.1.7). Which fields are
// meaningful depends on Kind, as the field comments say.
//
// Decode guarantees the RFC's structural rules: a not has exactly one
// child; a substrings filter has at least one component, with Initial (if
// any) first and Final (if any) last; an extensible match has a
// MatchingRule or an Attr or both; every other leaf has a non-empty Attr.
type Filter struct {
	Kind FilterKind
	// Children are the operands of and and or (possibly none: RFC 4526
	// absolute true and false) and the single operand of not.
	Children []*Filter
	// Attr is the attribute description of every leaf kind; it may be
	// empty only for an extensible match.
	Attr string
	// Value is the assertion value of equality, greaterOrEqual,
	// lessOrEqual, approx and extensible (matchValue) filters.
	Value string
	// Initial, Any and Final are the substrings components.
	Initial, Final       string
	HasInitial, HasFinal bool
	Any                  []string
	// MatchingRule and DNAttributes belong to an extensible match; an
	// empty MatchingRule means the field was absent.
	MatchingRule string
	DNAttributes bool
}

// Identifier octets of the filter alternatives and their components.
const (
	idFilterAnd        = classContext | constructed | byte(FilterAnd)
	idFilterOr         = classContext | constructed | byte(FilterOr)
	idFilterNot        = classContext | constructed | byte(FilterNot)
	idFilterEquality   = classContext | constructed | byte(FilterEquality)
	idFilterSubstrings = classContext | constructed | byte(FilterSubstrings)
	idFilterGreater    = classContext | constructed | byte(FilterGreaterOrEqual)
	idFilterLess       = classContext | constructed | byte(FilterLessOrEqual)
	idFilterPresent    = classContext | byte(FilterPresent)
	idFilterApprox     = classContext | constructed | byte(FilterApprox)
	idFilterExtensible = classContext | constructed | byte(FilterExtensible)

	idSubInitial = classContext | 0
	idSubAny     = classContext | 1
	idSubFinal   = classContext | 2

	idRuleMatchingRule = classContext | 1
	idRuleType         = classContext | 2
	idRuleMatchValue   = classContext | 3
	idRuleDNAttributes = classContext | 4
)

// filterDecoder builds a Filter tree in two passes over the same octets.
// The first (build false) validates the whole filter, enforces the depth
// and size limits, and counts nodes, child pointers and substring "any"
// elements; the second fills three slabs of exactly those sizes. A filter
// of any shape thus costs at most three allocations, none sized by
// anything but octets actually present.
//
// Recursion is bounded by MaxFilterDepth: the depth is checked on entry,
// before any child is visited.
type filterDecoder struct {
	// A copy, not a pointer: escape analysis is not precise enough through
	// the recursion, and a pointer would move the caller's decoder to the
	// heap.
	decoder
	build bool

	nodes []Filter
	kids  []*Filter
	anys  []string

	// Counts in the first pass; next free slab index in the second.
	nNodes, nKids, nAnys int

	scratch Filter // written instead of a slab node in the first pass
}

// filter decodes the Filter TLV e, into room when its nodes fit there.
func (d *decoder) filter(e element, room []Filter) (*Filter, error) {
	fd := filterDecoder{decoder: *d}
	if _, err := fd.node(e, 1); err != nil {
		return nil, err
	}
	if fd.nNodes <= len(room) {
		fd.nodes = room[:fd.nNodes]
	} else {
		fd.nodes = make([]Filter, fd.nNodes)
	}
	if fd.nKids > 0 {
		fd.kids = make([]*Filter, fd.nKids)
	}
	if fd.nAnys > 0 {
		fd.anys = make([]string, fd.nAnys)
	}
	fd.build, fd.nNodes, fd.nKids, fd.nAnys = true, 0, 0, 0
	return fd.node(e, 1)
}

// node decodes one Filter at the given depth (the root is at depth 1).
// In the first pass it returns a nil *Filter.
func (fd *filterDecoder) node(e element, depth int) (*Filter, error) {
	lim := &fd.lim
	if depth > lim.MaxFilterDepth {
		return nil, fmt.Errorf("%w: filter nested deeper than %d", ErrLimitExceeded, lim.MaxFilterDepth)
	}
	if fd.nNodes+fd.nAnys >= lim.MaxFilterNodes {
		return nil, fmt.Errorf("%w: filter has more than %d components", ErrLimitExceeded, lim.MaxFilterNodes)
	}
	idx := fd.nNodes
	fd.nNodes++
	f := &fd.scratch
	if fd.build {
		f = &fd.nodes[idx]
	}
	// In the first pass f is shared scratch space that descendants
	// overwrite, so the kind is kept in a local.
	kind := FilterKind(e.tag & tagNumberMask)
	f.Kind = kind
	c := cursor{buf: fd.buf, off: e.off, end: e.end}

	var err error
	switch e.tag {
	case idFilterAnd, idFilterOr:
		err = fd.children(f, c, -1, depth)
	case idFilterNot:
		err = fd.children(f, c, 1, depth)
	case idFilterEquality, idFilterGreater, idFilterLess, idFilterApprox:
		f.Attr, f.Value, err = fd.assertion(c)
	case idFilterSubstrings:
		err = fd.substrings(f, c)
	case idFilterPresent:
		f.Attr = fd.str(e)
	case idFilterExtensible:
		err = fd.extensible(f, c)
	default:
		return nil, fmt.Errorf("%w: unknown filter identifier 0x%02x", ErrMalformed, e.tag)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	switch kind {
	case FilterAnd, FilterOr, FilterNot, FilterExtensible:
	default:
		if f.Attr == "" {
			return nil, fmt.Errorf("%w: %s: empty attribute description", ErrMalformed, kind)
		}
	}
	if !fd.build {
		return nil, nil
	}
	// Return the slab element itself, not f: f may point at the scratch
	// node, and returning it would make the compiler move the decoder to
	// the heap.
	return &fd.nodes[idx], nil
}

// children decodes the operands of and, or (want < 0: any number) and not
// (want == 1).
func (fd *filterDecoder) children(f *Filter, c cursor, want, depth int) error {
	n := 0
	for l := c; !l.empty(); n++ {
		if _, err := l.next(); err != nil {
			return err
		}
	}
	if want >= 0 && n != want {
		return fmt.Errorf("%w: %d operands, want %d", ErrMalformed, n, want)
	}
	var kids []*Filter
	if fd.build && n > 0 {
		kids = fd.kids[fd.nKids : fd.nKids+n : fd.nKids+n]
	}
	fd.nKids += n
	for i := 0; i < n; i++ {
		e, err := c.next()
		if err != nil {
			return err
		}
		child, err := fd.node(e, depth+1)
		if err != nil {
			return err
		}
		if fd.build {
			kids[i] = child
		}
	}
	f.Children = kids
	return nil
}

// substrings decodes
//
//	SubstringFilter ::= SEQUENCE {
//	     type           AttributeDescription,
//	     substrings     SEQUENCE SIZE (1..MAX) OF substring CHOICE {
//	          initial [0] AssertionValue,  -- can occur at most once
//	          any     [1] AssertionValue,
//	          final   [2] AssertionValue } -- can occur at most once
//	     }
func (fd *filterDecoder) substrings(f *Filter, c cursor) error {
	var err error
	if f.Attr, err = fd.string(&c, tagOctetString, "type"); err != nil {
		return err
	}
	se, err := c.expect(tagSequence, "substrings")
	if err != nil {
		return err
	}
	s := c.inside(se)
	if s.empty() {
		return fmt.Errorf("%w: no substring components", ErrMalformed)
	}
	f.HasInitial, f.HasFinal = false, false
	first := fd.nAnys
	for i := 0; !s.empty(); i++ {
		e, err := s.next()
		if err != nil {
			return err
		}
		switch e.tag {
		case idSubInitial:
			if i != 0 {
				return fmt.Errorf("%w: initial substring not first", ErrMalformed)
			}
			f.Initial, f.HasInitial = fd.str(e), true
		case idSubAny:
			if fd.nNodes+fd.nAnys >= fd.lim.MaxFilterNodes {
				return fmt.Errorf("%w: filter has more than %d components", ErrLimitExceeded, fd.lim.MaxFilterNodes)
			}
			if fd.build {
				fd.anys[fd.nAnys] = fd.str(e)
			}
			fd.nAnys++
		case idSubFinal:
			if !s.empty() {
				return fmt.Errorf("%w: final substring not last", ErrMalformed)
			}
			f.Final, f.HasFinal = fd.str(e), true
		default:
			return fmt.Errorf("%w: unknown substring identifier 0x%02x", ErrMalformed, e.tag)
		}
	}
	f.Any = nil
	if fd.build && fd.nAnys > first {
		f.Any = fd.anys[first:fd.nAnys:fd.nAnys]
	}
	return c.trailing("substring filter")
}

// extensible decodes
//
//	MatchingRuleAssertion ::= SEQUENCE {
//	     matchingRule    [1] MatchingRuleId OPTIONAL,
//	     type            [2] AttributeDescription OPTIONAL,
//	     matchValue      [3] AssertionValue,
//	     dnAttributes    [4] BOOLEAN DEFAULT FALSE }
//
// RFC 4511 §4.5.1.7.7: if matchingRule is absent, type must be present.
func (fd *filterDecoder) extensible(f *Filter, c cursor) error {
	f.MatchingRule, f.Attr, f.DNAttributes = "", "", false
	e, ok, err := c.optional(idRuleMatchingRule, "matchingRule")
	if err != nil {
		return err
	}
	if ok {
		f.MatchingRule = fd.str(e)
	}
	if e, ok, err = c.optional(idRuleType, "type"); err != nil {
		return err
	}
	if ok {
		f.Attr = fd.str(e)
	}
	if f.Value, err = fd.string(&c, idRuleMatchValue, "matchValue"); err != nil {
		return err
	}
	if e, ok, err = c.optional(idRuleDNAttributes, "dnAttributes"); err != nil {
		return err
	}
	if ok {
		if f.DNAttributes, err = parseBool(fd.bytes(e), "dnAttributes"); err != nil {
			return err
		}
	}
	if f.MatchingRule == "" && f.Attr == "" {
		return fmt.Errorf("%w: neither matchingRule nor type", ErrMalformed)
	}
	return c.trailing("matching rule assertion",
		idRuleMatchingRule, idRuleType, idRuleMatchValue, idRuleDNAttributes)
}

// String renders f in the RFC 4515 string form, escaping assertion values
// (and any bytes that are not valid UTF-8) as \XX. It is meant for logs and
// tests; a nil Filter renders as "".
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	var b strings.Builder
	f.appendString(&b)
	return b.String()
}

func (f *Filter) appendString(b *strings.Builder) {
	b.WriteByte('(')
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		b.WriteByte("&|!"[f.Kind])
		for _, c := range f.Children {
			c.appendString(b)
		}
	case FilterEquality, FilterGreaterOrEqual, FilterLessOrEqual, FilterApprox:
		b.WriteString(f.Attr)
		b.WriteString([...]string{FilterEquality: "=", FilterGreaterOrEqual: ">=", FilterLessOrEqual: "<=", FilterApprox: "~="}[f.Kind])
		escapeFilterValue(b, f.Value)
	case FilterSubstrings:
		b.WriteString(f.Attr)
		b.WriteByte('=')
		if f.HasInitial {
			escapeFilterValue(b, f.Initial)
		}
		b.WriteByte('*')
		for _, a := range f.Any {
			escapeFilterValue(b, a)
			b.WriteByte('*')
		}
		if f.HasFinal {
			escapeFilterValue(b, f.Final)
		}
	case FilterPresent:
		b.WriteString(f.Attr)
		b.WriteString("=*")
	case FilterExtensible:
		b.WriteString(f.Attr)
		if f.DNAttributes {
			b.WriteString(":dn")
		}
		if f.MatchingRule != "" {
			b.WriteByte(':')
			b.WriteString(f.MatchingRule)
		}
		b.WriteString(":=")
		escapeFilterValue(b, f.Value)
	default:
		b.WriteString(f.Kind.String())
	}
	b.WriteByte(')')
}

// escapeFilterValue writes v as an RFC 4515 assertion value: the special
// characters * ( ) \ and NUL, and bytes that are not valid UTF-8, become \XX.
func escapeFilterValue(b *strings.Builder, v string) {
	const hex = "0123456789abcdef"
	for i := 0; i < len(v); {
		c := v[i]
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(v[i:]); r != utf8.RuneError || size > 1 {
				b.WriteString(v[i : i+size])
				i += size
				continue
			}
		}
		switch c {
		case '*', '(', ')', '\\', 0:
			b.WriteByte('\\')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			if c >= utf8.RuneSelf { // invalid UTF-8
				b.WriteByte('\\')
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
		i++
	}
}
