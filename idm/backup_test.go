package idm_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/tokens"
)

// TestMayBackup: idm answers the backup question with acl.MayBackup on
// the derived subject: the admin socket's root identity may, and a
// system_admins member bound over LDAP, a read-write token of a service
// account in system_admins and an anonymous client may not.
func TestMayBackup(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	dn, tk, _ := f.serviceToken(t, "backup_svc", tokens.ReadWrite)
	err := f.s.IDM.Modify(ctx, f.admin, directory.MustParseDN("cn=system_admins,ou=groups,"+stacktest.Base),
		[]directory.Change{{Op: directory.ChangeAdd, Attr: "member", Values: []string{dn.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	token := f.bind(t, tk)
	if err := f.s.IDM.MayBackup(ctx, idm.RootIdentity()); err != nil {
		t.Errorf("root refused a backup: %v", err)
	}
	for _, tc := range []struct {
		name string
		id   idm.Identity
	}{
		{"system_admins member (admin)", f.admin},
		{"token of a system_admins service account", token},
		{"anonymous", idm.Identity{}},
	} {
		if err := f.s.IDM.MayBackup(ctx, tc.id); !errors.Is(err, directory.ErrInsufficientAccess) {
			t.Errorf("%s: MayBackup = %v, want ErrInsufficientAccess", tc.name, err)
		}
	}
}
