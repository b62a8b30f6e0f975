package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// The administration endpoints do what idm allows the caller, and
// nothing else.
func TestAdminEndpoints(t *testing.T) {
	e := newEnv(t)
	a := e.signedIn(t, "idm_admin", e.IDMAdminPW)
	r := a.post("/v1/service-accounts", map[string]string{"name": "app1", "display_name": "App One", "manager": "demo_group"})
	want(t, r, http.StatusCreated)
	var made map[string]string
	r.json(t, &made)
	if made["dn"] != "uid=app1,"+services || made["password"] == "" {
		t.Fatalf("created %v", made)
	}
	// The generated password binds; demo_user (in demo_group) now manages app1.
	if out, code := e.Tool(t, "", "ldapwhoami", "-H", e.URL(), "-x", "-D", made["dn"], "-w", made["password"]); code != 0 {
		t.Fatalf("bind with the generated password: %d %s", code, out)
	}
	u := e.signedIn(t, "demo_user", userPW)
	u.generate("app1", "from the manager", false)
	want(t, a.post("/v1/service-accounts", map[string]string{"name": "app1", "manager": "demo_group"}), http.StatusConflict)
	want(t, a.post("/v1/service-accounts", map[string]string{"name": "app2", "manager": "no_such"}), http.StatusNotFound)

	// A person without admin rights may create nothing.
	for path, body := range map[string]map[string]string{
		"/v1/service-accounts":          {"name": "mine", "manager": "demo_user"},
		"/v1/people":                    {"name": "someone"},
		"/v1/groups":                    {"name": "g"},
		"/v1/groups/demo_group/members": {"member": "other_user"},
	} {
		r := u.post(path, body)
		want(t, r, http.StatusForbidden)
		r.errorText(t)
	}

	want(t, a.post("/v1/people", map[string]string{"name": "carol", "display_name": "Carol"}), http.StatusCreated)
	want(t, a.post("/v1/groups", map[string]string{"name": "ops"}), http.StatusCreated)
	want(t, a.post("/v1/groups/ops/members", map[string]string{"member": "carol"}), http.StatusNoContent)
	es := search(t, e, "uid=carol,"+people, "memberOf")
	if !strings.Contains(strings.ToLower(strings.Join(es, " ")), "cn=ops,"+strings.ToLower(groups)) {
		t.Fatalf("carol's memberOf: %v", es)
	}
}

// The high-privilege rule holds in the console as over LDAP: idm_admin
// (not an access control admin) may not add members to
// idm_high_privilege; admin (system_admins) may.
func TestHighPrivilegeRule(t *testing.T) {
	e := newEnv(t)
	a := e.signedIn(t, "idm_admin", e.IDMAdminPW)
	r := a.post("/v1/groups/idm_high_privilege/members", map[string]string{"member": "demo_user"})
	want(t, r, http.StatusForbidden)
	r.errorText(t)
	if es := search(t, e, "uid=demo_user,"+people, "memberOf"); strings.Contains(strings.ToLower(strings.Join(es, " ")), "idm_high_privilege") {
		t.Fatal("the refused change happened")
	}
	root := e.signedIn(t, "admin", e.AdminPW)
	want(t, root.post("/v1/groups/idm_high_privilege/members", map[string]string{"member": "demo_user"}), http.StatusNoContent)
	// demo_user is now high-privilege: a people admin may not reset its password.
	out, code := e.Tool(t, "", "ldappasswd", "-H", e.URL(), "-x", "-D", "uid=idm_admin,"+people, "-w", e.IDMAdminPW, "-s", "x", "uid=demo_user,"+people)
	if code == 0 || !strings.Contains(out, "Insufficient access") {
		t.Fatalf("ldappasswd by idm_admin on a high-privilege person: exit %d: %s", code, out)
	}
}

// search reads attr of dn over LDAP as admin and returns the values.
func search(t *testing.T, e *env, dn, attr string) []string {
	t.Helper()
	out, code := e.Tool(t, "", "ldapsearch", "-H", e.URL(), "-x", "-LLL", "-D", "uid=admin,"+people, "-w", e.AdminPW, "-b", dn, "-s", "base", attr)
	if code != 0 {
		t.Fatalf("ldapsearch %s: %d %s", dn, code, out)
	}
	return strings.Split(out, "\n")
}
