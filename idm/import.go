package idm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

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
	// Skipped lists the DNs that already existed and are not built-in;
	// they are left as they are (so an interrupted import can run again).
	Skipped []string
	// Merged lists the built-in entries (the base, ou=people, ou=groups,
	// ou=services, admin, idm_admin and the built-in groups: every
	// directory has them from its first start) that the file also holds:
	// they took the file's values (mergeBuiltin), so that an export
	// imported into a new directory gives back the same directory.
	Merged []string
	// NotMerged lists, as "DN: attribute", the values of a built-in entry
	// in the file that its object classes do not allow (a foreign base
	// entry's o, say); they were left out.
	NotMerged []string
	// Dropped counts the values of OpenLDAP operational attributes that
	// ldapd recomputes or does not keep (entryCSN, memberOf, pwd*, ...).
	Dropped map[string]int
}

// droppedOnImport reports whether attribute name is one of OpenLDAP's
// operational attributes that ldapd recomputes (memberOf,
// structuralObjectClass, hasSubordinates, ...) or has no use for (the
// replication state entryCSN/contextCSN, ppolicy's pwd* state).
func droppedOnImport(name string) bool {
	if len(name) >= 3 && strings.EqualFold(name[:3], "pwd") {
		return true
	}
	switch len(name) { // the lengths of the names below: most names need no lowercase copy
	case 7, 8, 10, 15, 17, 21:
	default:
		return false
	}
	switch strings.ToLower(name) {
	case "entrycsn", "contextcsn", "structuralobjectclass", "hassubordinates", "entrydn",
		"subschemasubentry", "memberof", "numsubordinates":
		return true
	}
	return false
}

// ImportSource opens one pass over the records to import; next returns
// io.EOF after the last record. Import reads the source once or twice, and
// calls next from one goroutine at a time, not necessarily the caller's.
type ImportSource func() (next func() (ImportRecord, error), err error)

// importChunk is the number of entries added per write transaction. bbolt
// splits a transaction's nodes only at commit, so one transaction for a
// whole large file spends its time moving ever larger nodes (quadratic);
// chunks keep inserts cheap and cost one fsync each.
const importChunk = 2000

// bulkChunk is the number of entries per AddBulk (unless
// Config.ImportChunk says otherwise): all of them, their keys and the
// store's buffers for them are in memory until its commit. It is also the
// largest file whose prepared entries the first pass keeps, so that the
// file is read and checked only once and added in one transaction; a
// larger file is read again and added bulkChunk entries at a time. Either
// way, about one bulkChunk of entries is in memory at once.
//
// 16384 rather than a whole large file: at 100k entries, keeping them all
// and adding them in one transaction took 1.6x the CPU and memory of
// reading the file twice and adding 16384 per transaction (bbolt grows
// one in-memory node per bucket until the commit splits it, and the kept
// entries are rescanned by every garbage collection); the file comes out
// about 11% larger (later chunks' index keys split earlier pages).
const bulkChunk = 1 << 14

