package idm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// TestImportLoadLikeAddBulk checks that an import through one load (the
// store opened Exclusive, as `ldapd import` opens it) leaves the directory
// exactly as AddBulk transactions do: one chunk or several, from kept
// entries, a spool or a second reading.
func TestImportLoadLikeAddBulk(t *testing.T) {
	recs := importRecords(40)
	for _, chunk := range []int{0, 7} {
		for _, spooled := range []bool{false, true} {
			t.Run(fmt.Sprintf("chunk %d, spool %v", chunk, spooled), func(t *testing.T) {
				set := importSetup{chunk: chunk}
				if spooled {
					set.spool = t.TempDir()
				}
				want, wantSt, err, _ := importWith(t, set, stacktest.RecordSource(recs), len(recs))
				if err != nil {
					t.Fatal(err)
				}
				set.exclusive = true
				var began int
				set.wrap = func(s directory.Store) directory.Store { return &loadStore{Store: s, began: &began} }
				got, gotSt, err, store := importWith(t, set, stacktest.RecordSource(recs), len(recs))
				if err != nil {
					t.Fatal(err)
				}
				if began != 1 {
					t.Fatalf("%d loads begun, want 1", began)
				}
				if wantSt.Loaded || !gotSt.Loaded {
					t.Errorf("Loaded: %v through AddBulk, %v through a load", wantSt.Loaded, gotSt.Loaded)
				}
				wantSt.Loaded = true
				if fmt.Sprint(gotSt) != fmt.Sprint(wantSt) || gotSt.Added != len(recs)-1 {
					t.Errorf("stats %+v, want %+v", gotSt, wantSt)
				}
				if g, w := exportOf(t, got), exportOf(t, want); g != w {
					t.Errorf("import through a load:\n%s\nthrough AddBulk:\n%s", g, w)
				}
				v, _ := directory.As[directory.Verifier](store)
				if err := v.Verify(context.Background()); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestImportLoadInBatches checks that an import through a load gives it
// Adds of at most 2048 entries (the entries of one are in memory at once),
// and that the memberOf the file's last groups give entries of its first
// batch is there: as AddBulk transactions leave it.
func TestImportLoadInBatches(t *testing.T) {
	recs := importRecords(2100)
	want, _, err, _ := importWith(t, importSetup{}, stacktest.RecordSource(recs), len(recs))
	if err != nil {
		t.Fatal(err)
	}
	var began int
	var sizes []int
	set := importSetup{exclusive: true, wrap: func(s directory.Store) directory.Store {
		return &loadStore{Store: s, began: &began, sizes: &sizes}
	}}
	got, st, err, _ := importWith(t, set, stacktest.RecordSource(recs), len(recs))
	if err != nil || !st.Loaded || st.Added != len(recs)-1 {
		t.Fatalf("import: %+v, %v", st, err)
	}
	if len(sizes) != 2 || sizes[0] != 2048 || sizes[1] != len(recs)-1-2048 {
		t.Errorf("the load's Adds had %v entries, want 2048 and the rest", sizes)
	}
	if g, w := exportOf(t, got), exportOf(t, want); g != w {
		t.Errorf("import through a load differs from one through AddBulk (%d and %d bytes of LDIF)", len(g), len(w))
	}
	if out := exportOf(t, got); !strings.Contains(out, "memberOf: cn=inner,ou=groups,") {
		t.Error("no memberOf in the export")
	}
}

// TestImportLoadFailureAddsNothing checks that when adding fails after
// some chunks went to the load (a disk error, injected here at its third
// Add), the import adds nothing, says so, and leaves the directory as it
// was: the same import run again then adds everything.
func TestImportLoadFailureAddsNothing(t *testing.T) {
	recs := importRecords(40)
	injected := errors.New("injected disk error")
	var began int
	var ls *loadStore
	set := importSetup{chunk: 7, exclusive: true, wrap: func(s directory.Store) directory.Store {
		ls = &loadStore{Store: s, began: &began, failAdd: 3, err: injected}
		return ls
	}}
	svc, st, err, _ := importWith(t, set, stacktest.RecordSource(recs), len(recs))
	if !errors.Is(err, injected) || !strings.Contains(err.Error(), "nothing added") || st.Added != 0 {
		t.Fatalf("import: %+v, %v", st, err)
	}
	if out := exportOf(t, svc); strings.Contains(out, "uid=p1,") || strings.Contains(out, "ou=extra") {
		t.Fatal("part of the file was imported")
	}
	ls.failAdd = 0
	st, err = svc.Import(context.Background(), stacktest.RecordSource(recs), nil)
	if err != nil || st.Added != len(recs)-1 || len(st.Skipped) != 0 {
		t.Fatalf("import again: %+v, %v", st, err)
	}
}

// loadStore wraps a store to count the loads begun through it and, if
// failAdd is set, to make the failAdd-th Add of a load fail with err
// (after the store's own Add: the load goes on as the store has it).
type loadStore struct {
	directory.Store
	began   *int
	failAdd int
	err     error
	// sizes, if set, gets the number of entries of each Add.
	sizes *[]int
}

func (s *loadStore) Unwrap() directory.Store { return s.Store }

func (s *loadStore) BeginLoad(ctx context.Context) (directory.Load, error) {
	bl, ok := directory.As[directory.BulkLoader](s.Store)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	l, err := bl.BeginLoad(ctx)
	if err != nil {
		return nil, err
	}
	*s.began++
	return &failingLoad{Load: l, s: s}, nil
}

type failingLoad struct {
	directory.Load
	s    *loadStore
	adds int
}

func (l *failingLoad) Add(ctx context.Context, entries []*directory.Entry) error {
	if l.s.sizes != nil {
		*l.s.sizes = append(*l.s.sizes, len(entries))
	}
	if err := l.Load.Add(ctx, entries); err != nil {
		return err
	}
	l.adds++
	if l.adds == l.s.failAdd {
		l.Load.Abort() // as the store does after its own errors
		return l.s.err
	}
	return nil
}
