package gateway_test

// Clients configured by Kanidm's book (issue #14): Kanidm's class names,
// memberOf by name, Kanidm's bind DNs and target DNs, its built-in groups
// and small shapes. Each is an addition: the RFC forms keep working.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/tokens"
)

const domain = stacktest.Domain

// kanidmFixture: alice (a POSIX person with a password) in demo_group,
// demo_group in outer_group, bob (a person, not POSIX), and the service
// account svc.
type kanidmFixture struct {
	s                 *stacktest.Stack
	admin             *ldap.Conn
	alice, bob, svc   string
	demo, outer       string
	alicePW, aliceUID string
}

func newKanidmFixture(t *testing.T, s *stacktest.Stack) kanidmFixture {
	t.Helper()
	f := kanidmFixture{s: s, admin: s.IDMAdmin(t), alicePW: "alice-pw-1"}
	f.alice = addPerson(t, f.admin, "alice", "objectClass", "posixAccount", "userPassword", f.alicePW,
		"mail", "alice@example.org", "telephoneNumber", "+41 1", "objectClass", "shadowAccount", "shadowExpire", "20000")
	f.bob = addPerson(t, f.admin, "bob")
	f.demo = addGroup(t, f.admin, "demo_group", f.alice)
	f.outer = addGroup(t, f.admin, "outer_group", f.demo)
	appToken(t, s, "svc")
	f.svc = "uid=svc," + services
	f.aliceUID = read(t, f.admin, f.alice, "entryUUID").GetAttributeValue("entryUUID")
	return f
}

func TestKanidmClassFilters(t *testing.T) {
	s := stacktest.New(t)
	f := newKanidmFixture(t, s)
	anon := s.Dial(t)
	cases := []struct {
		filter    string
		want, not []string
	}{
		{"(class=person)", []string{f.alice, f.bob}, []string{f.svc, f.demo}},
		{"(class=account)", []string{f.alice, f.bob, f.svc, personDN("admin")}, []string{f.demo}},
		{"(objectClass=account)", []string{f.alice, f.svc}, []string{f.demo}},
		{"(class=group)", []string{f.demo, f.outer, groupDN("idm_admins")}, []string{f.alice, f.svc}},
		{"(objectClass=group)", []string{f.demo, groupDN("idm_all_accounts")}, []string{f.alice}},
		{"(class=service_account)", []string{f.svc}, []string{f.alice, f.demo}},
		{"(class=posixaccount)", []string{f.alice}, []string{f.bob, f.svc}},
		{"(class=object)", []string{f.alice, f.bob, f.svc, f.demo, base}, nil},
		{"(&(class=person)(uid=alice))", []string{f.alice}, []string{f.bob}},
		{"(!(class=group))", []string{f.alice, f.svc}, []string{f.demo}},
		// RFC forms are unchanged.
		{"(objectClass=inetOrgPerson)", []string{f.alice, f.bob}, []string{f.svc}},
		{"(objectClass=groupOfNames)", []string{f.demo}, []string{f.alice}},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			got := dns(search(t, anon, base, ldap.ScopeWholeSubtree, tc.filter, "objectClass"))
			for _, w := range tc.want {
				if !slices.Contains(got, strings.ToLower(w)) {
					t.Errorf("%s lacks %s; got %v", tc.filter, w, got)
				}
			}
			for _, n := range tc.not {
				if slices.Contains(got, strings.ToLower(n)) {
					t.Errorf("%s returned %s", tc.filter, n)
				}
			}
		})
	}
	// Returned entries keep their real objectClass values. A filter in
	// Kanidm's vocabulary also gets back the Kanidm class values it named
	// that the entry fits (SSSD configured by Kanidm's guide drops entries
	// whose objectClass lacks its ldap_group_object_class, "object");
	// RFC filters never see them.
	oc := func(filter string) []string {
		g := search(t, anon, base, ldap.ScopeWholeSubtree, filter, "objectClass")
		if len(g) != 1 {
			t.Fatalf("%s: %d entries", filter, len(g))
		}
		return values(g[0], "objectClass")
	}
	has := func(vals []string, v string) bool {
		return slices.ContainsFunc(vals, func(x string) bool { return strings.EqualFold(x, v) })
	}
	if v := oc("(cn=demo_group)"); has(v, "group") || has(v, "object") || !has(v, "groupOfNames") {
		t.Fatalf("RFC filter: demo_group's objectClass %v", v)
	}
	if v := oc("(&(class=group)(cn=demo_group))"); !has(v, "group") || !has(v, "groupOfNames") || has(v, "object") {
		t.Fatalf("(class=group): demo_group's objectClass %v", v)
	}
	if v := oc("(&(objectClass=object)(cn=demo_group)(|(objectClass=posixAccount)(objectClass=groupOfNames)))"); !has(v, "object") || !has(v, "groupOfNames") {
		t.Fatalf("(objectClass=object): demo_group's objectClass %v", v)
	}
	if v := oc("(&(class=service_account)(uid=svc))"); !has(v, "service_account") || !has(v, directory.ClassServiceAccount) {
		t.Fatalf("(class=service_account): svc's objectClass %v", v)
	}
	if v := oc("(&(|(class=group)(class=person))(uid=alice))"); has(v, "group") || !has(v, "inetOrgPerson") {
		t.Fatalf("alice is no group: %v", v)
	}
}

