package idm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
)

// ImportRecord is one entry to import and where it came from.
type ImportRecord struct {
	Entry *directory.Entry
	// Line is the line of the source file the record starts on, for errors.
	Line int
}

// ImportStats reports what Import did.
type ImportStats struct {
	Added int
	// Skipped lists the DNs that already existed (the base entry, the
	// built-in containers, ...); they are left as they are.
	Skipped []string
	// Dropped counts the values of OpenLDAP operational attributes that
	// ldapd recomputes or does not keep (entryCSN, memberOf, pwd*, ...).
	Dropped map[string]int
}

// droppedOnImport reports whether attribute name is one of OpenLDAP's
// operational attributes that ldapd recomputes (memberOf,
// structuralObjectClass, hasSubordinates, ...) or has no use for (the
// replication state entryCSN/contextCSN, ppolicy's pwd* state).
func droppedOnImport(name string) bool {
	switch strings.ToLower(name) {
	case "entrycsn", "contextcsn", "structuralobjectclass", "hassubordinates", "entrydn",
		"subschemasubentry", "memberof", "numsubordinates":
		return true
	}
	return strings.HasPrefix(strings.ToLower(name), "pwd")
}

// ImportSource opens one pass over the records to import; next returns
// io.EOF after the last record. Import reads the source twice.
type ImportSource func() (next func() (ImportRecord, error), err error)

// importChunk is the number of entries added per write transaction. bbolt
// splits a transaction's nodes only at commit, so one transaction for a
// whole large file spends its time moving ever larger nodes (quadratic);
// chunks keep inserts cheap and cost one fsync each.
const importChunk = 2000

// Import is the offline bulk load behind `ldapd import`. A first pass
// validates every record in one read transaction and writes nothing: the
// DN is under the base, the entry is schema-checked as Add would check it,
// its parent exists in the store or earlier in the file, its uid is unique
// among accounts, its entryManagedBy names a group or an account. The
// first bad record fails the import with its line number. A second pass
// adds the entries, importChunk per write transaction, then computes
// memberOf for the imported groups and their members. If the second pass
// fails (a disk error), the entries of the committed chunks stay; running
// the same import again skips them and adds the rest.
//
// Each entry gets what an Add through the server gives it (object classes
// expanded, spn and the account class for accounts, entryUUID, timestamps,
// structuralObjectClass); values it already has for entryUUID,
// createTimestamp, modifyTimestamp, creatorsName and modifiersName are kept,
// so a migration keeps its UUIDs. Password values already hashed ({SSHA},
// {SSHA512}, {CRYPT}, {ARGON2}, ...) are kept as they are (a bind rehashes
// legacy ones to argon2id); plaintext values are hashed. Entries that
// already exist are skipped and listed in the stats. progress, if not nil,
// is called after each record of each pass (pass 1 or 2).
func (s *Service) Import(ctx context.Context, open ImportSource, progress func(pass, n int)) (ImportStats, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	st := ImportStats{Dropped: map[string]int{}}
	if err := s.validateImport(ctx, open, &st, progress); err != nil {
		return st, err
	}
	next, err := open()
	if err != nil {
		return st, err
	}
	chunk := s.cfg.ImportChunk
	if chunk <= 0 {
		chunk = importChunk
	}
	var groups []directory.DN
	for done := false; !done; {
		// Read and prepare the chunk before the transaction: Update may run
		// its closure more than once (etcd), so the closure only writes.
		var batch []ImportRecord
		for len(batch) < chunk {
			rec, err := next()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				return st, err
			}
			if err := s.prepareImport(ctx, rec.Entry, nil, true); err != nil {
				return st, fmt.Errorf("line %d: %s: %w", rec.Line, rec.Entry.DN, err)
			}
			batch = append(batch, rec)
		}
		var added, addedGroups []directory.DN
		err := s.store.Update(ctx, func(tx directory.WriteTx) error {
			added, addedGroups = added[:0], addedGroups[:0]
			for _, rec := range batch {
				e := rec.Entry
				if _, err := tx.Get(e.DN); err == nil {
					continue // skipped (listed by the first pass)
				}
				if err := tx.Add(e); err != nil {
					return fmt.Errorf("line %d: %s: %w", rec.Line, e.DN, err)
				}
				added = append(added, e.DN)
				if e.Has("member") {
					addedGroups = append(addedGroups, e.DN)
				}
			}
			return nil
		})
		if err != nil {
			return st, fmt.Errorf("after %d entries were added (run the same import again to add the rest): %w", st.Added, err)
		}
		for range added {
			st.Added++
			progress(2, st.Added)
		}
		groups = append(groups, addedGroups...)
	}
	// memberOf for the imported groups, in batches sized like the chunks
	// so that a store with small transactions (etcd) can take them.
	for len(groups) > 0 {
		n := min(len(groups), max(1, chunk/8))
		batch := groups[:n]
		groups = groups[n:]
		err := s.store.Update(ctx, func(tx directory.WriteTx) error { return s.refreshMemberOf(tx, batch) })
		if err != nil {
			return st, fmt.Errorf("entries added; computing memberOf: %w", err)
		}
	}
	return st, nil
}

