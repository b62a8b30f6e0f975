package idm_test

// RFC 2307 identity data: uidNumber/gidNumber allocation from the
// configured ranges, never reused, numbers in use skipped, defaults for
// home, shell and gecos, and memberUid kept in step with member.

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/password"
)

const posixBase = "dc=idm,dc=example,dc=com"

type posixFixture struct {
	t   *testing.T
	svc *idm.Service
	as  idm.Identity
}

func newPosixFixture(t *testing.T, uids, gids idm.IDRange) *posixFixture {
	t.Helper()
	svc := stacktest.NewService(t, idm.Config{
		Hasher: password.NewHasher(password.TestParams(), nil, 0), UIDRange: uids, GIDRange: gids})
	return &posixFixture{t: t, svc: svc, as: idm.RootIdentity()}
}

func personDN(name string) directory.DN {
	return directory.MustParseDN("uid=" + name + ",ou=people," + posixBase)
}

func groupDN(name string) directory.DN {
	return directory.MustParseDN("cn=" + name + ",ou=groups," + posixBase)
}

func (f *posixFixture) addPerson(name string, posix bool, extra ...string) error {
	e := directory.NewEntry(personDN(name))
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
	if posix {
		e.Add("objectClass", "posixAccount")
	}
	e.Set("uid", name)
	e.Set("cn", name)
	e.Set("sn", name)
	e.Set("displayName", "Person "+name)
	for i := 0; i+1 < len(extra); i += 2 {
		e.Set(extra[i], extra[i+1])
	}
	return f.svc.Add(context.Background(), f.as, e)
}

func (f *posixFixture) addGroup(name string, posix bool, members ...string) error {
	e := directory.NewEntry(groupDN(name))
	e.Set("objectClass", "top", "groupOfNames")
	if posix {
		e.Add("objectClass", "posixGroup")
	}
	e.Set("cn", name)
	for _, m := range members {
		e.Add("member", personDN(m).String())
	}
	return f.svc.Add(context.Background(), f.as, e)
}

func (f *posixFixture) modify(dn directory.DN, ch ...directory.Change) error {
	return f.svc.Modify(context.Background(), f.as, dn, ch)
}