func TestKanidmMemberOfByName(t *testing.T) {
	s := stacktest.New(t)
	f := newKanidmFixture(t, s)
	anon := s.Dial(t)
	demoUUID := read(t, f.admin, f.demo, "entryUUID").GetAttributeValue("entryUUID")
	cases := []struct {
		filter string
		want   []string // exactly, among people and services
	}{
		{"(memberOf=" + f.demo + ")", []string{f.alice}},
		{"(memberOf=demo_group)", []string{f.alice}},
		{"(memberOf=demo_group@" + domain + ")", []string{f.alice}},
		{"(memberof=DEMO_GROUP@IDM.EXAMPLE.COM)", []string{f.alice}},
		{"(memberOf=spn=demo_group@" + domain + "," + base + ")", []string{f.alice}},
		{"(memberOf=name=demo_group," + base + ")", []string{f.alice}},
		{"(memberOf=" + demoUUID + ")", []string{f.alice}},
		{"(memberOf=outer_group@" + domain + ")", []string{f.alice}}, // nested
		{"(memberOf=demo_group@other.example.org)", nil},
		{"(memberOf=no_such_group)", nil},
		{"(memberOf=idm_all_persons@" + domain + ")", []string{f.alice, f.bob, personDN("admin"), personDN("idm_admin")}},
		{"(memberOf=idm_all_accounts@" + domain + ")", []string{f.alice, f.bob, personDN("admin"), personDN("idm_admin"), f.svc}},
		{"(memberOf=" + groupDN("idm_all_accounts") + ")", []string{f.alice, f.bob, personDN("admin"), personDN("idm_admin"), f.svc}},
		// SSSD's access filter, as the Kanidm book configures it, inside
		// the filter sssd builds around it.
		{"(&(uid=alice)(objectclass=posixAccount)(memberof=idm_all_accounts@" + domain + "))", []string{f.alice}},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			var got []string
			for _, b := range []string{people, services} {
				got = append(got, dns(search(t, anon, b, ldap.ScopeWholeSubtree, tc.filter, "1.1"))...)
			}
			slices.Sort(got)
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ToLower(w))
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %v, want %v", tc.filter, got, want)
			}
		})
	}
	// member by name finds the groups.
	for _, v := range []string{"alice", "alice@" + domain, "spn=alice@" + domain + "," + base, f.aliceUID, f.alice} {
		got := dns(search(t, anon, groups, ldap.ScopeSingleLevel, "(member="+v+")", "1.1"))
		if !slices.Equal(got, []string{strings.ToLower(f.demo)}) {
			t.Errorf("(member=%s): %v", v, got)
		}
	}
	// The dynamic groups are members in filters only: returned memberOf
	// values are the stored memberships, the ones that confer rights.
	mo := values(read(t, anon, f.alice, "memberOf"), "memberOf")
	if len(mo) != 2 || !hasDN(mo, f.demo) || !hasDN(mo, f.outer) {
		t.Fatalf("alice memberOf %v, want demo_group and outer_group", mo)
	}
	// ... and confer nothing: a group admin's group is not an account's.
	if err := modify(s.Bind(t, "alice", f.alicePW), f.bob, ldap.ReplaceAttribute, "description", "x"); stacktest.ResultCode(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Fatalf("alice (in the dynamic groups) modifies bob: %v", err)
	}
}

