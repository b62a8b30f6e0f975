package wire

import "strconv"

// RequestTag is the [APPLICATION n] tag number of a request protocolOp.
type RequestTag uint8

// Request tags (RFC 4511 §4.2 to §4.12).
const (
	ApplicationBindRequest     RequestTag = 0
	ApplicationUnbindRequest   RequestTag = 2
	ApplicationSearchRequest   RequestTag = 3
	ApplicationModifyRequest   RequestTag = 6
	ApplicationAddRequest      RequestTag = 8
	ApplicationDelRequest      RequestTag = 10 // primitive: the contents are the DN
	ApplicationModifyDNRequest RequestTag = 12
	ApplicationCompareRequest  RequestTag = 14
	ApplicationAbandonRequest  RequestTag = 16 // primitive: the contents are a MessageID
	ApplicationExtendedRequest RequestTag = 23
)

// String returns the operation's RFC 4511 name, such as "searchRequest".
func (t RequestTag) String() string {
	switch t {
	case ApplicationBindRequest:
		return "bindRequest"
	case ApplicationUnbindRequest:
		return "unbindRequest"
	case ApplicationSearchRequest:
		return "searchRequest"
	case ApplicationModifyRequest:
		return "modifyRequest"
	case ApplicationAddRequest:
		return "addRequest"
	case ApplicationDelRequest:
		return "delRequest"
	case ApplicationModifyDNRequest:
		return "modDNRequest"
	case ApplicationCompareRequest:
		return "compareRequest"
	case ApplicationAbandonRequest:
		return "abandonRequest"
	case ApplicationExtendedRequest:
		return "extendedReq"
	}
	return "protocolOp(" + strconv.Itoa(int(t)) + ")"
}

// ResponseTag returns the tag of the response that answers a request of
// this type (for a search, the final searchResDone), and false for unbind,
// abandon and unknown tags, which have none.
func (t RequestTag) ResponseTag() (ResponseTag, bool) {
	switch t {
	case ApplicationBindRequest:
		return ApplicationBindResponse, true
	case ApplicationSearchRequest:
		return ApplicationSearchResultDone, true
	case ApplicationModifyRequest:
		return ApplicationModifyResponse, true
	case ApplicationAddRequest:
		return ApplicationAddResponse, true
	case ApplicationDelRequest:
		return ApplicationDelResponse, true
	case ApplicationModifyDNRequest:
		return ApplicationModifyDNResponse, true
	case ApplicationCompareRequest:
		return ApplicationCompareResponse, true
	case ApplicationExtendedRequest:
		return ApplicationExtendedResponse, true
	}
	return 0, false
}

// Message is one decoded LDAPMessage (RFC 4511 §4.1.1).
type Message struct {
	// ID is the messageID, in 0..2^31-1. RFC 4511 §4.1.1.1 requires a
	// request's ID to be non-zero; Decode leaves that check to the server.
	ID int32
	// Op is the operation: one of *BindRequest, *UnbindRequest,
	// *SearchRequest, *ModifyRequest, *AddRequest, *DelRequest,
	// *ModifyDNRequest, *CompareRequest, *AbandonRequest or
	// *ExtendedRequest. It is never nil.
	Op Request
	// Controls are the request controls, in the order sent; nil if none.
	Controls []Control
}

// Request is the sum type of decoded operations. The unexported method
// closes the set to the types of this package, so a type switch over them
// is exhaustive.
type Request interface {
	// Tag returns the operation's protocolOp tag.
	Tag() RequestTag
	isRequest()
}

// Control is a request or response control (RFC 4511 §4.1.11).
type Control struct {
	// OID is the controlType. Decode does not check that it is a numeric
	// OID; compare it against the OIDs the server knows.
	OID string
	// Critical is the criticality flag.
	Critical bool
	// Value is the controlValue, meaningful only if HasValue.
	Value []byte
	// HasValue reports whether controlValue was present; an absent value
	// and an empty one differ for some controls.
	HasValue bool
}

// BindRequest is a bindRequest (RFC 4511 §4.2).
type BindRequest struct {
	// Version is the protocol version, in 1..127. Only 3 is valid today;
	// the server answers protocolError to anything else (RFC 4511 §4.2.1).
	Version int
	// Name is the bind DN, unparsed; empty for anonymous and SASL binds.
	Name string
	// Simple is true for simple authentication ([0]), false for SASL ([3]).
	Simple bool
	// Password is the simple password, possibly empty.
	Password []byte
	// SASLMechanism is the SASL mechanism name.
	SASLMechanism string
	// SASLCredentials are the SASL credentials, meaningful only if
	// HasSASLCredentials.
	SASLCredentials    []byte
	HasSASLCredentials bool
}

// UnbindRequest is an unbindRequest (RFC 4511 §4.3).
type UnbindRequest struct{}

// Search scopes (RFC 4511 §4.5.1.2); SubordinateSubtree is from
// draft-sermersheim-ldap-subordinate-scope.
const (
	ScopeBaseObject         = 0
	ScopeSingleLevel        = 1
	ScopeWholeSubtree       = 2
	ScopeSubordinateSubtree = 3
)

