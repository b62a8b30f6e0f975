package idm_test

// Search lends its entries to a caller that sets Borrow (the gateway) and
// checks access only on the attributes the filter reads or the selection
// wants. Neither may change what anyone sees.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/tokens"
)

// searchAs runs filter below the base as id and returns every entry as
// text, copied out of the callback.
func (f *fixture) searchAs(t *testing.T, id idm.Identity, filter string, attrs []string, borrow bool) []string {
	t.Helper()
	flt, err := directory.ParseFilter(filter, f.s.IDM.Schema())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	_, err = f.s.IDM.Search(context.Background(), id, idm.SearchRequest{Base: f.s.IDM.Base(), Scope: directory.ScopeSub,
		Filter: flt, Attrs: attrs, Borrow: borrow}, func(e *directory.Entry) error {
		var b strings.Builder
		fmt.Fprintf(&b, "%s", e.DN.String())
		for _, a := range e.Attrs {
			fmt.Fprintf(&b, "\n%s: %s", a.Name, strings.Join(a.Values, " | "))
		}
		out = append(out, strings.Clone(b.String()))
		return nil
	})
	if err != nil {
		t.Fatalf("search %s %v as %s: %v", filter, attrs, id, err)
	}
	slices.Sort(out)
	return out
}

func TestSearchBorrowShowsWhatOwnedShows(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	person := f.person(t, "borrow_person")
	if err := f.s.IDM.Modify(ctx, f.idmAdmin, person, []directory.Change{
		{Op: directory.ChangeAdd, Attr: "mail", Values: []string{"borrow@example.com"}},
		{Op: directory.ChangeReplace, Attr: "userPassword", Values: []string{"a secret password 1"}},
	}); err != nil {
		t.Fatal(err)
	}
	_, tk, _ := f.serviceToken(t, "borrow_service", tokens.ReadOnly)
	ids := map[string]idm.Identity{"admin": f.admin, "idm_admin": f.idmAdmin, "service": f.bind(t, tk), "anonymous": {}}
	for who, id := range ids {
		for _, q := range []struct {
			filter string
			attrs  []string
		}{
			{"(uid=borrow_person)", nil},
			{"(uid=borrow_person)", []string{"uid", "cn", "sn", "mail"}},
			{"(uid=borrow_person)", []string{"*", "+"}},
			{"(uid=borrow_person)", []string{"userPassword", "uid"}},
			{"(mail=borrow@example.com)", []string{"uid"}}, // the filter reads what the selection leaves out
			{"(userPassword=*)", []string{"uid"}},
			{"(!(mail=borrow@example.com))", []string{"uid"}},
			{"(objectClass=*)", []string{"1.1"}},
			{"(objectClass=*)", []string{"entryDN", "hasSubordinates"}},
			{"(uid=*)", []string{"uid", "memberOf"}},
		} {
			owned := f.searchAs(t, id, q.filter, q.attrs, false)
			borrowed := f.searchAs(t, id, q.filter, q.attrs, true)
			if !slices.Equal(owned, borrowed) {
				t.Errorf("%s, %s %v: borrowed\n%s\nowned\n%s", who, q.filter, q.attrs, strings.Join(borrowed, "\n"), strings.Join(owned, "\n"))
			}
			for _, e := range borrowed {
				if strings.Contains(e, "userPassword") || strings.Contains(e, "a secret password") {
					t.Errorf("%s, %s %v: the password shows:\n%s", who, q.filter, q.attrs, e)
				}
			}
		}
	}
	// Attributes the filter reads count only where readable: the service
	// (no PII group) matches no one by mail, and the same entries with and
	// without asking for mail.
	svc := ids["service"]
	if got := f.searchAs(t, svc, "(mail=borrow@example.com)", []string{"uid"}, true); len(got) != 0 {
		t.Errorf("a service without PII access found people by mail: %v", got)
	}
	all := f.searchAs(t, f.admin, "(uid=borrow_person)", []string{"*"}, true)
	some := f.searchAs(t, f.admin, "(uid=borrow_person)", []string{"mail"}, true)
	if len(all) != 1 || len(some) != 1 || !strings.Contains(all[0], "mail: borrow@example.com") || !strings.HasSuffix(some[0], "\nmail: borrow@example.com") {
		t.Errorf("admin's selection of mail: %q out of %q", some, all)
	}
}
