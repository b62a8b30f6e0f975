package idm_test

// The caches keyed to the store version (memo.go): whatever a bound
// identity derived, and whatever a token bind read, stops being used at
// the first committed write, and a token's expiry is checked on every use.
// The revocation cases of TestTokenBindFailures run with both caches warm
// (fixture.bind); these cover what they do not.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/tokens"
)

// mailOf searches for dn's mail as id and returns it ("" if not visible).
func (f *fixture) mailOf(t *testing.T, id idm.Identity, dn directory.DN) string {
	t.Helper()
	filter := &directory.Filter{Kind: directory.FilterPresent, Attr: "objectClass"}
	if err := filter.Resolve(f.s.IDM.Schema()); err != nil {
		t.Fatal(err)
	}
	var mail string
	_, err := f.s.IDM.Search(context.Background(), id, idm.SearchRequest{Base: dn, Scope: directory.ScopeBase, Filter: filter, Attrs: []string{"mail"}},
		func(e *directory.Entry) error { mail = e.First("mail"); return nil })
	if err != nil {
		t.Fatalf("search %s: %v", dn, err)
	}
	return mail
}

func TestMemoFollowsGroupChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, tk, _ := f.serviceToken(t, "memo_service", tokens.ReadOnly)
	person := f.person(t, "memo_person")
	if err := f.s.IDM.Modify(ctx, f.idmAdmin, person, []directory.Change{{Op: directory.ChangeAdd, Attr: "mail", Values: []string{"memo@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	pii := directory.MustParseDN("cn=idm_people_pii_read,ou=groups," + stacktest.Base)
	id := f.bind(t, tk)
	for range 2 { // the second search answers from the memo
		if m := f.mailOf(t, id, person); m != "" {
			t.Fatalf("mail visible before joining %s: %q", pii, m)
		}
	}
	membership := func(op directory.ChangeOp) {
		t.Helper()
		if err := f.s.IDM.Modify(ctx, f.admin, pii, []directory.Change{{Op: op, Attr: "member", Values: []string{svc.String()}}}); err != nil {
			t.Fatal(err)
		}
	}
	membership(directory.ChangeAdd)
	for range 2 {
		if m := f.mailOf(t, id, person); m != "memo@example.com" {
			t.Fatalf("mail after joining %s: %q", pii, m)
		}
	}
	membership(directory.ChangeDelete)
	if m := f.mailOf(t, id, person); m != "" {
		t.Fatalf("mail still visible after leaving %s: %q", pii, m)
	}
}

func TestMemoChecksExpiryWithoutWrites(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.createService(t, "expiring_service")
	tk, _ := f.generate(t, "expiring_service", f.s.Clock.Now().Add(time.Minute), tokens.ReadOnly)
	id := f.bind(t, tk)
	f.s.Clock.Advance(59 * time.Second)
	if _, err := f.s.IDM.WhoAmI(ctx, id); err != nil {
		t.Fatalf("whoami a second before expiry: %v", err)
	}
	f.s.Clock.Advance(time.Second) // nothing is written: only the clock moves
	if _, err := f.s.IDM.WhoAmI(ctx, id); !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Fatalf("whoami at expiry: %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.IDM.Bind(ctx, "dn=token", []byte(tk)); !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Fatalf("bind at expiry: %v, want ErrInvalidCredentials", err)
	}
}

func TestMemoPasswordIdentity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	person := f.person(t, "memo_pw")
	pw := "a long enough password"
	if _, err := f.s.IDM.PasswordModify(ctx, f.idmAdmin, person.String(), nil, &pw); err != nil {
		t.Fatal(err)
	}
	id, err := f.s.IDM.Bind(ctx, person.String(), []byte("a long enough password"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.s.IDM.Check(ctx, id); err != nil {
			t.Fatalf("check: %v", err)
		}
	}
	if err := f.s.IDM.Modify(ctx, f.admin, person, []directory.Change{{Op: directory.ChangeReplace, Attr: directory.AttrAccountDisabled, Values: []string{"TRUE"}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.IDM.Check(ctx, id); !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Fatalf("check after disabling: %v, want ErrInvalidCredentials", err)
	}
}
