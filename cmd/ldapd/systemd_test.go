package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit checks contrib/systemd/ldapd.service with systemd's own
// tools, where they are installed: `systemd-analyze verify` (syntax, and
// that ExecStart runs a real binary, here one built for the test) and
// `systemd-analyze security --offline` (an exposure score of 2.0 or less,
// "OK" on systemd's scale). Without systemd-analyze the check is manual;
// see docs/operations.md.
func TestSystemdUnit(t *testing.T) {
	unit, err := os.ReadFile("../../contrib/systemd/ldapd.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nUser=ldapd\n", "\nDynamicUser=yes\n", "\nProtectSystem=strict\n", "\nReadWritePaths=/var/lib/ldapd\n",
		"\nNoNewPrivileges=yes\n", "\nPrivateTmp=yes\n", "\nProtectHome=yes\n",
		"\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n", "\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n",
		"\nRestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n", "\nSystemCallFilter=@system-service\n",
		"\nExecStart=/usr/local/bin/ldapd serve --config /etc/ldapd/ldapd.toml\n",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", strings.TrimSpace(want))
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed: check the unit by hand (docs/operations.md)")
	}
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ldapd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "ldapd.service")
	text := strings.ReplaceAll(string(unit), "ExecStart=/usr/local/bin/ldapd ", "ExecStart="+bin+" ")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", "--threshold=20", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v\n%s", err, out)
	}
	t.Logf("%s", out[strings.LastIndex(string(out), "→"):])
}
