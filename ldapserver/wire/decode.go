package wire

import (
	"bytes"
	"fmt"
	"unsafe"
)

// Decode decodes one LDAPMessage holding a request, as returned by
// ReadPacket: the packet must be exactly one TLV.
//
// Decode does not retain packet; the caller may reuse it at once. The
// strings and byte slices of the returned Message share one private copy of
// the packet (see the package Caveats).
//
// If the envelope and messageID decode but the operation or the controls do
// not, the error is a *DecodeError carrying the messageID and protocolOp
// tag, so the server can answer with protocolError. Every error wraps
// ErrMalformed or, for a well-formed message beyond lim, ErrLimitExceeded.
func Decode(packet []byte, lim Limits) (*Message, error) {
	if len(packet) == 0 {
		return nil, fmt.Errorf("%w: empty packet", ErrMalformed)
	}
	// One copy of the packet backs every string and byte slice of the
	// Message. The copy is private to the Message, and the only parts of it
	// a caller can write are the byte-slice fields, which no string
	// overlaps (each field is a distinct primitive TLV). The strings' bytes
	// therefore never change, which is what makes unsafe.String sound.
	buf := bytes.Clone(packet)
	d := decoder{buf: buf, s: unsafe.String(&buf[0], len(buf)), lim: lim.withDefaults()}
	return d.message()
}

// decoder holds one message's private buffer and the limits in force.
type decoder struct {
	buf []byte
	s   string // buf viewed as a string
	lim Limits
}

// str returns e's contents as a string sharing the decoder's buffer.
func (d *decoder) str(e element) string { return d.s[e.off:e.end] }

// bytes returns e's contents as a slice of the decoder's buffer, capped so
// that an append by the caller cannot overwrite what follows.
func (d *decoder) bytes(e element) []byte { return d.buf[e.off:e.end:e.end] }

// string reads a primitive TLV with the given identifier as a string.
func (d *decoder) string(c *cursor, tag byte, what string) (string, error) {
	e, err := c.expect(tag, what)
	if err != nil {
		return "", err
	}
	return d.str(e), nil
}

// integer reads an INTEGER or ENUMERATED (by tag) in [lo, hi].
func (d *decoder) integer(c *cursor, tag byte, lo, hi int64, what string) (int, error) {
	e, err := c.expect(tag, what)
	if err != nil {
		return 0, err
	}
	v, err := parseInt(d.bytes(e), lo, hi, what)
	return int(v), err
}

// boolean reads a universal BOOLEAN.
func (d *decoder) boolean(c *cursor, what string) (bool, error) {
	e, err := c.expect(tagBoolean, what)
	if err != nil {
		return false, err
	}
	return parseBool(d.bytes(e), what)
}

