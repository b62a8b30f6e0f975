package idm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ldapd/ldapd/directory"
)

// ImportRecord is one entry to import and where it came from.
type ImportRecord struct {
	Entry *directory.Entry
	// Line is the line of the source file the record starts on, for errors.
	Line int
	// Decode, if set and Entry is nil, makes the entry from the record as
	// the source read it. Import calls it on one of its preparing
	// goroutines, concurrently with other records' Decode, so that a
	// source can leave the parsing to them; its error names the line.
	Decode func() (*directory.Entry, error)
}

// decode sets r.Entry with r.Decode if it is not set yet.
func (r *ImportRecord) decode() error {
	if r.Entry != nil || r.Decode == nil {
		return nil
	}
	e, err := r.Decode()
	if err != nil {
		return err
	}
	r.Entry, r.Decode = e, nil
	return nil
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
	// Loaded is set when every entry went in through one load
	// (directory.BulkLoader), which writes a new, full file: nothing for
	// a compaction to shrink.
	Loaded bool
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

// bulkChunk is the number of entries per AddBulk or per Add of a load
// (unless Config.ImportChunk says otherwise): all of them, their keys and
// the store's buffers for them are in memory until it returns (an AddBulk
// has committed them; a load's Adds are of loadBatch entries at most).
// keepChunk (or bulkChunk if smaller) is the largest file whose prepared
// entries the first pass keeps in memory (its spool, import_spool.go),
// so that the file is read and checked only once; a larger file's go to
// the spool's file, or without a spool directory the file is read again.
// Either way, at most one bulkChunk of entries is in memory at once.
//
// 32768 rather than a whole large file: at 100k entries, keeping them all
// and adding them in one transaction took 1.6x the CPU and memory of
// reading the file twice and adding 16384 per transaction (bbolt grows
// one in-memory node per bucket until the commit splits it, and the kept
// entries are rescanned by every garbage collection). With posting-list
// indexes (boltstore layout 2) a chunk holds a third of the index keys it
// did. Measured at 100k people (CPU seconds, median of 3): 16384 per
// transaction 8.2 (its seven transactions each rewrote the pages of the
// unique values' indexes and left the file a fifth free, so that it was
// compacted: 3 s), 32768 5.8 (99 MB, not compacted, 0.7 GB peak RSS),
// 65536 7.0 (0.9 GB peak RSS).
const bulkChunk = 1 << 15

// loadBatch is the most entries per Add of a load: the load keeps the
// keys of many Adds together (boltstore's Options.LoadMemory), and the
// entries decoded from the spool are let go of batch by batch. With the
// spool in memory (10k people: ~4.5 MB where the entries it replaces held
// ~20 MB), against one Add of every kept entry: 10k people, peak RSS 73 ->
// 63 MB, 14.3k -> 11.8k page faults, 0.24-0.26 -> 0.23-0.25 s; 100k
// people, 280 -> 158-181 MB, 1.75-1.80 -> 1.50-1.53 s (slapadd -q 1.59).
const loadBatch = 2048

// keepChunk is smaller than bulkChunk because the first pass cannot tell
// a file that fits before its end: at 100k entries, keeping the first
// 65536 only to drop them doubled the first pass's CPU (its live heap
// rescanned by every garbage collection).
const keepChunk = 1 << 14

// Import is the offline bulk load behind `ldapd import`. A first pass
// validates every record in one read transaction and writes nothing: the
// DN is under the base, the entry is schema-checked as Add would check
// it, its parent exists in the store or earlier in the file, its uid is
// unique among accounts, its entryManagedBy names a group or an account,
// its member and uniqueMember values name entries of the file (earlier
// or later) or of the store. The first bad record fails the import with
// its line number. Then the entries are added: with a store that has
// AddBulk (boltstore), in chunks (bulkChunk entries, or fewer when
// Config.ImportChunkBytes of them are reached), from the first pass's
// spool (in memory when the file is not too large, else in a file in
// Config.ImportSpoolDir) or a second reading: all the chunks through one
// load when the store offers it (directory.BulkLoader: boltstore opened
// Exclusive, as `ldapd import` opens it), else one AddBulk transaction
// per chunk; otherwise (no AddBulk) importChunk per write transaction
// from a second reading. The added
// entries are written with their memberOf, which the first pass derives
// from the groups of the file (entries for which Policy.IsGroup holds;
// member values elsewhere confer nothing; import_memberof.go); then
// memberOf is recomputed for the stored entries those groups name and
// for the members of the merged built-in groups. If
// adding fails (a disk error), through a load nothing is added; else the
// entries of the committed transactions stay. Either way, running the
// same import again skips the entries added and adds the rest.
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
	defer v.spool.close()
	if isBulk {
		err = s.importBulk(ctx, bulk, open, v, &st, progress)
	} else {
		err = s.importChunks(ctx, open, v, &st, progress)
	}
	if err != nil {
		return st, err
	}
	// The added entries have their memberOf; the stored entries the
	// file's groups name are recomputed here.
	groups := v.groups.stored
	for _, e := range v.merge {
		roots, err := s.mergeBuiltin(ctx, e, &st)
		if err != nil {
			return st, fmt.Errorf("entries added; merging built-in entry %s: %w", e.DN, err)
		}
		groups = append(groups, roots...)
	}
	// memberOf for those, in batches sized like the chunks so that a store
	// with small transactions (etcd) can take them.
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

// errImportFileChanged is Import's error when the second reading of a
// file differs from the first.
var errImportFileChanged = errors.New("run the same import again to add the rest")

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

// chunkFull reports whether a bulk chunk of n entries whose importCost
// adds up to cost is full: bulkChunk entries, or Config.ImportChunkBytes.
func (s *Service) chunkFull(n int, cost int64) bool {
	return n >= s.bulkChunk() || (s.cfg.ImportChunkBytes > 0 && cost >= s.cfg.ImportChunkBytes)
}

// importCost estimates the memory e holds while its bulk chunk is added:
// the prepared entry, its encoding, its index keys and bbolt's nodes for
// them. Calibrated on genldif's people (16 values, ~230 bytes of them:
// about 2.7 KB each of live heap, measured with GODEBUG=gctrace=1 across
// chunk sizes); a value costs about the same whatever its attribute (each
// indexed one is a key, an unindexed one is in the encoding).
func importCost(e *directory.Entry) int64 {
	n := int64(512)
	for _, a := range e.Attrs {
		n += 48
		for _, v := range a.Values {
			n += 128 + 3*int64(len(v))
		}
	}
	return n
}

// importChunks is Import's second pass for a store without AddBulk: it
// reads the file again and adds its entries importChunk per transaction.
// The entries get the memberOf the first pass derived.
func (s *Service) importChunks(ctx context.Context, open ImportSource, v *validated, st *ImportStats, progress func(pass, n int)) error {
	next, err := open()
	if err != nil {
		return err
	}
	chunk := s.importChunk()
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
				return err
			}
			if err := rec.decode(); err != nil {
				return err
			}
			if err := s.prepareImport(ctx, rec.Entry, nil, true); err != nil {
				return fmt.Errorf("line %d: %s: %w", rec.Line, rec.Entry.DN, err)
			}
			v.groups.apply(rec.Entry)
			batch = append(batch, rec)
		}
		var added []directory.DN
		err := s.store.Update(ctx, func(tx directory.WriteTx) error {
			added = added[:0]
			for _, rec := range batch {
				e := rec.Entry
				if _, err := tx.Get(e.DN); err == nil {
					continue // skipped (listed by the first pass)
				}
				if err := tx.Add(e); err != nil {
					return fmt.Errorf("line %d: %s: %w", rec.Line, e.DN, err)
				}
				added = append(added, e.DN)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("after %d entries were added (run the same import again to add the rest): %w", st.Added, err)
		}
		for range added {
			st.Added++
			progress(2, st.Added)
		}
	}
	return nil
}

