package idm

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

// Group membership.
//
// memberOf is materialized: every entry stores the DNs of all groups it
// belongs to, directly or through nested groups, so that filters such as
// (memberOf=cn=x,...) use the index and access control reads an account's
// groups with one Get. The rules:
//
//   - Only groups confer membership: entries for which Policy.IsGroup holds
//     (groupOfNames or groupOfUniqueNames directly under ou=groups), through
//     their member values. A member value on any other entry (an
//     extensibleObject service account, a groupOfNames elsewhere) is kept as
//     data but puts nobody in any group, directly or transitively, whoever
//     wrote it. uniqueMember confers nothing anywhere: ldapd derives
//     memberOf from member only (as it always has); uniqueMember values are
//     still checked and kept pointing at live entries for the applications
//     that read them.
//   - memberOf(X) is the union, over the groups G that have X as a member,
//     of {G} and memberOf(G); X itself is left out (a cycle of groups
//     terminates, each group in it being a member of the others).
//   - A new member or uniqueMember value must name an existing entry under
//     the base that the writer may see (ErrConstraintViolation otherwise),
//     and deleting or renaming an entry removes or rewrites the values
//     naming it, so that no value ever names a DN someone may create later.
//   - Nesting is capped: no chain of groups nested in one another may be
//     longer than MaxGroupNesting, and no entry may belong to more than
//     MaxMemberOf groups. A write that would break either is refused with
//     ErrAdminLimitExceeded and changes nothing.
//
// Maintenance is incremental, inside the write's transaction. Adding
// members to a group G gives each new member M memberOf(M) ∪ {G} ∪
// memberOf(G) and passes what M gained down to M's own members if M is a
// group, touching only entries whose memberOf grows (addMembers). Anything
// that can shrink memberships (removed members, deleted or renamed
// entries) recomputes only the affected entries: the removed members and
// everything below them, each from the stored memberOf of its direct
// parents, found with one indexed (member=X) search per entry
// (refreshMemberOf).
const (
	// MaxGroupNesting is the longest chain of groups nested in one another:
	// a group that is a member of no group is at level 1, a member of a
	// level-n group at level n+1. Adding a member that would put some group
	// below level MaxGroupNesting is refused (ErrAdminLimitExceeded).
	MaxGroupNesting = 32
	// MaxMemberOf is the most groups one entry may belong to, directly or
	// through nesting; a write that would give an entry more is refused
	// (ErrAdminLimitExceeded).
	MaxMemberOf = 1024
)

// metaMemberOf records the rules the stored memberOf values were derived
// with; see rederiveMemberOf.
const (
	metaMemberOf    = "memberof.rules"
	memberOfRulesV2 = "groups-only"
)

// groupSet maps the normalized DN of each group to the DN as stored.
type groupSet map[string]string

// groupsOf returns e's stored memberOf values as a groupSet.
func (s *Service) groupsOf(e *directory.Entry) groupSet {
	vals := e.Get("memberOf")
	out := make(groupSet, len(vals))
	for _, v := range vals {
		if n := s.norms.norm(v); n != "" {
			out[n] = v
		}
	}
	return out
}

// sorted returns the DNs of gs ordered by normalized form.
func (gs groupSet) sorted() []string {
	keys := make([]string, 0, len(gs))
	for k := range gs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = gs[k]
	}
	return out
}

func sameGroups(a, b groupSet) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

// membersChanged keeps memberships right after e was added (old == nil) or
// modified from old, in the write's transaction: it checks the member and
// uniqueMember values e gained, applies the nesting caps to the group
// members it gained, and updates memberOf of every entry affected.
func (s *Service) membersChanged(tx directory.WriteTx, sub acl.Subject, old, e *directory.Entry) error {
	if err := s.checkMemberValues(tx, sub, old, e); err != nil {
		return err
	}
	var before, after []directory.DN
	if old != nil && s.policy.IsGroup(old) {
		before = dnValues(old.Get("member"))
	}
	if s.policy.IsGroup(e) {
		after = dnValues(e.Get("member"))
	}
	added, removed := minusDNs(after, before), minusDNs(before, after)
	// memberOf is the server's: a value a client supplied (root may write
	// operational attributes) is replaced by the derived one.
	stray := (old == nil && e.Has("memberOf")) || (old != nil && !sameDNs(old.Get("memberOf"), e.Get("memberOf")))
	if old == nil {
		// A new entry starts in no group, even if some value was left
		// naming its DN before values were checked.
		if err := s.dropReferences(tx, e.DN); err != nil {
			return err
		}
	}
	for _, m := range added {
		if err := s.checkNesting(tx, e, m); err != nil {
			return err
		}
	}
	if len(removed) > 0 || stray {
		roots := append(append([]directory.DN{}, removed...), added...)
		if stray {
			roots = append(roots, e.DN)
		}
		return s.refreshMemberOf(tx, roots)
	}
	if len(added) > 0 {
		return s.addMembers(tx, e, added)
	}
	return nil
}

