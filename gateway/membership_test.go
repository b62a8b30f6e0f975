package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/uuid"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// canReadMail reports whether c reads alice's mail (accessFixture), which
// takes idm_people_pii_read or better.
func canReadMail(t *testing.T, c *ldap.Conn) bool {
	t.Helper()
	return hasAttr(read(t, c, personDN("alice"), "mail"), "mail")
}

// memberOfValues returns dn's memberOf values as c reads them.
func memberOfValues(t *testing.T, c *ldap.Conn, dn string) []string {
	t.Helper()
	return values(read(t, c, dn, "memberOf"), "memberOf")
}

// membersOf returns the DNs that (memberOf=group) finds, lower-cased and
// sorted.
func membersOf(t *testing.T, c *ldap.Conn, group string) []string {
	t.Helper()
	return dns(search(t, c, base, ldap.ScopeWholeSubtree, "(memberOf="+group+")", "1.1"))
}

func rootModify(t *testing.T, s *stacktest.Stack, dn string, changes ...directory.Change) {
	t.Helper()
	if err := s.IDM.Modify(context.Background(), idm.RootIdentity(), directory.MustParseDN(dn), changes); err != nil {
		t.Fatalf("modify %s as root: %v", dn, err)
	}
}

func addValues(attr string, vals ...string) directory.Change {
	return directory.Change{Op: directory.ChangeAdd, Attr: attr, Values: vals}
}

