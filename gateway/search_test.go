package gateway_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// searchFixture starts a stack holding three posixAccount people (alice,
// bob, carol) and a group staff with alice in it.
func searchFixture(t *testing.T) *stacktest.Stack {
	t.Helper()
	s, c := stackAsIDMAdmin(t)
	posix := func(n int) []string {
		return []string{"objectClass", "posixAccount", "uidNumber", fmt.Sprint(10000 + n), "gidNumber", "10000",
			"homeDirectory", fmt.Sprintf("/home/u%d", n), "loginShell", "/bin/bash"}
	}
	alice := addPerson(t, c, "alice", append([]string{"cn", "Alice Smith", "sn", "Smith", "givenName", "Alice",
		"mail", "alice@example.com", "telephoneNumber", "+1 555 0101", "description", "first"}, posix(1)...)...)
	addPerson(t, c, "bob", append([]string{"cn", "Bob Jones", "sn", "Jones", "mail", "bob@example.com"}, posix(2)...)...)
	addPerson(t, c, "carol", append([]string{"cn", "Carol Baker", "sn", "Baker"}, posix(3)...)...)
	addGroup(t, c, "staff", alice)
	return s
}

func TestSearchScopes(t *testing.T) {
	s := searchFixture(t)
	c := s.IDMAdmin(t)
	inPeople := lower(personDN("admin"), personDN("idm_admin"), personDN("alice"), personDN("bob"), personDN("carol"))
	cases := []struct {
		scope string
		code  int
		want  []string
	}{
		{"base", ldap.ScopeBaseObject, lower(people)},
		{"one", ldap.ScopeSingleLevel, inPeople},
		{"sub", ldap.ScopeWholeSubtree, lower(append([]string{people}, inPeople...)...)},
	}
	for _, tc := range cases {
		t.Run("go-ldap/"+tc.scope, func(t *testing.T) {
			mustEqual(t, "entries", dns(search(t, c, people, tc.code, "(objectClass=*)", "1.1")), tc.want)
		})
		t.Run("ldapsearch/"+tc.scope, func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-LLL", "-b", people, "-s", tc.scope, "(objectClass=*)", "1.1")...)
			mustEqual(t, "entries", ldifDNs(out), tc.want)
		})
	}
	t.Run("go-ldap/sub from the root DSE covers the naming context", func(t *testing.T) {
		mustEqual(t, "entries", dns(search(t, c, "", ldap.ScopeWholeSubtree, "(uid=alice)", "1.1")), lower(personDN("alice")))
	})
	t.Run("ldapsearch/sub from the root DSE covers the naming context", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-LLL", "-b", "", "-s", "sub", "(uid=alice)", "1.1")...)
		mustEqual(t, "entries", ldifDNs(out), lower(personDN("alice")))
	})
	t.Run("go-ldap/sub from the suffix reaches every container", func(t *testing.T) {
		got := dns(search(t, c, base, ldap.ScopeWholeSubtree, "(objectClass=organizationalUnit)", "1.1"))
		mustEqual(t, "containers", got, lower(people, groups, services))
	})
}

