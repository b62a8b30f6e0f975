package gateway_test

import (
	"strings"
	"testing"

	"github.com/ldapd/ldapd/internal/stacktest"
)

func TestSmokeWhoAmI(t *testing.T) {
	s := stacktest.New(t)
	c := s.IDMAdmin(t)
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
