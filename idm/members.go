package idm

import (
	"errors"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// memberOf is materialized: every entry stores the DNs of all groups it
// belongs to, directly or through nested groups. It is recomputed, in the
// same transaction, for every entry whose memberships a write may have
// changed, so filters such as (memberOf=cn=x,...) use the index and access
// control reads memberships with one Get.

// refreshMemberOf recomputes memberOf for roots and, transitively, for the
// members of any group among them.
func (s *Service) refreshMemberOf(tx directory.WriteTx, roots []directory.DN) error {
	queue := append([]directory.DN(nil), roots...)
	visited := map[string]bool{}
	for len(queue) > 0 {
		dn := queue[0]
		queue = queue[1:]
		if visited[dn.Norm()] {
			continue
		}
		visited[dn.Norm()] = true
		e, err := tx.Get(dn)
		if errors.Is(err, directory.ErrNoSuchObject) {
			continue // a member value naming no entry
		}
		if err != nil {
			return err
		}
		groups, err := s.groupsOf(tx, dn)
		if err != nil {
			return err
		}
		if !sameDNs(e.Get("memberOf"), groups) {
			if err := tx.Modify(dn, []directory.Change{{Op: directory.ChangeReplace, Attr: "memberOf", Values: groups}}); err != nil {
				return err
			}
		}
		queue = append(queue, dnValues(e.Get("member"))...)
	}
	return nil
}

// groupsOf returns the DNs of every group dn belongs to, transitively,
// sorted by normalized form.
func (s *Service) groupsOf(tx directory.ReadTx, dn directory.DN) ([]string, error) {
	seen := map[string]string{}
	frontier := []directory.DN{dn}
	for len(frontier) > 0 {
		x := frontier[0]
		frontier = frontier[1:]
		err := tx.Search(s.base, directory.ScopeSub, s.eqFilter("member", x.String()), func(g *directory.Entry) error {
			if _, ok := seen[g.DN.Norm()]; ok || g.DN.Equal(dn) {
				return nil
			}
			seen[g.DN.Norm()] = g.DN.String()
			frontier = append(frontier, g.DN)
			return nil
		})
		if err != nil && !errors.Is(err, directory.ErrNoSuchObject) {
			return nil, err
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = seen[k]
	}
	return out, nil
}

// removeReferences drops a deleted entry from every group's member list
// and refreshes memberOf of its former members.
func (s *Service) removeReferences(tx directory.WriteTx, gone *directory.Entry) error {
	groups, err := s.entriesWith(tx, "member", gone.DN.String())
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := tx.Modify(g, []directory.Change{{Op: directory.ChangeDelete, Attr: "member", Values: []string{gone.DN.String()}}}); err != nil {
			return err
		}
	}
	if err := s.refreshMemberUID(tx, groups, gone.DN); err != nil {
		return err
	}
	return s.refreshMemberOf(tx, dnValues(gone.Get("member")))
}

// rewriteReferences points member and entryManagedBy values at an entry's
// new DN after a rename, and refreshes memberOf values naming the old DN.
func (s *Service) rewriteReferences(tx directory.WriteTx, old, renamed directory.DN) error {
	groups, err := s.entriesWith(tx, "member", old.String())
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := tx.Modify(g, []directory.Change{
			{Op: directory.ChangeDelete, Attr: "member", Values: []string{old.String()}},
			{Op: directory.ChangeAdd, Attr: "member", Values: []string{renamed.String()}},
		}); err != nil {
			return err
		}
	}
	if err := s.refreshMemberUID(tx, groups, old); err != nil {
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
	members, err := s.entriesWith(tx, "memberOf", old.String())
	if err != nil {
		return err
	}
	return s.refreshMemberOf(tx, members)
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

// symmetricDiff returns the DNs in exactly one of a and b.
func symmetricDiff(a, b []directory.DN) []directory.DN {
	in := func(set []directory.DN, x directory.DN) bool {
		return slices.ContainsFunc(set, x.Equal)
	}
	var out []directory.DN
	for _, x := range a {
		if !in(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !in(a, x) {
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