// importBulk is Import's second pass for a store with AddBulk: the entries
// the first pass spooled (import_spool.go), or for a large file without a
// spool directory those of a second reading. It
// gives them the memberOf the first pass derived. With a store that offers
// a load (directory.BulkLoader: boltstore opened Exclusive), every chunk
// goes to one load, committed after the last: all the entries are added
// or none. Otherwise each chunk is an AddBulk of its own.
func (s *Service) importBulk(ctx context.Context, b directory.BulkAdder, open ImportSource, v *validated, st *ImportStats, progress func(pass, n int)) error {
	var load directory.Load
	if bl, ok := directory.As[directory.BulkLoader](s.store); ok {
		l, err := bl.BeginLoad(ctx)
		switch {
		case err == nil:
			load = l
			defer l.Abort() // after Commit: nothing
		case !errors.Is(err, errors.ErrUnsupported):
			return err
		}
	}
	loaded := 0 // entries given to the load
	add := func(batch []*directory.Entry) error {
		for _, e := range batch {
			v.groups.apply(e)
		}
		if load != nil {
			if err := load.Add(ctx, batch); err != nil {
				return fmt.Errorf("nothing added: %w", err)
			}
			for range batch {
				loaded++
				progress(2, loaded)
			}
			return nil
		}
		if err := b.AddBulk(ctx, batch); err != nil {
			return fmt.Errorf("after %d entries were added (run the same import again to add the rest): %w", st.Added, err)
		}
		for range batch {
			st.Added++
			progress(2, st.Added)
		}
		return nil
	}
	if err := s.addBulkChunks(ctx, open, v, add, load != nil); err != nil {
		return err
	}
	if load != nil {
		if err := load.Commit(ctx); err != nil {
			return fmt.Errorf("nothing added: %w", err)
		}
		st.Added += loaded
		st.Loaded = true
	}
	return nil
}

