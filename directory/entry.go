package directory

import (
	"fmt"
	"strings"
)

// Entry is a directory entry: a DN and its attributes. Attribute names are
// the canonical schema names; lookups fold case.
type Entry struct {
	DN    DN
	Attrs []Attr
}

// Attr is one attribute of an entry with its values in order.
type Attr struct {
	Name   string
	Values []string
}

// LendingTx is a ReadTx that can lend the entries of a search instead of
// copying them. SearchLent is Search, except that the entry handed to each
// (the Entry, its Attrs, their Values and the value strings) belongs to the
// store and is valid only until each returns: each must neither modify nor
// keep any of it, only its DN, which is the caller's. A search that encodes
// every entry at once (the LDAP gateway) then reads the stored bytes without
// copying them. A store whose entries cannot be lent (a write transaction)
// runs Search.
type LendingTx interface {
	ReadTx
	SearchLent(base DN, scope Scope, f *Filter, each func(*Entry) error) error
}

// NewEntry returns an empty entry named dn.
func NewEntry(dn DN) *Entry { return &Entry{DN: dn} }

func (e *Entry) index(name string) int {
	for i := range e.Attrs {
		if strings.EqualFold(e.Attrs[i].Name, name) {
			return i
		}
	}
	return -1
}

// Get returns the values of the attribute, nil if absent. The slice must
// not be modified.
func (e *Entry) Get(name string) []string {
	if i := e.index(name); i >= 0 {
		return e.Attrs[i].Values
	}
	return nil
}

