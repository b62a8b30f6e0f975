package gateway_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

const idmAdminSPN = "u: idm_admin@idm.example.com"

// whoami returns the authorization identity of c's connection.
func whoami(t testing.TB, c *ldap.Conn) string {
	t.Helper()
	res, err := c.WhoAmI(nil)
	if err != nil {
		t.Fatalf("whoami: %v", err)
	}
	return res.AuthzID
}

func TestBind(t *testing.T) {
	s := stacktest.New(t)
	names := []struct{ name, bindName string }{
		{"full DN", personDN("idm_admin")},
		{"full DN any case and spacing", "UID=idm_admin, OU=People, DC=idm, DC=example, DC=com"},
		{"bare name", "idm_admin"},
		{"spn", "idm_admin@idm.example.com"},
	}
	for _, tc := range names {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			c := s.Bind(t, tc.bindName, s.IDMAdminPW)
			if got := whoami(t, c); got != idmAdminSPN {
				t.Fatalf("whoami = %q, want %q", got, idmAdminSPN)
			}
		})
		t.Run("ldapwhoami/"+tc.name, func(t *testing.T) {
			out := tool(t, s, 0, "", "ldapwhoami", bindArgs(s, tc.bindName, s.IDMAdminPW)...)
			if strings.TrimSpace(out) != idmAdminSPN {
				t.Fatalf("ldapwhoami printed %q", out)
			}
		})
	}

	failures := []struct {
		name, bindName, pw string
		code               uint16
	}{
		{"wrong password", "idm_admin", "not-the-password", ldap.LDAPResultInvalidCredentials},
		{"wrong password, full DN", personDN("idm_admin"), "not-the-password", ldap.LDAPResultInvalidCredentials},
		{"unknown name", "nobody", "whatever", ldap.LDAPResultInvalidCredentials},
		{"unknown DN", personDN("nobody"), "whatever", ldap.LDAPResultInvalidCredentials},
		{"spn of another domain", "idm_admin@example.org", s.IDMAdminPW, ldap.LDAPResultInvalidCredentials},
		{"name without password (unauthenticated bind)", "idm_admin", "", ldap.LDAPResultUnwillingToPerform},
	}
	for _, tc := range failures {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			c := s.Dial(t)
			_, err := c.SimpleBind(&ldap.SimpleBindRequest{Username: tc.bindName, Password: tc.pw, AllowEmptyPassword: true})
			wantCode(t, "bind", err, tc.code)
			if got := whoami(t, c); got != "" {
				t.Fatalf("whoami after a failed bind = %q, want anonymous", got)
			}
		})
		t.Run("ldapwhoami/"+tc.name, func(t *testing.T) {
			tool(t, s, int(tc.code), "", "ldapwhoami", bindArgs(s, tc.bindName, tc.pw)...)
		})
	}

	t.Run("go-ldap/failed bind after a good one leaves the connection anonymous", func(t *testing.T) {
		c := s.IDMAdmin(t)
		if got := whoami(t, c); got != idmAdminSPN {
			t.Fatalf("whoami = %q", got)
		}
		wantCode(t, "bind", c.Bind("idm_admin", "wrong"), ldap.LDAPResultInvalidCredentials)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami after a failed bind = %q, want anonymous", got)
		}
		// and it has anonymous rights only: no writes.
		err := c.Add(&ldap.AddRequest{DN: personDN("after-failed-bind"),
			Attributes: attrs("objectClass", "inetOrgPerson", "cn", "x", "sn", "x", "uid", "after-failed-bind")})
		wantCode(t, "add after a failed bind", err, ldap.LDAPResultInsufficientAccessRights)
	})

	t.Run("go-ldap/anonymous", func(t *testing.T) {
		c := s.Dial(t)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami without bind = %q, want empty", got)
		}
		wantCode(t, "anonymous bind", c.UnauthenticatedBind(""), 0)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami after anonymous bind = %q, want empty", got)
		}
		// A bound connection becomes anonymous again with an anonymous bind.
		c = s.IDMAdmin(t)
		_, err := c.SimpleBind(&ldap.SimpleBindRequest{AllowEmptyPassword: true})
		wantCode(t, "anonymous rebind", err, 0)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami after anonymous rebind = %q, want empty", got)
		}
	})
	t.Run("ldapwhoami/anonymous", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapwhoami", anonArgs(s)...)
		if strings.TrimSpace(out) != "anonymous" {
			t.Fatalf("ldapwhoami printed %q, want anonymous", out)
		}
	})
}

