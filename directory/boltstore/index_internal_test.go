package boltstore

import (
	"context"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

// TestModifyIndexesTouchedTypes: Modify recomputes the index keys of the
// types its changes name, whatever name (alias, case) the change uses,
// and leaves the others alone.
func TestModifyIndexesTouchedTypes(t *testing.T) {
	s := newBatchStore(t)
	ctx := context.Background()
	e := testEntry("ann")
	e.Set("cn", "Ann")
	e.Set("description", "before")
	if err := s.Update(ctx, func(tx directory.WriteTx) error { return tx.Add(e) }); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx directory.WriteTx) error {
		return tx.Modify(e.DN, []directory.Change{
			{Op: directory.ChangeReplace, Attr: "commonName", Values: []string{"Anne"}},
			{Op: directory.ChangeAdd, Attr: "UID", Values: []string{"anne"}},
			{Op: directory.ChangeReplace, Attr: "description", Values: []string{"after"}},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]int{"(cn=ann)": 0, "(cn=anne)": 1, "(uid=ann)": 1, "(uid=anne)": 1, "(objectClass=account)": 1} {
		filter, err := directory.ParseFilter(f, directory.Builtin())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = s.View(ctx, func(tx directory.ReadTx) error {
			return tx.Search(directory.MustParseDN(testSuffix), directory.ScopeSub, filter, func(*directory.Entry) error { n++; return nil })
		})
		if err != nil || n != want {
			t.Errorf("%s: %d entries (%v), want %d", f, n, err, want)
		}
	}
	if err := s.Verify(ctx); err != nil {
		t.Error(err)
	}
}