// Import is the offline bulk load behind `ldapd import`. A first pass
// validates every record in one read transaction and writes nothing: the
// DN is under the base, the entry is schema-checked as Add would check
// it, its parent exists in the store or earlier in the file, its uid is
// unique among accounts, its entryManagedBy names a group or an account,
// its member and uniqueMember values name entries of the file (earlier
// or later) or of the store. The first bad record fails the import with
// its line number. Then the entries are added: with a store that has
// AddBulk (boltstore), in one transaction per bulkChunk entries, kept
// from the first pass when the file is not too large; otherwise
// importChunk per write transaction from a second pass. Then memberOf is
// computed for the imported groups (entries for which Policy.IsGroup
// holds; member values elsewhere confer nothing) and their members. If
// adding fails (a disk error), the entries of the committed transactions
// stay; running the same import again skips them and adds the rest.
//
// Each entry gets what an Add through the server gives it (object classes
// expanded, spn and the account class for accounts, entryUUID, timestamps,
// structuralObjectClass); values it already has for entryUUID,
// createTimestamp, modifyTimestamp, creatorsName and modifiersName are kept,
// so a migration keeps its UUIDs. Password values already hashed ({SSHA},
// {SSHA512}, {CRYPT}, {ARGON2}, ...) are kept as they are (a bind rehashes
// legacy ones to argon2id); plaintext values are hashed. Entries that
// already exist are skipped and listed in the stats. progress, if not nil,
// is called after each record of each pass (pass 1 or 2), from the
// caller's goroutine. Records are parsed by next and prepared (schema
// checks, hashing) on up to GOMAXPROCS goroutines, joined before each pass
// ends.
func (s *Service) Import(ctx context.Context, open ImportSource, progress func(pass, n int)) (ImportStats, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	st := ImportStats{Dropped: map[string]int{}}
	bulk, isBulk := directory.As[directory.BulkAdder](s.store)
	v, err := s.validateImport(ctx, open, &st, progress, isBulk)
	if err != nil {
		return st, err
	}
	var groups []directory.DN
	if isBulk {
		groups, err = s.importBulk(ctx, bulk, open, v, &st, progress)
	} else {
		groups, err = s.importChunks(ctx, open, &st, progress)
	}
	if err != nil {
		return st, err
	}
	for _, e := range v.merge {
		roots, err := s.mergeBuiltin(ctx, e, &st)
		if err != nil {
			return st, fmt.Errorf("entries added; merging built-in entry %s: %w", e.DN, err)
		}
		groups = append(groups, roots...)
	}
	// memberOf for the imported groups, in batches sized like the chunks
	// so that a store with small transactions (etcd) can take them.
	chunk := s.importChunk()
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

func (s *Service) importChunk() int {
	if s.cfg.ImportChunk > 0 {
		return s.cfg.ImportChunk
	}
	return importChunk
}

// bulkChunk is Config.ImportChunk if set, else bulkChunk.
func (s *Service) bulkChunk() int {
	if s.cfg.ImportChunk > 0 {
		return s.cfg.ImportChunk
	}
	return bulkChunk
}

// importChunks is Import's second pass for a store without AddBulk: it
// reads the file again and adds its entries importChunk per transaction.
// It returns the added groups.
func (s *Service) importChunks(ctx context.Context, open ImportSource, st *ImportStats, progress func(pass, n int)) ([]directory.DN, error) {
	next, err := open()
	if err != nil {
		return nil, err
	}
	chunk := s.importChunk()
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
				return nil, err
			}
			if err := s.prepareImport(ctx, rec.Entry, nil, true); err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", rec.Line, rec.Entry.DN, err)
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
				if s.policy.IsGroup(e) && e.Has("member") {
					addedGroups = append(addedGroups, e.DN)
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("after %d entries were added (run the same import again to add the rest): %w", st.Added, err)
		}
		for range added {
			st.Added++
			progress(2, st.Added)
		}
		groups = append(groups, addedGroups...)
	}
	return groups, nil
}

