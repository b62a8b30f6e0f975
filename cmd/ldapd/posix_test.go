package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/internal/stacktest"
)

// posixCLI runs the client CLI against s as idm_admin and returns stdout,
// failing the test on a non-zero exit.
func posixCLI(t *testing.T, s *stacktest.Stack, args ...string) string {
	t.Helper()
	e, stdout, stderr := clientTestEnv(map[string]string{
		"LDAPD_URL": s.LDAPSURL, "LDAPD_CA": s.CAFile, "LDAPD_PASSWORD": s.IDMAdminPW,
	}, false)
	if code := run(context.Background(), e, append(args, "--name", "idm_admin")); code != 0 {
		t.Fatalf("ldapd %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout.String()
}

func posixAttrs(t *testing.T, out string) map[string][]string {
	t.Helper()
	var e struct {
		Attributes map[string][]string `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return e.Attributes
}

func TestPosixCommands(t *testing.T) {
	s := stacktest.New(t)
	posixCLI(t, s, "group", "create", "staff")
	g := posixAttrs(t, posixCLI(t, s, "group", "posix", "staff", "-o", "json"))
	if got := g["gidNumber"]; len(got) != 1 || got[0] != "10000" {
		t.Fatalf("group posix: gidNumber %q, want 10000", got)
	}
	posixCLI(t, s, "person", "create", "alice", "Alice Liddell")
	p := posixAttrs(t, posixCLI(t, s, "person", "posix", "alice", "--shell", "/bin/zsh", "--primary-group", "staff", "-o", "json"))
	for attr, want := range map[string]string{
		"uidNumber": "10000", "gidNumber": "10000", "loginShell": "/bin/zsh", // uids and gids are separate spaces
		"homeDirectory": "/home/alice", "gecos": "Alice Liddell",
	} {
		if got := p[attr]; len(got) != 1 || got[0] != want {
			t.Errorf("person posix: %s = %q, want %q", attr, got, want)
		}
	}
	// Again: idempotent, only the flags change.
	p = posixAttrs(t, posixCLI(t, s, "person", "posix", "alice", "--home", "/srv/alice", "-o", "json"))
	if p["uidNumber"][0] != "10000" || p["homeDirectory"][0] != "/srv/alice" || p["loginShell"][0] != "/bin/zsh" {
		t.Errorf("person posix again: %v", p)
	}
	posixCLI(t, s, "group", "add-members", "staff", "alice")
	g = posixAttrs(t, posixCLI(t, s, "group", "get", "staff", "-o", "json"))
	if got := g["memberUid"]; len(got) != 1 || got[0] != "alice" {
		t.Errorf("memberUid after add-members: %q", got)
	}
	// --primary-group needs a POSIX group.
	posixCLI(t, s, "group", "create", "plain")
	e, _, stderr := clientTestEnv(map[string]string{"LDAPD_URL": s.LDAPSURL, "LDAPD_CA": s.CAFile, "LDAPD_PASSWORD": s.IDMAdminPW}, false)
	if code := run(context.Background(), e, []string{"person", "posix", "alice", "--primary-group", "plain", "--name", "idm_admin"}); code != 1 ||
		!strings.Contains(stderr.String(), "ldapd group posix plain") {
		t.Errorf("--primary-group of a non-POSIX group: exit %d, %s", code, stderr)
	}
}
