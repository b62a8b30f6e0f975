package gateway_test

import (
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/stacktest"
)

// canBind reports whether name binds with pw, failing the test on any
// answer other than success or invalidCredentials.
func canBind(t testing.TB, s *stacktest.Stack, name, pw string) bool {
	t.Helper()
	return succeeded(t, "bind as "+name, s.Dial(t).Bind(name, pw), ldap.LDAPResultInvalidCredentials)
}

// wantPassword checks that exactly pw (of the candidates) opens name.
func wantPassword(t testing.TB, s *stacktest.Stack, name, pw string, old ...string) {
	t.Helper()
	if !canBind(t, s, name, pw) {
		t.Fatalf("%s does not bind with the new password", name)
	}
	for _, o := range old {
		if canBind(t, s, name, o) {
			t.Fatalf("%s still binds with an old password", name)
		}
	}
}

func TestPasswordModifyGoLDAP(t *testing.T) {
	s, admin := stackAsIDMAdmin(t)
	alice := addPerson(t, admin, "alice", "userPassword", "alice-pw-0")

	t.Run("admin sets another user's password", func(t *testing.T) {
		res, err := admin.PasswordModify(ldap.NewPasswordModifyRequest(alice, "", "alice-pw-1"))
		wantCode(t, "password modify", err, 0)
		if res.GeneratedPassword != "" {
			t.Fatalf("a password was generated although one was given")
		}
		wantPassword(t, s, "alice", "alice-pw-1", "alice-pw-0")
	})
	t.Run("by bare name and spn", func(t *testing.T) {
		_, err := admin.PasswordModify(ldap.NewPasswordModifyRequest("alice", "", "alice-pw-2"))
		wantCode(t, "by name", err, 0)
		_, err = admin.PasswordModify(ldap.NewPasswordModifyRequest("alice@idm.example.com", "", "alice-pw-3"))
		wantCode(t, "by spn", err, 0)
		wantPassword(t, s, "alice", "alice-pw-3", "alice-pw-1", "alice-pw-2")
	})
	t.Run("self change with the old password", func(t *testing.T) {
		c := s.Bind(t, "alice", "alice-pw-3")
		_, err := c.PasswordModify(ldap.NewPasswordModifyRequest("", "alice-pw-3", "alice-pw-4"))
		wantCode(t, "self change", err, 0)
		wantPassword(t, s, "alice", "alice-pw-4", "alice-pw-3")
		// The connection stays bound as alice.
		if got := whoami(t, c); got != "u: alice@idm.example.com" {
			t.Fatalf("whoami = %q", got)
		}
	})
	t.Run("wrong old password fails", func(t *testing.T) {
		c := s.Bind(t, "alice", "alice-pw-4")
		_, err := c.PasswordModify(ldap.NewPasswordModifyRequest("", "not-the-old-one", "alice-pw-5"))
		wantCode(t, "self change with a wrong old password", err, ldap.LDAPResultInsufficientAccessRights)
		wantPassword(t, s, "alice", "alice-pw-4", "alice-pw-5")
	})
	t.Run("no new password: the server generates one", func(t *testing.T) {
		res, err := admin.PasswordModify(ldap.NewPasswordModifyRequest(alice, "", ""))
		wantCode(t, "password modify", err, 0)
		if len(res.GeneratedPassword) < 16 {
			t.Fatalf("generated password %q is too short", res.GeneratedPassword)
		}
		wantPassword(t, s, "alice", res.GeneratedPassword, "alice-pw-4")
	})
	t.Run("missing account", func(t *testing.T) {
		_, err := admin.PasswordModify(ldap.NewPasswordModifyRequest(personDN("nobody"), "", "x-pw-1"))
		wantCode(t, "password modify", err, ldap.LDAPResultNoSuchObject)
	})
	t.Run("anonymous without a user", func(t *testing.T) {
		_, err := s.Dial(t).PasswordModify(ldap.NewPasswordModifyRequest("", "", "x-pw-1"))
		wantCode(t, "password modify", err, ldap.LDAPResultUnwillingToPerform)
	})
	t.Run("not an account", func(t *testing.T) {
		_, err := admin.PasswordModify(ldap.NewPasswordModifyRequest(groupDN("idm_admins"), "", "x-pw-1"))
		if stacktest.ResultCode(err) == 0 {
			t.Fatal("a group got a password")
		}
	})
}

func TestPasswordModifyLdappasswd(t *testing.T) {
	s := stacktest.New(t)
	alice := addPerson(t, s.IDMAdmin(t), "alice", "userPassword", "alice-pw-0")

	t.Run("admin sets another user's password (-s)", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldappasswd", with(idmAdminArgs(s), "-s", "alice-pw-1", alice)...)
		if strings.Contains(out, "New password") {
			t.Fatalf("ldappasswd printed a generated password although one was given:\n%s", out)
		}
		wantPassword(t, s, "alice", "alice-pw-1", "alice-pw-0")
	})
	t.Run("self change with the old password (-a)", func(t *testing.T) {
		tool(t, s, 0, "", "ldappasswd", with(bindArgs(s, alice, "alice-pw-1"), "-a", "alice-pw-1", "-s", "alice-pw-2")...)
		wantPassword(t, s, "alice", "alice-pw-2", "alice-pw-1")
	})
	t.Run("wrong old password fails", func(t *testing.T) {
		// ldappasswd exits 1 on any failure; the result code is printed.
		out := tool(t, s, 1, "", "ldappasswd", with(bindArgs(s, "alice", "alice-pw-2"), "-a", "wrong", "-s", "alice-pw-3")...)
		wantResult(t, out, ldap.LDAPResultInsufficientAccessRights)
		wantPassword(t, s, "alice", "alice-pw-2", "alice-pw-3")
	})
	t.Run("no new password: the server generates one", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldappasswd", with(idmAdminArgs(s), alice)...)
		gen, ok := strings.CutPrefix(strings.TrimSpace(out), "New password: ")
		if !ok || gen == "" || strings.ContainsAny(gen, " \n") {
			t.Fatalf("ldappasswd output %q lacks the new password", out)
		}
		wantPassword(t, s, "alice", gen, "alice-pw-2")
	})
	t.Run("self, generated", func(t *testing.T) {
		if !canBind(t, s, "idm_admin", s.IDMAdminPW) {
			t.Fatal("idm_admin cannot bind")
		}
		out := tool(t, s, 0, "", "ldappasswd", with(idmAdminArgs(s), "-a", s.IDMAdminPW)...)
		gen, ok := strings.CutPrefix(strings.TrimSpace(out), "New password: ")
		if !ok || gen == "" {
			t.Fatalf("ldappasswd output %q lacks the new password", out)
		}
		wantPassword(t, s, "idm_admin", gen, s.IDMAdminPW)
	})
}