func TestSearchFilters(t *testing.T) {
	s := searchFixture(t)
	c := s.IDMAdmin(t)
	cases := []struct {
		name, filter string
		want         []string // uids, sorted
	}{
		{"equality", "(uid=alice)", []string{"alice"}},
		{"equality ignores case", "(cn=ALICE smith)", []string{"alice"}},
		{"equality on a DN attribute", "(memberOf=CN=Staff,OU=Groups," + base + ")", []string{"alice"}},
		{"and", "(&(sn=Smith)(uidNumber=10001))", []string{"alice"}},
		{"or", "(|(uid=alice)(uid=bob))", []string{"alice", "bob"}},
		{"not", "(!(uid=alice))", []string{"bob", "carol"}},
		{"nested and/or/not", "(|(&(sn=Smith)(!(uid=bob)))(uid=carol))", []string{"alice", "carol"}},
		{"substrings initial", "(cn=Ali*)", []string{"alice"}},
		{"substrings any", "(cn=*o*)", []string{"bob", "carol"}},
		{"substrings final", "(cn=*er)", []string{"carol"}},
		{"substrings initial any final", "(cn=a*e*h)", []string{"alice"}},
		{"greater or equal", "(uidNumber>=10002)", []string{"bob", "carol"}},
		{"less or equal", "(uidNumber<=10002)", []string{"alice", "bob"}},
		{"present", "(mail=*)", []string{"alice", "bob"}},
		{"approx", "(sn~=smith)", []string{"alice"}},
		{"extensible with rule", "(uid:caseExactMatch:=alice)", []string{"alice"}},
		{"extensible with rule, no match by case", "(uid:caseExactMatch:=ALICE)", nil},
		{"extensible without rule", "(sn:=Jones)", []string{"bob"}},
		{"extensible by rule OID", "(uidNumber:2.5.13.14:=10003)", []string{"carol"}},
		{"extensible dn attributes", "(ou:dn:=people)", []string{"alice", "bob", "carol"}},
		{"entryDN equality", "(entryDN=" + personDN("bob") + ")", []string{"bob"}},
		{"extensible dn attributes on the RDN", "(uid:dn:=carol)", []string{"carol"}},
		{"attribute no entry has", "(carLicense=*)", nil},
		{"attribute no entry has, equality", "(carLicense=ABC-123)", nil},
		{"undefined attribute type", "(noSuchAttribute=x)", nil},
		{"not of an undefined attribute type stays undefined", "(!(noSuchAttribute=x))", nil},
	}
	for _, tc := range cases {
		// Only the fixture's people are posixAccounts.
		filter := "(&(objectClass=posixAccount)" + tc.filter + ")"
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			mustEqual(t, filter, uids(search(t, c, base, ldap.ScopeWholeSubtree, filter, "uid")), tc.want)
		})
		t.Run("ldapsearch/"+tc.name, func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-LLL", "-b", base, filter, "uid")...)
			got := ldifValues(out, "uid")
			slices.Sort(got)
			mustEqual(t, filter, got, tc.want)
		})
	}
}