func TestKanidmBindNames(t *testing.T) {
	s := stacktest.New(t)
	f := newKanidmFixture(t, s)
	ok := []string{
		"spn=alice@" + domain + "," + base,
		"spn=alice@" + domain,
		"name=alice",
		"name=alice," + base,
		"uid=alice",
		"uid=alice," + base,
		"uuid=" + f.aliceUID,
		// RFC forms keep working.
		f.alice, "alice", "alice@" + domain,
	}
	for _, name := range ok {
		c := s.Dial(t)
		if err := c.Bind(name, f.alicePW); err != nil {
			t.Errorf("bind %q: %v", name, err)
			continue
		}
		who, err := c.WhoAmI(nil)
		if err != nil || who.AuthzID != "u: alice@"+domain {
			t.Errorf("bind %q: whoami %v %v", name, who, err)
		}
	}
	demoUUID := read(t, f.admin, f.demo, "entryUUID").GetAttributeValue("entryUUID")
	bad := []struct{ name, pw string }{
		{"spn=alice@" + domain + "," + base, "wrong"},
		{"spn=alice@other.example.org", f.alicePW},
		{"name=demo_group," + base, f.alicePW},         // a group never binds
		{"uuid=" + demoUUID, f.alicePW},                // nor by its UUID
		{"name=alice,ou=elsewhere," + base, f.alicePW}, // rest is neither empty nor the base
		{"cn=alice," + base, f.alicePW},                // cn is not one of Kanidm's forms
	}
	for _, b := range bad {
		if err := s.Dial(t).Bind(b.name, b.pw); stacktest.ResultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Errorf("bind %q: %v, want 49", b.name, err)
		}
	}
	// The same with ldapwhoami, as a migrating admin would try it.
	out, code := s.Tool(t, "", "ldapwhoami", bindArgs(s, "spn=alice@"+domain+","+base, f.alicePW)...)
	if code != 0 || strings.TrimSpace(out) != "u: alice@"+domain {
		t.Fatalf("ldapwhoami: %d %s", code, out)
	}
}

func TestKanidmTargets(t *testing.T) {
	s := stacktest.New(t)
	f := newKanidmFixture(t, s)
	anon := s.Dial(t)
	for _, b := range []string{"spn=alice@" + domain + "," + base, "name=alice," + base, "spn=alice@" + domain} {
		es := search(t, anon, b, ldap.ScopeBaseObject, "(objectClass=*)", "uid")
		if len(es) != 1 || !strings.EqualFold(es[0].DN, f.alice) {
			t.Fatalf("base %s: %v", b, dns(es))
		}
	}
	es := search(t, anon, "spn=demo_group@"+domain+","+base, ldap.ScopeBaseObject, "(objectClass=*)", "cn")
	if len(es) != 1 || !strings.EqualFold(es[0].DN, f.demo) {
		t.Fatalf("group base: %v", dns(es))
	}
	ok, err := anon.Compare("name=alice,"+base, "uid", "alice")
	if err != nil || !ok {
		t.Fatalf("compare name=alice: %v %v", ok, err)
	}
	ok, err = anon.Compare("spn=demo_group@"+domain+","+base, "member", f.alice)
	if err != nil || !ok {
		t.Fatalf("compare spn=demo_group member: %v %v", ok, err)
	}
	// A name that is nobody's stays unknown.
	if _, err := anon.Search(ldap.NewSearchRequest("name=nobody,"+base, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)); stacktest.ResultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Fatalf("name=nobody: %v", err)
	}
	out, code := s.Tool(t, "", "ldapsearch", append(anonArgs(s), "-LLL", "-b", "spn=alice@"+domain+","+base, "-s", "base", "uid")...)
	if code != 0 || !strings.Contains(out, "dn: "+f.alice) {
		t.Fatalf("ldapsearch: %d %s", code, out)
	}
}

