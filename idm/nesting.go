package idm

import (
	"errors"
	"fmt"

	"github.com/ldapd/ldapd/directory"
)

// The nesting caps of group membership (members.go): chains of nested
// groups at most MaxGroupNesting long.

// checkNesting refuses making m a member of group g when that would make
// a chain of nested groups longer than MaxGroupNesting. Only a group
// member lengthens chains. Both walks stop as soon as the chain is known
// to be too long, so a chain already deeper than the cap (data from
// before it) costs at most MaxGroupNesting searches to refuse.
func (s *Service) checkNesting(tx directory.ReadTx, g *directory.Entry, m directory.DN) error {
	if !m.Parent().Equal(s.policy.Groups) {
		return nil
	}
	me, err := tx.Get(m)
	if err != nil || !s.policy.IsGroup(me) {
		return nil // not a group (a missing value was refused already)
	}
	up, err := s.levelsAbove(tx, g.DN, MaxGroupNesting)
	if err != nil {
		return err
	}
	down, err := s.levelsBelow(tx, me, MaxGroupNesting-up)
	if err != nil {
		return err
	}
	if up+down > MaxGroupNesting {
		return directory.Errorf(directory.ErrAdminLimitExceeded, fmt.Sprintf(
			"%s in %s would nest groups more than %d levels deep", m, g.DN, MaxGroupNesting))
	}
	return nil
}

// levelsAbove returns the number of groups on the longest chain of groups
// from a top-level group down to g, g included; any value above limit
// means "more than limit" (the walk stops there). Edges back into the
// chain being walked (cycles) are skipped.
func (s *Service) levelsAbove(tx directory.ReadTx, g directory.DN, limit int) (int, error) {
	return s.longestChain(g, limit, func(dn directory.DN) ([]directory.DN, error) {
		parents, err := s.parentGroups(tx, dn)
		out := make([]directory.DN, len(parents))
		for i, p := range parents {
			out[i] = p.DN
		}
		return out, err
	})
}

// levelsBelow returns the number of groups on the longest chain from
// group g down through its group members, g included, as levelsAbove
// does upwards.
func (s *Service) levelsBelow(tx directory.ReadTx, g *directory.Entry, limit int) (int, error) {
	entries := map[string]*directory.Entry{g.DN.Norm(): g}
	return s.longestChain(g.DN, limit, func(dn directory.DN) ([]directory.DN, error) {
		e := entries[dn.Norm()]
		if e == nil {
			return nil, nil
		}
		var out []directory.DN
		for _, m := range dnValues(e.Get("member")) {
			if !m.Parent().Equal(s.policy.Groups) {
				continue // only entries under ou=groups can be groups
			}
			me, err := tx.Get(m)
			if errors.Is(err, directory.ErrNoSuchObject) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if s.policy.IsGroup(me) {
				entries[m.Norm()] = me
				out = append(out, m)
			}
		}
		return out, nil
	})
}

// longestChain is the depth-first walk behind levelsAbove and levelsBelow:
// the most nodes on a path from start along next, start included, each
// node's result memoized, stopping once the result exceeds limit.
func (s *Service) longestChain(start directory.DN, limit int, next func(directory.DN) ([]directory.DN, error)) (int, error) {
	memo := map[string]int{}
	onPath := map[string]bool{}
	var walk func(dn directory.DN, pathLen int) (int, error)
	walk = func(dn directory.DN, pathLen int) (int, error) {
		if v, ok := memo[dn.Norm()]; ok {
			return v, nil
		}
		if pathLen > limit {
			return 1, nil // the caller's chain is too long already
		}
		onPath[dn.Norm()] = true
		defer delete(onPath, dn.Norm())
		nbrs, err := next(dn)
		if err != nil {
			return 0, err
		}
		best := 1
		for _, n := range nbrs {
			if onPath[n.Norm()] {
				continue
			}
			d, err := walk(n, pathLen+1)
			if err != nil {
				return 0, err
			}
			best = max(best, d+1)
			if pathLen+best-1 > limit {
				break
			}
		}
		memo[dn.Norm()] = best
		return best, nil
	}
	return walk(start, 1)
}

// checkNestingOf refuses a group that lies on a chain of nested groups
// longer than MaxGroupNesting.
func (s *Service) checkNestingOf(tx directory.ReadTx, g *directory.Entry) error {
	up, err := s.levelsAbove(tx, g.DN, MaxGroupNesting)
	if err != nil {
		return err
	}
	down, err := s.levelsBelow(tx, g, MaxGroupNesting-up+1)
	if err != nil {
		return err
	}
	if up+down-1 > MaxGroupNesting {
		return directory.Errorf(directory.ErrAdminLimitExceeded, fmt.Sprintf(
			"%s would nest groups more than %d levels deep", g.DN, MaxGroupNesting))
	}
	return nil
}