func TestSearchAttributeLists(t *testing.T) {
	s := searchFixture(t)
	c := s.IDMAdmin(t)
	alice := personDN("alice")
	user := lower("objectClass", "uid", "cn", "sn", "givenName", "mail", "telephoneNumber", "description",
		"uidNumber", "gidNumber", "homeDirectory", "loginShell", "spn")
	operational := lower("entryUUID", "createTimestamp", "modifyTimestamp", "creatorsName", "modifiersName",
		"memberOf", "hasSubordinates", "entryDN", "structuralObjectClass", "subschemaSubentry")
	both := lower(append(slices.Clone(user), operational...)...)
	cases := []struct {
		name  string
		attrs []string
		want  []string
	}{
		{"no list: all user attributes", nil, user},
		{"*", []string{"*"}, user},
		{"+", []string{"+"}, operational},
		{"* and +", []string{"*", "+"}, both},
		{"1.1", []string{"1.1"}, nil},
		{"named", []string{"cn", "uidNumber"}, lower("cn", "uidNumber")},
		{"named, other case", []string{"CN", "UIDNUMBER"}, lower("cn", "uidNumber")},
		{"named operational", []string{"entryUUID", "memberOf"}, lower("entryUUID", "memberOf")},
		{"named and +", []string{"cn", "+"}, lower(append([]string{"cn"}, operational...)...)},
		{"1.1 with a name is the name", []string{"1.1", "sn"}, lower("sn")},
		{"unknown name is ignored", []string{"noSuchAttribute", "sn"}, lower("sn")},
	}
	for _, tc := range cases {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			e := read(t, c, alice, tc.attrs...)
			mustEqual(t, "attributes", attrNames(e), tc.want)
		})
		t.Run("ldapsearch/"+tc.name, func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), append([]string{"-LLL", "-b", alice, "-s", "base", "(objectClass=*)"}, tc.attrs...)...)...)
			mustEqual(t, "attributes", ldifAttrNames(out), tc.want)
		})
	}

	t.Run("operational values", func(t *testing.T) {
		e := read(t, c, alice, "+")
		checks := map[string]string{
			"entryDN":               alice,
			"structuralObjectClass": "inetOrgPerson",
			"hasSubordinates":       "FALSE",
			"subschemaSubentry":     "cn=Subschema",
			"creatorsName":          personDN("idm_admin"),
			"modifiersName":         personDN("idm_admin"),
		}
		for name, want := range checks {
			if got := e.GetAttributeValue(name); !strings.EqualFold(got, want) {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if !hasDN(values(e, "memberOf"), groupDN("staff")) {
			t.Errorf("memberOf = %v, want %s", values(e, "memberOf"), groupDN("staff"))
		}
		if len(e.GetAttributeValue("entryUUID")) != 36 {
			t.Errorf("entryUUID = %q", e.GetAttributeValue("entryUUID"))
		}
		for _, ts := range []string{"createTimestamp", "modifyTimestamp"} {
			if v := e.GetAttributeValue(ts); len(v) < 15 || !strings.HasSuffix(v, "Z") {
				t.Errorf("%s = %q, want GeneralizedTime in UTC", ts, v)
			}
		}
		if got := read(t, c, people, "hasSubordinates").GetAttributeValue("hasSubordinates"); got != "TRUE" {
			t.Errorf("hasSubordinates of ou=people = %q", got)
		}
	})

	t.Run("go-ldap/typesOnly", func(t *testing.T) {
		res, err := c.Search(ldap.NewSearchRequest(alice, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, true,
			"(objectClass=*)", []string{"cn", "mail", "uidNumber"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		e := res.Entries[0]
		mustEqual(t, "attributes", attrNames(e), lower("cn", "mail", "uidNumber"))
		for _, a := range e.Attributes {
			if len(a.Values) != 0 {
				t.Errorf("typesOnly: %s has values %v", a.Name, a.Values)
			}
		}
	})
	t.Run("ldapsearch/-A typesOnly", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-LLL", "-A", "-b", alice, "-s", "base", "(objectClass=*)", "cn", "mail", "uidNumber")...)
		mustEqual(t, "attributes", ldifAttrNames(out), lower("cn", "mail", "uidNumber"))
		for _, v := range append(ldifValues(out, "cn"), ldifValues(out, "mail")...) {
			if v != "" {
				t.Errorf("-A printed a value: %q\n%s", v, out)
			}
		}
	})
}

func TestSearchLimits(t *testing.T) {
	s := searchFixture(t)
	c := s.IDMAdmin(t)
	oneLevel := func(sizeLimit, timeLimit int) (*ldap.SearchResult, error) {
		return c.Search(ldap.NewSearchRequest(people, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, sizeLimit, timeLimit, false,
			"(objectClass=*)", []string{"1.1"}, nil))
	}

	t.Run("go-ldap/size limit returns partial results and 4", func(t *testing.T) {
		res, err := oneLevel(2, 0)
		wantCode(t, "search with size limit 2", err, ldap.LDAPResultSizeLimitExceeded)
		if res == nil || len(res.Entries) != 2 {
			t.Fatalf("got %v entries with the size limit exceeded, want 2", res)
		}
	})
	t.Run("ldapsearch/-z 2", func(t *testing.T) {
		out := tool(t, s, ldap.LDAPResultSizeLimitExceeded, "", "ldapsearch", with(idmAdminArgs(s), "-LLL", "-z", "2", "-b", people, "-s", "one", "1.1")...)
		if n := len(ldifDNs(out)); n != 2 {
			t.Fatalf("ldapsearch -z 2 printed %d entries:\n%s", n, out)
		}
		if !strings.Contains(out, "Size limit exceeded (4)") {
			t.Fatalf("ldapsearch -z 2 output lacks the result:\n%s", out)
		}
	})
	// Limits the search stays within: success with all five entries.
	for _, l := range []struct {
		name                 string
		sizeLimit, timeLimit int
		flag                 string // ldapsearch's
	}{
		{"size limit equal to the matches", 5, 0, "-z"},
		{"time limit", 0, 5, "-l"},
	} {
		t.Run("go-ldap/"+l.name+" is success", func(t *testing.T) {
			res, err := oneLevel(l.sizeLimit, l.timeLimit)
			wantCode(t, "search with "+l.name, err, 0)
			if len(res.Entries) != 5 {
				t.Fatalf("got %d entries, want 5", len(res.Entries))
			}
		})
		t.Run("ldapsearch/"+l.flag+" 5 is success", func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapsearch", with(idmAdminArgs(s), "-LLL", l.flag, "5", "-b", people, "-s", "one", "1.1")...)
			if n := len(ldifDNs(out)); n != 5 {
				t.Fatalf("printed %d entries, want 5", n)
			}
		})
	}
}

func TestSearchMissingBase(t *testing.T) {
	s := searchFixture(t)
	c := s.IDMAdmin(t)
	cases := []struct {
		name, base, matched string
	}{
		{"missing leaf", personDN("nobody"), people},
		{"two levels missing", "cn=x,ou=nowhere," + people, people},
		{"missing container", "ou=nowhere," + base, base},
		{"outside the naming context", "dc=example,dc=org", ""},
	}
	for _, tc := range cases {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			_, err := c.Search(ldap.NewSearchRequest(tc.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", nil, nil))
			wantCode(t, "search", err, ldap.LDAPResultNoSuchObject)
			if got := ldapErr(t, err).MatchedDN; !strings.EqualFold(got, tc.matched) {
				t.Fatalf("matchedDN = %q, want %q", got, tc.matched)
			}
		})
		t.Run("ldapsearch/"+tc.name, func(t *testing.T) {
			out := tool(t, s, ldap.LDAPResultNoSuchObject, "", "ldapsearch", with(idmAdminArgs(s), "-b", tc.base, "(objectClass=*)")...)
			if tc.matched != "" && !strings.Contains(out, "matchedDN: "+tc.matched) {
				t.Fatalf("output lacks matchedDN: %s:\n%s", tc.matched, out)
			}
		})
	}
}

// TestSearchPaged pages through 130 entries with the Simple Paged Results
// control (RFC 2696).
func TestSearchPaged(t *testing.T) {
	s := stacktest.New(t)
	c := s.Admin(t)
	const n = 130
	container := "ou=paging," + base
	if err := c.Add(&ldap.AddRequest{DN: container, Attributes: attrs("objectClass", "organizationalUnit", "ou", "paging")}); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		dn := fmt.Sprintf("cn=role%03d,%s", i, container)
		if err := c.Add(&ldap.AddRequest{DN: dn, Attributes: attrs("objectClass", "organizationalRole", "cn", fmt.Sprintf("role%03d", i))}); err != nil {
			t.Fatal(err)
		}
		want = append(want, strings.ToLower(dn))
	}
	slices.Sort(want)
	req := func(controls ...ldap.Control) *ldap.SearchRequest {
		return ldap.NewSearchRequest(container, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=organizationalRole)", []string{"cn"}, controls)
	}

	t.Run("go-ldap/SearchWithPaging", func(t *testing.T) {
		res, err := c.SearchWithPaging(req(), 50)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "paged entries", dns(res.Entries), want)
	})
	t.Run("go-ldap/page by page", func(t *testing.T) {
		paging := ldap.NewControlPaging(50)
		var sizes []int
		var got []*ldap.Entry
		for {
			res, err := c.Search(req(paging))
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(res.Entries))
			got = append(got, res.Entries...)
			ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
			if !ok {
				t.Fatalf("response %d has no paged results control", len(sizes))
			}
			if len(ctl.Cookie) == 0 {
				break
			}
			if len(sizes) > n {
				t.Fatal("paging does not end")
			}
			paging.SetCookie(ctl.Cookie)
		}
		mustEqual(t, "page sizes", sizes, []int{50, 50, 30})
		mustEqual(t, "paged entries", dns(got), want)
	})
	t.Run("go-ldap/cookie of another search is refused", func(t *testing.T) {
		paging := ldap.NewControlPaging(50)
		res, err := c.Search(req(paging))
		if err != nil {
			t.Fatal(err)
		}
		cookie := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie
		other := ldap.NewControlPaging(50)
		other.SetCookie(cookie)
		_, err = c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", nil, []ldap.Control{other}))
		wantCode(t, "search with a foreign cookie", err, ldap.LDAPResultUnwillingToPerform)
	})
	t.Run("ldapsearch/-E pr=50/noprompt", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(adminArgs(s), "-E", "pr=50/noprompt", "-b", container, "-s", "one",
			"(objectClass=organizationalRole)", "cn")...)
		mustEqual(t, "paged entries", ldifDNs(out), want)
		if got := strings.Count(out, "pagedresults: cookie="); got != 3 {
			t.Fatalf("ldapsearch saw %d pages, want 3:\n%s", got, out)
		}
	})
}