// optional reads the next TLV if its identifier is tag. ok reports whether
// it was there.
func (c *cursor) optional(tag byte, what string) (e element, ok bool, err error) {
	if t, more := c.peek(); !more || t != tag {
		return element{}, false, nil
	}
	e, err = c.next()
	if err != nil {
		return element{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return e, true, nil
}

// limitErr reports that n items exceed the limit for what.
func limitErr(what string, n, limit int) error {
	return fmt.Errorf("%w: %d %s (limit %d)", ErrLimitExceeded, n, what, limit)
}

// Identifier octets of the requests.
const (
	idBind     = classApplication | constructed | byte(ApplicationBindRequest)
	idUnbind   = classApplication | byte(ApplicationUnbindRequest)
	idSearch   = classApplication | constructed | byte(ApplicationSearchRequest)
	idModify   = classApplication | constructed | byte(ApplicationModifyRequest)
	idAdd      = classApplication | constructed | byte(ApplicationAddRequest)
	idDel      = classApplication | byte(ApplicationDelRequest)
	idModifyDN = classApplication | constructed | byte(ApplicationModifyDNRequest)
	idCompare  = classApplication | constructed | byte(ApplicationCompareRequest)
	idAbandon  = classApplication | byte(ApplicationAbandonRequest)
	idExtended = classApplication | constructed | byte(ApplicationExtendedRequest)

	idControls = classContext | constructed | 0
)

// message decodes the LDAPMessage envelope:
//
//	LDAPMessage ::= SEQUENCE {
//	     messageID       MessageID,
//	     protocolOp      CHOICE { ... },
//	     controls       [0] Controls OPTIONAL }
func (d *decoder) message() (*Message, error) {
	top := newCursor(d.buf)
	env, err := top.expect(tagSequence, "LDAPMessage")
	if err != nil {
		return nil, err
	}
	if !top.empty() {
		return nil, fmt.Errorf("%w: %d octets after the LDAPMessage", ErrMalformed, top.end-top.off)
	}
	c := top.inside(env)
	id, err := d.integer(&c, tagInteger, 0, maxInt, "messageID")
	if err != nil {
		return nil, err
	}
	opEl, err := c.next()
	if err != nil {
		return nil, fmt.Errorf("protocolOp: %w", err)
	}
	fail := func(err error) (*Message, error) {
		return nil, &DecodeError{ID: int32(id), Tag: RequestTag(opEl.tag & tagNumberMask), Err: err}
	}
	m, err := d.operation(opEl)
	if err != nil {
		return fail(err)
	}
	m.ID = int32(id)
	ctl, ok, err := c.optional(idControls, "controls")
	if err != nil {
		return fail(err)
	}
	if ok {
		if m.Controls, err = d.controls(c.inside(ctl)); err != nil {
			return fail(err)
		}
	}
	if err := c.trailing("LDAPMessage", idControls); err != nil {
		return fail(err)
	}
	return m, nil
}

// operation decodes the protocolOp. Each Message is allocated together with
// its operation (newMessage), one allocation for both.
func (d *decoder) operation(e element) (*Message, error) {
	c := cursor{buf: d.buf, off: e.off, end: e.end}
	switch e.tag {
	case idBind:
		m, r := newMessage[BindRequest]()
		return m, d.bind(c, r)
	case idUnbind:
		if e.len() != 0 {
			return nil, fmt.Errorf("%w: unbindRequest with %d octets of contents", ErrMalformed, e.len())
		}
		return &Message{Op: &UnbindRequest{}}, nil
	case idSearch:
		x := new(searchMessage)
		x.m.Op = &x.r
		return &x.m, d.search(c, x)
	case idModify:
		m, r := newMessage[ModifyRequest]()
		return m, d.modify(c, r)
	case idAdd:
		m, r := newMessage[AddRequest]()
		return m, d.add(c, r)
	case idDel:
		m, r := newMessage[DelRequest]()
		r.DN = d.str(e)
		return m, nil
	case idModifyDN:
		m, r := newMessage[ModifyDNRequest]()
		return m, d.modifyDN(c, r)
	case idCompare:
		m, r := newMessage[CompareRequest]()
		return m, d.compare(c, r)
	case idAbandon:
		id, err := parseInt(d.bytes(e), 0, maxInt, "abandon messageID")
		if err != nil {
			return nil, err
		}
		m, r := newMessage[AbandonRequest]()
		r.ID = int32(id)
		return m, nil
	case idExtended:
		m, r := newMessage[ExtendedRequest]()
		return m, d.extended(c, r)
	}
	return nil, fmt.Errorf("%w: unrecognized protocolOp identifier 0x%02x", ErrMalformed, e.tag)
}

// newMessage allocates a Message and its operation of type T in one
// allocation, and returns both.
func newMessage[T any, P interface {
	*T
	Request
}]() (*Message, P) {
	x := new(struct {
		m Message
		r T
	})
	x.m.Op = P(&x.r)
	return &x.m, &x.r
}

// bind decodes
//
//	BindRequest ::= [APPLICATION 0] SEQUENCE {
//	     version                 INTEGER (1 ..  127),
//	     name                    LDAPDN,
//	     authentication          AuthenticationChoice }
//	AuthenticationChoice ::= CHOICE {
//	     simple                  [0] OCTET STRING,
//	     sasl                    [3] SaslCredentials,
//	     ...  }
//	SaslCredentials ::= SEQUENCE {
//	     mechanism               LDAPString,
//	     credentials             OCTET STRING OPTIONAL }
func (d *decoder) bind(c cursor, r *BindRequest) error {
	var err error
	if r.Version, err = d.integer(&c, tagInteger, 1, 127, "version"); err != nil {
		return err
	}
	if r.Name, err = d.string(&c, tagOctetString, "name"); err != nil {
		return err
	}
	auth, err := c.next()
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	switch auth.tag {
	case classContext | 0:
		r.Simple = true
		r.Password = d.bytes(auth)
	case classContext | constructed | 3:
		s := c.inside(auth)
		if r.SASLMechanism, err = d.string(&s, tagOctetString, "SASL mechanism"); err != nil {
			return err
		}
		cred, ok, err := s.optional(tagOctetString, "SASL credentials")
		if err != nil {
			return err
		}
		if ok {
			r.SASLCredentials, r.HasSASLCredentials = d.bytes(cred), true
		}
		if err := s.trailing("SaslCredentials", tagOctetString); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: unsupported authentication choice 0x%02x", ErrMalformed, auth.tag)
	}
	return c.trailing("bindRequest")
}

// search decodes
//
//	SearchRequest ::= [APPLICATION 3] SEQUENCE {
//	     baseObject      LDAPDN,
//	     scope           ENUMERATED { baseObject (0), singleLevel (1), wholeSubtree (2), ... },
//	     derefAliases    ENUMERATED { neverDerefAliases (0), ..., derefAlways (3) },
//	     sizeLimit       INTEGER (0 ..  maxInt),
//	     timeLimit       INTEGER (0 ..  maxInt),
//	     typesOnly       BOOLEAN,
//	     filter          Filter,
//	     attributes      AttributeSelection }
//
// Scope 3 (subordinateSubtree) is accepted as an extension.
func (d *decoder) search(c cursor, x *searchMessage) error {
	r := &x.r
	var err error
	if r.BaseObject, err = d.string(&c, tagOctetString, "baseObject"); err != nil {
		return err
	}
	if r.Scope, err = d.integer(&c, tagEnumerated, 0, 3, "scope"); err != nil {
		return err
	}
	if r.DerefAliases, err = d.integer(&c, tagEnumerated, 0, 3, "derefAliases"); err != nil {
		return err
	}
	if r.SizeLimit, err = d.integer(&c, tagInteger, 0, maxInt, "sizeLimit"); err != nil {
		return err
	}
	if r.TimeLimit, err = d.integer(&c, tagInteger, 0, maxInt, "timeLimit"); err != nil {
		return err
	}
	if r.TypesOnly, err = d.boolean(&c, "typesOnly"); err != nil {
		return err
	}
	f, err := c.next()
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	if r.Filter, err = d.filter(f, x.nodes[:]); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	attrs, err := c.expect(tagSequence, "attributes")
	if err != nil {
		return err
	}
	if r.Attributes, err = d.stringsIn(x.attrs[:], c.inside(attrs), d.lim.MaxAttributes, "attributes"); err != nil {
		return err
	}
	return c.trailing("searchRequest")
}

// searchMessage is a Message holding a SearchRequest, allocated at once
// with room for the filter and attribute list of a typical search (a
// single assertion, a few attributes): those take no allocation of their
// own.
type searchMessage struct {
	m     Message
	r     SearchRequest
	nodes [1]Filter
	attrs [6]string
}

// strings decodes a SEQUENCE OF (or SET OF) OCTET STRING into a slice of
// exactly the right size; nil if empty.
func (d *decoder) strings(c cursor, limit int, what string) ([]string, error) {
	return d.stringsIn(nil, c, limit, what)
}

// stringsIn is strings, using room (capped to the strings' number) when
// they fit in it.
func (d *decoder) stringsIn(room []string, c cursor, limit int, what string) ([]string, error) {
	n, err := c.count(tagOctetString, what)
	if err != nil || n == 0 {
		return nil, err
	}
	if n > limit {
		return nil, limitErr(what, n, limit)
	}
	var out []string
	if n <= len(room) {
		out = room[:n:n]
	} else {
		out = make([]string, n)
	}
	for i := range out {
		e, err := c.next()
		if err != nil {
			return nil, err
		}
		out[i] = d.str(e)
	}
	return out, nil
}

// partialAttribute decodes
//
//	PartialAttribute ::= SEQUENCE {
//	     type       AttributeDescription,
//	     vals       SET OF value AttributeValue }
//
// It returns the type, a cursor over the values and their number, having
// checked that each value is an OCTET STRING.
func (d *decoder) partialAttribute(c cursor) (typ string, vals cursor, n int, err error) {
	if typ, err = d.string(&c, tagOctetString, "attribute type"); err != nil {
		return "", cursor{}, 0, err
	}
	set, err := c.expect(tagSet, "attribute values")
	if err != nil {
		return "", cursor{}, 0, err
	}
	vals = c.inside(set)
	if n, err = vals.count(tagOctetString, "attribute value"); err != nil {
		return "", cursor{}, 0, err
	}
	return typ, vals, n, c.trailing("attribute")
}

// valueSlab hands out the attribute values of one request from a single
// allocation sized by a counting pass.
type valueSlab []string

// take fills the next n values from vals; nil if n is zero.
func (s *valueSlab) take(d *decoder, vals cursor, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	out := (*s)[:n:n]
	*s = (*s)[n:]
	for i := range out {
		e, err := vals.next()
		if err != nil {
			return nil, err
		}
		out[i] = d.str(e)
	}
	return out, nil
}

// valueList decodes a SEQUENCE OF elements that each end in an
// attribute's values (modify's changes, add's attributes) in two passes:
// the first validates and counts, so the second allocates the elements and
// all their values exactly once. item decodes the contents of one element
// but its values, which it returns; values says where they go.
func valueList[T any](d *decoder, list cursor, what string, item func(c cursor) (_ T, vals cursor, n int, _ error), values func(*T) *[]string) ([]T, error) {
	nItems, nValues := 0, 0
	for l := list; !l.empty(); {
		e, err := l.expect(tagSequence, what)
		if err != nil {
			return nil, err
		}
		_, _, n, err := item(l.inside(e))
		if err != nil {
			return nil, err
		}
		if nItems++; nItems > d.lim.MaxAttributes {
			return nil, limitErr(what+"s", nItems, d.lim.MaxAttributes)
		}
		if nValues += n; nValues > d.lim.MaxValues {
			return nil, limitErr("values", nValues, d.lim.MaxValues)
		}
	}
	if nItems == 0 {
		return nil, nil
	}
	out := make([]T, nItems)
	slab := make(valueSlab, nValues)
	for i := range out {
		e, err := list.next()
		if err != nil {
			return nil, err
		}
		var vals cursor
		var n int
		if out[i], vals, n, err = item(list.inside(e)); err != nil {
			return nil, err
		}
		if *values(&out[i]), err = slab.take(d, vals, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// modify decodes
//
//	ModifyRequest ::= [APPLICATION 6] SEQUENCE {
//	     object          LDAPDN,
//	     changes         SEQUENCE OF change SEQUENCE {
//	          operation       ENUMERATED { add (0), delete (1), replace (2), ... },
//	          modification    PartialAttribute } }
//
// Operation 3 (increment, RFC 4525) is accepted.
func (d *decoder) modify(c cursor, r *ModifyRequest) error {
	var err error
	if r.Object, err = d.string(&c, tagOctetString, "object"); err != nil {
		return err
	}
	ce, err := c.expect(tagSequence, "changes")
	if err != nil {
		return err
	}
	r.Changes, err = valueList(d, c.inside(ce), "change", func(c cursor) (Change, cursor, int, error) {
		op, typ, vals, n, err := d.change(c)
		return Change{Op: op, Attr: typ}, vals, n, err
	}, func(ch *Change) *[]string { return &ch.Values })
	if err != nil {
		return err
	}
	return c.trailing("modifyRequest")
}

// change decodes one element of a modifyRequest's changes.
func (d *decoder) change(c cursor) (op int, typ string, vals cursor, n int, err error) {
	if op, err = d.integer(&c, tagEnumerated, 0, 3, "modify operation"); err != nil {
		return 0, "", cursor{}, 0, err
	}
	pa, err := c.expect(tagSequence, "modification")
	if err != nil {
		return 0, "", cursor{}, 0, err
	}
	if typ, vals, n, err = d.partialAttribute(c.inside(pa)); err != nil {
		return 0, "", cursor{}, 0, err
	}
	return op, typ, vals, n, c.trailing("change")
}

// add decodes
//
//	AddRequest ::= [APPLICATION 8] SEQUENCE {
//	     entry           LDAPDN,
//	     attributes      AttributeList }
//	AttributeList ::= SEQUENCE OF attribute Attribute
//
// where an Attribute is a PartialAttribute with at least one value.
func (d *decoder) add(c cursor, r *AddRequest) error {
	var err error
	if r.Entry, err = d.string(&c, tagOctetString, "entry"); err != nil {
		return err
	}
	ae, err := c.expect(tagSequence, "attributes")
	if err != nil {
		return err
	}
	r.Attributes, err = valueList(d, c.inside(ae), "attribute", func(c cursor) (Attribute, cursor, int, error) {
		typ, vals, n, err := d.partialAttribute(c)
		if err == nil && n == 0 {
			err = fmt.Errorf("%w: attribute %q has no values", ErrMalformed, typ)
		}
		return Attribute{Type: typ}, vals, n, err
	}, func(a *Attribute) *[]string { return &a.Values })
	if err != nil {
		return err
	}
	return c.trailing("addRequest")
}

// modifyDN decodes
//
//	ModifyDNRequest ::= [APPLICATION 12] SEQUENCE {
//	     entry           LDAPDN,
//	     newrdn          RelativeLDAPDN,
//	     deleteoldrdn    BOOLEAN,
//	     newSuperior     [0] LDAPDN OPTIONAL }
func (d *decoder) modifyDN(c cursor, r *ModifyDNRequest) error {
	var err error
	if r.Entry, err = d.string(&c, tagOctetString, "entry"); err != nil {
		return err
	}
	if r.NewRDN, err = d.string(&c, tagOctetString, "newrdn"); err != nil {
		return err
	}
	if r.DeleteOldRDN, err = d.boolean(&c, "deleteoldrdn"); err != nil {
		return err
	}
	sup, ok, err := c.optional(classContext|0, "newSuperior")
	if err != nil {
		return err
	}
	if ok {
		r.NewSuperior, r.HasNewSuperior = d.str(sup), true
	}
	return c.trailing("modDNRequest", classContext|0)
}

// compare decodes
//
//	CompareRequest ::= [APPLICATION 14] SEQUENCE {
//	     entry           LDAPDN,
//	     ava             AttributeValueAssertion }
func (d *decoder) compare(c cursor, r *CompareRequest) error {
	var err error
	if r.Entry, err = d.string(&c, tagOctetString, "entry"); err != nil {
		return err
	}
	ava, err := c.expect(tagSequence, "ava")
	if err != nil {
		return err
	}
	if r.Attr, r.Value, err = d.assertion(c.inside(ava)); err != nil {
		return err
	}
	return c.trailing("compareRequest")
}

// assertion decodes the contents of
//
//	AttributeValueAssertion ::= SEQUENCE {
//	     attributeDesc   AttributeDescription,
//	     assertionValue  AssertionValue }
func (d *decoder) assertion(c cursor) (attr, value string, err error) {
	if attr, err = d.string(&c, tagOctetString, "attributeDesc"); err != nil {
		return "", "", err
	}
	if value, err = d.string(&c, tagOctetString, "assertionValue"); err != nil {
		return "", "", err
	}
	return attr, value, c.trailing("attribute value assertion")
}

// extended decodes
//
//	ExtendedRequest ::= [APPLICATION 23] SEQUENCE {
//	     requestName      [0] LDAPOID,
//	     requestValue     [1] OCTET STRING OPTIONAL }
func (d *decoder) extended(c cursor, r *ExtendedRequest) error {
	var err error
	if r.Name, err = d.string(&c, classContext|0, "requestName"); err != nil {
		return err
	}
	v, ok, err := c.optional(classContext|1, "requestValue")
	if err != nil {
		return err
	}
	if ok {
		r.Value, r.HasValue = d.bytes(v), true
	}
	return c.trailing("extendedReq", classContext|0, classContext|1)
}

// controls decodes
//
//	Controls ::= SEQUENCE OF control Control
//	Control ::= SEQUENCE {
//	     controlType             LDAPOID,
//	     criticality             BOOLEAN DEFAULT FALSE,
//	     controlValue            OCTET STRING OPTIONAL }
func (d *decoder) controls(c cursor) ([]Control, error) {
	n, err := c.count(tagSequence, "control")
	if err != nil || n == 0 {
		return nil, err
	}
	if n > d.lim.MaxControls {
		return nil, limitErr("controls", n, d.lim.MaxControls)
	}
	out := make([]Control, n)
	for i := range out {
		e, err := c.next()
		if err != nil {
			return nil, err
		}
		if err := d.control(c.inside(e), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// control decodes one Control.
func (d *decoder) control(c cursor, ctl *Control) error {
	var err error
	if ctl.OID, err = d.string(&c, tagOctetString, "controlType"); err != nil {
		return err
	}
	crit, ok, err := c.optional(tagBoolean, "criticality")
	if err != nil {
		return err
	}
	if ok {
		if ctl.Critical, err = parseBool(d.bytes(crit), "criticality"); err != nil {
			return err
		}
	}
	v, ok, err := c.optional(tagOctetString, "controlValue")
	if err != nil {
		return err
	}
	if ok {
		ctl.Value, ctl.HasValue = d.bytes(v), true
	}
	return c.trailing("control", tagBoolean, tagOctetString)
}
