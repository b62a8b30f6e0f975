// Package gateway connects the LDAP protocol front end to the identity
// core: it is the ldapserver.Handler that turns each typed request into a
// call on idm.Service and the outcome into LDAP responses, in the manner of
// Kanidm's LDAP gateway over its identity core.
//
// # Basics
//
// The gateway holds no state of its own. The bound identity lives in the
// connection (ldapserver passes it in each Request and applies the one a
// bind sets); paged-results cookies are self-describing, so a paged search
// keeps nothing on the server between pages.
//
// Extended operations: WhoAmI (RFC 4532), Password Modify (RFC 3062) and
// ldapd's token generation (GenerateTokenOID). StartTLS is handled by the
// connection loop.
//
// # Caveats
//
// A paged search re-runs the search for each page and skips the entries
// already returned, so each page costs a scan up to its offset; the cookie
// binds the page to the same base, scope, filter, attributes and identity.
package gateway

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"net"
	"strings"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"github.com/ldapd/ldapd/tokens"
)

// Object identifiers of the operations and controls the gateway serves,
// defined once in package wire.
const (
	WhoAmIOID         = wire.WhoAmIOID
	PasswordModifyOID = wire.PasswordModifyOID
	// GenerateTokenOID is ldapd's extended operation that issues an API
	// token for a service account (request and response values in
	// package wire).
	GenerateTokenOID = wire.GenerateTokenOID
	PagedResultsOID  = wire.PagedResultsOID
	// ManageDsaITOID is accepted and has no effect: ldapd has no referrals.
	ManageDsaITOID = wire.ManageDsaITOID
)

// Extensions lists the extended operations for the root DSE.
func Extensions() []string {
	return []string{ldapserver.StartTLSOID, WhoAmIOID, PasswordModifyOID, GenerateTokenOID}
}

// Controls lists the controls the gateway understands.
func Controls() []string { return []string{PagedResultsOID, ManageDsaITOID} }

// Gateway is the Handler.
type Gateway struct {
	IDM *idm.Service
}

// Schema is the schema the server decodes requests with: the identity
// core's own (ldapserver.SchemaSource).
func (g *Gateway) Schema() *directory.Schema { return g.IDM.Schema() }

// ConnContext implements ldapserver.ConnContexter: every operation of
// the connection carries its id (idm.WithConn, for the security events)
// and the client's address (idm.WithClientAddr, for the bind throttle and
// the logs), made once for the connection.
func (g *Gateway) ConnContext(ctx context.Context, connID uint64, remote net.Addr) context.Context {
	return idm.WithClientAddr(idm.WithConn(ctx, connID), remote)
}

// ServeLDAP implements ldapserver.Handler.
func (g *Gateway) ServeLDAP(w ldapserver.ResponseWriter, r *ldapserver.Request) {
	id := identity(r)
	ctx := r.Context()
	if !idm.HasConn(ctx) {
		// The server did not ask ConnContext: another Handler (the
		// admin socket's backup.Handler) passed the request on.
		ctx = g.ConnContext(ctx, r.ConnID, r.RemoteAddr)
	}
	switch op := r.Op.(type) {
	case *ldapserver.BindRequest:
		g.bind(ctx, w, op)
	case *ldapserver.SearchRequest:
		g.search(ctx, w, r, op, id)
	case *ldapserver.AddRequest:
		writeDone(w, g.IDM.Add(ctx, id, op.Entry))
	case *ldapserver.ModifyRequest:
		writeDone(w, g.IDM.Modify(ctx, id, op.DN, op.Changes))
	case *ldapserver.DeleteRequest:
		writeDone(w, g.IDM.Delete(ctx, id, op.DN))
	case *ldapserver.ModifyDNRequest:
		writeDone(w, g.IDM.Rename(ctx, id, op.DN, op.NewRDN, op.DeleteOldRDN, op.NewSuperior))
	case *ldapserver.CompareRequest:
		ok, err := g.IDM.Compare(ctx, id, op.DN, op.Attr, op.Value)
		switch {
		case err != nil:
			w.WriteError(err)
		case ok:
			w.WriteResult(ldapserver.Result{Code: wire.ResultCompareTrue})
		default:
			w.WriteResult(ldapserver.Result{Code: wire.ResultCompareFalse})
		}
	case *ldapserver.ExtendedRequest:
		g.extended(ctx, w, r, op, id)
	default:
		w.WriteResult(ldapserver.Result{Code: wire.ResultUnwillingToPerform, Message: "operation not supported"})
	}
}

