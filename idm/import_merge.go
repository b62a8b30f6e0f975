package idm

import (
	"context"
	"slices"
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
)

// The built-in entries every directory has, when an import file holds
// them too: their values are merged rather than skipped.

// builtinNorms returns the normalized DNs of the entries every directory
// gets at its first start (Bootstrap).
func (s *Service) builtinNorms() (map[string]bool, error) {
	entries, err := s.builtinEntries()
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(entries))
	for _, e := range entries {
		out[e.DN.Norm()] = true
	}
	return out, nil
}

// mergeNever reports the attributes a merge never takes from the file:
// objectClass is merged on its own, the others are recomputed.
func mergeNever(name string) bool {
	switch strings.ToLower(name) {
	case "objectclass", "memberof", "structuralobjectclass":
		return true
	}
	return false
}

// mergeBuiltin gives the stored built-in entry at f.DN the values of f,
// the entry the import file holds for it: each attribute f carries
// replaces the stored one (member lists, userPassword hashes,
// description, entryUUID and the timestamps: the exported directory's),
// attributes f lacks are kept, and f's object classes are added when the
// entry stays valid with them. A value the resulting classes do not
// allow is left out and listed in st.NotMerged. It returns the DNs whose
// memberOf must be recomputed: the entry and the members it lost.
func (s *Service) mergeBuiltin(ctx context.Context, f *directory.Entry, st *ImportStats) ([]directory.DN, error) {
	if pws := f.Get("userPassword"); len(pws) > 0 {
		for _, pw := range pws {
			if !password.IsHashed(pw) {
				hashed, err := s.hashPasswords(ctx, pws, true)
				if err != nil {
					return nil, err
				}
				f.Set("userPassword", hashed...)
				break
			}
		}
	}
	var roots []directory.DN
	var notMerged []string
	err := s.store.Update(ctx, func(tx directory.WriteTx) error {
		roots, notMerged = roots[:0], notMerged[:0]
		stored, err := tx.Get(f.DN)
		if err != nil {
			return err
		}
		merged := stored.Clone()
		withClasses := merged.Clone()
		for _, c := range f.Get("objectClass") {
			if !hasClass(withClasses, c) {
				withClasses.Add("objectClass", c)
			}
		}
		if _, err := s.schema.CheckClasses(withClasses); err == nil {
			merged = withClasses
		}
		for _, a := range f.Attrs {
			if mergeNever(a.Name) {
				continue
			}
			try := merged.Clone()
			try.Set(a.Name, a.Values...)
			if _, err := s.schema.Check(try); err != nil {
				notMerged = append(notMerged, f.DN.String()+": "+a.Name)
				continue
			}
			merged = try
		}
		var changes []directory.Change
		for _, a := range merged.Attrs {
			if !slices.Equal(a.Values, stored.Get(a.Name)) {
				name := a.Name
				if at, ok := s.schema.Attr(name); ok && len(at.Names) > 0 {
					name = at.Names[0]
				}
				changes = append(changes, directory.Change{Op: directory.ChangeReplace, Attr: name, Values: a.Values})
			}
		}
		if len(changes) == 0 {
			return nil
		}
		if err := tx.Modify(f.DN, changes); err != nil {
			return err
		}
		roots = append(roots, f.DN)
		kept := map[string]bool{}
		for _, m := range merged.Get("member") {
			kept[s.norms.norm(m)] = true
		}
		for _, m := range dnValues(stored.Get("member")) {
			if !kept[m.Norm()] {
				roots = append(roots, m) // a member it lost
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Merged = append(st.Merged, f.DN.String())
	st.NotMerged = append(st.NotMerged, notMerged...)
	return roots, nil
}