// addBulkChunks gives add the entries to import in chunks (bulkChunk
// entries, or fewer by Config.ImportChunkBytes; loadBatch with a load):
// those the first pass spooled, else those of a second reading.
func (s *Service) addBulkChunks(ctx context.Context, open ImportSource, v *validated, add func([]*directory.Entry) error, viaLoad bool) error {
	full := s.chunkFull
	if viaLoad {
		full = func(n int, cost int64) bool { return n >= loadBatch || s.chunkFull(n, cost) }
	}
	batch := make([]*directory.Entry, 0, min(s.bulkChunk(), 4096))
	var cost int64
	// push adds e to the batch, and the batch once it is full.
	push := func(e *directory.Entry) error {
		batch = append(batch, e)
		if cost += importCost(e); !full(len(batch), cost) {
			return nil
		}
		err := add(batch)
		clear(batch) // let the added entries go
		batch, cost = batch[:0], 0
		return err
	}
	if v.spool != nil {
		if err := v.spool.rewind(); err != nil {
			return err
		}
		for {
			e, err := v.spool.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if err := push(e); err != nil {
				return err
			}
		}
		if len(batch) > 0 {
			return add(batch)
		}
		return nil
	}
	next, err := open()
	if err != nil {
		return err
	}
	// The first pass checked these records: only their object classes are
	// checked again, once their sums show they are the same.
	i := 0
	err = s.eachPrepared(ctx, next, prepareMode{hash: true, checked: true, seed: v.seed}, func(it *importItem) error {
		if it.err != nil {
			return it.err
		}
		e := it.rec.Entry
		if i >= len(v.sums) || it.sum != v.sums[i] {
			return fmt.Errorf("line %d: %s: the file changed since it was checked: %w", it.rec.Line, e.DN, errImportFileChanged)
		}
		i++
		if v.skipped[e.DN.Norm()] {
			return nil
		}
		if it.prepErr != nil {
			return fmt.Errorf("line %d: %s: %w", it.rec.Line, e.DN, it.prepErr)
		}
		s.stampImported(e, it.structural)
		return push(e)
	})
	if err == nil && i != len(v.sums) {
		err = fmt.Errorf("the file lost records since it was checked: %w", errImportFileChanged)
	}
	if err == nil && len(batch) > 0 {
		err = add(batch)
	}
	return err
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
