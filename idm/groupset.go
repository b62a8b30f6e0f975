package idm

import (
	"sync"
	"sync/atomic"

	"github.com/ldapd/ldapd/directory"
)

// dnNorms memoizes the normalized form of the DN strings stored in
// memberOf, which subject() turns into a group set on every operation.
// Normalization is a pure function of the string, so a memoized value can
// never go stale and needs no invalidation: memberships themselves are
// still read from the store on every operation. The memo is bounded by
// starting over when it holds maxDNNorms strings.
type dnNorms struct {
	m sync.Map // string -> string (the norm; "" for a value that is not a DN)
	n atomic.Int64
}

const maxDNNorms = 4096

func (c *dnNorms) norm(v string) string {
	if n, ok := c.m.Load(v); ok {
		return n.(string)
	}
	var n string
	if dn, err := directory.ParseDN(v); err == nil {
		n = dn.Norm()
	}
	if c.n.Add(1) > maxDNNorms {
		c.m.Clear()
		c.n.Store(1)
	}
	c.m.Store(v, n)
	return n
}

// groupSet returns the normalized DNs of e's memberOf values.
func (c *dnNorms) groupSet(e *directory.Entry) map[string]bool {
	vals := e.Get("memberOf")
	m := make(map[string]bool, len(vals))
	for _, v := range vals {
		if n := c.norm(v); n != "" {
			m[n] = true
		}
	}
	return m
}
