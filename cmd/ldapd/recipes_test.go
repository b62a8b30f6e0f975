package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/daemon"
	"github.com/ldapd/ldapd/internal/proctest"
)

// TestOperationsRecipes runs the recipes docs/operations.md prints, as
// printed (issue #19 item 7): every `journalctl -u ldapd -o cat | jq ...`
// line on a real server's log with systemd's own non-JSON lines mixed in
// (journalctl replaced by cat), the Kubernetes exec probes against the
// server's loopback metrics listener, and the one set of modes for
// /etc/ldapd that the docs and the unit give.
func TestOperationsRecipes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	maddr, laddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
	data := filepath.Join(dir, "data")
	logs := &logWatch{want: `"message":"serving"`, seen: make(chan struct{})}
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	go func() {
		done <- run(ctx, e, []string{"serve", "--data", data, "--domain", "idm.example.com", "--ldaps", laddr, "--ldap", "",
			"--metrics", maddr, "--log-format", "json", "--drain-period", "0s"})
	}()
	logs.waitServing(t, done)

	// Kubernetes exec probes, with the port of this server.
	probes := regexp.MustCompile(`exec: \{ command: (\[[^\]]*\]) \}`).FindAllSubmatch(doc, -1)
	if len(probes) != 2 {
		t.Fatalf("found %d exec probes in docs/operations.md, want liveness and readiness", len(probes))
	}
	for _, m := range probes {
		var argv []string
		if err := json.Unmarshal(m[1], &argv); err != nil || len(argv) < 2 || argv[0] != "ldapd" {
			t.Fatalf("probe %s: %v", m[1], err)
		}
		args := strings.Fields(strings.ReplaceAll(strings.Join(argv[1:], " "), "127.0.0.1:9090", maddr))
		if code, out := runCLI(t, nil, args...); code != 0 {
			t.Errorf("probe %s: exit %d: %s", m[1], code, out)
		}
	}

	// A failed bind on a connection, for the log recipes to find.
	c := dialNode(t, laddr, data)
	if err := c.Bind("admin", "not-the-password"); err == nil {
		t.Fatal("bind with a wrong password succeeded")
	}
	c.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d:\n%s", code, logs)
	}
	var conn string
	for _, line := range strings.Split(logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == "bind failed" {
			b, _ := json.Marshal(m["conn"])
			conn = string(b)
		}
	}
	if conn == "" || conn == "null" {
		t.Fatalf("no failed bind with a conn in the log:\n%s", logs)
	}
	sample := filepath.Join(dir, "journal.txt")
	journal := "Started ldapd.service - ldapd LDAP directory server.\n" + logs.String() +
		"Stopping ldapd.service - ldapd LDAP directory server...\nldapd.service: Deactivated successfully.\n"
	if err := os.WriteFile(sample, []byte(journal), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Skip("jq not installed: the log recipes are not run")
	}
	const journalctl = "journalctl -u ldapd -o cat | jq"
	want := map[string]string{ // a recipe's comment word -> what its output must hold
		"Security events only":          `"message":"bind failed"`,
		"Failed binds by cause":         "bad_password",
		"Everything one connection did": `"cause":"bad_password"`,
	}
	var comment string
	ran := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(line, "# ") {
			comment = strings.TrimPrefix(line, "# ")
		}
		if !strings.HasPrefix(line, journalctl) {
			continue
		}
		cmdline := "cat " + sample + " | jq" + strings.TrimPrefix(line, journalctl)
		cmdline = strings.ReplaceAll(cmdline, "select(.conn == 12)", "select(.conn == "+conn+")")
		out, err := exec.Command("bash", "-o", "pipefail", "-c", cmdline).CombinedOutput()
		if err != nil {
			t.Errorf("%s\n%s: %v\n%s", comment, line, err, out)
			continue
		}
		ran++
		for key, w := range want {
			if strings.HasPrefix(comment, key) && !strings.Contains(string(out), w) {
				t.Errorf("%s: output lacks %q:\n%s", line, w, out)
			}
		}
	}
	if ran < 5 {
		t.Errorf("ran %d jq recipes from docs/operations.md, want at least 5", ran)
	}
	// The naive form the docs used to print stops at systemd's line.
	if err := exec.Command("bash", "-o", "pipefail", "-c", "cat "+sample+" | jq -c 'select(.event == \"security\")'").Run(); err == nil {
		t.Error("plain jq read the mixed journal without error: the sample lacks systemd's lines")
	}

	// One set of modes for /etc/ldapd: 0755 directory, 0644 file, root's.
	unit, err := os.ReadFile("../../contrib/systemd/ldapd.service")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"the unit": string(unit), "operations.md": string(doc), "configuration.md": string(conf)} {
		for _, bad := range []string{"0640", "0750", "root:ldapd"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s still mentions %s for /etc/ldapd", name, bad)
			}
		}
	}
	for _, w := range []string{"install -d -m 0755 /etc/ldapd && install -m 0644", "\nConfigurationDirectoryMode=0755\n", "#LoadCredential=tls-key:"} {
		if !strings.Contains(string(unit), w) {
			t.Errorf("the unit lacks %q", w)
		}
	}
	for _, w := range []string{"install -d -m 0755 /etc/ldapd", "install -m 0644 contrib/systemd/ldapd.toml.example /etc/ldapd/ldapd.toml", "LoadCredential=tls-key:"} {
		if !strings.Contains(string(doc), w) {
			t.Errorf("operations.md lacks %q", w)
		}
	}
	if !strings.Contains(string(conf), "install it 0644 root:root in a 0755 `/etc/ldapd`") {
		t.Error("configuration.md does not give the 0644/0755 modes")
	}
	// ldapd accepts such a file without a warning.
	f := filepath.Join(dir, "ldapd.toml")
	if err := os.WriteFile(f, []byte("domain = \"idm.example.com\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, 0o644); err != nil {
		t.Fatal(err)
	}
	if w, err := daemon.CheckConfigFileMode(f); w != "" || err != nil {
		t.Errorf("a 0644 config: warning %q, error %v", w, err)
	}
}
