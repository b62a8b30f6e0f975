package idm

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/tokens"
)

// Two caches sit above the store, both keyed to the store's version
// (directory.Versioned): an entry derived from reads that began at version
// v is used only while the store still reports v, so any committed write
// (a revocation, a disabled account, a changed group) invalidates every
// entry before that write is acknowledged. Time is the one input that is
// not in the store: a token's expiry is kept in the entry and checked on
// every use. Stores without a version (etcd: other nodes write) get no
// caching at all.

// storeVersion returns the store's version and whether it has one (also
// through a wrapper such as the metrics' timing, see directory.As; the
// Service finds it when built). Read it before the transaction whose reads
// the cached value comes from.
func (s *Service) storeVersion() (uint64, bool) {
	if s.versioned != nil {
		return s.versioned.Version(), true
	}
	return 0, false
}

// subjectMemo is what one bound connection derived for its identity: the
// subject, the store version it was derived at, and the token's expiry.
// It belongs to the Identity a bind returns (shared by its copies), so it
// needs no bound and no eviction: it lives as long as the connection.
type subjectMemo struct {
	p atomic.Pointer[memoized]
}

type memoized struct {
	version uint64
	sub     acl.Subject
	expiry  time.Time // zero: the token never expires (or no token)
}

// get returns the memoized subject if it was derived at version and has
// not expired by now().
func (m *subjectMemo) get(version uint64, now func() time.Time) (acl.Subject, bool) {
	if m == nil {
		return acl.Subject{}, false
	}
	c := m.p.Load()
	if c == nil || c.version != version || (!c.expiry.IsZero() && !now().Before(c.expiry)) {
		return acl.Subject{}, false
	}
	return c.sub, true
}

func (m *subjectMemo) put(version uint64, sub acl.Subject, expiry time.Time) {
	if m != nil {
		m.p.Store(&memoized{version: version, sub: sub, expiry: expiry})
	}
}

// tokenState is what a token bind reads from the store: the token's record
// and the account holding it.
type tokenState struct {
	rec      tokens.Record // AccountUUID is the holder's entryUUID
	account  directory.DN
	disabled bool
	// desc is what Identity.String returns for a bind with this token,
	// made once with the state rather than twice per bind (the security
	// event and the access line each describe the identity); authz is
	// what WhoAmI answers, made once rather than per operation.
	desc, authz string
}

// tokenStates caches tokenState by token ID, valid for one store version.
// It is bounded by starting over when full. The record is found by token
// ID and account together (apitoken.go), so a caller uses an entry only
// when its rec.AccountUUID is the account the token names.
type tokenStates struct {
	mu sync.Mutex
	m  map[tokens.ID]versionedState
}

type versionedState struct {
	version uint64
	st      tokenState
}

const maxTokenStates = 4096

func (c *tokenStates) get(id tokens.ID, version uint64) (tokenState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || e.version != version {
		return tokenState{}, false
	}
	return e.st, true
}

func (c *tokenStates) put(id tokens.ID, version uint64, st tokenState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxTokenStates {
		c.m = make(map[tokens.ID]versionedState)
	}
	c.m[id] = versionedState{version: version, st: st}
}