func TestKanidmGroupsAndShapes(t *testing.T) {
	s := stacktest.New(t)
	f := newKanidmFixture(t, s)
	anon := s.Dial(t)
	for _, g := range []string{"idm_account_mail_read", "idm_unix_authentication_read", "idm_all_persons", "idm_all_accounts"} {
		if !exists(t, anon, groupDN(g)) {
			t.Fatalf("%s missing", g)
		}
		// Built-in: group admins may not delete or rename them.
		if err := f.admin.Del(ldap.NewDelRequest(groupDN(g), nil)); stacktest.ResultCode(err) != ldap.LDAPResultInsufficientAccessRights {
			t.Fatalf("idm_admin deletes %s: %v", g, err)
		}
	}
	// Rights: a token of a service account in idm_account_mail_read reads
	// mail, not telephone numbers; idm_unix_authentication_read reads the
	// shadow attributes. Before joining, neither.
	mailApp := appToken(t, s, "mailapp")
	unixApp := appToken(t, s, "unixapp")
	readAlice := func(token string) *ldap.Entry {
		return read(t, s.Bind(t, "dn=token", token), f.alice, "mail", "telephoneNumber", "shadowExpire")
	}
	for _, tok := range []string{mailApp, unixApp} {
		if e := readAlice(tok); hasAttr(e, "mail") || hasAttr(e, "shadowExpire") {
			t.Fatalf("before joining: %v", attrNames(e))
		}
	}
	addMember(t, f.admin, groupDN("idm_account_mail_read"), "uid=mailapp,"+services)
	addMember(t, f.admin, groupDN("idm_unix_authentication_read"), "uid=unixapp,"+services)
	if e := readAlice(mailApp); !hasAttr(e, "mail") || hasAttr(e, "telephoneNumber") || hasAttr(e, "shadowExpire") {
		t.Fatalf("idm_account_mail_read reads %v, want mail only", attrNames(e))
	}
	if e := readAlice(unixApp); hasAttr(e, "mail") || !hasAttr(e, "shadowExpire") {
		t.Fatalf("idm_unix_authentication_read reads %v, want shadowExpire only", attrNames(e))
	}
	if e := read(t, s.Bind(t, "dn=token", unixApp), f.alice, "userPassword"); hasAttr(e, "userPassword") {
		t.Fatal("idm_unix_authentication_read reads userPassword")
	}

	// Shapes: groups have spn, service accounts cn, the root DSE
	// defaultNamingContext; the filters find them.
	if v := read(t, anon, f.demo, "spn").GetAttributeValue("spn"); v != "demo_group@"+domain {
		t.Fatalf("group spn %q", v)
	}
	if got := dns(search(t, anon, base, ldap.ScopeWholeSubtree, "(spn=demo_group@"+domain+")", "1.1")); !slices.Equal(got, []string{strings.ToLower(f.demo)}) {
		t.Fatalf("(spn=demo_group@...) %v", got)
	}
	if v := read(t, anon, f.svc, "cn").GetAttributeValue("cn"); v != "svc" {
		t.Fatalf("service account cn %q", v)
	}
	if got := dns(search(t, anon, base, ldap.ScopeWholeSubtree, "(cn=svc)", "1.1")); !slices.Equal(got, []string{strings.ToLower(f.svc)}) {
		t.Fatalf("(cn=svc) %v", got)
	}
	dse := search(t, anon, "", ldap.ScopeBaseObject, "(objectClass=*)", "defaultNamingContext", "namingContexts")
	if len(dse) != 1 || dse[0].GetAttributeValue("defaultNamingContext") != base {
		t.Fatalf("root DSE: %v", dse)
	}

	// A directory made before these groups gains them at the next start,
	// once.
	storeWrite(t, s, func(tx directory.WriteTx) error {
		for _, g := range []string{"idm_account_mail_read", "idm_all_persons"} {
			if err := tx.Delete(directory.MustParseDN(groupDN(g))); err != nil {
				return err
			}
		}
		return tx.SetMeta("builtin.kanidm-groups", nil)
	})
	s.Restart(t)
	anon = s.Dial(t)
	for _, g := range []string{"idm_account_mail_read", "idm_all_persons"} {
		if !exists(t, anon, groupDN(g)) {
			t.Fatalf("%s not re-created at restart", g)
		}
	}
	if err := s.Admin(t).Del(ldap.NewDelRequest(groupDN("idm_all_persons"), nil)); err != nil {
		t.Fatalf("system_admins delete idm_all_persons: %v", err)
	}
	s.Restart(t)
	if exists(t, s.Dial(t), groupDN("idm_all_persons")) {
		t.Fatal("a built-in group system_admins deleted came back")
	}
}

