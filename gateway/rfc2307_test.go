package gateway_test

// RFC 2307 admin tooling and SSH keys (issue #14): memberUid is writable
// and kept in step with member; openssh-lpk keys; what anonymous clients
// read under --anonymous-read; the debug search log.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

func TestMemberUIDWritable(t *testing.T) {
	s, admin := stackAsIDMAdmin(t)
	alice := addPerson(t, admin, "alice", "objectClass", "posixAccount")
	bob := addPerson(t, admin, "bob", "objectClass", "posixAccount")
	// ldapscripts' ldapaddgroup, then ldapaddusertogroup: objectClass
	// posixGroup alone, memberUid values, one naming a host-local user.
	grp := groupDN("devs")
	ldif := "dn: " + grp + "\nobjectClass: posixGroup\ncn: devs\nmemberUid: alice\nmemberUid: localuser\n"
	if out, code := s.Tool(t, ldif, "ldapadd", idmAdminArgs(s)...); code != 0 {
		t.Fatalf("ldapadd posixGroup with memberUid: %d %s", code, out)
	}
	check := func(what string, wantUIDs, wantMembers []string) {
		t.Helper()
		e := read(t, admin, grp, "memberUid", "member")
		uids := slices.Sorted(slices.Values(values(e, "memberUid")))
		if !slices.Equal(uids, wantUIDs) {
			t.Fatalf("%s: memberUid %v, want %v", what, uids, wantUIDs)
		}
		if got := values(e, "member"); len(got) != len(wantMembers) {
			t.Fatalf("%s: member %v, want %v", what, got, wantMembers)
		}
		for _, m := range wantMembers {
			if !hasDN(values(e, "member"), m) {
				t.Fatalf("%s: member %v lacks %s", what, values(e, "member"), m)
			}
		}
		// Membership (memberOf) follows member.
		for _, p := range []string{alice, bob} {
			in := hasDN(values(read(t, admin, p, "memberOf"), "memberOf"), grp)
			if in != slices.Contains(wantMembers, p) {
				t.Fatalf("%s: %s memberOf devs is %v", what, p, in)
			}
		}
	}
	check("add", []string{"alice", "localuser"}, []string{alice})
	if out, code := s.Tool(t, "dn: "+grp+"\nchangetype: modify\nadd: memberUid\nmemberUid: bob\n", "ldapmodify", idmAdminArgs(s)...); code != 0 {
		t.Fatalf("add memberUid bob: %s", out)
	}
	check("add bob", []string{"alice", "bob", "localuser"}, []string{alice, bob})
	if err := modify(admin, grp, ldap.DeleteAttribute, "memberUid", "alice", "localuser"); err != nil {
		t.Fatal(err)
	}
	check("delete alice and localuser", []string{"bob"}, []string{bob})
	// member changes still drive memberUid.
	addMember(t, admin, grp, alice)
	check("member alice", []string{"alice", "bob"}, []string{alice, bob})
	if err := modify(admin, grp, ldap.DeleteAttribute, "member", bob); err != nil {
		t.Fatal(err)
	}
	check("member bob removed", []string{"alice"}, []string{alice})
	// Only roles that may write member write memberUid: a people admin
	// may not.
	addPerson(t, admin, "pa", "userPassword", "pa-pw-1")
	addMember(t, s.Admin(t), groupDN("idm_people_admins"), personDN("pa"))
	err := modify(s.Bind(t, "pa", "pa-pw-1"), grp, ldap.AddAttribute, "memberUid", "bob")
	wantCode(t, "people admin writes memberUid", err, ldap.LDAPResultInsufficientAccessRights)
	// memberUid never confers membership: a posixGroup outside ou=groups
	// naming alice puts her in no group, even written by system_admins.
	root := s.Admin(t)
	if err := root.Add(&ldap.AddRequest{DN: "cn=rogue," + base, Attributes: attrs("objectClass", "posixGroup",
		"cn", "rogue", "gidNumber", "20000", "memberUid", "alice")}); err != nil {
		t.Fatal(err)
	}
	if mo := values(read(t, admin, alice, "memberOf"), "memberOf"); hasDN(mo, "cn=rogue,"+base) {
		t.Fatalf("memberUid outside ou=groups made alice a member: %v", mo)
	}
}

