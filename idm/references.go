package idm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// What other entries say of an entry: the member, uniqueMember and
// entryManagedBy values naming it, kept right when it is deleted or
// renamed, and the one-time re-derivation of memberOf under the rules of
// members.go.

// removeReferences drops a deleted entry from every member and
// uniqueMember list naming it and, if it was a group, recomputes memberOf
// of its former members. A later entry with the same DN is therefore in no
// group.
func (s *Service) removeReferences(tx directory.WriteTx, gone *directory.Entry) error {
	if err := s.dropReferences(tx, gone.DN); err != nil {
		return err
	}
	if !s.policy.IsGroup(gone) {
		return nil
	}
	return s.refreshMemberOf(tx, dnValues(gone.Get("member")))
}

// dropReferences removes the member and uniqueMember values naming dn.
func (s *Service) dropReferences(tx directory.WriteTx, dn directory.DN) error {
	return s.rewriteMembers(tx, dn, directory.DN{})
}

// rewriteMembers replaces the member and uniqueMember values naming old
// with renamed, or deletes them if renamed is the root (none), and brings
// memberUid of the groups holding old as a member in step.
func (s *Service) rewriteMembers(tx directory.WriteTx, old, renamed directory.DN) error {
	groups, err := s.entriesWith(tx, "member", old.String())
	if err != nil {
		return err
	}
	if err := rewriteValue(tx, groups, "member", old, renamed); err != nil {
		return err
	}
	if err := s.refreshMemberUID(tx, groups, old); err != nil {
		return err
	}
	unique, err := s.uniqueMemberOf(tx, old)
	if err != nil {
		return err
	}
	return rewriteValue(tx, unique, "uniqueMember", old, renamed)
}

// rewriteValue deletes the value old from attr of each entry in dns and,
// unless renamed is the root (none), adds renamed in its place.
func rewriteValue(tx directory.WriteTx, dns []directory.DN, attr string, old, renamed directory.DN) error {
	for _, dn := range dns {
		changes := []directory.Change{{Op: directory.ChangeDelete, Attr: attr, Values: []string{old.String()}}}
		if !renamed.IsRoot() {
			changes = append(changes, directory.Change{Op: directory.ChangeAdd, Attr: attr, Values: []string{renamed.String()}})
		}
		if err := tx.Modify(dn, changes); err != nil {
			return fmt.Errorf("rewrite %s %s in %s: %w", attr, old, dn, err)
		}
	}
	return nil
}

// uniqueMemberOf returns the entries with a uniqueMember value naming dn.
// uniqueMember is not indexed; the object classes that allow it are, so
// the search reads only groupOfUniqueNames and extensibleObject entries.
func (s *Service) uniqueMemberOf(tx directory.ReadTx, dn directory.DN) ([]directory.DN, error) {
	eq := func(attr, v string) *directory.Filter {
		return &directory.Filter{Kind: directory.FilterEquality, Attr: attr, Value: v}
	}
	f := &directory.Filter{Kind: directory.FilterAnd, Children: []*directory.Filter{
		{Kind: directory.FilterOr, Children: []*directory.Filter{
			eq("objectClass", "groupOfUniqueNames"), eq("objectClass", "extensibleObject"),
		}},
		eq("uniqueMember", dn.String()),
	}}
	if err := f.Resolve(s.schema); err != nil {
		return nil, err
	}
	var out []directory.DN
	err := tx.Search(s.base, directory.ScopeSub, f, func(e *directory.Entry) error {
		out = append(out, e.DN)
		return nil
	})
	return out, err
}

// rewriteReferences points member, uniqueMember and entryManagedBy values
// at an entry's new DN after a rename, and recomputes memberOf of the
// entry and of every entry whose memberOf named the old DN. A rename can
// change what an entry is (a groupOfNames moved into or out of ou=groups
// starts or stops conferring membership); a group that becomes one is held
// to the nesting cap.
func (s *Service) rewriteReferences(tx directory.WriteTx, old, renamed directory.DN) error {
	if err := s.rewriteMembers(tx, old, renamed); err != nil {
		return err
	}
	managed, err := s.entriesWith(tx, directory.AttrEntryManagedBy, old.String())
	if err != nil {
		return err
	}
	for _, m := range managed {
		if err := tx.Modify(m, []directory.Change{{Op: directory.ChangeReplace, Attr: directory.AttrEntryManagedBy, Values: []string{renamed.String()}}}); err != nil {
			return err
		}
	}
	if e, err := tx.Get(renamed); err == nil && s.policy.IsGroup(e) && !old.Parent().Equal(s.policy.Groups) {
		if err := s.checkNestingOf(tx, e); err != nil {
			return err
		}
	}
	members, err := s.entriesWith(tx, "memberOf", old.String())
	if err != nil {
		return err
	}
	return s.refreshMemberOf(tx, append(members, renamed))
}

