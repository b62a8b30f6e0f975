package idm

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// The first pass of Import: every record is read, prepared and checked
// against the store and the rest of the file before anything is written.

// validated is what the first pass found.
type validated struct {
	// spool, if not nil, holds the prepared entries to add: in memory
	// or, for a file too large to keep, in a file (import_spool.go).
	// Nil: the file is read again.
	spool *importSpool
	// skipped holds the norms of the DNs that exist already.
	skipped map[string]bool
	// merge holds the prepared file entries of existing built-in entries.
	merge []*directory.Entry
	// groups holds the groups of the file and the memberOf they give the
	// entries to add (import_memberof.go).
	groups *importGroups
	// sums holds the recordSum of every record, in file order, with seed.
	sums []uint64
	seed maphash.Seed
}

// validateImport is Import's first pass. With keep, it also prepares the
// entries completely (plaintext passwords hashed) and spools them: in
// memory, or in a file in Config.ImportSpoolDir past keepChunk entries;
// without a spool directory, a file of more is read again instead.
func (s *Service) validateImport(ctx context.Context, open ImportSource, st *ImportStats, progress func(pass, n int), keep bool) (*validated, error) {
	next, err := open()
	if err != nil {
		return nil, err
	}
	v := &validated{skipped: map[string]bool{}, groups: newImportGroups(), seed: maphash.MakeSeed()}
	builtin, err := s.builtinNorms()
	if err != nil {
		return nil, err
	}
	err = s.store.View(ctx, func(tx directory.ReadTx) error {
		uids, err := s.accountUIDs(tx)
		if err != nil {
			return err
		}
		// inFile maps the norm of each DN to add to whether it is a group
		// or an account (a valid entryManagedBy target).
		inFile := map[string]bool{}
		// parents caches, for each parent not in the file, whether it is
		// stored and the norms of its stored children: one search per
		// parent instead of a failed Get per entry.
		parents := map[string]*storedParent{}
		parentOf := func(dn directory.DN) (*storedParent, error) {
			p, ok := parents[dn.Norm()]
			if !ok {
				var err error
				if p, err = s.storedChildren(tx, dn); err != nil {
					return nil, err
				}
				parents[dn.Norm()] = p
			}
			return p, nil
		}
		type ref struct {
			line    int
			dn, mgr string
		}
		var managed []ref
		type memberRef struct {
			line            int
			dn, attr, value string
			group           int32 // the file group holding the value, or -1
		}
		var members []memberRef
		var kept int       // entries in v.spool while it is in memory
		var keptCost int64 // their importCost
		if keep {
			v.spool = newMemorySpool()
		}
		n := 0
		// A store with AddBulk and a spool directory adds what this pass
		// keeps or spools: the file is not read again, its sums unused.
		mode := prepareMode{hash: keep, seed: v.seed, noSum: keep && s.cfg.ImportSpoolDir != ""}
		err = s.eachPrepared(ctx, next, mode, func(it *importItem) error {
			if it.err != nil {
				return it.err
			}
			n++
			progress(1, n)
			v.sums = append(v.sums, it.sum)
			rec := it.rec
			e := rec.Entry
			fail := func(err error) error { return fmt.Errorf("line %d: %s: %w", rec.Line, e.DN, err) }
			// exists handles an entry that is already stored: a built-in
			// one is merged, another skipped.
			exists := func() error {
				if v.skipped[e.DN.Norm()] {
					return fail(directory.Errorf(directory.ErrEntryAlreadyExists, "the entry is given twice"))
				}
				v.skipped[e.DN.Norm()] = true
				if !builtin[e.DN.Norm()] {
					st.Skipped = append(st.Skipped, e.DN.String())
					return nil
				}
				if it.prepErr != nil {
					return fail(it.prepErr)
				}
				for _, uid := range e.Get("uid") {
					if other, ok := uids[strings.ToLower(uid)]; ok {
						if odn, err := directory.ParseDN(other); err != nil || !odn.Equal(e.DN) {
							return fail(directory.Errorf(directory.ErrConstraintViolation, "uid "+uid+" is already used by "+other))
						}
					}
				}
				for _, attr := range []string{"member", "uniqueMember"} {
					for _, v := range e.Get(attr) {
						members = append(members, memberRef{rec.Line, e.DN.String(), attr, v, -1})
					}
				}
				// Not in inFile: that set is for entries to add, whose
				// children are new too; references to it find it stored.
				v.merge = append(v.merge, e)
				return nil
			}
			if !e.DN.IsWithin(s.base) {
				return fail(directory.Errorf(directory.ErrUnwillingToPerform, "not under the directory base "+s.base.String()))
			}
			if _, seen := inFile[e.DN.Norm()]; seen {
				return fail(directory.Errorf(directory.ErrEntryAlreadyExists, "the entry is given twice"))
			}
			if e.DN.Equal(s.base) {
				if _, err := tx.Get(e.DN); err == nil {
					return exists()
				} else if !errors.Is(err, directory.ErrNoSuchObject) {
					return fail(err)
				}
			} else if parent := e.DN.Parent(); !inFileHas(inFile, parent) {
				// A parent new in the file has no stored children.
				p, err := parentOf(parent)
				if err != nil {
					return fail(err)
				}
				if p.children[e.DN.Norm()] {
					return exists()
				}
				if !p.stored {
					return fail(directory.Errorf(directory.ErrNoSuchObject, "parent "+parent.String()+" is neither in the directory nor earlier in the file"))
				}
			}
			for _, a := range it.dropped {
				st.Dropped[a.Name] += len(a.Values)
			}
			if it.prepErr != nil {
				return fail(it.prepErr)
			}
			if isAccount(e) {
				for _, uid := range e.Get("uid") {
					k := strings.ToLower(uid)
					if other, ok := uids[k]; ok {
						return fail(directory.Errorf(directory.ErrConstraintViolation, "uid "+uid+" is already used by "+other))
					}
					uids[k] = e.DN.String()
				}
			}
			if mgr := e.First(directory.AttrEntryManagedBy); mgr != "" {
				managed = append(managed, ref{rec.Line, e.DN.String(), mgr})
			}
			group := int32(-1)
			if s.policy.IsGroup(e) && e.Has("member") {
				group = v.groups.addGroup(e.DN)
			}
			for _, attr := range []string{"member", "uniqueMember"} {
				for _, val := range e.Get(attr) {
					g := group
					if attr != "member" {
						g = -1 // confers no memberOf
					}
					members = append(members, memberRef{rec.Line, e.DN.String(), attr, val, g})
				}
			}
			inFile[e.DN.Norm()] = hasClass(e, "groupOfNames") || isAccount(e)
			if !keep {
				return nil
			}
			if v.spool.inMemory() && (kept >= min(s.bulkChunk(), keepChunk) || s.chunkFull(kept, keptCost)) {
				// Too many to keep in memory: spooled to a file from
				// here on, or else read again.
				if s.cfg.ImportSpoolDir == "" {
					keep, v.spool = false, nil
					return nil
				}
				if err := v.spool.spill(s.cfg.ImportSpoolDir); err != nil {
					return err
				}
			}
			s.stampImported(e, it.structural)
			if v.spool.inMemory() {
				kept++
				keptCost += importCost(e)
			}
			return v.spool.write(e)
		})
		if err != nil {
			return err
		}
		for _, m := range managed {
			dn, err := directory.ParseDN(m.mgr)
			if err == nil {
				ok, found := inFile[dn.Norm()]
				if !found {
					var mgr *directory.Entry
					if mgr, err = tx.Get(dn); err == nil {
						ok = hasClass(mgr, "groupOfNames") || isAccount(mgr)
					}
				}
				if err == nil && !ok {
					err = errors.New("neither a group nor an account")
				}
			}
			if err != nil {
				return fmt.Errorf("line %d: %s: entryManagedBy %s: %w", m.line, m.dn, m.mgr, err)
			}
		}
		// member and uniqueMember values name an entry of the file (before
		// or after the group) or of the directory: never a DN that someone
		// could create later and so join the group.
		for _, m := range members {
			dn, err := s.checkImportedMember(tx, inFile, m.attr, m.value)
			if err != nil {
				return fmt.Errorf("line %d: %s: %w", m.line, m.dn, err)
			}
			if m.group >= 0 {
				v.groups.addMember(m.group, dn, inFileHas(inFile, dn))
			}
		}
		if err := v.groups.derive(); err != nil {
			return fmt.Errorf("memberOf: %w", err)
		}
		return nil
	})
	if err != nil {
		v.spool.close()
		return nil, err
	}
	return v, nil
}