// checkMemberValues refuses member and uniqueMember values of e that old
// (nil: none) did not have and that name no entry under the base that sub
// may see. A hidden entry is refused like a missing one, so the check does
// not reveal what exists.
func (s *Service) checkMemberValues(tx directory.ReadTx, sub acl.Subject, old, e *directory.Entry) error {
	for _, attr := range []string{"member", "uniqueMember"} {
		had := map[string]bool{}
		if old != nil {
			for _, dn := range dnValues(old.Get(attr)) {
				had[dn.Norm()] = true
			}
		}
		for _, v := range e.Get(attr) {
			refused := directory.Errorf(directory.ErrConstraintViolation,
				attr+" "+v+" does not name an existing entry under "+s.base.String())
			dn, err := directory.ParseDN(v)
			if err != nil || !dn.IsWithin(s.base) {
				if err == nil && had[dn.Norm()] {
					continue // kept from before values were checked
				}
				return refused
			}
			if had[dn.Norm()] {
				continue
			}
			if dn.Equal(e.DN) {
				continue // a group naming itself: it exists once this write commits
			}
			target, err := tx.Get(dn)
			if errors.Is(err, directory.ErrNoSuchObject) {
				return refused
			}
			if err != nil {
				return fmt.Errorf("check %s %s: %w", attr, v, err)
			}
			if !s.policy.CanSee(sub, target, s.parentAccount(tx, target)) {
				return refused
			}
		}
	}
	return nil
}

// addMembers gives the entries newly added to group g the groups g
// confers and passes what they gained down to their own members, level by
// level. Only entries whose memberOf grows are read past the first level
// and written; nothing is searched.
func (s *Service) addMembers(tx directory.WriteTx, g *directory.Entry, added []directory.DN) error {
	gain := s.groupsOf(g)
	gain[g.DN.Norm()] = g.DN.String()
	type pending struct {
		e      *directory.Entry
		groups groupSet
		gained []string
	}
	state := map[string]*pending{}
	var order []*pending
	type step struct {
		dn   directory.DN
		gain groupSet
	}
	queue := make([]step, 0, len(added))
	for _, m := range added {
		queue = append(queue, step{m, gain})
	}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		p := state[st.dn.Norm()]
		if p == nil {
			e, err := tx.Get(st.dn)
			if errors.Is(err, directory.ErrNoSuchObject) {
				continue
			}
			if err != nil {
				return fmt.Errorf("memberOf of %s: %w", st.dn, err)
			}
			p = &pending{e: e, groups: s.groupsOf(e)}
			state[st.dn.Norm()] = p
			order = append(order, p)
		}
		fresh := groupSet{}
		for n, v := range st.gain {
			if _, has := p.groups[n]; has || n == p.e.DN.Norm() {
				continue
			}
			p.groups[n] = v
			p.gained = append(p.gained, v)
			fresh[n] = v
		}
		if len(fresh) == 0 {
			continue
		}
		if len(p.groups) > MaxMemberOf {
			return tooManyGroups(p.e.DN)
		}
		if s.policy.IsGroup(p.e) {
			for _, m := range dnValues(p.e.Get("member")) {
				queue = append(queue, step{m, fresh})
			}
		}
	}
	for _, p := range order {
		if len(p.gained) == 0 {
			continue
		}
		if err := tx.Modify(p.e.DN, []directory.Change{{Op: directory.ChangeAdd, Attr: "memberOf", Values: p.gained}}); err != nil {
			return fmt.Errorf("memberOf of %s: %w", p.e.DN, err)
		}
	}
	return nil
}

func tooManyGroups(dn directory.DN) error {
	return directory.Errorf(directory.ErrAdminLimitExceeded,
		dn.String()+" would belong to more than "+strconv.Itoa(MaxMemberOf)+" groups")
}

// memberNode is one entry refreshMemberOf recomputes.
type memberNode struct {
	e      *directory.Entry
	inner  []*memberNode      // parent groups being recomputed too
	outer  []*directory.Entry // parent groups whose stored memberOf holds
	kids   []*memberNode      // members being recomputed (inner, reversed)
	groups groupSet
	// Tarjan's bookkeeping.
	index, low int
	onStack    bool
	scc        int
}