// identity recovers the idm identity the connection holds.
func identity(r *ldapserver.Request) idm.Identity {
	if id, ok := r.Bound.(idm.Identity); ok {
		return id
	}
	return idm.Identity{}
}

func writeDone(w ldapserver.ResponseWriter, err error) {
	if err != nil {
		w.WriteError(err)
		return
	}
	w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess})
}

func (g *Gateway) bind(ctx context.Context, w ldapserver.ResponseWriter, op *ldapserver.BindRequest) {
	id, err := g.IDM.Bind(ctx, op.Name, op.Password)
	if err != nil {
		w.WriteError(err)
		return
	}
	if id.IsAnonymous() {
		w.SetIdentity(nil)
	} else {
		w.SetIdentity(id)
	}
	w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess})
}

func (g *Gateway) search(ctx context.Context, w ldapserver.ResponseWriter, r *ldapserver.Request, op *ldapserver.SearchRequest, id idm.Identity) {
	// Borrow: WriteEntry encodes each entry before it returns.
	req := idm.SearchRequest{Base: op.Base, Scope: op.Scope, Filter: op.Filter, Attrs: op.Attrs, SizeLimit: op.SizeLimit, Borrow: true}
	paged, isPaged := r.Control(PagedResultsOID)
	var fingerprint uint64
	if isPaged {
		size, cookie, err := wire.DecodePagedResults(paged.Value)
		if err != nil {
			w.WriteResult(ldapserver.Result{Code: wire.ResultProtocolError, Message: "malformed paged results control"})
			return
		}
		fingerprint = searchFingerprint(op, id)
		offset, ok := decodeCookie(cookie, fingerprint)
		if !ok {
			w.WriteResult(ldapserver.Result{Code: wire.ResultUnwillingToPerform, Message: "paged results cookie does not belong to this search"})
			return
		}
		if size == 0 { // RFC 2696: abandon the paged search
			w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess, Controls: []wire.Control{pagedControl(nil)}})
			return
		}
		req.Skip, req.PageSize = offset, size
	}
	res, err := g.IDM.SearchTo(ctx, id, req, w) // w is an idm.EntryWriter
	if err != nil {
		if ctx.Err() != nil {
			w.WriteResult(ldapserver.Result{Code: wire.ResultTimeLimitExceeded})
			return
		}
		w.WriteError(err)
		return
	}
	result := ldapserver.Result{Code: wire.ResultSuccess, Message: res.Notice}
	if isPaged {
		var cookie []byte
		if res.More {
			cookie = encodeCookie(req.Skip+req.PageSize, fingerprint)
		}
		result.Controls = []wire.Control{pagedControl(cookie)}
	}
	w.WriteResult(result)
}

func pagedControl(cookie []byte) wire.Control {
	return wire.Control{OID: PagedResultsOID, Value: wire.AppendPagedResults(nil, 0, cookie), HasValue: true}
}

