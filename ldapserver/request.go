package ldapserver

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// Handler serves one LDAP operation. The Request, and the Operation it
// holds, belong to the server again once ServeLDAP returns (it reuses
// their memory for the connection's next operation): a Handler copies
// what it keeps.
type Handler interface {
	ServeLDAP(w ResponseWriter, r *Request)
}

// SchemaSource is implemented by a Handler that resolves names and
// filters against a schema of its own (the gateway: its idm.Service's).
// The server decodes requests with that same schema, so the two cannot
// differ; other handlers get directory.Builtin().
type SchemaSource interface {
	Schema() *directory.Schema
}

// ConnContexter is implemented by a Handler that gives every operation
// of a connection values of its own (the gateway: the connection id and
// client address its logs and throttle use). ConnContext is called once,
// when the connection opens, with its id (Request.ConnID) and remote
// address, and returns ctx with the values added: what Request.Context
// then carries for each operation, so that the values are made once per
// connection rather than once per operation. The returned context must
// not be cancelable: the server gives each operation its own time limit.
type ConnContexter interface {
	ConnContext(ctx context.Context, connID uint64, remote net.Addr) context.Context
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ResponseWriter, *Request)

// ServeLDAP calls f(w, r).
func (f HandlerFunc) ServeLDAP(w ResponseWriter, r *Request) { f(w, r) }

// Identity is what a successful bind established, as the Handler defines
// it. nil is anonymous. String describes it for logs and must not reveal
// secrets.
type Identity interface {
	String() string
}

// Request is one decoded operation.
type Request struct {
	ctx context.Context
	// MessageID is the LDAP message ID.
	MessageID int32
	// Op is the operation: one of *BindRequest, *SearchRequest,
	// *AddRequest, *ModifyRequest, *DeleteRequest, *ModifyDNRequest,
	// *CompareRequest or *ExtendedRequest.
	Op Operation
	// Controls are the request's controls.
	Controls []wire.Control
	// Bound is the connection's identity; nil for anonymous.
	Bound Identity
	// TLS is the connection's TLS state; nil on a plaintext connection.
	TLS *tls.ConnectionState
	// ConnID identifies the connection in logs.
	ConnID uint64
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
	// PasswordsAllowed reports whether a password may travel on this
	// connection: it has TLS, or the server's AllowInsecureBind is set.
	// A handler of an operation carrying a password other than a bind
	// (Password Modify) refuses it with confidentialityRequired otherwise,
	// as the loop refuses a bind.
	PasswordsAllowed bool
}

// Context returns the request's context. A search's carries its time
// limit as a deadline. It is not cancelled when the client disconnects or
// the server shuts down: a connection runs one operation at a time and is
// not read while one runs, so nothing notices; what bounds a handler's
// work is its own limits (a search's time limit, the password length and
// hash-cost caps, the throttle's longest wait), and a shutdown waits for
// operations in flight.
func (r *Request) Context() context.Context { return r.ctx }

// Control returns the control with oid, if the request has one.
func (r *Request) Control(oid string) (wire.Control, bool) {
	for _, c := range r.Controls {
		if c.OID == oid {
			return c, true
		}
	}
	return wire.Control{}, false
}

// Operation is the sum type of decoded operations.
type Operation interface {
	// OpName is the operation's name for logs ("bind", "search", ...).
	OpName() string
	// Target is the DN the operation acts on, for logs.
	Target() string
}

// BindRequest is a simple bind (SASL binds are refused by the loop).
type BindRequest struct {
	// Name is the bind name as sent: a DN, a bare account name, an spn or
	// "dn=token". It is not parsed here because it need not be a DN.
	Name     string
	Password []byte
}

// SearchRequest is a search with its base parsed and filter resolved.
type SearchRequest struct {
	Base      directory.DN
	Scope     directory.Scope
	Filter    *directory.Filter
	Attrs     []string
	TypesOnly bool
	SizeLimit int
	TimeLimit int // seconds
}

// AddRequest carries the new entry, attribute names as the client sent
// them.
type AddRequest struct{ Entry *directory.Entry }

// ModifyRequest is a modify of DN.
type ModifyRequest struct {
	DN      directory.DN
	Changes []directory.Change
}

// DeleteRequest deletes DN.
type DeleteRequest struct{ DN directory.DN }

// ModifyDNRequest renames DN.
type ModifyDNRequest struct {
	DN           directory.DN
	NewRDN       directory.RDN
	DeleteOldRDN bool
	NewSuperior  *directory.DN
}

// CompareRequest compares one attribute value of DN.
type CompareRequest struct {
	DN          directory.DN
	Attr, Value string
}

// ExtendedRequest is an extended operation other than StartTLS.
type ExtendedRequest struct {
	OID      string
	Value    []byte
	HasValue bool
}

func (*BindRequest) OpName() string     { return "bind" }
func (*SearchRequest) OpName() string   { return "search" }
func (*AddRequest) OpName() string      { return "add" }
func (*ModifyRequest) OpName() string   { return "modify" }
func (*DeleteRequest) OpName() string   { return "delete" }
func (*ModifyDNRequest) OpName() string { return "modrdn" }
func (*CompareRequest) OpName() string  { return "compare" }
func (*ExtendedRequest) OpName() string { return "extended" }

func (r *BindRequest) Target() string     { return r.Name }
func (r *SearchRequest) Target() string   { return r.Base.String() }
func (r *AddRequest) Target() string      { return r.Entry.DN.String() }
func (r *ModifyRequest) Target() string   { return r.DN.String() }
func (r *DeleteRequest) Target() string   { return r.DN.String() }
func (r *ModifyDNRequest) Target() string { return r.DN.String() }
func (r *CompareRequest) Target() string  { return r.DN.String() }
func (r *ExtendedRequest) Target() string { return r.OID }

// ResponseWriter answers one operation. A Handler must finish with exactly
// one of WriteResult, WriteError or WriteExtended (search handlers first
// call WriteEntry for each entry). A ResponseWriter may not be used after
// ServeLDAP returns.
type ResponseWriter interface {
	// WriteEntry sends a search result entry.
	WriteEntry(e *directory.Entry) error
	// WriteResult sends the operation's final result.
	WriteResult(r Result)
	// WriteError maps err to a result code and sends it.
	WriteError(err error)
	// WriteExtended sends an extended response with an optional value.
	WriteExtended(r Result, name string, value []byte)
	// SetIdentity records the identity a successful bind established; the
	// loop applies it once the handler returns.
	SetIdentity(id Identity)
}

// Result is an operation's outcome.
type Result struct {
	Code      int
	MatchedDN string
	Message   string
	Controls  []wire.Control
}
