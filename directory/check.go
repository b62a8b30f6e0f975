package directory

import (
	"fmt"
	"slices"
)

// ExpandObjectClasses rewrites e's objectClass values to canonical names and
// adds every superclass, so that (objectClass=person) matches an
// inetOrgPerson. An unknown class is ErrObjectClassViolation.
func (s *Schema) ExpandObjectClasses(e *Entry) error {
	var out []string
	var small [smallClasses]*ObjectClass
	seen := small[:0] // a handful: no map
	var add func(c *ObjectClass)
	add = func(c *ObjectClass) {
		if slices.Contains(seen, c) {
			return
		}
		seen = append(seen, c)
		for _, sup := range c.sups {
			add(sup)
		}
		out = append(out, c.Name())
	}
	for _, name := range e.Get("objectClass") {
		c, ok := s.Class(name)
		if !ok {
			return Errorf(ErrObjectClassViolation, "unknown objectClass "+quote(name))
		}
		add(c)
	}
	e.Set("objectClass", out...)
	return nil
}

// Check validates e against the schema and returns its structural object
// class. It enforces: known object classes forming one structural chain;
// every MUST attribute present; every user attribute allowed by some class
// (any, with extensibleObject); value syntax; no duplicate values;
// SINGLE-VALUE; and the RDN's values present in the entry.
func (s *Schema) Check(e *Entry) (*ObjectClass, error) {
	var small [smallClasses]*ObjectClass
	structural, classes, err := s.checkClasses(e, small[:0])
	if err != nil {
		return nil, err
	}
	if err := s.checkAttributes(e, classes); err != nil {
		return nil, err
	}
	for _, ava := range e.DN.RDN().AVAs() {
		if !e.HasValue(s, ava.Type, ava.Value) {
			return nil, Errorf(ErrNamingViolation, fmt.Sprintf("value of naming attribute %s is not present in entry", ava.Type))
		}
	}
	return structural, nil
}

// smallClasses is the number of object classes an entry usually has
// (inetOrgPerson's chain and a few auxiliaries): Check keeps them in an
// array on its stack.
const smallClasses = 8

func structuralClass(classes []*ObjectClass) (*ObjectClass, error) {
	var found *ObjectClass
	for _, c := range classes {
		if c.Kind != Structural {
			continue
		}
		switch {
		case found == nil || isSubclass(c, found):
			found = c
		case isSubclass(found, c):
		default:
			return nil, Errorf(ErrObjectClassViolation,
				fmt.Sprintf("invalid structural object class chain (%s/%s)", found.Name(), c.Name()))
		}
	}
	if found == nil {
		return nil, Errorf(ErrObjectClassViolation, "no structural object class provided")
	}
	return found, nil
}

func isSubclass(c, ancestor *ObjectClass) bool {
	if c == ancestor {
		return true
	}
	for _, s := range c.sups {
		if isSubclass(s, ancestor) {
			return true
		}
	}
	return false
}

func (s *Schema) checkAttributes(e *Entry, classes []*ObjectClass) error {
	extensible := false
	for _, c := range classes {
		extensible = extensible || c.extensible
		for _, at := range c.must {
			if !e.Has(at.Name()) {
				return Errorf(ErrObjectClassViolation, "object class requires attribute "+at.Name())
			}
		}
	}
	allowed := func(at *AttributeType) bool {
		for _, c := range classes {
			if c.allowed[at] {
				return true
			}
		}
		return false
	}
	for _, a := range e.Attrs {
		at, ok := s.Attr(a.Name)
		if !ok {
			return Errorf(ErrUndefinedAttributeType, a.Name)
		}
		if !at.Operational() && !extensible && !allowed(at) {
			return Errorf(ErrObjectClassViolation, fmt.Sprintf("attribute %s not allowed by the entry's object classes", at.Name()))
		}
		if len(a.Values) == 0 {
			return Errorf(ErrConstraintViolation, at.Name()+": attribute with no values")
		}
		if at.SingleValue && len(a.Values) > 1 {
			return Errorf(ErrConstraintViolation, at.Name()+": multiple values provided for single-valued attribute")
		}
		if err := checkValues(at, a.Values); err != nil {
			return err
		}
	}
	return nil
}

// smallValues is the most values checkValues compares pairwise (their
// norms in an array on its stack) rather than through a map.
const smallValues = 8

// checkValues checks each value's syntax and that none equals an earlier
// one by at's equality rule (or byte for byte, without one; a value the
// rule cannot normalize equals none), reporting the first bad value.
func checkValues(at *AttributeType, values []string) error {
	var small [smallValues]string
	norms := small[:0]
	var seen map[string]struct{}
	if len(values) > smallValues {
		seen = make(map[string]struct{}, len(values))
	}
	for _, v := range values {
		if err := at.ValidateValue(v); err != nil {
			return err
		}
		k, ok := v, true
		if at.HasEquality() {
			k, ok = at.Normalize(v)
		}
		if !ok {
			continue
		}
		dup := false
		if seen != nil {
			_, dup = seen[k]
			seen[k] = struct{}{}
		} else {
			dup = slices.Contains(norms, k)
			norms = append(norms, k)
		}
		if dup {
			return Errorf(ErrAttributeOrValueExists, fmt.Sprintf("%s: duplicate value %s", at.Name(), quote(v)))
		}
	}
	return nil
}

// CheckClasses is the first step of Check alone: known object classes
// forming one structural chain. It returns the structural class.
func (s *Schema) CheckClasses(e *Entry) (*ObjectClass, error) {
	var small [smallClasses]*ObjectClass
	structural, _, err := s.checkClasses(e, small[:0])
	return structural, err
}

// checkClasses appends e's object classes to classes, once each, and
// returns them with the structural class.
func (s *Schema) checkClasses(e *Entry, classes []*ObjectClass) (*ObjectClass, []*ObjectClass, error) {
	ocs := e.Get("objectClass")
	if len(ocs) == 0 {
		return nil, nil, Errorf(ErrObjectClassViolation, "entry has no objectClass")
	}
	for _, name := range ocs {
		c, ok := s.Class(name)
		if !ok {
			return nil, nil, Errorf(ErrObjectClassViolation, "unknown objectClass "+quote(name))
		}
		if !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	structural, err := structuralClass(classes)
	if err != nil {
		return nil, nil, err
	}
	return structural, classes, nil
}