// rederiveMemberOf recomputes, once per store, the memberOf values
// derived under the rules before groups-only membership (when a member
// value on any entry conferred membership), and drops member and
// uniqueMember values naming no entry. Every entry that should belong to a
// group held memberOf under the old rules too, so the entries holding
// memberOf are all that need recomputing. It works in batches of
// transactions sized like an import's.
func (s *Service) rederiveMemberOf(ctx context.Context) error {
	var done bool
	var holders, referrers []directory.DN
	err := s.store.View(ctx, func(tx directory.ReadTx) error {
		if v, err := tx.Meta(metaMemberOf); err == nil && string(v) == memberOfRulesV2 {
			done = true
			return nil
		}
		holders, referrers = holders[:0], referrers[:0]
		f := &directory.Filter{Kind: directory.FilterOr, Children: []*directory.Filter{
			{Kind: directory.FilterPresent, Attr: "memberOf"},
			{Kind: directory.FilterPresent, Attr: "member"},
			{Kind: directory.FilterPresent, Attr: "uniqueMember"},
		}}
		if err := f.Resolve(s.schema); err != nil {
			return err
		}
		return tx.Search(s.base, directory.ScopeSub, f, func(e *directory.Entry) error {
			if e.Has("memberOf") {
				holders = append(holders, e.DN)
			}
			if e.Has("member") || e.Has("uniqueMember") {
				referrers = append(referrers, e.DN)
			}
			return nil
		})
	})
	if err != nil || done {
		return err
	}
	batch := max(1, s.importChunk()/8)
	for i := 0; i < len(referrers); i += batch {
		part := referrers[i:min(i+batch, len(referrers))]
		err := s.store.Update(ctx, func(tx directory.WriteTx) error {
			for _, dn := range part {
				if err := s.dropDangling(tx, dn); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("drop member values naming no entry: %w", err)
		}
	}
	for i := 0; i < len(holders); i += batch {
		part := holders[i:min(i+batch, len(holders))]
		if err := s.store.Update(ctx, func(tx directory.WriteTx) error { return s.refreshMemberOf(tx, part) }); err != nil {
			return fmt.Errorf("recompute memberOf from groups only: %w", err)
		}
	}
	return s.store.Update(ctx, func(tx directory.WriteTx) error {
		return tx.SetMeta(metaMemberOf, []byte(memberOfRulesV2))
	})
}

// dropDangling removes dn's member and uniqueMember values that name no
// entry, and the memberUid values derived from them.
func (s *Service) dropDangling(tx directory.WriteTx, dn directory.DN) error {
	e, err := tx.Get(dn)
	if err != nil {
		return err
	}
	var changes []directory.Change
	for _, attr := range []string{"member", "uniqueMember"} {
		var gone []string
		for _, v := range e.Get(attr) {
			target, err := directory.ParseDN(v)
			if err == nil && target.IsWithin(s.base) {
				if _, err := tx.Get(target); err == nil {
					continue
				} else if !errors.Is(err, directory.ErrNoSuchObject) {
					return err
				}
			}
			gone = append(gone, v)
		}
		if len(gone) > 0 {
			changes = append(changes, directory.Change{Op: directory.ChangeDelete, Attr: attr, Values: gone})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	ne := e.Clone()
	if err := directory.ApplyChanges(s.schema, ne, changes); err != nil {
		return err
	}
	if hasClass(ne, classPosixGroup) {
		syncMemberUID(ne, memberUIDs(e.Get("member")))
	}
	if err := tx.Modify(dn, diff(e, ne)); err != nil {
		return fmt.Errorf("drop dangling members of %s: %w", dn, err)
	}
	return nil
}

// entriesWith returns the DNs of entries whose attr equals value.
func (s *Service) entriesWith(tx directory.ReadTx, attr, value string) ([]directory.DN, error) {
	var out []directory.DN
	err := tx.Search(s.base, directory.ScopeSub, s.eqFilter(attr, value), func(e *directory.Entry) error {
		out = append(out, e.DN)
		return nil
	})
	return out, err
}

func (s *Service) eqFilter(attr, value string) *directory.Filter {
	f := &directory.Filter{Kind: directory.FilterEquality, Attr: attr, Value: value}
	_ = f.Resolve(s.schema)
	return f
}

// dnValues parses DN values, skipping any that do not parse.
func dnValues(values []string) []directory.DN {
	out := make([]directory.DN, 0, len(values))
	for _, v := range values {
		if dn, err := directory.ParseDN(v); err == nil {
			out = append(out, dn)
		}
	}
	return out
}

// minusDNs returns the DNs of a that are not in b.
func minusDNs(a, b []directory.DN) []directory.DN {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x.Norm()] = true
	}
	var out []directory.DN
	for _, x := range a {
		if !in[x.Norm()] {
			in[x.Norm()] = true
			out = append(out, x)
		}
	}
	return out
}

func sameDNs(values, want []string) bool {
	if len(values) != len(want) {
		return false
	}
	norm := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			if dn, err := directory.ParseDN(v); err == nil {
				out[i] = dn.Norm()
			} else {
				out[i] = strings.ToLower(v)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(values), norm(want))
}
