package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSeedDelegation: "Members of idm_service_account_admins have the
// privileges to create new service accounts. By default idm_admin has this
// access." and "By delegating the administration of this service account
// to demo_group this allows our demo_user to administer the service
// account."
func TestSeedDelegation(t *testing.T) {
	d := seedSetup(t)
	_, id := d.generate(t, "demo_user", "demo_service", "Test Token")
	const reason = "other_user may not manage demo_service: not a member of demo_group"

	t.Run("a non-member of the managing group may not manage its tokens", func(t *testing.T) {
		d.refused(t, 1, reason, "service-account", "api-token", "status", "--name", "other_user", "demo_service")
		d.refused(t, 1, reason, "service-account", "api-token", "status", "--name", "other_user", "demo_service", "-o", "json")
		d.refused(t, 1, reason, "service-account", "api-token", "generate", "--name", "other_user", "demo_service", "Test Token")
		d.refused(t, 1, reason, "service-account", "api-token", "generate", "--name", "other_user", "demo_service", "Test Token", "--rw")
		d.refused(t, 1, reason, "service-account", "api-token", "destroy", "--name", "other_user", "demo_service", id)
		d.refused(t, 1, reason, "service-account", "update", "demo_service", "--displayname", "Mine", "--name", "other_user")
		if _, ok := d.statusJSON(t, "demo_user")[id]; !ok || len(d.statusJSON(t, "demo_user")) != 1 {
			t.Error("the refused commands changed the tokens")
		}
	})

	t.Run("joining the managing group grants it", func(t *testing.T) {
		d.must(t, "group", "add-members", "demo_group", "other_user", "--name", "idm_admin")
		d.must(t, "service-account", "api-token", "status", "--name", "other_user", "demo_service")
		tk, _ := d.generate(t, "other_user", "demo_service", "Other Token")
		d.tokenWhoami(t, tk)
		d.must(t, "group", "remove-members", "demo_group", "other_user", "--name", "idm_admin")
		d.refused(t, 1, reason, "service-account", "api-token", "generate", "--name", "other_user", "demo_service", "Test Token")
	})

	t.Run("only idm_service_account_admins create and delete service accounts", func(t *testing.T) {
		d.refused(t, 1, "demo_user may not add service accounts: not a member of idm_service_account_admins",
			"service-account", "create", "demo_service2", "Another Service", "demo_group", "--name", "demo_user")
		d.refused(t, 1, "demo_user may not delete service accounts: not a member of idm_service_account_admins",
			"service-account", "delete", "demo_service", "--name", "demo_user")
		d.must(t, "service-account", "create", "demo_service2", "Another Service", "demo_group", "--name", "idm_admin")
		d.must(t, "service-account", "delete", "demo_service2", "--name", "idm_admin")
	})

	t.Run("creation requires an existing manager", func(t *testing.T) {
		out, errOut, code := d.ldapd(t, "service-account", "create", "demo_service3", "Another Service", "no_such_group", "--name", "idm_admin")
		if code == 0 || out != "" || !strings.Contains(errOut, "no_such_group") {
			t.Errorf("create with a missing manager: exit %d, %q %q", code, out, errOut)
		}
		// An account may be the manager.
		d.must(t, "service-account", "create", "solo_service", "Solo Service", "demo_user", "--name", "idm_admin")
		d.generate(t, "demo_user", "solo_service", "Solo Token")
	})
}

