package ldapserver_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/ldaptest"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

type connKey struct{}

// connCtxHandler records ConnContext calls and the connection value each
// operation's context carries.
type connCtxHandler struct {
	mu    sync.Mutex
	made  []uint64 // connection ids ConnContext was called with
	seen  []any    // connKey values, one per operation
	addrs []net.Addr
}

func (h *connCtxHandler) ConnContext(ctx context.Context, id uint64, remote net.Addr) context.Context {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.made, h.addrs = append(h.made, id), append(h.addrs, remote)
	return context.WithValue(ctx, connKey{}, id)
}

func (h *connCtxHandler) ServeLDAP(w ldapserver.ResponseWriter, r *ldapserver.Request) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Context().Value(connKey{}))
	h.mu.Unlock()
	if _, ok := r.Op.(*ldapserver.SearchRequest); ok {
		w.WriteResult(ldapserver.Result{Code: wire.ResultSuccess})
		return
	}
	w.WriteResult(ldapserver.Result{})
}

// TestConnContext: a Handler that is a ConnContexter is asked once per
// connection, and every operation of that connection (a search too, which
// runs under its own time limit) carries what it returned.
func TestConnContext(t *testing.T) {
	h := &connCtxHandler{}
	ts := ldaptest.NewServer(t, &ldapserver.Server{Handler: h})
	for range 2 {
		c := ts.DialPlain(t)
		if err := c.UnauthenticatedBind(""); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Search(ldap.NewSearchRequest("dc=example", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WhoAmI(nil); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.made) != 2 || h.made[0] == h.made[1] {
		t.Fatalf("ConnContext called for connections %v, want two calls with distinct ids", h.made)
	}
	for i, a := range h.addrs {
		if tcp, ok := a.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			t.Errorf("connection %d: remote address %v", i, a)
		}
	}
	if len(h.seen) != 6 {
		t.Fatalf("%d operations seen, want 6", len(h.seen))
	}
	for i, v := range h.seen {
		if want := h.made[i/3]; v != want {
			t.Errorf("operation %d carried %v, want connection %d's value", i, v, want)
		}
	}
}