// TestBindNeedsTLS: a password never travels in clear text. On the plain
// LDAP listener a password bind answers confidentialityRequired (13) until
// StartTLS; afterwards it works.
func TestBindNeedsTLS(t *testing.T) {
	s := stacktest.New(t)
	plainArgs := func(more ...string) []string {
		return append([]string{"-H", s.PlainURL(), "-x"}, more...)
	}

	t.Run("go-ldap/plain bind refused with 13", func(t *testing.T) {
		c := s.DialPlain(t)
		wantCode(t, "plain bind", c.Bind("idm_admin", s.IDMAdminPW), ldap.LDAPResultConfidentialityRequired)
		wantCode(t, "plain bind with a wrong password", c.Bind("idm_admin", "wrong"), ldap.LDAPResultConfidentialityRequired)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami after refused bind = %q", got)
		}
	})
	t.Run("ldapwhoami/plain bind refused with 13", func(t *testing.T) {
		out := tool(t, s, ldap.LDAPResultConfidentialityRequired, "", "ldapwhoami", plainArgs("-D", "idm_admin", "-w", s.IDMAdminPW)...)
		if !strings.Contains(out, "Confidentiality required") {
			t.Fatalf("ldapwhoami output %q lacks the reason", out)
		}
	})
	t.Run("go-ldap/anonymous on plain LDAP is allowed", func(t *testing.T) {
		c := s.DialPlain(t)
		wantCode(t, "anonymous bind", c.UnauthenticatedBind(""), 0)
		if got := whoami(t, c); got != "" {
			t.Fatalf("whoami = %q", got)
		}
	})
	t.Run("ldapwhoami/anonymous on plain LDAP is allowed", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapwhoami", plainArgs()...)
		if strings.TrimSpace(out) != "anonymous" {
			t.Fatalf("ldapwhoami printed %q", out)
		}
	})
	t.Run("go-ldap/StartTLS then bind", func(t *testing.T) {
		c := s.DialPlain(t)
		if err := c.StartTLS(s.TLSConfig()); err != nil {
			t.Fatalf("StartTLS: %v", err)
		}
		wantCode(t, "bind after StartTLS", c.Bind("idm_admin", s.IDMAdminPW), 0)
		if got := whoami(t, c); got != idmAdminSPN {
			t.Fatalf("whoami = %q", got)
		}
	})
	t.Run("ldapwhoami/-ZZ then bind", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapwhoami", plainArgs("-ZZ", "-D", "idm_admin", "-w", s.IDMAdminPW)...)
		if strings.TrimSpace(out) != idmAdminSPN {
			t.Fatalf("ldapwhoami -ZZ printed %q", out)
		}
	})
}

// TestOnlyAccountsBindOverLDAP: entries that are not accounts never bind,
// whatever password they hold: an inetOrgPerson placed under ou=groups and
// a posixGroup given a userPassword (both added as root, since the write
// policy refuses them to every LDAP client). Both answer 49, as an unknown
// name does, with go-ldap and with ldapwhoami.
func TestOnlyAccountsBindOverLDAP(t *testing.T) {
	s := stacktest.New(t)
	ctx := context.Background()
	add := func(dn string, attrs ...string) {
		t.Helper()
		e := directory.NewEntry(directory.MustParseDN(dn))
		for i := 0; i+1 < len(attrs); i += 2 {
			e.Add(attrs[i], attrs[i+1])
		}
		if err := s.IDM.Add(ctx, idm.RootIdentity(), e); err != nil {
			t.Fatalf("add %s as root: %v", dn, err)
		}
	}
	ghost := "uid=ghost," + groups
	add(ghost, "objectClass", "inetOrgPerson", "cn", "ghost", "sn", "ghost", "uid", "ghost", "userPassword", "ghost-pw-1")
	posix := groupDN("posixers")
	add(posix, "objectClass", "groupOfNames", "objectClass", "posixGroup", "cn", "posixers", "member", personDN("admin"), "userPassword", "group-pw-1")
	add(personDN("carol"), "objectClass", "inetOrgPerson", "cn", "carol", "sn", "carol", "uid", "carol", "userPassword", "carol-pw-1")

	for _, tc := range []struct{ name, bindName, pw string }{
		{"ghost person by DN", ghost, "ghost-pw-1"},
		{"ghost person by name", "ghost", "ghost-pw-1"},
		{"posixGroup by DN", posix, "group-pw-1"},
	} {
		t.Run("go-ldap/"+tc.name, func(t *testing.T) {
			c := s.Dial(t)
			wantCode(t, "bind", c.Bind(tc.bindName, tc.pw), ldap.LDAPResultInvalidCredentials)
			if got := whoami(t, c); got != "" {
				t.Fatalf("whoami after the refused bind = %q", got)
			}
		})
		t.Run("ldapwhoami/"+tc.name, func(t *testing.T) {
			out := tool(t, s, ldap.LDAPResultInvalidCredentials, "", "ldapwhoami", bindArgs(s, tc.bindName, tc.pw)...)
			if strings.Contains(out, "u: ") {
				t.Fatalf("ldapwhoami printed an identity:\n%s", out)
			}
		})
	}
	t.Run("ldapwhoami/a person under ou=people binds", func(t *testing.T) {
		out := tool(t, s, 0, "", "ldapwhoami", bindArgs(s, "carol", "carol-pw-1")...)
		if strings.TrimSpace(out) != "u: carol@idm.example.com" {
			t.Fatalf("ldapwhoami printed %q", out)
		}
	})
}