func TestRootDSE(t *testing.T) {
	s := stacktest.New(t)
	wantExt := []string{"1.3.6.1.4.1.4203.1.11.3", "1.3.6.1.4.1.4203.1.11.1", "1.3.6.1.4.1.1466.20037", gateway.GenerateTokenOID}
	check := func(t *testing.T, get func(name string) []string) {
		t.Helper()
		mustEqual(t, "namingContexts", get("namingContexts"), []string{base})
		mustEqual(t, "supportedLDAPVersion", get("supportedLDAPVersion"), []string{"3"})
		for _, oid := range wantExt {
			if !slices.Contains(get("supportedExtension"), oid) {
				t.Errorf("supportedExtension %v lacks %s", get("supportedExtension"), oid)
			}
		}
		if !slices.Contains(get("supportedControl"), "1.2.840.113556.1.4.319") {
			t.Errorf("supportedControl %v lacks paged results", get("supportedControl"))
		}
		if got := get("supportedSASLMechanisms"); len(got) != 0 {
			t.Errorf("supportedSASLMechanisms = %v, want none", got)
		}
		if got := get("vendorName"); len(got) != 1 || got[0] == "" {
			t.Errorf("vendorName = %v", got)
		}
		if got := get("vendorVersion"); len(got) != 1 || got[0] == "" {
			t.Errorf("vendorVersion = %v", got)
		}
		mustEqual(t, "subschemaSubentry", get("subschemaSubentry"), []string{"cn=Subschema"})
	}
	t.Run("go-ldap/+ anonymous", func(t *testing.T) {
		e := read(t, s.Dial(t), "", "+")
		if e == nil {
			t.Fatal("no root DSE")
		}
		check(t, func(name string) []string { return values(e, name) })
		if hasAttr(e, "objectClass") {
			t.Errorf("+ returned the user attribute objectClass")
		}
	})
	t.Run("go-ldap/named attributes", func(t *testing.T) {
		e := read(t, s.IDMAdmin(t), "", "namingContexts", "supportedLDAPVersion")
		mustEqual(t, "attributes", attrNames(e), lower("namingContexts", "supportedLDAPVersion"))
	})
	t.Run("ldapsearch/-b '' -s base +", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", "", "-s", "base", "+")...)
		check(t, func(name string) []string { return ldifValues(out, name) })
	})
	t.Run("ldapsearch/-b '' -s base without attributes shows user attributes only", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-b", "", "-s", "base")...)
		if slices.Contains(ldifAttrNames(out), "namingcontexts") {
			t.Fatalf("operational attributes returned without +:\n%s", out)
		}
	})
}