// refreshMemberOf recomputes memberOf for roots and, transitively, for
// the members of any group among them (the affected entries), and writes
// the values that changed. Each affected entry's parent groups are found
// with one indexed search; a parent outside the affected entries
// contributes its stored memberOf, which the change cannot have touched
// (an entry whose memberOf names an affected group is below it, hence
// affected). The affected entries are then solved in topological order of
// their strongly connected components, so a chain is one pass and a cycle
// of groups gives each of its groups the others.
func (s *Service) refreshMemberOf(tx directory.WriteTx, roots []directory.DN) error {
	nodes := map[string]*memberNode{}
	var all []*memberNode
	queue := append([]directory.DN(nil), roots...)
	for len(queue) > 0 {
		dn := queue[0]
		queue = queue[1:]
		if nodes[dn.Norm()] != nil {
			continue
		}
		e, err := tx.Get(dn)
		if errors.Is(err, directory.ErrNoSuchObject) {
			continue // a member value naming no entry (left from before values were checked)
		}
		if err != nil {
			return fmt.Errorf("memberOf of %s: %w", dn, err)
		}
		n := &memberNode{e: e, index: -1}
		nodes[dn.Norm()] = n
		all = append(all, n)
		if s.policy.IsGroup(e) {
			queue = append(queue, dnValues(e.Get("member"))...)
		}
	}
	for _, n := range all {
		parents, err := s.parentGroups(tx, n.e.DN)
		if err != nil {
			return fmt.Errorf("groups of %s: %w", n.e.DN, err)
		}
		for _, g := range parents {
			if p := nodes[g.DN.Norm()]; p != nil {
				n.inner = append(n.inner, p)
				p.kids = append(p.kids, n)
			} else {
				n.outer = append(n.outer, g)
			}
		}
	}
	for _, scc := range stronglyConnected(all) {
		if err := s.solve(scc); err != nil {
			return err
		}
	}
	for _, n := range all {
		if !sameGroups(s.groupsOf(n.e), n.groups) {
			ch := directory.Change{Op: directory.ChangeReplace, Attr: "memberOf", Values: n.groups.sorted()}
			if err := tx.Modify(n.e.DN, []directory.Change{ch}); err != nil {
				return fmt.Errorf("memberOf of %s: %w", n.e.DN, err)
			}
		}
	}
	return nil
}

// solve computes memberOf for one strongly connected component, whose
// parents outside it are solved already.
func (s *Service) solve(scc []*memberNode) error {
	in := scc[0].scc
	groups := groupSet{}
	for _, n := range scc {
		for _, g := range n.outer {
			groups[g.DN.Norm()] = g.DN.String()
			for k, v := range s.groupsOf(g) {
				groups[k] = v
			}
		}
		for _, p := range n.inner {
			if p.scc == in {
				continue
			}
			groups[p.e.DN.Norm()] = p.e.DN.String()
			for k, v := range p.groups {
				groups[k] = v
			}
		}
	}
	if len(scc) > 1 { // a cycle: its groups are members of one another
		for _, n := range scc {
			groups[n.e.DN.Norm()] = n.e.DN.String()
		}
	}
	for i, n := range scc {
		mine := groups
		if i < len(scc)-1 {
			mine = make(groupSet, len(groups))
			for k, v := range groups {
				mine[k] = v
			}
		}
		delete(mine, n.e.DN.Norm())
		if len(mine) > MaxMemberOf {
			return tooManyGroups(n.e.DN)
		}
		n.groups = mine
	}
	return nil
}

// stronglyConnected returns the strongly connected components of the
// graph of nodes (edges: group to member), parents before members.
func stronglyConnected(nodes []*memberNode) [][]*memberNode {
	var out [][]*memberNode
	var stack []*memberNode
	next := 0
	var visit func(n *memberNode)
	visit = func(n *memberNode) {
		n.index, n.low = next, next
		next++
		stack = append(stack, n)
		n.onStack = true
		for _, k := range n.kids {
			if k.index < 0 {
				visit(k)
				n.low = min(n.low, k.low)
			} else if k.onStack {
				n.low = min(n.low, k.index)
			}
		}
		if n.low != n.index {
			return
		}
		id := len(out)
		var scc []*memberNode
		for {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			top.onStack = false
			top.scc = id
			scc = append(scc, top)
			if top == n {
				break
			}
		}
		out = append(out, scc)
	}
	for _, n := range nodes {
		if n.index < 0 {
			visit(n)
		}
	}
	// Tarjan emits a component after every component it reaches: members
	// first. Reverse for parents first.
	slices.Reverse(out)
	return out
}

// parentGroups returns the groups that have dn as a member: one indexed
// search. Entries that are not groups are ignored, whatever member values
// they hold.
func (s *Service) parentGroups(tx directory.ReadTx, dn directory.DN) ([]*directory.Entry, error) {
	var out []*directory.Entry
	err := tx.Search(s.policy.Groups, directory.ScopeOne, s.eqFilter("member", dn.String()), func(g *directory.Entry) error {
		if s.policy.IsGroup(g) {
			out = append(out, g)
		}
		return nil
	})
	if errors.Is(err, directory.ErrNoSuchObject) {
		return nil, nil // no ou=groups: no groups
	}
	return out, err
}
