package plan

import (
	"slices"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/internal/indexdef"
)

// answer is how far the indexes answer a filter.
type answer uint8

const (
	answered  answer = iota // ids is a superset of the matches
	tooMany                 // the answer would exceed the limit
	unindexed               // the indexes cannot answer the filter
)

// candidates returns, sorted and without duplicates, the ids of a superset
// of the entries that can match f, if the indexes can answer f with at most
// limit ids.
//
// A leaf on an attribute the schema does not know, or an equality whose
// assertion its rule rejects, is Undefined for every entry (RFC 4511
// section 4.5.1.7) and so yields no candidates. NOT, substrings, ordering
// and approximate filters are never answered from the indexes; neither is
// presence of objectClass (every entry has it).
func (r *run) candidates(f *directory.Filter, limit int) ([]uint64, answer, error) {
	x := r.p.Index
	var names []string
	var prefixes [][]byte
	switch f.Kind {
	case directory.FilterEquality:
		attr, norm, ok := f.EqualityKey()
		if !ok {
			return nil, answered, nil
		}
		if names, ok = x.EqQuery[attr]; !ok || synthesized(attr) {
			return nil, unindexed, nil
		}
		prefixes = [][]byte{indexdef.EqPrefix(norm)}
		if r.p.Overflow {
			prefixes = append(prefixes, []byte{indexdef.PrefixOverflow})
		}
	case directory.FilterPresent:
		at := f.Attribute()
		if at == nil {
			return nil, answered, nil
		}
		var ok bool
		if names, ok = x.PresQuery[at.Name()]; !ok || synthesized(at.Name()) || at.Name() == "objectClass" {
			return nil, unindexed, nil
		}
		prefixes = [][]byte{{indexdef.PrefixPres}}
	case directory.FilterSubstrings, directory.FilterGreaterOrEqual, directory.FilterLessOrEqual, directory.FilterApprox:
		if f.Attribute() == nil {
			return nil, answered, nil
		}
		return nil, unindexed, nil
	case directory.FilterAnd:
		return r.andCandidates(f, limit)
	case directory.FilterOr:
		return r.orCandidates(f, limit)
	default:
		return nil, unindexed, nil
	}
	var ids []uint64
	for _, name := range names {
		for _, prefix := range prefixes {
			var complete bool
			var err error
			if ids, complete, err = r.src.IndexIDs(name, prefix, ids, limit); err != nil {
				return nil, 0, err
			} else if !complete {
				return nil, tooMany, nil
			}
		}
	}
	return sortUnique(ids), answered, nil
}

// andCandidates uses the smallest answerable child of an AND. Equality
// children are tried first, and each later child only up to the size of
// the best so far, so a broad presence or objectClass term costs little
// once a selective term has been found.
func (r *run) andCandidates(f *directory.Filter, limit int) ([]uint64, answer, error) {
	var best []uint64
	res := unindexed
	try := func(c *directory.Filter) error {
		lim := limit
		if res == answered {
			if lim = len(best) - 1; lim < 0 {
				return nil
			}
		}
		ids, st, err := r.candidates(c, lim)
		switch {
		case err != nil:
			return err
		case st == answered:
			best, res = ids, answered
		case st == tooMany && res == unindexed:
			res = tooMany
		}
		return nil
	}
	for _, equality := range []bool{true, false} {
		for _, c := range f.Children {
			if (c.Kind == directory.FilterEquality) == equality {
				if err := try(c); err != nil {
					return nil, 0, err
				}
			}
		}
	}
	return best, res, nil
}

// orCandidates unites the answers of all children of an OR; one child the
// indexes cannot answer makes the whole OR unanswerable.
func (r *run) orCandidates(f *directory.Filter, limit int) ([]uint64, answer, error) {
	var ids []uint64
	res := answered
	for _, c := range f.Children {
		cids, st, err := r.candidates(c, limit)
		if err != nil {
			return nil, 0, err
		}
		switch st {
		case unindexed:
			return nil, unindexed, nil
		case tooMany:
			res = tooMany
		case answered:
			if res == answered {
				if ids = sortUnique(append(ids, cids...)); len(ids) > limit {
					res = tooMany
				}
			}
		}
	}
	if res != answered {
		return nil, res, nil
	}
	return ids, answered, nil
}

// synthesized reports whether Filter.Match evaluates attr from something
// other than stored values (entryDN from the DN; hasSubordinates is always
// present), so that an index on it, if configured, would be wrong.
func synthesized(attr string) bool { return attr == "entryDN" || attr == "hasSubordinates" }

func sortUnique(ids []uint64) []uint64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