// Alias dereferencing policies (RFC 4511 §4.5.1.3).
const (
	NeverDerefAliases   = 0
	DerefInSearching    = 1
	DerefFindingBaseObj = 2
	DerefAlways         = 3
)

// SearchRequest is a searchRequest (RFC 4511 §4.5.1).
type SearchRequest struct {
	// BaseObject is the base DN, unparsed.
	BaseObject string
	// Scope is one of the Scope constants (0..3).
	Scope int
	// DerefAliases is one of the Deref constants (0..3).
	DerefAliases int
	// SizeLimit and TimeLimit are the client's limits, in 0..2^31-1;
	// zero means no client-requested limit.
	SizeLimit int
	TimeLimit int
	// TypesOnly asks for attribute descriptions without values.
	TypesOnly bool
	// Filter is the search filter; never nil.
	Filter *Filter
	// Attributes is the attribute selection, as sent (it may hold "*",
	// "+" and "1.1"); nil if empty.
	Attributes []string
}

// Modify operations (RFC 4511 §4.6; increment is RFC 4525).
const (
	ModAdd       = 0
	ModDelete    = 1
	ModReplace   = 2
	ModIncrement = 3
)

// ModifyRequest is a modifyRequest (RFC 4511 §4.6).
type ModifyRequest struct {
	// Object is the DN of the entry to modify, unparsed.
	Object string
	// Changes are applied in order, atomically.
	Changes []Change
}

// Change is one modification of a modifyRequest.
type Change struct {
	// Op is one of the Mod constants (0..3).
	Op int
	// Attr is the attribute description.
	Attr string
	// Values are the values to add, delete or replace with; nil if none.
	Values []string
}

// AddRequest is an addRequest (RFC 4511 §4.7).
type AddRequest struct {
	// Entry is the DN of the new entry, unparsed.
	Entry string
	// Attributes are the entry's attributes; each has at least one value.
	Attributes []Attribute
}

// Attribute is an attribute description with its values. In an
// AddRequest it has at least one value; in a search result entry, an empty
// Values list encodes a typesOnly answer.
type Attribute struct {
	Type   string
	Values []string
}

// DelRequest is a delRequest (RFC 4511 §4.8).
type DelRequest struct {
	// DN is the entry to delete, unparsed.
	DN string
}

// ModifyDNRequest is a modDNRequest (RFC 4511 §4.9).
type ModifyDNRequest struct {
	// Entry is the DN of the entry to rename, unparsed.
	Entry string
	// NewRDN is the new RDN, unparsed.
	NewRDN string
	// DeleteOldRDN asks for the old RDN values to be removed.
	DeleteOldRDN bool
	// NewSuperior is the new parent DN, meaningful only if HasNewSuperior.
	NewSuperior    string
	HasNewSuperior bool
}

// CompareRequest is a compareRequest (RFC 4511 §4.10).
type CompareRequest struct {
	// Entry is the DN of the entry to compare, unparsed.
	Entry string
	// Attr and Value are the attribute value assertion.
	Attr  string
	Value string
}

// AbandonRequest is an abandonRequest (RFC 4511 §4.11).
type AbandonRequest struct {
	// ID is the messageID of the operation to abandon.
	ID int32
}

// ExtendedRequest is an extendedReq (RFC 4511 §4.12).
type ExtendedRequest struct {
	// Name is the requestName OID.
	Name string
	// Value is the requestValue, meaningful only if HasValue.
	Value    []byte
	HasValue bool
}

// Tag implements Request.
func (*BindRequest) Tag() RequestTag { return ApplicationBindRequest }

// Tag implements Request.
func (*UnbindRequest) Tag() RequestTag { return ApplicationUnbindRequest }

// Tag implements Request.
func (*SearchRequest) Tag() RequestTag { return ApplicationSearchRequest }

// Tag implements Request.
func (*ModifyRequest) Tag() RequestTag { return ApplicationModifyRequest }

// Tag implements Request.
func (*AddRequest) Tag() RequestTag { return ApplicationAddRequest }

// Tag implements Request.
func (*DelRequest) Tag() RequestTag { return ApplicationDelRequest }

// Tag implements Request.
func (*ModifyDNRequest) Tag() RequestTag { return ApplicationModifyDNRequest }

// Tag implements Request.
func (*CompareRequest) Tag() RequestTag { return ApplicationCompareRequest }

// Tag implements Request.
func (*AbandonRequest) Tag() RequestTag { return ApplicationAbandonRequest }

// Tag implements Request.
func (*ExtendedRequest) Tag() RequestTag { return ApplicationExtendedRequest }

func (*BindRequest) isRequest()     {}
func (*UnbindRequest) isRequest()   {}
func (*SearchRequest) isRequest()   {}
func (*ModifyRequest) isRequest()   {}
func (*AddRequest) isRequest()      {}
func (*DelRequest) isRequest()      {}
func (*ModifyDNRequest) isRequest() {}
func (*CompareRequest) isRequest()  {}
func (*AbandonRequest) isRequest()  {}
func (*ExtendedRequest) isRequest() {}