func (f *posixFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// get reads dn with every user attribute.
func (f *posixFixture) get(dn directory.DN) *directory.Entry {
	f.t.Helper()
	var out *directory.Entry
	flt, err := directory.ParseFilter("(objectClass=*)", f.svc.Schema())
	f.must(err)
	_, err = f.svc.Search(context.Background(), f.as, idm.SearchRequest{Base: dn, Scope: directory.ScopeBase, Filter: flt},
		func(e *directory.Entry) error { out = e; return nil })
	f.must(err)
	if out == nil {
		f.t.Fatalf("%s not found", dn)
	}
	return out
}

// find returns the DNs matching filter under the base.
func (f *posixFixture) find(filter string) []string {
	f.t.Helper()
	flt, err := directory.ParseFilter(filter, f.svc.Schema())
	f.must(err)
	var out []string
	_, err = f.svc.Search(context.Background(), f.as, idm.SearchRequest{Base: directory.MustParseDN(posixBase), Scope: directory.ScopeSub, Filter: flt, Attrs: []string{"1.1"}},
		func(e *directory.Entry) error { out = append(out, e.DN.String()); return nil })
	f.must(err)
	return out
}

func wantAttr(t *testing.T, e *directory.Entry, attr string, want ...string) {
	t.Helper()
	if got := e.Get(attr); !slices.Equal(got, want) {
		t.Errorf("%s %s = %q, want %q", e.DN, attr, got, want)
	}
}

func TestPosixAccountAllocation(t *testing.T) {
	f := newPosixFixture(t, idm.IDRange{Min: 5000, Max: 5003}, idm.IDRange{Min: 7000, Max: 7010})

	// Add with the class: numbers and defaults are filled in.
	f.must(f.addPerson("alice", true))
	a := f.get(personDN("alice"))
	wantAttr(t, a, "uidNumber", "5000")
	wantAttr(t, a, "gidNumber", "5000")
	wantAttr(t, a, "homeDirectory", "/home/alice")
	wantAttr(t, a, "loginShell", "/bin/bash")
	wantAttr(t, a, "gecos", "Person alice")

	// Modify adding the class: the next number; the client's shell stays.
	f.must(f.addPerson("bob", false))
	f.must(f.modify(personDN("bob"),
		directory.Change{Op: directory.ChangeAdd, Attr: "objectClass", Values: []string{"posixAccount"}},
		directory.Change{Op: directory.ChangeReplace, Attr: "loginShell", Values: []string{"/bin/zsh"}}))
	b := f.get(personDN("bob"))
	wantAttr(t, b, "uidNumber", "5001")
	wantAttr(t, b, "loginShell", "/bin/zsh")

	// Deleting alice does not free 5000; a number set by hand is skipped.
	f.must(f.svc.Delete(context.Background(), f.as, personDN("alice")))
	f.must(f.addPerson("carol", true, "uidNumber", "5002"))
	f.must(f.addPerson("dave", true))
	wantAttr(t, f.get(personDN("dave")), "uidNumber", "5003")

	// The range is exhausted: a clear refusal, and nothing is written.
	err := f.addPerson("erin", true)
	if !errors.Is(err, directory.ErrUnwillingToPerform) {
		t.Fatalf("add erin with the range exhausted: %v, want ErrUnwillingToPerform", err)
	}
	if got := f.find("(uid=erin)"); len(got) != 0 {
		t.Errorf("erin was added: %v", got)
	}

	// A uidNumber in use cannot be set again.
	err = f.modify(personDN("bob"), directory.Change{Op: directory.ChangeReplace, Attr: "uidNumber", Values: []string{"5003"}})
	if !errors.Is(err, directory.ErrConstraintViolation) {
		t.Errorf("duplicate uidNumber: %v, want ErrConstraintViolation", err)
	}
	if got := f.find("(uidNumber=5001)"); !slices.Equal(got, []string{personDN("bob").String()}) {
		t.Errorf("(uidNumber=5001) = %v", got)
	}
}

func TestPosixAllocationAfterRangeMoves(t *testing.T) {
	// The high-water mark survives a lower range: nothing is reused.
	f := newPosixFixture(t, idm.IDRange{Min: 5000, Max: 5010}, idm.IDRange{})
	f.must(f.addPerson("alice", true))
	f.must(f.svc.Delete(context.Background(), f.as, personDN("alice")))
	f.must(f.addPerson("bob", true))
	wantAttr(t, f.get(personDN("bob")), "uidNumber", "5001")
}

func TestPosixUserPrivateGroupAvoidsGroupNumbers(t *testing.T) {
	// Overlapping ranges: a person's gidNumber (its uidNumber) never names
	// a posixGroup, and a group never takes a person's private number.
	r := idm.IDRange{Min: 100, Max: 200}
	f := newPosixFixture(t, r, r)
	f.must(f.addGroup("g1", true))
	wantAttr(t, f.get(groupDN("g1")), "gidNumber", "100")
	f.must(f.addPerson("alice", true))
	a := f.get(personDN("alice"))
	wantAttr(t, a, "uidNumber", "101")
	wantAttr(t, a, "gidNumber", "101")
	f.must(f.addGroup("g2", true))
	wantAttr(t, f.get(groupDN("g2")), "gidNumber", "102")

	// A posixGroup's gidNumber is unique among groups.
	err := f.modify(groupDN("g2"), directory.Change{Op: directory.ChangeReplace, Attr: "gidNumber", Values: []string{"100"}})
	if !errors.Is(err, directory.ErrConstraintViolation) {
		t.Errorf("duplicate group gidNumber: %v, want ErrConstraintViolation", err)
	}
}

func TestPosixGroupMemberUid(t *testing.T) {
	f := newPosixFixture(t, idm.IDRange{}, idm.IDRange{})
	for _, p := range []string{"alice", "bob", "carol"} {
		f.must(f.addPerson(p, true))
	}
	f.must(f.addGroup("staff", false, "alice"))
	wantAttr(t, f.get(groupDN("staff")), "memberUid")

	// Gaining posixGroup: a gidNumber from the default range (past the
	// private group numbers 10000-10002 of the three people), memberUid.
	f.must(f.modify(groupDN("staff"), directory.Change{Op: directory.ChangeAdd, Attr: "objectClass", Values: []string{"posixGroup"}}))
	g := f.get(groupDN("staff"))
	wantAttr(t, g, "gidNumber", "10003")
	wantAttr(t, g, "memberUid", "alice")

	f.must(f.modify(groupDN("staff"), directory.Change{Op: directory.ChangeAdd, Attr: "member",
		Values: []string{personDN("bob").String(), personDN("carol").String()}}))
	wantAttr(t, f.get(groupDN("staff")), "memberUid", "alice", "bob", "carol")
	if got := f.find("(&(objectClass=posixGroup)(memberUid=bob))"); !slices.Equal(got, []string{groupDN("staff").String()}) {
		t.Errorf("(memberUid=bob) = %v", got)
	}

	// Deleting a member, removing one, renaming one: memberUid follows.
	f.must(f.svc.Delete(context.Background(), f.as, personDN("alice")))
	f.must(f.modify(groupDN("staff"), directory.Change{Op: directory.ChangeDelete, Attr: "member", Values: []string{personDN("carol").String()}}))
	f.must(f.svc.Rename(context.Background(), f.as, personDN("bob"), directory.NewRDN(directory.AVA{Type: "uid", Value: "robert"}), true, nil))
	wantAttr(t, f.get(groupDN("staff")), "memberUid", "robert")
	if got := f.find("(memberUid=bob)"); len(got) != 0 {
		t.Errorf("(memberUid=bob) after the rename = %v", got)
	}

	// Clients write memberUid as RFC 2307 tools do: a name of no account
	// (a host-local user) is stored as given; an account's name adds the
	// account to member too.
	idmAdmin := *f
	idmAdmin.as = f.bindIDMAdmin()
	f.must(idmAdmin.modify(groupDN("staff"), directory.Change{Op: directory.ChangeAdd, Attr: "memberUid", Values: []string{"mallory", "carol"}}))
	g = f.get(groupDN("staff"))
	wantAttr(t, g, "memberUid", "robert", "carol", "mallory")
	wantAttr(t, g, "member", personDN("robert").String(), personDN("carol").String())
	f.must(idmAdmin.modify(groupDN("staff"), directory.Change{Op: directory.ChangeDelete, Attr: "memberUid", Values: []string{"mallory", "carol"}}))
	g = f.get(groupDN("staff"))
	wantAttr(t, g, "memberUid", "robert")
	wantAttr(t, g, "member", personDN("robert").String())

	// A plain RFC 2307 group (memberUid, no member), as an import or the
	// local root writes it, keeps its memberUid when members come and go.
	legacy := directory.NewEntry(groupDN("legacy"))
	legacy.Set("objectClass", "top", "groupOfNames", "posixGroup")
	legacy.Set("cn", "legacy")
	legacy.Set("gidNumber", "20000")
	legacy.Set("memberUid", "olduser")
	f.must(f.svc.Add(context.Background(), f.as, legacy))
	f.must(idmAdmin.modify(groupDN("legacy"), directory.Change{Op: directory.ChangeAdd, Attr: "member", Values: []string{personDN("carol").String()}}))
	wantAttr(t, f.get(groupDN("legacy")), "memberUid", "carol", "olduser")
	f.must(f.svc.Delete(context.Background(), f.as, personDN("carol")))
	wantAttr(t, f.get(groupDN("legacy")), "memberUid", "olduser")

	// Losing posixGroup drops memberUid (groupOfNames does not allow it).
	f.must(f.modify(groupDN("staff"), directory.Change{Op: directory.ChangeDelete, Attr: "objectClass", Values: []string{"posixGroup"}},
		directory.Change{Op: directory.ChangeDelete, Attr: "gidNumber"}))
	wantAttr(t, f.get(groupDN("staff")), "memberUid")
}

func (f *posixFixture) bindIDMAdmin() idm.Identity {
	f.t.Helper()
	pw, err := f.svc.RecoverAccount(context.Background(), "idm_admin")
	f.must(err)
	id, err := f.svc.Bind(context.Background(), "idm_admin", []byte(pw))
	f.must(err)
	return id
}

func TestParseIDRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want idm.IDRange
		ok   bool
	}{
		{"10000-60000", idm.IDRange{Min: 10000, Max: 60000}, true},
		{" 5 - 5 ", idm.IDRange{Min: 5, Max: 5}, true},
		{"0-10", idm.IDRange{}, false},
		{"10-5", idm.IDRange{}, false},
		{"10", idm.IDRange{}, false},
		{"a-b", idm.IDRange{}, false},
		{"1-4294967295", idm.IDRange{}, false},
	} {
		got, err := idm.ParseIDRange(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseIDRange(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestPosixServiceAccount(t *testing.T) {
	// A service account (no cn of its own) can be POSIX too: cn comes from uid.
	f := newPosixFixture(t, idm.IDRange{}, idm.IDRange{})
	dn := directory.MustParseDN("uid=svc,ou=services," + posixBase)
	e := directory.NewEntry(dn)
	e.Set("objectClass", "top", directory.ClassServiceAccount)
	e.Set("uid", "svc")
	e.Set(directory.AttrEntryManagedBy, groupDN("idm_admins").String())
	f.must(f.svc.Add(context.Background(), f.as, e))
	f.must(f.modify(dn, directory.Change{Op: directory.ChangeAdd, Attr: "objectClass", Values: []string{"posixAccount"}}))
	got := f.get(dn)
	wantAttr(t, got, "uidNumber", "10000")
	wantAttr(t, got, "cn", "svc")
	wantAttr(t, got, "homeDirectory", "/home/svc")
}