// First returns the first value of the attribute or "".
func (e *Entry) First(name string) string {
	if v := e.Get(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Has reports whether the attribute has at least one value.
func (e *Entry) Has(name string) bool { return len(e.Get(name)) > 0 }

// Set replaces the attribute's values; no values removes it.
func (e *Entry) Set(name string, values ...string) {
	i := e.index(name)
	if len(values) == 0 {
		if i >= 0 {
			e.Attrs = append(e.Attrs[:i], e.Attrs[i+1:]...)
		}
		return
	}
	own := append([]string(nil), values...)
	if i >= 0 {
		e.Attrs[i].Values = own
		return
	}
	e.Attrs = append(e.Attrs, Attr{Name: name, Values: own})
}

// Add appends values to the attribute without checking for duplicates.
func (e *Entry) Add(name string, values ...string) {
	if len(values) == 0 {
		return
	}
	if i := e.index(name); i >= 0 {
		e.Attrs[i].Values = append(e.Attrs[i].Values, values...)
		return
	}
	e.Attrs = append(e.Attrs, Attr{Name: name, Values: append([]string(nil), values...)})
}

// Delete removes the attribute.
func (e *Entry) Delete(name string) { e.Set(name) }

// Clone returns a deep copy.
func (e *Entry) Clone() *Entry {
	c := &Entry{DN: e.DN, Attrs: make([]Attr, len(e.Attrs))}
	for i, a := range e.Attrs {
		c.Attrs[i] = Attr{Name: a.Name, Values: append([]string(nil), a.Values...)}
	}
	return c
}

// HasValue reports whether the attribute holds a value equal to v under
// the attribute's equality rule (exact comparison when it has none).
func (e *Entry) HasValue(s *Schema, name, v string) bool {
	return indexOfValue(s, name, e.Get(name), v) >= 0
}

func indexOfValue(s *Schema, name string, values []string, v string) int {
	at, ok := s.Attr(name)
	if !ok || !at.HasEquality() {
		for i, x := range values {
			if x == v {
				return i
			}
		}
		return -1
	}
	nv, ok := at.Normalize(v)
	if !ok {
		return -1
	}
	for i, x := range values {
		if nx, ok := at.Normalize(x); ok && nx == nv {
			return i
		}
	}
	return -1
}

// valueSet finds a value among an attribute's values under the
// attribute's equality rule, as indexOfValue does, in constant time: the
// loops over all values of a large attribute (a group's member, an
// entry's memberOf) would otherwise compare every pair.
type valueSet struct {
	at *AttributeType // nil: exact comparison
	m  map[string]int // normalized (or exact) value -> first index
}

func newValueSet(s *Schema, name string, values []string) *valueSet {
	vs := &valueSet{m: make(map[string]int, len(values))}
	if at, ok := s.Attr(name); ok && at.HasEquality() {
		vs.at = at
	}
	for i, v := range values {
		vs.add(v, i)
	}
	return vs
}

func (vs *valueSet) key(v string) (string, bool) {
	if vs.at == nil {
		return v, true
	}
	return vs.at.Normalize(v)
}

// index returns the index of the first value equal to v, or -1.
func (vs *valueSet) index(v string) int {
	if k, ok := vs.key(v); ok {
		if i, ok := vs.m[k]; ok {
			return i
		}
	}
	return -1
}

func (vs *valueSet) add(v string, i int) {
	if k, ok := vs.key(v); ok {
		if _, dup := vs.m[k]; !dup {
			vs.m[k] = i
		}
	}
}

// ChangeOp is a Modify operation kind (RFC 4511 section 4.6; increment is
// RFC 4525).
type ChangeOp uint8

// Change operations, numbered as on the wire.
const (
	ChangeAdd       ChangeOp = 0
	ChangeDelete    ChangeOp = 1
	ChangeReplace   ChangeOp = 2
	ChangeIncrement ChangeOp = 3
)

func (o ChangeOp) String() string {
	switch o {
	case ChangeAdd:
		return "add"
	case ChangeDelete:
		return "delete"
	case ChangeReplace:
		return "replace"
	case ChangeIncrement:
		return "increment"
	}
	return fmt.Sprintf("op(%d)", o)
}

// Change is one modification of one attribute.
type Change struct {
	Op     ChangeOp
	Attr   string // canonical attribute name
	Values []string
}

// ApplyChanges applies changes to e in order, as an LDAP Modify does, and
// reports the first failure: ErrNoSuchAttribute for deleting a missing
// value, ErrAttributeOrValueExists for adding a present one,
// ErrUndefinedAttributeType for an unknown attribute and
// ErrInvalidAttributeSyntax for a bad value. On error e may be partly
// modified; callers apply changes to a clone.
func ApplyChanges(s *Schema, e *Entry, changes []Change) error {
	for _, ch := range changes {
		at, ok := s.Attr(ch.Attr)
		if !ok {
			return Errorf(ErrUndefinedAttributeType, ch.Attr)
		}
		name := at.Name()
		for _, v := range ch.Values {
			if ch.Op == ChangeIncrement {
				break
			}
			if err := at.ValidateValue(v); err != nil {
				return err
			}
		}
		if err := applyChange(s, e, at, name, ch); err != nil {
			return err
		}
	}
	return nil
}

// appendDistinct appends vals to cur (values of attribute name), refusing
// one equal, by the attribute's equality rule, to a value already there;
// why says how it came to be there.
func appendDistinct(s *Schema, name string, cur, vals []string, why string) ([]string, error) {
	vs := newValueSet(s, name, cur)
	for _, v := range vals {
		if vs.index(v) >= 0 {
			return nil, Errorf(ErrAttributeOrValueExists, fmt.Sprintf("%s: value %s %s", name, quote(v), why))
		}
		vs.add(v, len(cur))
		cur = append(cur, v)
	}
	return cur, nil
}

func applyChange(s *Schema, e *Entry, at *AttributeType, name string, ch Change) error {
	switch ch.Op {
	case ChangeAdd:
		if len(ch.Values) == 0 {
			return Errorf(ErrConstraintViolation, name+": add with no values")
		}
		cur, err := appendDistinct(s, name, append([]string(nil), e.Get(name)...), ch.Values, "already present")
		if err != nil {
			return err
		}
		e.Set(name, cur...)
	case ChangeDelete:
		cur := e.Get(name)
		if len(cur) == 0 {
			return Errorf(ErrNoSuchAttribute, name+": no such attribute")
		}
		if len(ch.Values) == 0 {
			e.Delete(name)
			return nil
		}
		cur = append([]string(nil), cur...)
		for _, v := range ch.Values {
			i := indexOfValue(s, name, cur, v)
			if i < 0 {
				return Errorf(ErrNoSuchAttribute, fmt.Sprintf("%s: no value %s", name, quote(v)))
			}
			cur = append(cur[:i], cur[i+1:]...)
		}
		e.Set(name, cur...)
	case ChangeReplace:
		vals, err := appendDistinct(s, name, nil, ch.Values, "given twice")
		if err != nil {
			return err
		}
		e.Set(name, vals...)
	case ChangeIncrement:
		return incrementAttr(e, at, name, ch.Values)
	default:
		return Errorf(ErrUnwillingToPerform, "unknown modify operation "+ch.Op.String())
	}
	return nil
}

func incrementAttr(e *Entry, at *AttributeType, name string, values []string) error {
	if at.Syntax != SyntaxInteger {
		return Errorf(ErrConstraintViolation, name+": increment of a non-integer attribute")
	}
	if len(values) != 1 {
		return Errorf(ErrConstraintViolation, name+": increment takes exactly one value")
	}
	delta, ok := normalizeInteger(values[0])
	if !ok || len(delta) > 18 {
		return Errorf(ErrInvalidAttributeSyntax, name+": bad increment "+quote(values[0]))
	}
	cur := e.Get(name)
	if len(cur) == 0 {
		return Errorf(ErrNoSuchAttribute, name+": no such attribute")
	}
	out := make([]string, len(cur))
	for i, v := range cur {
		// A stored value is not re-validated elsewhere; parseSmall panics
		// on "" and returns garbage for non-digits.
		if _, ok := normalizeInteger(v); !ok {
			return Errorf(ErrConstraintViolation, name+": stored value "+quote(v)+" is not an integer")
		}
		if len(v) > 18 {
			return Errorf(ErrConstraintViolation, name+": value too large to increment")
		}
		out[i] = fmt.Sprint(parseSmall(v) + parseSmall(delta))
	}
	e.Set(name, out...)
	return nil
}
