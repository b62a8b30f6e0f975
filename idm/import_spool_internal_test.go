package idm

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// TestImportSpoolValuesShareNoCapacity: a record read back equals the
// entry written, and although its attributes' values share one slice,
// appending to one attribute's values leaves the next one's alone.
func TestImportSpoolValuesShareNoCapacity(t *testing.T) {
	sp, err := newImportSpool(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sp.close()
	want := directory.NewEntry(directory.MustParseDN("uid=a,ou=people,dc=example,dc=com"))
	want.Set("objectClass", "top", "person")
	want.Set("cn", "A", "Alias")
	want.Set("sn", "a")
	root := directory.NewEntry(directory.MustParseDN("dc=com"))
	root.Set("dc", "com")
	for _, e := range []*directory.Entry{want, root} {
		if err := sp.write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.rewind(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*directory.Entry{want, root} {
		got, err := sp.next()
		if err != nil {
			t.Fatal(err)
		}
		if got.DN.Norm() != w.DN.Norm() || !reflect.DeepEqual(got.Attrs, w.Attrs) {
			t.Fatalf("read %v %v, want %v %v", got.DN, got.Attrs, w.DN, w.Attrs)
		}
		if w == want {
			got.Attrs[0].Values = append(got.Attrs[0].Values, "extra")
			if v := got.Attrs[1].Values; !reflect.DeepEqual(v, []string{"A", "Alias"}) {
				t.Fatalf("after an append to objectClass, cn is %q", v)
			}
		}
	}
	if _, err := sp.next(); err == nil || errors.Is(err, errSpoolCorrupt) {
		t.Fatalf("after the last record: %v, want io.EOF", err)
	}
}

// TestImportSpoolCountsChecked: a record whose count of all values does
// not match its attributes' is refused as corrupt.
func TestImportSpoolCountsChecked(t *testing.T) {
	for _, delta := range []int{-1, 1} {
		sp, err := newImportSpool(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		e := directory.NewEntry(directory.MustParseDN("dc=com"))
		e.Set("dc", "com")
		e.Set("objectClass", "top", "domain")
		if err := sp.write(e); err != nil {
			t.Fatal(err)
		}
		if err := sp.rewind(); err != nil {
			t.Fatal(err)
		}
		// The record: length, kind 0, DN, attribute count, value count.
		rec := make([]byte, 64)
		n, _ := sp.r.Read(rec)
		rec = rec[:n]
		at := 1 + 1 + 1 + len("dc=com") + 1
		if rec[at] != 3 {
			t.Fatalf("value count byte %d, want 3 (%x)", rec[at], rec)
		}
		rec[at] = byte(3 + delta)
		if _, err := sp.f.WriteAt(rec, 0); err != nil {
			t.Fatal(err)
		}
		if err := sp.rewind(); err != nil {
			t.Fatal(err)
		}
		if _, err := sp.next(); !errors.Is(err, errSpoolCorrupt) {
			t.Errorf("value count %d: %v, want errSpoolCorrupt", 3+delta, err)
		}
		sp.close()
	}
}

// TestImportSpoolInMemoryAndSpilled: records written to a spool in memory,
// to one moved to a file part way (spill) and to one in a file from the
// start read back equal, in order, across the blocks of a spool in memory
// (records span them), and a spool in memory lets go of the blocks read.
func TestImportSpoolInMemoryAndSpilled(t *testing.T) {
	var want []*directory.Entry
	for i := range 3000 {
		e := directory.NewEntry(directory.MustParseDN(fmt.Sprintf("uid=u%d,ou=people,dc=example,dc=com", i)))
		e.Set("objectClass", "top", "person")
		e.Set("cn", strings.Repeat("c", i%300))
		e.Set("sn", fmt.Sprint(i))
		want = append(want, e)
	}
	for _, mode := range []string{"memory", "spilled", "file"} {
		t.Run(mode, func(t *testing.T) {
			sp := newMemorySpool()
			if mode == "file" {
				var err error
				if sp, err = newImportSpool(t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}
			defer sp.close()
			for i, e := range want {
				if mode == "spilled" && i == 1234 {
					if err := sp.spill(t.TempDir()); err != nil {
						t.Fatal(err)
					}
				}
				if err := sp.write(e); err != nil {
					t.Fatal(err)
				}
			}
			if got := sp.inMemory(); got != (mode == "memory") {
				t.Fatalf("inMemory %v after the writes", got)
			}
			blocks := 0
			if sp.inMemory() {
				blocks = len(sp.mem.blocks)
				if blocks < 3 {
					t.Fatalf("%d blocks: the test wants records across several", blocks)
				}
			}
			if err := sp.rewind(); err != nil {
				t.Fatal(err)
			}
			for i, w := range want {
				got, err := sp.next()
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if got.DN.Norm() != w.DN.Norm() || !reflect.DeepEqual(got.Attrs, w.Attrs) {
					t.Fatalf("record %d: %v %v, want %v %v", i, got.DN, got.Attrs, w.DN, w.Attrs)
				}
				if sp.inMemory() && i == len(want)/2 && len(sp.mem.blocks) > blocks/2+1 {
					t.Errorf("half read, %d of %d blocks held", len(sp.mem.blocks), blocks)
				}
			}
			if _, err := sp.next(); !errors.Is(err, io.EOF) {
				t.Fatalf("after the last record: %v, want io.EOF", err)
			}
		})
	}
}