// TestMembershipOnlyFromGroups: a member value confers membership only on
// a group (groupOfNames or groupOfUniqueNames directly under ou=groups).
// On any other entry it is kept as data and puts nobody in any group,
// directly or through nesting, whoever wrote it: a client, root or an
// import.
func TestMembershipOnlyFromGroups(t *testing.T) {
	s := accessFixture(t)
	ctx := context.Background()
	c := s.IDMAdmin(t)
	pii := groupDN("idm_people_pii_read")
	const malloryPW = "mallory-secret-pw-1"
	mallory := addPerson(t, c, "mallory", "userPassword", malloryPW)
	svc := addService(t, c, "svc1")
	addMember(t, c, pii, svc)
	m := s.Bind(t, "mallory", malloryPW)
	if canReadMail(t, m) {
		t.Fatal("mallory reads mail before anything happened")
	}

	t.Run("root/member on a service account (the review's finding)", func(t *testing.T) {
		rootModify(t, s, svc, addValues("objectClass", "extensibleObject"), addValues("member", mallory))
		mustEqual(t, "svc member", lower(values(read(t, c, svc, "member"), "member")...), lower(mallory))
		mustEqual(t, "mallory memberOf", memberOfValues(t, c, mallory), nil)
		mustEqual(t, "(memberOf=pii)", membersOf(t, c, pii), lower(svc))
		if canReadMail(t, m) {
			t.Fatal("mallory reads mail through a service account's member value")
		}
	})
	t.Run("ldapmodify/the same by an administrator", func(t *testing.T) {
		// system_admins may write member on a service account; it still
		// confers nothing.
		tool(t, s, 0, modifyLDIF(svc, "add", "member", personDN("bob")), "ldapmodify", adminArgs(s)...)
		mustEqual(t, "bob memberOf", memberOfValues(t, c, personDN("bob")), nil)
		if canReadMail(t, s.Bind(t, "bob", bobPW)) {
			t.Fatal("bob reads mail through a service account's member value")
		}
	})
	t.Run("root/groupOfNames outside ou=groups, nested in a real group", func(t *testing.T) {
		shadow := "cn=shadow," + people
		e := directory.NewEntry(directory.MustParseDN(shadow))
		e.Set("objectClass", "groupOfNames")
		e.Set("cn", "shadow")
		e.Set("member", mallory)
		if err := s.IDM.Add(ctx, idm.RootIdentity(), e); err != nil {
			t.Fatal(err)
		}
		rootModify(t, s, pii, addValues("member", shadow))
		// shadow itself is a member of pii; what it names is not.
		mustEqual(t, "shadow memberOf", lower(memberOfValues(t, c, shadow)...), lower(pii))
		mustEqual(t, "mallory memberOf", memberOfValues(t, c, mallory), nil)
		if canReadMail(t, m) {
			t.Fatal("mallory reads mail through a groupOfNames outside ou=groups")
		}
	})
	t.Run("root/memberOf supplied on add is replaced by the derived value", func(t *testing.T) {
		e := directory.NewEntry(directory.MustParseDN(personDN("forger")))
		e.Set("objectClass", "inetOrgPerson")
		e.Set("uid", "forger")
		e.Set("cn", "forger")
		e.Set("sn", "forger")
		e.Set("memberOf", pii)
		if err := s.IDM.Add(ctx, idm.RootIdentity(), e); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "forger memberOf", memberOfValues(t, c, personDN("forger")), nil)
	})
	t.Run("import/member on a groupOfNames outside ou=groups", func(t *testing.T) {
		const evePW = "eve-secret-pw-1"
		entry := func(dn string, pairs ...string) idm.ImportRecord {
			e := directory.NewEntry(directory.MustParseDN(dn))
			for i := 0; i+1 < len(pairs); i += 2 {
				e.Add(pairs[i], pairs[i+1])
			}
			return idm.ImportRecord{Entry: e}
		}
		extra := "ou=extra," + base
		imported := "cn=imported," + extra
		eve := personDN("eve")
		recs := []idm.ImportRecord{
			entry(extra, "objectClass", "organizationalUnit", "ou", "extra"),
			// eve comes later in the file: a forward reference is fine.
			entry(imported, "objectClass", "groupOfNames", "cn", "imported", "member", eve),
			entry(groupDN("imported_real"), "objectClass", "groupOfNames", "cn", "imported_real", "member", imported),
			entry(eve, "objectClass", "inetOrgPerson", "uid", "eve", "cn", "eve", "sn", "eve", "userPassword", evePW),
		}
		for i := range recs {
			recs[i].Line = i + 1
		}
		if _, err := s.IDM.Import(ctx, stacktest.RecordSource(recs), nil); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "imported memberOf", lower(memberOfValues(t, c, imported)...), lower(groupDN("imported_real")))
		mustEqual(t, "eve memberOf", memberOfValues(t, c, eve), nil)
		rootModify(t, s, pii, addValues("member", imported))
		mustEqual(t, "eve memberOf", memberOfValues(t, c, eve), nil)
		if canReadMail(t, s.Bind(t, "eve", evePW)) {
			t.Fatal("eve reads mail through an imported groupOfNames outside ou=groups")
		}
	})
	t.Run("control/a real group confers", func(t *testing.T) {
		addMember(t, c, pii, mallory)
		mustEqual(t, "mallory memberOf", lower(memberOfValues(t, c, mallory)...), lower(pii))
		if !canReadMail(t, m) {
			t.Fatal("mallory cannot read mail as a member of idm_people_pii_read")
		}
	})
}