// TestSeedEntryManagedBy: "The entry_managed_by attribute of a service
// account may be created and modified by members of
// idm_service_account_admins." and "NOTE: If a service account is a member
// of idm_high_privilege its entry_managed_by may only be modified by
// members of idm_access_control_admins".
func TestSeedEntryManagedBy(t *testing.T) {
	d := seedSetup(t)
	d.must(t, "group", "create", "other_group", "--name", "idm_admin")
	otherGroupDN := "cn=other_group,ou=groups," + base
	managedBy := func(t *testing.T) string {
		t.Helper()
		var e struct {
			Attributes map[string][]string `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(d.must(t, "service-account", "get", "demo_service", "--name", "idm_admin", "-o", "json")), &e); err != nil {
			t.Fatal(err)
		}
		return strings.Join(e.Attributes["entryManagedBy"], ";")
	}
	setLDIF := func(dn string) string {
		return "dn: " + demoServiceDN + "\nchangetype: modify\nreplace: entryManagedBy\nentryManagedBy: " + dn + "\n"
	}

	t.Run("idm_service_account_admins change it", func(t *testing.T) {
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "idm_admin")
		if got := managedBy(t); !strings.EqualFold(got, otherGroupDN) {
			t.Errorf("entryManagedBy %q", got)
		}
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "demo_group", "--name", "idm_admin")
	})

	t.Run("its managers do not", func(t *testing.T) {
		d.refused(t, 1, "demo_user may not change entryManagedBy of demo_service: not a member of idm_service_account_admins",
			"service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "demo_user")
	})

	t.Run("high privilege: idm_service_account_admins no longer may", func(t *testing.T) {
		d.must(t, "group", "add-members", "idm_high_privilege", "demo_service", "--name", "admin")
		d.refused(t, 1, "demo_service is a member of idm_high_privilege: only idm_access_control_admins may change its entryManagedBy",
			"service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "idm_admin")
		if out, code := d.modify(t, "idm_admin", d.IDMAdminPW, setLDIF(otherGroupDN)); code != 50 {
			t.Errorf("ldapmodify entryManagedBy as idm_admin: exit %d (want 50)\n%s", code, out)
		}
		if got := managedBy(t); !strings.EqualFold(got, demoGroupDN) {
			t.Errorf("entryManagedBy changed to %q", got)
		}
	})

	t.Run("high privilege: idm_access_control_admins may", func(t *testing.T) {
		// admin: system_admins, a member of idm_access_control_admins.
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "admin")
		if got := managedBy(t); !strings.EqualFold(got, otherGroupDN) {
			t.Errorf("entryManagedBy %q", got)
		}
		// A member of idm_access_control_admins who is not a system admin.
		d.createPerson(t, "acl_user", "Access Control Admin")
		d.must(t, "group", "add-members", "idm_access_control_admins", "acl_user", "--name", "admin")
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "demo_group", "--name", "acl_user")
		if got := managedBy(t); !strings.EqualFold(got, demoGroupDN) {
			t.Errorf("entryManagedBy %q", got)
		}
		if out, code := d.modify(t, "acl_user", d.pw["acl_user"], setLDIF(otherGroupDN)); code != 0 {
			t.Errorf("ldapmodify entryManagedBy as acl_user: exit %d\n%s", code, out)
		}
	})
}

// TestSeedDeleteServiceAccount: deleting a service account revokes all its
// tokens, and a new account of the same name does not revive them.
func TestSeedDeleteServiceAccount(t *testing.T) {
	d := seedSetup(t)
	ro, _ := d.generate(t, "demo_user", "demo_service", "Test Token")
	rw, _ := d.generate(t, "demo_user", "demo_service", "Test Token", "--rw")
	bound := d.tokenConn(t, ro)

	out := d.must(t, "service-account", "delete", "demo_service", "--name", "idm_admin")
	if out != "deleted service account demo_service\n" {
		t.Errorf("delete: %q", out)
	}
	d.tokenRefused(t, ro)
	d.tokenRefused(t, rw)
	deadConn(t, bound)

	d.must(t, "service-account", "create", "demo_service", "Demonstration Service", "demo_group", "--name", "idm_admin")
	d.tokenRefused(t, ro)
	d.tokenRefused(t, rw)
	deadConn(t, bound) // the connection does not become the new account's
	out, errOut, code := d.ldapd(t, "service-account", "api-token", "status", "--name", "demo_user", "demo_service")
	if code != 0 || out != "" || !strings.Contains(errOut, "no API tokens") {
		t.Errorf("status of the new account: %d %q %q", code, out, errOut)
	}
	noTokenInLogs(t, d, ro, rw)
}

// TestSeedDisabledServiceAccount: the tokens of a disabled service account
// stop working, at bind and on connections already bound, and work again
// once it is enabled.
func TestSeedDisabledServiceAccount(t *testing.T) {
	d := seedSetup(t)
	tk, _ := d.generate(t, "demo_user", "demo_service", "Test Token")
	bound := d.tokenConn(t, tk)
	set := func(v string) {
		t.Helper()
		ldif := "dn: " + demoServiceDN + "\nchangetype: modify\nreplace: ldapdAccountDisabled\nldapdAccountDisabled: " + v + "\n"
		if out, code := d.modify(t, "idm_admin", d.IDMAdminPW, ldif); code != 0 {
			t.Fatalf("set ldapdAccountDisabled %s: exit %d\n%s", v, code, out)
		}
	}
	set("TRUE")
	d.tokenRefused(t, tk)
	deadConn(t, bound)
	set("FALSE")
	d.tokenWhoami(t, tk)
	noTokenInLogs(t, d, tk)
}
