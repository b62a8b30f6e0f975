package idm

import (
	"slices"

	"github.com/ldapd/ldapd/directory"
)

// memberOf of imported entries, derived from the file itself. The entries
// an import adds get their memberOf before they are written, from the
// groups of the file (entries for which Policy.IsGroup holds, and their
// member values: the rule refreshMemberOf applies), nested groups and
// cycles included. Only the stored entries that a group of the file names
// as a member (and the members of the built-in groups the file merges) are
// then refreshed through the store: one (member=DN) search each, instead
// of one for every member of every imported group.
//
// A stored group whose member values name an entry of the file cannot
// exist (member values name existing entries; an imported entry did not
// exist), so the groups of the file are all the groups of an added entry.

// importGroups collects the groups of an import file during the first
// pass and derives memberOf from them.
type importGroups struct {
	// dns and norms are the DN and normalized DN of each group of the file
	// that the import adds, in file order; index maps a norm to its
	// position.
	dns   []string
	norms []string
	index map[string]int32
	// parents maps the norm of each member value of those groups to the
	// groups naming it.
	parents map[string][]int32
	// stored lists the member values that name stored entries, once each:
	// refreshMemberOf recomputes them after the add.
	stored     []directory.DN
	storedSeen map[string]bool
	// of maps the norm of each entry in some group of the file to its
	// memberOf, as group positions sorted by norm (derive fills it).
	of map[string][]int32
}

func newImportGroups() *importGroups {
	return &importGroups{index: map[string]int32{}, parents: map[string][]int32{}, storedSeen: map[string]bool{}}
}

// addGroup records a group of the file that the import adds and returns
// its position.
func (g *importGroups) addGroup(dn directory.DN) int32 {
	i := int32(len(g.dns))
	g.dns = append(g.dns, dn.String())
	g.norms = append(g.norms, dn.Norm())
	g.index[dn.Norm()] = i
	return i
}

// addMember records that group i has member m; inFile tells whether m is
// an entry of the file that the import adds (else it is stored).
func (g *importGroups) addMember(i int32, m directory.DN, inFile bool) {
	n := m.Norm()
	if ps := g.parents[n]; len(ps) > 0 && ps[len(ps)-1] == i {
		return // a value given twice
	}
	g.parents[n] = append(g.parents[n], i)
	if !inFile && !g.storedSeen[n] {
		g.storedSeen[n] = true
		g.stored = append(g.stored, m)
	}
}

// derive computes the memberOf of every member of a group of the file:
// the groups it is a member of, directly or through nested groups. It
// fails, naming the entry, when one would belong to more than MaxMemberOf
// groups (as refreshMemberOf would after the add).
func (g *importGroups) derive() error {
	// closure[i] holds the groups that group i is in, transitively
	// (itself only through a cycle), once computed.
	closure := make([][]int32, len(g.dns))
	done := make([]bool, len(g.dns))
	seen := make([]int32, len(g.dns)) // visit marks, by generation
	gen := int32(0)
	var queue []int32
	// reach returns the groups reachable from start through parents, start
	// included.
	reach := func(start []int32) []int32 {
		gen++
		var out []int32
		queue = append(queue[:0], start...)
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if seen[p] == gen {
				continue
			}
			seen[p] = gen
			out = append(out, p)
			if done[p] {
				// Its closure is known: take it whole.
				for _, q := range closure[p] {
					if seen[q] != gen {
						seen[q] = gen
						out = append(out, q)
					}
				}
				continue
			}
			queue = append(queue, g.parents[g.norms[p]]...)
		}
		return out
	}
	g.of = make(map[string][]int32, len(g.parents))
	for i := range g.dns {
		c := reach(g.parents[g.norms[i]])
		closure[i], done[i] = c, true
	}
	for n, ps := range g.parents {
		var of []int32
		if i, isGroup := g.index[n]; isGroup {
			of = slices.DeleteFunc(slices.Clone(closure[i]), func(q int32) bool { return q == i })
		} else if len(ps) == 1 && len(closure[ps[0]]) == 0 {
			of = ps // the common case: one group, not nested
		} else {
			of = reach(ps)
		}
		if len(of) > MaxMemberOf {
			dn, _ := directory.ParseDN(n) // a norm is a valid DN
			return tooManyGroups(dn)
		}
		slices.SortFunc(of, func(a, b int32) int {
			switch {
			case g.norms[a] < g.norms[b]:
				return -1
			case g.norms[a] > g.norms[b]:
				return 1
			}
			return 0
		})
		g.of[n] = of
	}
	return nil
}

// apply gives e, an entry the import adds, its derived memberOf.
func (g *importGroups) apply(e *directory.Entry) {
	of := g.of[e.DN.Norm()]
	if len(of) == 0 {
		return
	}
	vals := make([]string, len(of))
	for i, q := range of {
		vals[i] = g.dns[q]
	}
	e.Set("memberOf", vals...)
}
