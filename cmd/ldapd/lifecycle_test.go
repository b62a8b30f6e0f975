package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// TestFirstStartRecoverAndRestart follows issue #2's command-line contract
// with the real binary: the first start creates the data directory's
// contents, recover-account works with the server running (admin socket)
// and stopped (data directory), the domain is fixed at first start, and
// data and TLS material survive a restart.
func TestFirstStartRecoverAndRestart(t *testing.T) {
	bin := buildLdapd(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, data)

	for name, mode := range map[string]os.FileMode{
		"ldapd.db": 0o600, "keys/tokens.key": 0o600, "tls/server-key.pem": 0o600,
		"ldapd.sock": 0o600, "tls/ca.pem": 0o644, ".": 0o700,
	} {
		st, err := os.Stat(filepath.Join(data, name))
		if err != nil {
			t.Fatalf("first start did not create %s: %v", name, err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "tls", "ca-key.pem")); err == nil {
		t.Error("the first start kept the CA's private key on disk")
	}
	caBefore, _ := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))

	// Online recovery, through the admin socket.
	adminPW := recoverAdmin(t, bin, data)
	c := p.dial(t, "admin", adminPW)
	who, err := c.WhoAmI(nil)
	if err != nil || who.AuthzID != "u: admin@idm.example.com" {
		t.Fatalf("whoami after online recovery = %+v, %v", who, err)
	}
	add := ldap.NewAddRequest(groupDN("survivors"), nil)
	add.Attribute("objectClass", []string{"top", "groupOfNames"})
	add.Attribute("cn", []string{"survivors"})
	add.Attribute("member", []string{"uid=admin,ou=people," + testBase})
	if err := c.Add(add); err != nil {
		t.Fatalf("add: %v", err)
	}
	c.Close()

	if code := p.terminate(t, 20*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM:\n%s", code, p.log())
	}

	// Offline recovery, on the stopped server's data directory.
	out, errs, code := ldapdCmd(t, bin, nil, "recover-account", "idm_admin", "--data", data)
	if code != 0 {
		t.Fatalf("offline recover-account: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	idmPW := lines[len(lines)-1]
	if len(idmPW) < 16 {
		t.Fatalf("offline recover-account printed %q", out)
	}
	if _, errs, code := ldapdCmd(t, bin, nil, "recover-account", "nobody", "--data", data); code == 0 || !strings.Contains(errs, "nobody") {
		t.Fatalf("recover-account of a missing account: exit %d, %q", code, errs)
	}

	// The domain is fixed at first start.
	_, errs, code = ldapdCmd(t, bin, nil, "serve", "--data", data, "--domain", "other.example.org",
		"--ldaps", "127.0.0.1:0", "--ldap", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errs, `belongs to domain "idm.example.com"`) {
		t.Fatalf("serve with another domain: exit %d, stderr %q", code, errs)
	}

	// Restart: the data, both passwords and the CA are still there.
	p = startServe(t, bin, data)
	c = p.dial(t, "idm_admin", idmPW)
	res, err := c.Search(ldap.NewSearchRequest(groupDN("survivors"), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"member"}, nil))
	if err != nil || len(res.Entries) != 1 || len(res.Entries[0].GetAttributeValues("member")) != 1 {
		t.Fatalf("group written before the restart: %+v, %v", res, err)
	}
	c.Close()
	p.dial(t, "admin", adminPW).Close()
	caAfter, _ := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if string(caBefore) != string(caAfter) {
		t.Error("the generated CA changed across a restart; clients would have to trust it again")
	}
}