// TestGroupNestingCap: no chain of nested groups may be longer than
// idm.MaxGroupNesting; a write that would make one is refused with
// adminLimitExceeded and changes nothing.
func TestGroupNestingCap(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice")
	below := alice
	for k := idm.MaxGroupNesting; k >= 1; k-- {
		below = addGroup(t, c, fmt.Sprintf("level%d", k), below)
	}
	if got := len(memberOfValues(t, c, alice)); got != idm.MaxGroupNesting {
		t.Fatalf("alice is in %d groups, want %d", got, idm.MaxGroupNesting)
	}
	top, bottom := groupDN("level1"), groupDN(fmt.Sprintf("level%d", idm.MaxGroupNesting))

	t.Run("go-ldap/one more level on top", func(t *testing.T) {
		err := c.Add(&ldap.AddRequest{DN: groupDN("level0"), Attributes: attrs("objectClass", "groupOfNames", "cn", "level0", "member", top)})
		wantCode(t, "add level0", err, ldap.LDAPResultAdminLimitExceeded)
		if msg := ldapErr(t, err).Err.Error(); !strings.Contains(msg, fmt.Sprint(idm.MaxGroupNesting)) {
			t.Errorf("message %q does not name the cap", msg)
		}
		if exists(t, c, groupDN("level0")) {
			t.Fatal("level0 was created")
		}
		mustEqual(t, "level1 memberOf", memberOfValues(t, c, top), nil)
	})
	t.Run("ldapmodify/one more level below", func(t *testing.T) {
		leaf := addGroup(t, c, "leaf")
		out := tool(t, s, ldap.LDAPResultAdminLimitExceeded, modifyLDIF(bottom, "add", "member", leaf), "ldapmodify", idmAdminArgs(s)...)
		wantResult(t, out, ldap.LDAPResultAdminLimitExceeded)
		mustEqual(t, "leaf memberOf", memberOfValues(t, c, leaf), nil)
		mustEqual(t, "bottom member", lower(values(read(t, c, bottom, "member"), "member")...), lower(alice))
	})
	t.Run("go-ldap/a person joins the deepest group", func(t *testing.T) {
		bob := addPerson(t, c, "bob")
		addMember(t, c, bottom, bob)
		if got := len(memberOfValues(t, c, bob)); got != idm.MaxGroupNesting {
			t.Fatalf("bob is in %d groups, want %d", got, idm.MaxGroupNesting)
		}
	})
	t.Run("go-ldap/a cut shortens every chain below it", func(t *testing.T) {
		wantCode(t, "cut", modify(c, groupDN("level16"), ldap.DeleteAttribute, "member", groupDN("level17")), 0)
		if got := len(memberOfValues(t, c, alice)); got != idm.MaxGroupNesting-16 {
			t.Fatalf("alice is in %d groups after the cut, want %d", got, idm.MaxGroupNesting-16)
		}
		// Room again for a level on top of the lower half.
		addGroup(t, c, "level16b", groupDN("level17"))
		if got := len(memberOfValues(t, c, alice)); got != idm.MaxGroupNesting-15 {
			t.Fatalf("alice is in %d groups, want %d", got, idm.MaxGroupNesting-15)
		}
	})
}