// validateImport is Import's first pass.
func (s *Service) validateImport(ctx context.Context, open ImportSource, st *ImportStats, progress func(pass, n int)) error {
	next, err := open()
	if err != nil {
		return err
	}
	return s.store.View(ctx, func(tx directory.ReadTx) error {
		uids, err := s.accountUIDs(tx)
		if err != nil {
			return err
		}
		// inFile maps the norm of each DN to add to whether it is a group
		// or an account (a valid entryManagedBy target).
		inFile := map[string]bool{}
		type ref struct {
			line    int
			dn, mgr string
		}
		var managed []ref
		for n := 1; ; n++ {
			rec, err := next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			progress(1, n)
			e := rec.Entry
			fail := func(err error) error { return fmt.Errorf("line %d: %s: %w", rec.Line, e.DN, err) }
			if !e.DN.IsWithin(s.base) {
				return fail(directory.Errorf(directory.ErrUnwillingToPerform, "not under the directory base "+s.base.String()))
			}
			if _, seen := inFile[e.DN.Norm()]; seen {
				return fail(directory.Errorf(directory.ErrEntryAlreadyExists, "the entry is given twice"))
			}
			if _, err := tx.Get(e.DN); err == nil {
				st.Skipped = append(st.Skipped, e.DN.String())
				continue
			} else if !errors.Is(err, directory.ErrNoSuchObject) {
				return fail(err)
			}
			if parent := e.DN.Parent(); !parent.Equal(s.base.Parent()) {
				if _, ok := inFile[parent.Norm()]; !ok {
					if _, err := tx.Get(parent); err != nil {
						return fail(directory.Errorf(directory.ErrNoSuchObject, "parent "+parent.String()+" is neither in the directory nor earlier in the file"))
					}
				}
			}
			if err := s.prepareImport(ctx, e, st, false); err != nil {
				return fail(err)
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
			if v := e.First(directory.AttrEntryManagedBy); v != "" {
				managed = append(managed, ref{rec.Line, e.DN.String(), v})
			}
			inFile[e.DN.Norm()] = hasClass(e, "groupOfNames") || isAccount(e)
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
		return nil
	})
}

// prepareImport does to e what Add does, keeping imported operational
// values; it counts dropped attributes in st (if not nil) and hashes
// plaintext passwords only when hash is set (the second pass).
func (s *Service) prepareImport(ctx context.Context, e *directory.Entry, st *ImportStats, hash bool) error {
	kept := e.Attrs[:0]
	for _, a := range e.Attrs {
		if droppedOnImport(a.Name) {
			if st != nil {
				st.Dropped[a.Name] += len(a.Values)
			}
			continue
		}
		kept = append(kept, a)
	}
	e.Attrs = kept
	if pws := e.Get("userPassword"); hash && len(pws) > 0 {
		for _, v := range pws {
			if !password.IsHashed(v) {
				// Plaintext in the file: hash it like an Add would.
				hashed, err := s.hashPasswords(ctx, pws, true)
				if err != nil {
					return err
				}
				e.Set("userPassword", hashed...)
				break
			}
		}
	}
	if err := s.schema.ExpandObjectClasses(e); err != nil {
		return err
	}
	s.deriveAccountAttrs(e)
	// What stampNew sets for an Add, keeping imported values.
	if !e.Has("entryUUID") {
		e.Set("entryUUID", s.newUUID())
	}
	if !e.Has("createTimestamp") {
		e.Set("createTimestamp", directory.FormatGeneralizedTime(s.now()))
	}
	if !e.Has("modifyTimestamp") {
		e.Set("modifyTimestamp", e.First("createTimestamp"))
	}
	sc, err := s.schema.Check(e)
	if err != nil {
		return err
	}
	e.Set("structuralObjectClass", sc.Name())
	return nil
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

// Export calls each for every entry under the base, parents before their
// children (the order Import needs), in one read transaction. Entries are
// as stored: operational attributes and password hashes included.
func (s *Service) Export(ctx context.Context, each func(*directory.Entry) error) error {
	all := &directory.Filter{Kind: directory.FilterAnd} // the absolute true filter: a scan in tree order
	return s.store.View(ctx, func(tx directory.ReadTx) error {
		return tx.Search(s.base, directory.ScopeSub, all, each)
	})
}