func TestSSHPublicKey(t *testing.T) {
	s, admin := stackAsIDMAdmin(t)
	alice := addPerson(t, admin, "alice", "userPassword", "alice-pw-1")
	addPerson(t, admin, "mallory", "userPassword", "mallory-pw-1")
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ0bDq7ZLWYz7z0bCMo5pkF6y7hJ6z8C3b1e0sq1QhJb alice@laptop"
	// The person adds its own key (class and attribute in one change).
	self := s.Bind(t, "alice", "alice-pw-1")
	req := ldap.NewModifyRequest(alice, nil)
	req.Add("objectClass", []string{"ldapPublicKey"})
	req.Add("sshPublicKey", []string{key})
	if err := self.Modify(req); err != nil {
		t.Fatalf("self adds its key: %v", err)
	}
	// Readable like other public attributes: anonymous too.
	if got := read(t, s.Dial(t), alice, "sshPublicKey").GetAttributeValue("sshPublicKey"); got != key {
		t.Fatalf("anonymous reads %q", got)
	}
	out, code := s.Tool(t, "", "ldapsearch", append(anonArgs(s), "-LLL", "-o", "ldif-wrap=no", "-b", people, "(&(objectClass=ldapPublicKey)(uid=alice))", "sshPublicKey")...)
	if code != 0 || !strings.Contains(out, "sshPublicKey: "+key) {
		t.Fatalf("ldapsearch: %s", out)
	}
	// Another person may not change it; a people admin may.
	err := modify(s.Bind(t, "mallory", "mallory-pw-1"), alice, ldap.AddAttribute, "sshPublicKey", "ssh-ed25519 AAAAmallory")
	wantCode(t, "mallory adds a key to alice", err, ldap.LDAPResultInsufficientAccessRights)
	if err := modify(admin, alice, ldap.DeleteAttribute, "sshPublicKey", key); err != nil {
		t.Fatalf("people admin removes the key: %v", err)
	}
	if e := read(t, admin, alice, "sshPublicKey"); hasAttr(e, "sshPublicKey") {
		t.Fatal("key still there")
	}
}