func TestSubschema(t *testing.T) {
	s := stacktest.New(t)
	check := func(t *testing.T, ats, ocs []string) {
		t.Helper()
		if !slices.ContainsFunc(ats, func(v string) bool { return strings.Contains(v, "NAME 'uidNumber'") }) {
			t.Errorf("attributeTypes (%d values) lack uidNumber", len(ats))
		}
		if !slices.ContainsFunc(ocs, func(v string) bool { return strings.Contains(v, "NAME 'inetOrgPerson'") }) {
			t.Errorf("objectClasses (%d values) lack inetOrgPerson", len(ocs))
		}
		if !slices.ContainsFunc(ocs, func(v string) bool {
			return strings.Contains(v, "NAME 'posixGroup'") && strings.Contains(v, "AUXILIARY")
		}) {
			t.Errorf("objectClasses lack an AUXILIARY posixGroup")
		}
	}
	t.Run("go-ldap", func(t *testing.T) {
		c := s.Dial(t)
		dse := read(t, c, "", "subschemaSubentry")
		sub := dse.GetAttributeValue("subschemaSubentry")
		e := read(t, c, sub, "attributeTypes", "objectClasses")
		if e == nil {
			t.Fatalf("no subschema entry at %q", sub)
		}
		check(t, values(e, "attributeTypes"), values(e, "objectClasses"))
		e = read(t, c, sub, "+")
		check(t, values(e, "attributeTypes"), values(e, "objectClasses"))
	})
	t.Run("ldapsearch", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapsearch", with(anonArgs(s), "-LLL", "-o", "ldif-wrap=no", "-b", "cn=Subschema", "-s", "base",
			"(objectClass=subschema)", "attributeTypes", "objectClasses")...)
		check(t, ldifValues(out, "attributeTypes"), ldifValues(out, "objectClasses"))
	})
}