// checkImportedMember checks one member or uniqueMember value v of an
// imported entry: it names an entry of the file or of the store, under the
// base. It returns the DN v names.
func (s *Service) checkImportedMember(tx directory.ReadTx, inFile map[string]bool, attr, v string) (directory.DN, error) {
	refused := directory.Errorf(directory.ErrConstraintViolation,
		attr+" "+v+" names no entry of the file or the directory under "+s.base.String())
	dn, err := directory.ParseDN(v)
	if err != nil || !dn.IsWithin(s.base) {
		return dn, refused
	}
	if inFileHas(inFile, dn) {
		return dn, nil
	}
	if _, err := tx.Get(dn); errors.Is(err, directory.ErrNoSuchObject) {
		return dn, refused
	} else if err != nil {
		return dn, fmt.Errorf("%s %s: %w", attr, v, err)
	}
	return dn, nil
}

func inFileHas(inFile map[string]bool, dn directory.DN) bool {
	_, ok := inFile[dn.Norm()]
	return ok
}

// storedParent is what the first pass knows of a parent that is not in
// the file.
type storedParent struct {
	stored   bool
	children map[string]bool // norms of the stored children
}

// storedChildren looks dn up and lists its stored children.
func (s *Service) storedChildren(tx directory.ReadTx, dn directory.DN) (*storedParent, error) {
	p := &storedParent{children: map[string]bool{}}
	if _, err := tx.Get(dn); errors.Is(err, directory.ErrNoSuchObject) {
		return p, nil
	} else if err != nil {
		return nil, err
	}
	p.stored = true
	all := &directory.Filter{Kind: directory.FilterAnd} // the absolute true filter
	err := tx.Search(dn, directory.ScopeOne, all, func(e *directory.Entry) error {
		p.children[e.DN.Norm()] = true
		return nil
	})
	return p, err
}

// accountUIDs maps the uid of every existing account to its DN.
func (s *Service) accountUIDs(tx directory.ReadTx) (map[string]string, error) {
	f := &directory.Filter{Kind: directory.FilterPresent, Attr: "uid"}
	if err := f.Resolve(s.schema); err != nil {
		return nil, err
	}
	out := map[string]string{}
	err := tx.Search(s.base, directory.ScopeSub, f, func(e *directory.Entry) error {
		if isAccount(e) {
			for _, u := range e.Get("uid") {
				out[strings.ToLower(u)] = e.DN.String()
			}
		}
		return nil
	})
	return out, err
}