func TestBaseDNAtFirstStart(t *testing.T) {
	s := stacktest.NewConfigured(t, func(c *idm.Config) { c.BaseDN = "o=idm" })
	admin := s.IDMAdmin(t)
	alice := "uid=alice,ou=people,o=idm"
	if err := admin.Add(&ldap.AddRequest{DN: alice, Attributes: attrs("objectClass", "inetOrgPerson", "uid", "alice",
		"cn", "alice", "sn", "alice", "userPassword", "pw-alice-1")}); err != nil {
		t.Fatal(err)
	}
	anon := s.Dial(t)
	dse := search(t, anon, "", ldap.ScopeBaseObject, "(objectClass=*)", "namingContexts", "defaultNamingContext")
	if dse[0].GetAttributeValue("namingContexts") != "o=idm" || dse[0].GetAttributeValue("defaultNamingContext") != "o=idm" {
		t.Fatalf("root DSE %v", dse[0].Attributes)
	}
	if e := read(t, anon, "o=idm", "objectClass", "o"); e == nil || e.GetAttributeValue("o") != "idm" {
		t.Fatalf("base entry %v", e)
	}
	c := s.Dial(t)
	if err := c.Bind("spn=alice@"+domain+",o=idm", "pw-alice-1"); err != nil {
		t.Fatalf("Kanidm bind under o=idm: %v", err)
	}
	// Fixed afterwards: a restart without --base-dn keeps o=idm, another
	// base is refused.
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idm.New(idm.Config{Store: s.Store, Domain: domain, Keys: keys, BaseDN: "o=other"}); !errors.Is(err, idm.ErrDomainMismatch) {
		t.Fatalf("another base DN: %v, want ErrDomainMismatch", err)
	}
	svc, err := idm.New(idm.Config{Store: s.Store, Domain: domain, Keys: keys})
	if err != nil || svc.Base().String() != "o=idm" {
		t.Fatalf("no --base-dn at restart: base %v, %v", svc, err)
	}
	if _, err := idm.ParseBaseDN("cn=x,o=idm"); err == nil {
		t.Fatal("cn= base accepted")
	}
}

func TestBaseDNNotChangedOnOldStore(t *testing.T) {
	s := stacktest.New(t)
	// A store from before base DNs were recorded: its base is the
	// domain's, and another one is refused at start.
	storeWrite(t, s, func(tx directory.WriteTx) error { return tx.SetMeta("basedn", nil) })
	keys, err := tokens.NewKeyring(nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := idm.New(idm.Config{Store: s.Store, Domain: domain, Keys: keys, BaseDN: "o=idm"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bootstrap(context.Background()); !errors.Is(err, idm.ErrDomainMismatch) {
		t.Fatalf("bootstrap under another base: %v", err)
	}
	svc, err = idm.New(idm.Config{Store: s.Store, Domain: domain, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bootstrap(context.Background()); err != nil || svc.Base().String() != base {
		t.Fatalf("bootstrap under the domain's base: %v %v", svc.Base(), err)
	}
}
