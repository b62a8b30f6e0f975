// Package plan is the search planner both storage backends share. A
// search first finds candidate ids, then has the store read each
// candidate, re-check scope and the whole filter with Filter.Match, and
// hand matches to the search's callback (Source.Visit). Candidates come
// from one of:
//
//   - scope base: the base entry alone;
//   - the indexes, when the filter can be answered from them (see
//     candidates);
//   - the scope itself: the children of the base (one level) or the
//     base's subtree; when that subtree is the whole store, a Source that
//     is also a Sweeper may visit every entry in its own order instead.
//
// When both the indexes and the scope can supply candidates, neither size
// is known in advance: an index on objectClass may return the whole tree
// for a search below an OU of ten entries, and an OU may hold a million
// children when the filter names one uid. So both are asked for at most
// limit ids, limit growing eightfold from firstLimit until one of them
// fits, and that one is used. The work is a small multiple of the smaller
// source, and a search below the root (whose scope is everything) uses any
// index answer directly.
//
// # Basics
//
// A store implements Source over one transaction and calls
// Planner.Search. The index keys it reads are indexdef's (the bytes after
// the attribute); where they live is the store's business.
//
// # Caveats
//
// Candidate ids are collected before any of them is visited (a subtree
// scan may hand them over in chunks, each collected before it is
// visited), so Visit may write through the same transaction: entries it adds may or may not be visited, and an entry it
// renames within the scope may be visited again under its new DN.
package plan

