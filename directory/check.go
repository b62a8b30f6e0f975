package directory

import (
	"fmt"
)

// ExpandObjectClasses rewrites e's objectClass values to canonical names and
// adds every superclass, so that (objectClass=person) matches an
// inetOrgPerson. An unknown class is ErrObjectClassViolation.
func (s *Schema) ExpandObjectClasses(e *Entry) error {
	var out []string
	seen := map[*ObjectClass]bool{}
	var add func(c *ObjectClass)
	add = func(c *ObjectClass) {
		if seen[c] {
			return
		}
		seen[c] = true
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
	structural, classes, err := s.checkClasses(e)
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

func structuralClass(classes map[*ObjectClass]bool) (*ObjectClass, error) {
	var found *ObjectClass
	for c := range classes {
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

func (s *Schema) checkAttributes(e *Entry, classes map[*ObjectClass]bool) error {
	extensible := false
	for c := range classes {
		extensible = extensible || c.extensible
		for _, at := range c.must {
			if !e.Has(at.Name()) {
				return Errorf(ErrObjectClassViolation, "object class requires attribute "+at.Name())
			}
		}
	}
	allowed := func(at *AttributeType) bool {
		for c := range classes {
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
		seen := newValueSet(s, at.Name(), nil)
		for i, v := range a.Values {
			if err := at.ValidateValue(v); err != nil {
				return err
			}
			if seen.index(v) >= 0 {
				return Errorf(ErrAttributeOrValueExists, fmt.Sprintf("%s: duplicate value %s", at.Name(), quote(v)))
			}
			seen.add(v, i)
		}
	}
	return nil
}

// CheckClasses is the first step of Check alone: known object classes
// forming one structural chain. It returns the structural class.
func (s *Schema) CheckClasses(e *Entry) (*ObjectClass, error) {
	structural, _, err := s.checkClasses(e)
	return structural, err
}

func (s *Schema) checkClasses(e *Entry) (*ObjectClass, map[*ObjectClass]bool, error) {
	ocs := e.Get("objectClass")
	if len(ocs) == 0 {
		return nil, nil, Errorf(ErrObjectClassViolation, "entry has no objectClass")
	}
	classes := map[*ObjectClass]bool{}
	for _, name := range ocs {
		c, ok := s.Class(name)
		if !ok {
			return nil, nil, Errorf(ErrObjectClassViolation, "unknown objectClass "+quote(name))
		}
		classes[c] = true
	}
	structural, err := structuralClass(classes)
	if err != nil {
		return nil, nil, err
	}
	return structural, classes, nil
}
