package acl_test

import (
	"testing"

	"github.com/ldapd/ldapd/acl"
)

// TestMayBackup: only the admin socket's root identity may take a backup;
// a system administrator (over LDAP, or with a read-write token of a
// service account in system_admins) and an anonymous client may not.
func TestMayBackup(t *testing.T) {
	adminToken := account(serviceDN("backup_svc"), acl.GroupSystemAdmins)
	adminToken.Token = true
	for _, tc := range []struct {
		name string
		sub  acl.Subject
		want bool
	}{
		{"root", root, true},
		{"system_admins member over LDAP", admin, false},
		{"system_admins service account's token", adminToken, false},
		{"idm_admin", idmAdminS, false},
		{"anonymous", anonymous, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := acl.MayBackup(tc.sub)
			if d.Allowed != tc.want {
				t.Fatalf("MayBackup(%s) = %+v, want allowed %v", tc.sub.Name(), d, tc.want)
			}
			if !d.Allowed && d.Reason == "" {
				t.Error("a refusal without a reason")
			}
		})
	}
}