// TestDeepChainDoesNotStallWrites: a 600-deep chain of nested groups, as a
// store from before the nesting cap may hold. Writes on it are refused at
// the cap or finish quickly, and never hold up other connections' writes
// for long: the review measured 41.5 s, with every write waiting, for one
// Add into such a chain.
func TestDeepChainDoesNotStallWrites(t *testing.T) {
	const depth = 600
	s := stacktest.New(t)
	ctx := context.Background()
	c := s.IDMAdmin(t)
	deep := addPerson(t, c, "deep")
	const carolPW = "carol-secret-pw-0"
	addPerson(t, c, "carol", "userPassword", carolPW)
	chain := func(k int) string { return groupDN(fmt.Sprintf("chain%d", k)) }
	// Written straight to the store, as a store from before the cap may
	// hold it, a few levels per transaction (bbolt is slow with huge ones).
	above := make([]string, 0, depth)
	for k := 1; k <= depth; k++ {
		above = append(above, chain(k))
	}
	for k0 := 1; k0 <= depth; k0 += 25 {
		err := s.Store.Update(ctx, func(tx directory.WriteTx) error {
			for k := k0; k < k0+25; k++ {
				e := directory.NewEntry(directory.MustParseDN(chain(k)))
				e.Set("objectClass", "top", "groupOfNames")
				e.Set("structuralObjectClass", "groupOfNames")
				e.Set("cn", fmt.Sprintf("chain%d", k))
				e.Set("entryUUID", uuid.NewString())
				if k < depth {
					e.Set("member", chain(k+1))
				} else {
					e.Set("member", deep)
				}
				if k > 1 {
					e.Set("memberOf", above[:k-1]...)
				}
				if err := tx.Add(e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	err := s.Store.Update(ctx, func(tx directory.WriteTx) error {
		return tx.Modify(directory.MustParseDN(deep), []directory.Change{{Op: directory.ChangeReplace, Attr: "memberOf", Values: above}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(memberOfValues(t, c, deep)); got != depth {
		t.Fatalf("deep is in %d groups, want %d", got, depth)
	}

	carol := s.Bind(t, "carol", carolPW)
	pw := 0
	// during runs write alongside a password change by carol on another
	// connection and returns how long each took; with bounded, both must
	// take under five seconds.
	during := func(t *testing.T, write func() error, want uint16, bounded bool) (writeTook, passwdTook time.Duration) {
		t.Helper()
		start := make(chan struct{})
		var wg sync.WaitGroup
		var writeErr, pwErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			writeErr = write()
			writeTook = time.Since(t0)
		}()
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			old := fmt.Sprintf("carol-secret-pw-%d", pw)
			_, pwErr = carol.PasswordModify(ldap.NewPasswordModifyRequest("", old, fmt.Sprintf("carol-secret-pw-%d", pw+1)))
			passwdTook = time.Since(t0)
		}()
		close(start)
		wg.Wait()
		pw++
		if got := stacktest.ResultCode(writeErr); got != want {
			t.Fatalf("write: result code %d, want %d (%v)", got, want, writeErr)
		}
		if pwErr != nil {
			t.Fatalf("password change: %v", pwErr)
		}
		t.Logf("write %v, concurrent password change %v", writeTook, passwdTook)
		// Five seconds leave room for fsync on a loaded machine; the
		// stall this guards against was 41.5 s.
		if bounded && (writeTook > 5*time.Second || passwdTook > 5*time.Second) {
			t.Errorf("write took %v and the password change %v; want both under five seconds", writeTook, passwdTook)
		}
		return writeTook, passwdTook
	}

	t.Run("go-ldap/one more level on top is refused at the cap", func(t *testing.T) {
		during(t, func() error {
			return c.Add(&ldap.AddRequest{DN: groupDN("chain0"), Attributes: attrs("objectClass", "groupOfNames", "cn", "chain0", "member", chain(1))})
		}, ldap.LDAPResultAdminLimitExceeded, true)
		if exists(t, c, groupDN("chain0")) {
			t.Fatal("chain0 was created")
		}
	})
	t.Run("go-ldap/one more level at the bottom is refused at the cap", func(t *testing.T) {
		leaf := addGroup(t, c, "leaf")
		during(t, func() error { return modify(c, chain(depth), ldap.AddAttribute, "member", leaf) }, ldap.LDAPResultAdminLimitExceeded, true)
		mustEqual(t, "leaf memberOf", memberOfValues(t, c, leaf), nil)
	})
	t.Run("go-ldap/a person joins the deepest group", func(t *testing.T) {
		newbie := addPerson(t, c, "newbie")
		during(t, func() error { return modify(c, chain(depth), ldap.AddAttribute, "member", newbie) }, 0, true)
		if got := len(memberOfValues(t, c, newbie)); got != depth {
			t.Fatalf("newbie is in %d groups, want %d", got, depth)
		}
	})
	// Shrinking an over-deep chain is allowed (it is how one gets back
	// under the cap) and rewrites memberOf of everything below the cut:
	// here 301 entries lose 299 values each, so it is measured, not
	// bounded. Under the caps a write touches at most MaxGroupNesting
	// levels and MaxMemberOf values per entry.
	t.Run("go-ldap/cutting the chain in the middle", func(t *testing.T) {
		during(t, func() error { return modify(c, chain(depth/2-1), ldap.DeleteAttribute, "member", chain(depth/2)) }, 0, false)
		if got := len(memberOfValues(t, c, deep)); got != depth/2+1 {
			t.Fatalf("deep is in %d groups after the cut, want %d", got, depth/2+1)
		}
		if got := len(memberOfValues(t, c, chain(depth/2-1))); got != depth/2-2 {
			t.Fatalf("chain%d is in %d groups, want %d", depth/2-1, got, depth/2-2)
		}
	})
	t.Run("ldapdelete/deleting the top group", func(t *testing.T) {
		during(t, func() error { return c.Del(ldap.NewDelRequest(chain(1), nil)) }, 0, false)
		if got := len(memberOfValues(t, c, chain(depth/2-1))); got != depth/2-3 {
			t.Fatalf("chain%d is in %d groups, want %d", depth/2-1, got, depth/2-3)
		}
	})
}

// TestMembersMustExist: member and uniqueMember values name existing
// entries under the base, and deleting or renaming an entry updates every
// group naming it, so that nobody created later under the same name
// inherits a membership.
func TestMembersMustExist(t *testing.T) {
	s := accessFixture(t)
	c := s.IDMAdmin(t)
	staff, pii := groupDN("staff"), groupDN("idm_people_pii_read")
	future := personDN("future")
	refused := func(t *testing.T, err error, value string) {
		t.Helper()
		wantCode(t, "write naming "+value, err, ldap.LDAPResultConstraintViolation)
		if msg := ldapErr(t, err).Err.Error(); !strings.Contains(strings.ToLower(msg), strings.ToLower(value)) {
			t.Fatalf("message %q does not name %s", msg, value)
		}
	}

	t.Run("go-ldap/add a group naming a missing entry", func(t *testing.T) {
		err := c.Add(&ldap.AddRequest{DN: groupDN("g"), Attributes: attrs("objectClass", "groupOfNames", "cn", "g", "member", future)})
		refused(t, err, future)
		if exists(t, c, groupDN("g")) {
			t.Fatal("group created")
		}
	})
	t.Run("go-ldap/add a missing member", func(t *testing.T) {
		refused(t, modify(c, staff, ldap.AddAttribute, "member", future), future)
		refused(t, modify(c, staff, ldap.ReplaceAttribute, "member", personDN("alice"), future), future)
	})
	t.Run("ldapmodify/add a missing member", func(t *testing.T) {
		out := tool(t, s, ldap.LDAPResultConstraintViolation, modifyLDIF(staff, "add", "member", future), "ldapmodify", idmAdminArgs(s)...)
		if !strings.Contains(out, "future") {
			t.Fatalf("output does not name the value:\n%s", out)
		}
	})
	t.Run("go-ldap/a member outside the base", func(t *testing.T) {
		refused(t, modify(c, staff, ldap.AddAttribute, "member", "uid=alice,ou=people,dc=other,dc=org"), "dc=other")
		refused(t, modify(c, staff, ldap.AddAttribute, "member", "dc=example,dc=com"), "dc=example,dc=com")
	})
	t.Run("go-ldap/uniqueMember", func(t *testing.T) {
		err := c.Add(&ldap.AddRequest{DN: groupDN("u"), Attributes: attrs("objectClass", "groupOfUniqueNames", "cn", "u", "uniqueMember", future)})
		refused(t, err, future)
		wantCode(t, "existing uniqueMember", c.Add(&ldap.AddRequest{DN: groupDN("u"), Attributes: attrs("objectClass", "groupOfUniqueNames", "cn", "u", "uniqueMember", personDN("alice"))}), 0)
		refused(t, modify(c, groupDN("u"), ldap.AddAttribute, "uniqueMember", future), future)
	})
	mustEqual(t, "staff member", lower(values(read(t, c, staff, "member"), "member")...), lower(personDN("alice")))

	t.Run("ldapdelete/a deleted account leaves every group; its successor is in none", func(t *testing.T) {
		const pw1, pw2 = "dave-secret-pw-1", "dave-secret-pw-2"
		dave := addPerson(t, c, "dave", "userPassword", pw1)
		addMember(t, c, staff, dave)
		addMember(t, c, pii, dave)
		uniq := groupDN("u")
		wantCode(t, "uniqueMember dave", modify(c, uniq, ldap.AddAttribute, "uniqueMember", dave), 0)
		nested := addGroup(t, c, "nested", staff)
		if !canReadMail(t, s.Bind(t, "dave", pw1)) {
			t.Fatal("dave cannot read mail as a member of idm_people_pii_read")
		}
		mustEqual(t, "dave memberOf", lower(memberOfValues(t, c, dave)...), lower(staff, pii, nested))

		tool(t, s, 0, "", "ldapdelete", with(idmAdminArgs(s), dave)...)
		for _, g := range []string{staff, pii} {
			if hasDN(values(read(t, c, g, "member"), "member"), dave) {
				t.Fatalf("%s still names dave", g)
			}
		}
		if hasDN(values(read(t, c, uniq, "uniqueMember"), "uniqueMember"), dave) {
			t.Fatal("uniqueMember still names dave")
		}

		addPerson(t, c, "dave", "userPassword", pw2)
		mustEqual(t, "new dave memberOf", memberOfValues(t, c, dave), nil)
		for _, g := range []string{staff, pii, nested} {
			if got := membersOf(t, c, g); hasDN(got, dave) {
				t.Fatalf("(memberOf=%s) finds the new dave", g)
			}
		}
		if canReadMail(t, s.Bind(t, "dave", pw2)) {
			t.Fatal("the new dave reads mail")
		}
	})
	t.Run("ldapmodrdn/a renamed account stays in its groups; its old name is in none", func(t *testing.T) {
		erin := addPerson(t, c, "erin")
		addMember(t, c, staff, erin)
		wantCode(t, "uniqueMember erin", modify(c, groupDN("u"), ldap.AddAttribute, "uniqueMember", erin), 0)
		tool(t, s, 0, "", "ldapmodrdn", with(idmAdminArgs(s), "-r", erin, "uid=erin2")...)
		erin2 := personDN("erin2")
		mustEqual(t, "staff member", lower(values(read(t, c, staff, "member"), "member")...), lower(personDN("alice"), erin2))
		if u := values(read(t, c, groupDN("u"), "uniqueMember"), "uniqueMember"); !hasDN(u, erin2) || hasDN(u, erin) {
			t.Fatalf("uniqueMember = %v after the rename", u)
		}
		mustEqual(t, "erin2 memberOf", lower(memberOfValues(t, c, erin2)...), lower(staff, groupDN("nested")))
		addPerson(t, c, "erin")
		mustEqual(t, "new erin memberOf", memberOfValues(t, c, erin), nil)
	})
}

// TestMemberOfRederivedOnUpgrade: a store written under the old rules
// (memberOf derived from a member value on any entry, member values naming
// entries that do not exist) is corrected once, at the first start of a
// server with the groups-only rules.
func TestMemberOfRederivedOnUpgrade(t *testing.T) {
	s := accessFixture(t)
	ctx := context.Background()
	c := s.IDMAdmin(t)
	pii, staff := groupDN("idm_people_pii_read"), groupDN("staff")
	const malloryPW = "mallory-secret-pw-1"
	mallory := addPerson(t, c, "mallory", "userPassword", malloryPW)
	svc := addService(t, c, "svc1")
	addMember(t, c, pii, svc)
	future := personDN("future")
	// What the old server stored after the review's attack, and a member
	// value left naming an entry that does not exist.
	err := s.Store.Update(ctx, func(tx directory.WriteTx) error {
		if err := tx.Modify(directory.MustParseDN(svc), []directory.Change{
			addValues("objectClass", "extensibleObject"), addValues("member", mallory),
		}); err != nil {
			return err
		}
		if err := tx.Modify(directory.MustParseDN(mallory), []directory.Change{addValues("memberOf", pii)}); err != nil {
			return err
		}
		return tx.Modify(directory.MustParseDN(staff), []directory.Change{addValues("member", future)})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !canReadMail(t, s.Bind(t, "mallory", malloryPW)) {
		t.Fatal("the old store's state does not give mallory the rights it gave her")
	}

	s.Restart(t)
	c = s.IDMAdmin(t)
	mustEqual(t, "mallory memberOf", memberOfValues(t, c, mallory), nil)
	if canReadMail(t, s.Bind(t, "mallory", malloryPW)) {
		t.Fatal("mallory still reads mail after the upgrade")
	}
	mustEqual(t, "svc memberOf", lower(memberOfValues(t, c, svc)...), lower(pii))
	mustEqual(t, "staff member", lower(values(read(t, c, staff, "member"), "member")...), lower(personDN("alice")))
	addPerson(t, c, "future")
	mustEqual(t, "future memberOf", memberOfValues(t, c, future), nil)
}