// importBulk is Import's second pass for a store with AddBulk: the entries
// the first pass kept or, for a large file, those of a second reading. It
// returns the added groups.
func (s *Service) importBulk(ctx context.Context, b directory.BulkAdder, open ImportSource, v *validated, st *ImportStats, progress func(pass, n int)) ([]directory.DN, error) {
	var groups []directory.DN
	add := func(batch []*directory.Entry) error {
		if err := b.AddBulk(ctx, batch); err != nil {
			return fmt.Errorf("after %d entries were added (run the same import again to add the rest): %w", st.Added, err)
		}
		for _, e := range batch {
			st.Added++
			progress(2, st.Added)
			if s.policy.IsGroup(e) && e.Has("member") {
				groups = append(groups, e.DN)
			}
		}
		return nil
	}
	chunk := s.bulkChunk()
	if v.kept != nil {
		for len(v.kept) > 0 {
			n := min(len(v.kept), chunk)
			if err := add(v.kept[:n]); err != nil {
				return nil, err
			}
			clear(v.kept[:n]) // let the added entries go
			v.kept = v.kept[n:]
		}
		return groups, nil
	}
	next, err := open()
	if err != nil {
		return nil, err
	}
	batch := make([]*directory.Entry, 0, min(chunk, 4096))
	err = s.eachPrepared(ctx, next, true, func(it *importItem) error {
		if it.err != nil {
			return it.err
		}
		e := it.rec.Entry
		if v.skipped[e.DN.Norm()] {
			return nil
		}
		if it.prepErr != nil {
			return fmt.Errorf("line %d: %s: %w", it.rec.Line, e.DN, it.prepErr)
		}
		s.stampImported(e, it.structural)
		if batch = append(batch, e); len(batch) == chunk {
			err := add(batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = add(batch)
	}
	return groups, err
}

// validated is what the first pass found.
type validated struct {
	// kept holds the prepared entries to add when the pass kept them.
	kept []*directory.Entry
	// skipped holds the norms of the DNs that exist already.
	skipped map[string]bool
	// merge holds the prepared file entries of existing built-in entries.
	merge []*directory.Entry
}

// validateImport is Import's first pass. With keep, it also prepares the
// entries completely (plaintext passwords hashed) and returns them, unless
// the file has more than one bulk chunk of them.
func (s *Service) validateImport(ctx context.Context, open ImportSource, st *ImportStats, progress func(pass, n int), keep bool) (*validated, error) {
	next, err := open()
	if err != nil {
		return nil, err
	}
	v := &validated{skipped: map[string]bool{}}
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
		}
		var members []memberRef
		n := 0
		err = s.eachPrepared(ctx, next, keep, func(it *importItem) error {
			if it.err != nil {
				return it.err
			}
			n++
			progress(1, n)
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
						members = append(members, memberRef{rec.Line, e.DN.String(), attr, v})
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
			for _, attr := range []string{"member", "uniqueMember"} {
				for _, v := range e.Get(attr) {
					members = append(members, memberRef{rec.Line, e.DN.String(), attr, v})
				}
			}
			inFile[e.DN.Norm()] = hasClass(e, "groupOfNames") || isAccount(e)
			if keep {
				if len(v.kept) < s.bulkChunk() {
					s.stampImported(e, it.structural)
					v.kept = append(v.kept, e)
				} else {
					keep = false
					v.kept = nil
				}
			}
			return nil
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
			if err := s.checkImportedMember(tx, inFile, m.attr, m.value); err != nil {
				return fmt.Errorf("line %d: %s: %w", m.line, m.dn, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if keep && v.kept == nil {
		v.kept = []*directory.Entry{} // kept, and nothing to add
	}
	return v, nil
}

// checkImportedMember checks one member or uniqueMember value v of an
// imported entry: it names an entry of the file or of the store, under the
// base.
func (s *Service) checkImportedMember(tx directory.ReadTx, inFile map[string]bool, attr, v string) error {
	refused := directory.Errorf(directory.ErrConstraintViolation,
		attr+" "+v+" names no entry of the file or the directory under "+s.base.String())
	dn, err := directory.ParseDN(v)
	if err != nil || !dn.IsWithin(s.base) {
		return refused
	}
	if inFileHas(inFile, dn) {
		return nil
	}
	if _, err := tx.Get(dn); errors.Is(err, directory.ErrNoSuchObject) {
		return refused
	} else if err != nil {
		return fmt.Errorf("%s %s: %w", attr, v, err)
	}
	return nil
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

// importItem is one record on its way through eachPrepared.
type importItem struct {
	rec ImportRecord
	// err is the error next returned in place of this record (the last).
	err error
	// dropped lists the attributes prepare removed; prepErr is its error,
	// structural the entry's structural object class.
	dropped    []directory.Attr
	prepErr    error
	structural string
}

// importBatch is a run of records prepared by one goroutine.
type importBatch struct {
	items []importItem
	done  chan struct{} // closed once items are prepared
}

// importBatchSize is the number of records handed to a preparing goroutine
// at a time.
const importBatchSize = 128

// eachPrepared reads every record with next and calls fn for each, in
// order, in the caller's goroutine, after preparePart has run on it
// (hashing plaintext passwords if hash is set). Reading and preparing run
// on their own goroutines, a reader and GOMAXPROCS preparers, all joined
// before eachPrepared returns. An error from next is passed to fn as the
// last item; the first error fn returns stops the pass.
func (s *Service) eachPrepared(ctx context.Context, next func() (ImportRecord, error), hash bool, fn func(*importItem) error) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *importBatch, 2*workers)
	ordered := make(chan *importBatch, 4*workers)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(ordered)
		for end := false; !end; {
			b := &importBatch{items: make([]importItem, 0, importBatchSize), done: make(chan struct{})}
			for len(b.items) < importBatchSize {
				rec, err := next()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						b.items = append(b.items, importItem{err: err})
					}
					end = true
					break
				}
				b.items = append(b.items, importItem{rec: rec})
			}
			select {
			case ordered <- b:
			case <-ctx.Done():
				return
			}
			select {
			case work <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				for i := range b.items {
					if it := &b.items[i]; it.err == nil && ctx.Err() == nil {
						it.dropped, it.structural, it.prepErr = s.preparePart(ctx, it.rec.Entry, hash)
					}
				}
				close(b.done)
			}
		}()
	}
	for b := range ordered {
		select {
		case <-b.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		for i := range b.items {
			if err := fn(&b.items[i]); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// prepareImport does to e what Add does, keeping imported operational
// values; it counts dropped attributes in st (if not nil) and hashes
// plaintext passwords only when hash is set (the second pass).
func (s *Service) prepareImport(ctx context.Context, e *directory.Entry, st *ImportStats, hash bool) error {
	dropped, structural, err := s.preparePart(ctx, e, hash)
	if st != nil {
		for _, a := range dropped {
			st.Dropped[a.Name] += len(a.Values)
		}
	}
	if err != nil {
		return err
	}
	s.stampImported(e, structural)
	return nil
}

// preparePart is the part of prepareImport that may run on any goroutine
// (it draws no randomness): it drops OpenLDAP's operational attributes
// (returning them), hashes plaintext passwords when hash is set, expands
// the object classes, derives the account attributes and checks the
// schema, returning the structural class.
func (s *Service) preparePart(ctx context.Context, e *directory.Entry, hash bool) ([]directory.Attr, string, error) {
	var dropped []directory.Attr
	kept := e.Attrs[:0]
	for _, a := range e.Attrs {
		if droppedOnImport(a.Name) {
			dropped = append(dropped, a)
			continue
		}
		kept = append(kept, a)
	}
	clear(e.Attrs[len(kept):])
	e.Attrs = kept
	if err := s.checkStoredHashes(e.Get("userPassword")); err != nil {
		return dropped, "", err
	}
	if pws := e.Get("userPassword"); hash && len(pws) > 0 {
		for _, v := range pws {
			if !password.IsHashed(v) {
				// Plaintext in the file: hash it like an Add would.
				hashed, err := s.hashPasswords(ctx, pws, true)
				if err != nil {
					return dropped, "", err
				}
				e.Set("userPassword", hashed...)
				break
			}
		}
	}
	if err := s.schema.ExpandObjectClasses(e); err != nil {
		return dropped, "", err
	}
	s.deriveAccountAttrs(e)
	sc, err := s.schema.Check(e)
	if err != nil {
		return dropped, "", err
	}
	return dropped, sc.Name(), nil
}

// stampImported gives e what stampNew gives an Add, keeping imported
// values, and its structural object class; it runs in order, in one
// goroutine (it draws the entryUUID from the service's random source).
func (s *Service) stampImported(e *directory.Entry, structural string) {
	if !e.Has("entryUUID") {
		e.Set("entryUUID", s.newUUID())
	}
	if !e.Has("createTimestamp") {
		e.Set("createTimestamp", directory.FormatGeneralizedTime(s.now()))
	}
	if !e.Has("modifyTimestamp") {
		e.Set("modifyTimestamp", e.First("createTimestamp"))
	}
	e.Set("structuralObjectClass", structural)
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
