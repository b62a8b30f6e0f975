package gateway_test

import (
	"strings"
	"testing"
)

func TestSmokeWhoAmI(t *testing.T) {
	s, c := stackAsIDMAdmin(t)
	res, err := c.WhoAmI(nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.AuthzID != "u: idm_admin@idm.example.com" {
		t.Fatalf("whoami = %q", res.AuthzID)
	}
	out, code := s.Tool(t, "", "ldapwhoami", "-H", s.URL(), "-x", "-D", "idm_admin", "-w", s.IDMAdminPW)
	if code != 0 || strings.TrimSpace(out) != "u: idm_admin@idm.example.com" {
		t.Fatalf("ldapwhoami: %d %q", code, out)
	}
}
