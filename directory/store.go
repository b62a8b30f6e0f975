package directory

import (
	"context"
	"errors"
)

// Scope is a search scope, numbered as on the wire.
type Scope uint8

// Search scopes (RFC 4511 section 4.5.1.2).
const (
	ScopeBase Scope = 0
	ScopeOne  Scope = 1
	ScopeSub  Scope = 2
)

func (s Scope) String() string {
	switch s {
	case ScopeBase:
		return "base"
	case ScopeOne:
		return "one"
	case ScopeSub:
		return "sub"
	}
	return "invalid"
}

// InScope reports whether dn lies in the scope of base.
func (s Scope) InScope(base, dn DN) bool {
	switch s {
	case ScopeBase:
		return dn.Equal(base)
	case ScopeOne:
		return dn.Depth() == base.Depth()+1 && dn.IsDescendantOf(base)
	case ScopeSub:
		return dn.IsWithin(base)
	}
	return false
}

// ErrStop may be returned by a Search callback to end the search early; the
// Search then returns nil.
var ErrStop = errors.New("stop search")

// Store is a transactional directory of entries. Implementations are safe
// for concurrent use; every committed Update is durable when it returns.
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(ReadTx) error) error
	// Update runs fn in a read-write transaction and commits if fn returns
	// nil; any error rolls back. fn MAY be called more than once (for
	// example after a conflict), so it must act only through the tx.
	// fn must not call View or Update on the same store: with bbolt a
	// nested transaction in one goroutine can deadlock.
	Update(ctx context.Context, fn func(WriteTx) error) error
	// Close releases the store; transactions in flight finish first.
	Close() error
}

// Versioned is implemented by a store whose committed writes all go
// through this process (the embedded file, which one process holds
// locked). Version returns a counter that changes after every committed
// write and before that write's Update returns. A result derived from
// reads that began after Version returned v therefore still holds while
// Version keeps returning v: that is the invalidation rule of every cache
// above the store. A store shared with other processes (etcd) does not
// implement it, and nothing above it caches.
type Versioned interface {
	Version() uint64
}

// BulkAdder is implemented by a store that adds many entries faster in one
// call than in Update transactions can (boltstore's AddBulk, which `ldapd
// import` uses): the entries are added as Add would add them in their
// order, in one transaction, all or none.
type BulkAdder interface {
	AddBulk(ctx context.Context, entries []*Entry) error
}

// BulkLoader is implemented by a store that can add a load of many
// entries, given in several batches, all at once (boltstore opened
// Exclusive, for `ldapd import`): BeginLoad starts a Load. A store that
// offers it only in some modes returns an error wrapping
// errors.ErrUnsupported from BeginLoad otherwise; the caller then uses
// BulkAdder.
type BulkLoader interface {
	BeginLoad(ctx context.Context) (Load, error)
}

// Load is a load begun by BulkLoader.BeginLoad. The entries of all its
// Adds are added as Add would add them in their order (Add's checks, the
// stored entries and those of earlier Adds counting as before them), and
// become visible all at once when Commit returns nil, or never: after
// Abort, or after any error of Add or Commit (the load is then over, and
// later calls fail). The entries given to Add are only read, and not
// retained. Abort after Commit or after an error does nothing, so a
// caller may defer it.
type Load interface {
	Add(ctx context.Context, entries []*Entry) error
	Commit(ctx context.Context) error
	Abort()
}

// Verifier is implemented by a store that can check its own invariants
// (every index entry points to a live entry, every entry is indexed, every
// parent exists).
type Verifier interface {
	Verify(ctx context.Context) error
}

// Wrapper is implemented by a Store that wraps another one (to time its
// commits, inject faults, ...): Unwrap returns the wrapped store.
type Wrapper interface {
	Unwrap() Store
}

// As reports whether s, or a store it wraps, implements the optional
// interface T (Versioned, BulkAdder, BulkLoader, Verifier, or a backend's own), and
// returns the first one that does, walking Unwrap from s inwards. Code
// above the store looks capabilities up with As, never with a type
// assertion, so that a wrapper passes on every capability of the store it
// wraps without forwarding each method; a wrapper that must intercept one
// implements it itself, and As finds the wrapper first.
// storetest.CheckWrapper is the test that a wrapper hides nothing.
func As[T any](s Store) (T, bool) {
	for s != nil {
		if c, ok := s.(T); ok {
			return c, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

// ReadTx reads entries. Entries it returns are copies owned by the caller.
type ReadTx interface {
	// Get returns the entry named dn, or an error wrapping ErrNoSuchObject
	// that carries the deepest existing ancestor as its matched DN.
	Get(dn DN) (*Entry, error)
	// Search calls each for every entry in scope of base that matches f
	// (a filter resolved against the store's schema, whose normalization
	// the indexes use), in unspecified order, except that a subtree
	// search answered without an index (the absolute true filter (&))
	// visits every entry after its parent (export relies on it). A missing base is
	// ErrNoSuchObject with a matched DN. each may return ErrStop to end
	// the search early (Search then returns nil); any other error from
	// each ends the search and is returned.
	Search(base DN, scope Scope, f *Filter, each func(*Entry) error) error
	// HasChildren reports whether dn has at least one child.
	HasChildren(dn DN) (bool, error)
	// Meta returns a small value stored beside the entries (for example the
	// domain fixed at first start), or ErrMetaNotFound.
	Meta(key string) ([]byte, error)
}

// WriteTx changes entries. Writes are visible to later reads in the same
// transaction.
type WriteTx interface {
	ReadTx
	// Add stores a new entry. ErrEntryAlreadyExists if dn is taken;
	// ErrNoSuchObject (with matched DN) if the parent is missing, unless
	// no ancestor of the entry exists: then it starts a new naming context
	// (a suffix). Callers keep adds inside their naming context.
	Add(e *Entry) error
	// Modify applies changes to an existing entry (ApplyChanges
	// semantics). ErrNoSuchObject if dn is missing: never an upsert.
	Modify(dn DN, changes []Change) error
	// Delete removes a leaf entry. ErrNoSuchObject if missing;
	// ErrNotAllowedOnNonLeaf if it has children.
	Delete(dn DN) error
	// Rename gives the entry dn the RDN newRDN, under newParent when not
	// nil, moving its whole subtree. Attribute values are not changed: the
	// caller adjusts naming attributes with Modify. ErrNoSuchObject if dn
	// or newParent is missing; ErrEntryAlreadyExists if the target is
	// taken; ErrUnwillingToPerform when moving an entry below itself.
	Rename(dn DN, newRDN RDN, newParent *DN) error
	// SetMeta stores a small value beside the entries.
	SetMeta(key string, value []byte) error
	// NextSequence returns the next value of a named counter, starting at
	// 1. Values are unique among committed transactions; a value drawn in a
	// transaction that rolls back may be drawn again.
	NextSequence(name string) (uint64, error)
}

// DefaultIndexes lists the attributes a backend indexes for equality and
// presence, so that filters on them do not scan the tree.
func DefaultIndexes() []string {
	return []string{"objectClass", "uid", "cn", "mail", "member", "memberOf", "entryUUID",
		"uidNumber", "gidNumber", "memberUid", AttrSPN, AttrEntryManagedBy, AttrTokenID, "sn", "givenName", "displayName"}
}