// searchFingerprint identifies a search for its paging cookies.
func searchFingerprint(op *ldapserver.SearchRequest, id idm.Identity) uint64 {
	h := fnv.New64a()
	for _, s := range []string{op.Base.Norm(), op.Scope.String(), op.Filter.String(), strings.Join(op.Attrs, ","), id.String()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func encodeCookie(offset int, fingerprint uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(offset))
	binary.BigEndian.PutUint64(b[8:], fingerprint)
	return b
}

func decodeCookie(c []byte, fingerprint uint64) (int, bool) {
	if len(c) == 0 {
		return 0, true
	}
	if len(c) != 16 || binary.BigEndian.Uint64(c[8:]) != fingerprint {
		return 0, false
	}
	off := binary.BigEndian.Uint64(c)
	if off > 1<<31 {
		return 0, false
	}
	return int(off), true
}

func (g *Gateway) extended(ctx context.Context, w ldapserver.ResponseWriter, r *ldapserver.Request, op *ldapserver.ExtendedRequest, id idm.Identity) {
	switch op.OID {
	case WhoAmIOID:
		authz, err := g.IDM.WhoAmI(ctx, id)
		if err != nil {
			w.WriteError(err)
			return
		}
		w.WriteExtended(ldapserver.Result{Code: wire.ResultSuccess}, "", []byte(authz))
	case PasswordModifyOID:
		g.passwordModify(ctx, w, r, op, id)
	case GenerateTokenOID:
		g.generateToken(ctx, w, r, op, id)
	default:
		w.WriteResult(ldapserver.Result{Code: wire.ResultProtocolError, Message: "unsupported extended operation " + op.OID})
	}
}

// secretsAllowed reports whether r's connection may carry passwords and
// tokens (TLS, or insecure binds allowed). If not, it answers
// confidentialityRequired (13): what it refuses, then "over TLS".
func secretsAllowed(w ldapserver.ResponseWriter, r *ldapserver.Request, refused string) bool {
	if r.PasswordsAllowed {
		return true
	}
	w.WriteResult(ldapserver.Result{Code: wire.ResultConfidentialityRequired,
		Message: refused + " over TLS: use ldaps:// or StartTLS (-ZZ)"})
	return false
}

// passwordModify serves RFC 3062. Its request carries passwords (old and
// new) and its response may carry a generated one, so without TLS it is
// refused whatever it holds, as a password bind is: confidentialityRequired
// (13), unless the server allows insecure binds. The client's address goes
// to idm, whose bind throttle checks the old password.
func (g *Gateway) passwordModify(ctx context.Context, w ldapserver.ResponseWriter, r *ldapserver.Request, op *ldapserver.ExtendedRequest, id idm.Identity) {
	pm, err := wire.DecodePasswordModify(op.Value)
	if err != nil {
		w.WriteResult(ldapserver.Result{Code: wire.ResultProtocolError, Message: "malformed password modify request"})
		return
	}
	if !secretsAllowed(w, r, "passwords are only accepted") {
		return
	}
	var oldPW, newPW *string
	if pm.HasOldPassword {
		s := string(pm.OldPassword)
		oldPW = &s
	}
	if pm.HasNewPassword {
		s := string(pm.NewPassword)
		newPW = &s
	}
	gen, err := g.IDM.PasswordModify(ctx, id, pm.UserIdentity, oldPW, newPW)
	if err != nil {
		w.WriteError(err)
		return
	}
	var value []byte
	if gen != "" {
		value = wire.AppendPasswordModifyResponse(nil, []byte(gen))
	}
	w.WriteExtended(ldapserver.Result{Code: wire.ResultSuccess}, "", value)
}

func (g *Gateway) generateToken(ctx context.Context, w ldapserver.ResponseWriter, r *ldapserver.Request, op *ldapserver.ExtendedRequest, id idm.Identity) {
	req, err := wire.DecodeGenerateToken(op.Value)
	if err != nil {
		w.WriteResult(ldapserver.Result{Code: wire.ResultProtocolError, Message: "malformed generate token request"})
		return
	}
	// The answer is a secret (the token), shown once: like a password, it
	// travels only over TLS unless the server allows insecure binds.
	if !secretsAllowed(w, r, "API tokens are only issued") {
		return
	}
	var expiry time.Time
	if req.HasExpiry {
		expiry, err = time.Parse(time.RFC3339, req.Expiry)
		if err != nil {
			w.WriteResult(ldapserver.Result{Code: wire.ResultUnwillingToPerform,
				Message: "expiry " + req.Expiry + " is not an RFC 3339 time such as 2030-09-25T11:22:02+10:00"})
			return
		}
	}
	purpose := tokens.ReadOnly
	if req.ReadWrite {
		purpose = tokens.ReadWrite
	}
	token, tid, err := g.IDM.GenerateToken(ctx, id, req.Account, req.Label, expiry, purpose)
	if err != nil {
		w.WriteError(err)
		return
	}
	w.WriteExtended(ldapserver.Result{Code: wire.ResultSuccess}, GenerateTokenOID, wire.AppendGenerateTokenResponse(nil, token, tid.String()))
}
