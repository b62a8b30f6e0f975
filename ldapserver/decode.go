package ldapserver

import (
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/logfield"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// baseMemo is the last search base a connection parsed: clients send the
// same base with every search, and a DN is an immutable value.
type baseMemo struct {
	s  string
	dn directory.DN
}

func (m *baseMemo) parse(s string) (directory.DN, error) {
	if m != nil && s == m.s && !m.dn.IsRoot() {
		return m.dn, nil
	}
	dn, err := directory.ParseDN(s)
	if err == nil && m != nil {
		m.s, m.dn = s, dn
	}
	return dn, err
}

// opMemory is a connection's memory for the operations it runs most, a
// search and an extended operation (WhoAmI): one operation runs at a time
// and its Request, Op among it, is not used after ServeLDAP returns (see
// Handler), so each reuses it instead of allocating. clear drops what the
// last one pointed to (the message's buffer) once it is done.
type opMemory struct {
	search   searchOp
	extended ExtendedRequest
}

// searchOp is a search and its filter's root, allocated together.
type searchOp struct {
	req  SearchRequest
	root directory.Filter
}

func (m *opMemory) clear() { *m = opMemory{} }

// toOperation turns a decoded wire request into the typed Operation the
// handlers see: DNs parsed, filters converted and resolved. It is the one
// place where protocol strings become directory values.
// bases, when not nil, remembers the connection's last search base; ops
// is where a search or an extended operation is built.
func toOperation(schema *directory.Schema, op wire.Request, bases *baseMemo, ops *opMemory) (Operation, error) {
	switch r := op.(type) {
	case *wire.BindRequest:
		return &BindRequest{Name: r.Name, Password: r.Password}, nil
	case *wire.SearchRequest:
		base, err := bases.parse(r.BaseObject)
		if err != nil {
			return nil, err
		}
		if r.Scope > wire.ScopeWholeSubtree {
			return nil, directory.Errorf(directory.ErrUnwillingToPerform, "subordinate subtree scope is not supported")
		}
		// The request and its filter's root in the connection's memory.
		x := &ops.search
		f := toFilterInto(&x.root, r.Filter)
		if err := f.Resolve(schema); err != nil {
			return nil, err
		}
		x.req = SearchRequest{Base: base, Scope: directory.Scope(r.Scope), Filter: f, Attrs: r.Attributes,
			TypesOnly: r.TypesOnly, SizeLimit: r.SizeLimit, TimeLimit: r.TimeLimit}
		return &x.req, nil
	case *wire.AddRequest:
		dn, err := directory.ParseDN(r.Entry)
		if err != nil {
			return nil, err
		}
		e := directory.NewEntry(dn)
		for _, a := range r.Attributes {
			if e.Has(a.Type) {
				return nil, directory.Errorf(directory.ErrAttributeOrValueExists, "attribute "+a.Type+" given twice")
			}
			e.Add(a.Type, a.Values...)
		}
		return &AddRequest{Entry: e}, nil
	case *wire.ModifyRequest:
		dn, err := directory.ParseDN(r.Object)
		if err != nil {
			return nil, err
		}
		changes := make([]directory.Change, len(r.Changes))
		for i, c := range r.Changes {
			changes[i] = directory.Change{Op: directory.ChangeOp(c.Op), Attr: c.Attr, Values: c.Values}
		}
		return &ModifyRequest{DN: dn, Changes: changes}, nil
	case *wire.DelRequest:
		dn, err := directory.ParseDN(r.DN)
		if err != nil {
			return nil, err
		}
		return &DeleteRequest{DN: dn}, nil
	case *wire.ModifyDNRequest:
		dn, err := directory.ParseDN(r.Entry)
		if err != nil {
			return nil, err
		}
		rdn, err := directory.ParseRDN(r.NewRDN)
		if err != nil {
			return nil, err
		}
		out := &ModifyDNRequest{DN: dn, NewRDN: rdn, DeleteOldRDN: r.DeleteOldRDN}
		if r.HasNewSuperior {
			sup, err := directory.ParseDN(r.NewSuperior)
			if err != nil {
				return nil, err
			}
			out.NewSuperior = &sup
		}
		return out, nil
	case *wire.CompareRequest:
		dn, err := directory.ParseDN(r.Entry)
		if err != nil {
			return nil, err
		}
		return &CompareRequest{DN: dn, Attr: r.Attr, Value: r.Value}, nil
	case *wire.ExtendedRequest:
		x := &ops.extended
		*x = ExtendedRequest{OID: r.Name, Value: r.Value, HasValue: r.HasValue}
		return x, nil
	}
	return nil, directory.Errorf(directory.ErrUnwillingToPerform, "unsupported operation")
}

// toFilter converts a wire filter; the wire decoder already bounded its
// depth and size, so plain recursion is safe.
func toFilter(w *wire.Filter) *directory.Filter { return toFilterInto(new(directory.Filter), w) }

// toFilterInto is toFilter with the root filter written to f.
func toFilterInto(f *directory.Filter, w *wire.Filter) *directory.Filter {
	*f = directory.Filter{
		Kind: directory.FilterKind(w.Kind), Attr: w.Attr, Value: w.Value,
		Rule: w.MatchingRule, DNAttrs: w.DNAttributes,
	}
	if w.Kind == wire.FilterSubstrings {
		f.Initial, f.Final = w.Initial, w.Final
		f.Any = append([]string(nil), w.Any...)
	}
	if len(w.Children) > 0 {
		f.Children = make([]*directory.Filter, len(w.Children))
		for i, c := range w.Children {
			f.Children[i] = toFilter(c)
		}
	}
	return f
}

// checkControls rejects a request carrying a control whose controlType is
// not a numeric OID. RFC 4511 §4.1.11 types it LDAPOID, which §4.1.2
// constrains to RFC 4512's numericoid; like OpenLDAP, ldapd answers such a
// request protocolError, critical or not. (An empty type would otherwise
// slip past the unknown-critical-control check: nothing is registered
// under "".)
func checkControls(controls []wire.Control) error {
	for _, c := range controls {
		if !isNumericOID(c.OID) {
			return directory.Errorf(wire.ErrMalformed, "control type "+quoteClipped(c.OID)+" is not a numeric OID")
		}
	}
	return nil
}

// isNumericOID reports whether s is an RFC 4512 numericoid: two or more
// dot-separated numbers, none with a leading zero.
func isNumericOID(s string) bool {
	arcs, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
			continue
		}
		if arc := s[start:i]; arc == "" || (len(arc) > 1 && arc[0] == '0') {
			return false
		}
		arcs, start = arcs+1, i+1
	}
	return arcs >= 2
}

// quoteClipped quotes a client-supplied string for a result message,
// clipped as a log field is, so an answer never echoes megabytes back.
func quoteClipped(s string) string {
	return "\"" + logfield.Clip(s) + "\""
}