import (
	"context"
	"errors"
	"math"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

const (
	firstLimit = 64
	// CtxEvery is how many entries a search visits between checks of
	// its context (a Sweeper's too).
	CtxEvery = 256
)

// Source is one search's view of a store. Every list of ids it returns
// is in the store's key order; a false "complete" result means the list
// was cut at max (its ids are then unspecified).
type Source interface {
	// Lookup returns the id and DN key (entrycodec.DNKey) of the stored
	// entry dn, or an error for the client (directory.NoSuchObject).
	Lookup(dn directory.DN) (id uint64, key []byte, err error)
	// IndexIDs appends to ids the ids indexed under prefix (indexdef's
	// key up to the id) in the index of attr, and reports false as soon
	// as ids would hold more than limit values. etcdstore keeps one key
	// prefix+id per id, boltstore posting lists of ids under keys
	// prefix+first id (indexdef's postings); either way a longer key
	// sharing the prefix belongs to another value.
	IndexIDs(attr string, prefix []byte, ids []uint64, limit int) (_ []uint64, complete bool, _ error)
	// ChildIDs returns the ids of the children of the entry with DN key
	// (the depth-1 entries for the root, key nil), and whether there are
	// at most max of them.
	ChildIDs(key []byte, max int) (_ []uint64, complete bool, _ error)
	// SubtreeIDs returns the ids of the entries strictly below the entry
	// with DN key (every entry for the root), and whether there are at
	// most max of them.
	SubtreeIDs(key []byte, max int) (_ []uint64, complete bool, _ error)
	// ScanSubtree appends to ids (a buffer to reuse) the ids of a chunk
	// of the entries strictly below the entry with DN key, starting at
	// from (nil: the first). It returns where the next chunk starts, nil
	// after the last. The planner visits each chunk before asking for
	// the next, so a store that re-seeks per chunk lets Visit write.
	ScanSubtree(key, from []byte, ids []uint64) (_ []uint64, next []byte, _ error)
	// Visit reads the candidate id and hands it to the search's callback
	// if it still exists, lies in scope (checked only when checkScope is
	// set: index candidates may lie anywhere in the tree) and matches the
	// filter.
	Visit(id uint64, checkScope bool) error
}

// A Sweeper is a Source that can visit a whole store in one pass in its
// own order, for less than ScanSubtree's chunks and a Visit per id
// (boltstore's read transactions walk the entries bucket in id order,
// as slapd's back-mdb returns a subtree).
type Sweeper interface {
	// Sweep visits every stored entry as Visit(id, false) would, when the
	// entry with DN key (nil: the root) and its subtree are every stored
	// entry, stopping at a done ctx. It visits nothing and returns false
	// when the subtree is not the whole store or the source cannot sweep
	// (a write transaction).
	Sweep(ctx context.Context, key []byte) (bool, error)
}

// Planner plans the searches of one store.
type Planner struct {
	Index *indexdef.Plan
	// Overflow is set when the store writes overflow keys
	// (indexdef.Budget): an equality lookup then also reads the
	// attribute's overflow ids.
	Overflow bool
}

// Search visits the entries of src in scope of base that may match f
// (f is not nil), stopping quietly when Visit returns directory.ErrStop.
func (p *Planner) Search(ctx context.Context, src Source, base directory.DN, scope directory.Scope, f *directory.Filter) error {
	r := &run{p: p, ctx: ctx, src: src, f: f}
	err := r.search(base, scope)
	if errors.Is(err, directory.ErrStop) {
		return nil
	}
	return err
}

// run is one search.
type run struct {
	p    *Planner
	ctx  context.Context
	src  Source
	f    *directory.Filter
	rows int
}

func (r *run) search(base directory.DN, scope directory.Scope) error {
	var baseID uint64
	var baseKey []byte
	if !base.IsRoot() {
		var err error
		if baseID, baseKey, err = r.src.Lookup(base); err != nil {
			return err
		}
	}
	switch scope {
	case directory.ScopeBase:
		if base.IsRoot() {
			return nil
		}
		return r.visit(baseID, false)
	case directory.ScopeOne:
		return r.choose(func(limit int) ([]uint64, bool, error) { return r.src.ChildIDs(baseKey, limit) }, func() error {
			ids, _, err := r.src.ChildIDs(baseKey, math.MaxInt)
			if err != nil {
				return err
			}
			return r.visitAll(ids, false)
		})
	case directory.ScopeSub:
		scanAll := func() error {
			if sw, ok := r.src.(Sweeper); ok {
				if swept, err := sw.Sweep(r.ctx, baseKey); swept || err != nil {
					return err
				}
			}
			if !base.IsRoot() {
				if err := r.visit(baseID, false); err != nil {
					return err
				}
			}
			var ids []uint64
			for from := []byte(nil); ; {
				var err error
				if ids, from, err = r.src.ScanSubtree(baseKey, from, ids[:0]); err != nil {
					return err
				}
				if err := r.visitAll(ids, false); err != nil || from == nil {
					return err
				}
			}
		}
		if base.IsRoot() {
			return r.choose(nil, scanAll)
		}
		return r.choose(func(limit int) ([]uint64, bool, error) {
			ids, ok, err := r.src.SubtreeIDs(baseKey, limit-1)
			return append([]uint64{baseID}, ids...), ok, err
		}, scanAll)
	}
	return directory.Errorf(directory.ErrUnwillingToPerform, "invalid search scope "+scope.String())
}

// choose picks between the indexes and the scope (see the package doc).
// scopeIDs lists up to limit ids of the scope and reports whether that is
// all of it; nil means the scope is the whole tree. scanAll visits the
// scope without the indexes.
func (r *run) choose(scopeIDs func(limit int) ([]uint64, bool, error), scanAll func() error) error {
	for limit := firstLimit; ; limit = grow(limit) {
		if scopeIDs == nil {
			limit = math.MaxInt
		}
		ids, st, err := r.candidates(r.f, limit)
		if err != nil {
			return err
		}
		switch st {
		case answered:
			return r.visitAll(ids, scopeIDs != nil)
		case unindexed:
			return scanAll()
		}
		if scopeIDs == nil {
			return scanAll() // unreachable: nothing exceeds math.MaxInt
		}
		ids, complete, err := scopeIDs(limit)
		if err != nil {
			return err
		}
		if complete {
			return r.visitAll(ids, false)
		}
	}
}

func grow(limit int) int {
	if limit > math.MaxInt/8 {
		return math.MaxInt
	}
	return limit * 8
}

func (r *run) visitAll(ids []uint64, checkScope bool) error {
	for _, id := range ids {
		if err := r.visit(id, checkScope); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) visit(id uint64, checkScope bool) error {
	r.rows++
	if r.rows%CtxEvery == 0 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
	}
	return r.src.Visit(id, checkScope)
}
