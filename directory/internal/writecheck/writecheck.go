// Package writecheck holds what both directory stores (boltstore,
// etcdstore) check before they write: that an added entry is new and has
// a parent, that a deleted entry is a leaf, that a rename's target is free
// and not below the entry itself, and the lookup of a DN that names the
// deepest existing ancestor when it fails. The stores answer the checks'
// questions through Reader; what they then write is their own.
//
// # Basics
//
// Every function takes the store's transaction as a Reader and returns the
// dn keys (entrycodec.DNKey) and ids the store needs for its writes, or the
// *directory.Error a client sees (noSuchObject with a matched DN,
// entryAlreadyExists, notAllowedOnNonLeaf, unwillingToPerform,
// invalidDNSyntax).
//
// # Caveats
//
// The checks read through the caller's transaction, so they are only as
// isolated as it is: run them inside the write transaction whose writes
// they guard.
package writecheck

import (
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/entrycodec"
)

// Reader is what the checks ask of a store's transaction, by dn key.
type Reader interface {
	// ID returns the id of the entry stored under the dn key, and whether
	// there is one.
	ID(key []byte) (uint64, bool, error)
	// HasChildren reports whether an entry is stored below the dn key.
	HasChildren(key []byte) (bool, error)
}

// Lookup returns the id and dn key of dn, or ErrNoSuchObject with the
// deepest existing ancestor as matched DN. The root DN is never stored.
func Lookup(r Reader, dn directory.DN) (uint64, []byte, error) {
	if dn.IsRoot() {
		return 0, nil, &directory.Error{Err: directory.ErrNoSuchObject, Message: "the root DSE is not a stored entry"}
	}
	key, err := entrycodec.DNKey(dn)
	if err != nil {
		return 0, nil, err
	}
	id, ok, err := r.ID(key)
	if err != nil {
		return 0, nil, err
	}
	if ok {
		return id, key, nil
	}
	m, err := matched(r, dn, key)
	if err != nil {
		return 0, nil, err
	}
	return 0, nil, directory.NoSuchObject(dn, m)
}

// matched returns the deepest existing ancestor of dn (whose key is key),
// or the root DN.
func matched(r Reader, dn directory.DN, key []byte) (directory.DN, error) {
	for key = entrycodec.ParentKey(key); key != nil; key = entrycodec.ParentKey(key) {
		dn = dn.Parent()
		_, ok, err := r.ID(key)
		if err != nil {
			return directory.DN{}, err
		}
		if ok {
			return dn, nil
		}
	}
	return directory.DN{}, nil
}

// Add checks that e may be added and returns its dn key: e is not the
// empty DN, Names allows its attributes, no entry has its DN, and Parent
// allows it.
func Add(r Reader, e *directory.Entry) ([]byte, error) {
	if e == nil || e.DN.IsRoot() {
		return nil, directory.Errorf(directory.ErrUnwillingToPerform, "cannot add an entry with the empty DN")
	}
	if err := Names(e); err != nil {
		return nil, err
	}
	key, err := entrycodec.DNKey(e.DN)
	if err != nil {
		return nil, err
	}
	if err := free(r, e.DN, key); err != nil {
		return nil, err
	}
	return key, Parent(r, e.DN, key)
}

// Names allows an entry that holds each attribute once (names compared
// ignoring case; they are canonical, so an alias is the same name).
// Stored entries keep this (Modify merges into the attribute it names),
// and a search decoding only the attributes its filter reads stops once
// it has them (entrycodec.DecodeAttrsInto).
func Names(e *directory.Entry) error {
	for i, a := range e.Attrs {
		for _, b := range e.Attrs[:i] {
			if len(a.Name) == len(b.Name) && strings.EqualFold(a.Name, b.Name) {
				return directory.Errorf(directory.ErrAttributeOrValueExists, "attribute "+a.Name+" provided more than once")
			}
		}
	}
	return nil
}

// Parent allows an entry dn (whose dn key is key) whose parent exists, or
// none of whose ancestors exists: the root of a new naming context, such
// as dc=example,dc=com in an empty store. Otherwise the parent is missing
// below an existing ancestor, and that ancestor is the matched DN of the
// ErrNoSuchObject it returns.
func Parent(r Reader, dn directory.DN, key []byte) error {
	pk := entrycodec.ParentKey(key)
	if pk == nil {
		return nil
	}
	if _, ok, err := r.ID(pk); err != nil || ok {
		return err
	}
	parent := dn.Parent()
	m, err := matched(r, parent, pk)
	if err != nil {
		return err
	}
	if !m.IsRoot() {
		return directory.NoSuchObject(parent, m)
	}
	return nil
}

// free returns ErrEntryAlreadyExists if an entry is stored under the dn key
// of dn.
func free(r Reader, dn directory.DN, key []byte) error {
	if _, ok, err := r.ID(key); err != nil {
		return err
	} else if ok {
		return directory.Errorf(directory.ErrEntryAlreadyExists, "entry "+dn.String()+" already exists")
	}
	return nil
}

// Delete checks that dn exists and is a leaf, and returns its id and dn
// key.
func Delete(r Reader, dn directory.DN) (uint64, []byte, error) {
	id, key, err := Lookup(r, dn)
	if err != nil {
		return 0, nil, err
	}
	if has, err := r.HasChildren(key); err != nil {
		return 0, nil, err
	} else if has {
		return 0, nil, directory.Errorf(directory.ErrNotAllowedOnNonLeaf, "entry "+dn.String()+" has children")
	}
	return id, key, nil
}

// A Move is a checked rename: the subtree under the dn key From goes to
// the dn key To, the entry's new DN being Target.
type Move struct {
	From, To []byte
	Target   directory.DN
}

// Rename checks the rename of dn to newRDN under newParent (nil: dn's
// parent): dn exists, newRDN is not empty, the new parent exists and is
// not dn or below it, and no other entry has the target DN. A target
// equal to dn (a change of case or spacing only) is allowed.
func Rename(r Reader, dn directory.DN, newRDN directory.RDN, newParent *directory.DN) (Move, error) {
	_, from, err := Lookup(r, dn)
	if err != nil {
		return Move{}, err
	}
	if newRDN.IsZero() {
		return Move{}, directory.Errorf(directory.ErrInvalidDNSyntax, "empty new RDN")
	}
	parent := dn.Parent()
	if newParent != nil {
		parent = *newParent
		if parent.IsWithin(dn) {
			return Move{}, directory.Errorf(directory.ErrUnwillingToPerform, "cannot move "+dn.String()+" below itself")
		}
		if !parent.IsRoot() {
			if _, _, err := Lookup(r, parent); err != nil {
				return Move{}, err
			}
		}
	}
	target := parent.Child(newRDN)
	to, err := entrycodec.DNKey(target)
	if err != nil {
		return Move{}, err
	}
	if !target.Equal(dn) {
		if err := free(r, target, to); err != nil {
			return Move{}, err
		}
	}
	return Move{From: from, To: to, Target: target}, nil
}

// Rebase returns dn, which lies within oldBase, moved to within newBase.
func Rebase(dn, oldBase, newBase directory.DN) directory.DN {
	rdns := dn.RDNs()
	out := newBase
	for i := len(rdns) - oldBase.Depth() - 1; i >= 0; i-- {
		out = out.Child(rdns[i])
	}
	return out
}
