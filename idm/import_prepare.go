package idm

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"runtime"
	"sync"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
)

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
	// sum is recordSum of the record as read (before preparing).
	sum uint64
}

// prepareMode says what preparePart does to the records of a pass.
type prepareMode struct {
	// hash hashes plaintext passwords.
	hash bool
	// checked skips the attribute checks of Schema.Check (the object
	// classes are still checked, for the structural class): the first
	// pass checked the same records, as their recordSum shows.
	checked bool
	// seed is recordSum's.
	seed maphash.Seed
	// noSum skips recordSum: no second reading will compare sums.
	noSum bool
}

// recordSum fingerprints e as read from the file: its DN and its
// attributes' names and values, in order. The second reading of a file
// compares each record's sum with the first's, so that a file changed in
// between is refused rather than added unchecked.
func recordSum(seed maphash.Seed, e *directory.Entry) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(e.DN.String())
	for _, a := range e.Attrs {
		h.WriteByte(0)
		h.WriteString(a.Name)
		for _, v := range a.Values {
			h.WriteByte(1)
			h.WriteString(v)
		}
	}
	return h.Sum64()
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
// as mode says, and recordSum. Reading and preparing run
// on their own goroutines, a reader and GOMAXPROCS preparers, all joined
// before eachPrepared returns. An error from next is passed to fn as the
// last item; the first error fn returns stops the pass.
func (s *Service) eachPrepared(ctx context.Context, next func() (ImportRecord, error), mode prepareMode, fn func(*importItem) error) error {
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
						if it.err = it.rec.decode(); it.err != nil {
							continue
						}
						if !mode.noSum {
							it.sum = recordSum(mode.seed, it.rec.Entry)
						}
						it.dropped, it.structural, it.prepErr = s.preparePart(ctx, it.rec.Entry, mode)
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
	dropped, structural, err := s.preparePart(ctx, e, prepareMode{hash: hash})
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
// (returning them), hashes plaintext passwords if mode says so, expands
// the object classes, derives the account attributes and checks the
// schema (only the object classes if mode says the entry was checked),
// returning the structural class.
func (s *Service) preparePart(ctx context.Context, e *directory.Entry, mode prepareMode) ([]directory.Attr, string, error) {
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
	if pws := e.Get("userPassword"); mode.hash && len(pws) > 0 {
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
	check := s.schema.Check
	if mode.checked {
		check = s.schema.CheckClasses
	}
	sc, err := check(e)
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