func TestAnonymousRead(t *testing.T) {
	setup := func(t *testing.T, level acl.AnonymousRead) (*stacktest.Stack, string, string) {
		s := stacktest.NewConfigured(t, func(c *idm.Config) { c.AnonymousRead = level })
		admin := s.IDMAdmin(t)
		alice := addPerson(t, admin, "alice", "objectClass", "posixAccount", "displayName", "Alice A", "description", "d")
		bob := addPerson(t, admin, "bob")
		return s, alice, bob
	}
	t.Run("public", func(t *testing.T) {
		s, alice, bob := setup(t, acl.AnonymousPublic)
		got := dns(search(t, s.Dial(t), people, ldap.ScopeSingleLevel, "(objectClass=*)", "1.1"))
		if !slices.Contains(got, strings.ToLower(alice)) || !slices.Contains(got, strings.ToLower(bob)) {
			t.Fatalf("public: %v", got)
		}
		if e := read(t, s.Dial(t), alice, "displayName"); !hasAttr(e, "displayName") {
			t.Fatal("public: displayName hidden")
		}
	})
	t.Run("posix", func(t *testing.T) {
		s, alice, _ := setup(t, acl.AnonymousPOSIX)
		anon := s.Dial(t)
		got := dns(search(t, anon, base, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1"))
		if !slices.Equal(got, []string{strings.ToLower(alice)}) {
			t.Fatalf("posix: anonymous sees %v, want alice only", got)
		}
		e := read(t, anon, alice, "*", "+")
		for _, a := range []string{"uid", "uidNumber", "gidNumber", "homeDirectory", "loginShell", "objectClass", "entryUUID"} {
			if !hasAttr(e, a) {
				t.Fatalf("posix: %s hidden (%v)", a, attrNames(e))
			}
		}
		for _, a := range []string{"displayName", "description", "spn", "sn"} {
			if hasAttr(e, a) {
				t.Fatalf("posix: %s shown (%v)", a, attrNames(e))
			}
		}
		// A filter on a hidden attribute matches nothing.
		if es := search(t, anon, base, ldap.ScopeWholeSubtree, "(displayName=Alice A)", "1.1"); len(es) != 0 {
			t.Fatal("posix: filter on a hidden attribute matched")
		}
		// Bound clients see everything as before.
		if got := search(t, s.IDMAdmin(t), people, ldap.ScopeSingleLevel, "(uid=bob)", "1.1"); len(got) != 1 {
			t.Fatal("posix: bound client lost bob")
		}
	})
	t.Run("none", func(t *testing.T) {
		s, alice, _ := setup(t, acl.AnonymousNone)
		anon := s.Dial(t)
		if got := search(t, anon, base, ldap.ScopeWholeSubtree, "(objectClass=*)", "1.1"); len(got) != 0 {
			t.Fatalf("none: anonymous sees %v", dns(got))
		}
		// Not even whether a base exists.
		for _, b := range []string{alice, "uid=nobody," + people, "name=alice," + base} {
			if got := search(t, anon, b, ldap.ScopeBaseObject, "(objectClass=*)", "1.1"); len(got) != 0 {
				t.Fatalf("none: base %s: %v", b, dns(got))
			}
		}
		if dse := search(t, anon, "", ldap.ScopeBaseObject, "(objectClass=*)", "namingContexts"); len(dse) != 1 || dse[0].GetAttributeValue("namingContexts") != base {
			t.Fatal("none: root DSE not readable")
		}
		if sc := search(t, anon, "cn=Subschema", ldap.ScopeBaseObject, "(objectClass=*)", "objectClasses"); len(sc) != 1 {
			t.Fatal("none: subschema not readable")
		}
		if got := search(t, s.IDMAdmin(t), alice, ldap.ScopeBaseObject, "(objectClass=*)", "1.1"); len(got) != 1 {
			t.Fatal("none: bound client lost alice")
		}
		out, code := s.Tool(t, "", "ldapsearch", append(anonArgs(s), "-LLL", "-b", base, "(uid=alice)", "uid")...)
		if code != 0 || strings.Contains(out, "uid: alice") {
			t.Fatalf("none: ldapsearch %d %s", code, out)
		}
	})
	if _, err := acl.ParseAnonymousRead("everything"); err == nil {
		t.Fatal("bad level accepted")
	}
}

// TestSearchDebugLog: at debug level each search logs its base, scope,
// filter and attributes, and what Kanidm's vocabulary made of it, never a
// userPassword assertion.
func TestSearchDebugLog(t *testing.T) {
	s, admin := stackAsIDMAdmin(t)
	addPerson(t, admin, "alice", "userPassword", "alice-pw-1")
	const secret = "hunter2-secret"
	search(t, s.Dial(t), "spn=alice@"+domain+","+base, ldap.ScopeBaseObject,
		"(|(userPassword="+secret+")(userPassword=*"+secret+"*)(class=person))", "uid", "mail")
	var found map[string]any
	for _, line := range strings.Split(s.Logs(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "search" && m["level"] == "debug" {
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no debug search line in %s", s.Logs())
	}
	if !strings.Contains(found["base"].(string), "spn=alice@") || !strings.HasPrefix(strings.ToLower(found["resolved_base"].(string)), "uid=alice,ou=people") ||
		found["scope"] == nil || !strings.Contains(found["filter"].(string), "class=person") ||
		!strings.Contains(found["kanidm_filter"].(string), "objectClass=person") {
		t.Fatalf("search line %v", found)
	}
	if as, _ := found["attrs"].([]any); len(as) != 2 {
		t.Fatalf("attrs %v", found["attrs"])
	}
	if strings.Contains(s.Logs(), secret) {
		t.Fatal("the log holds a userPassword assertion value")
	}
}
