package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/daemon"
	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory/etcdstore"
)

// hasLogLine reports whether a JSON log line has the level and contains
// every fragment.
func hasLogLine(log, level string, fragments ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		var l struct{ Level string }
		if json.Unmarshal([]byte(line), &l) != nil || l.Level != level {
			continue
		}
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(line, f)
		}
		if all {
			return true
		}
	}
	return false
}

// TestConfigFileMode: a world-writable config file stops `ldapd serve`
// before anything is opened; a group-writable one is served with a
// warning at start, as are allow-insecure-bind and a data directory that
// was tightened.
func TestConfigFileMode(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ldapd.toml")
	if err := os.WriteFile(cfgPath, []byte("allow-insecure-bind = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode      os.FileMode
		refused   bool
		warnsHint string
	}{{0o600, false, ""}, {0o644, false, ""}, {0o640, false, ""}, {0o664, false, "chmod g-w"}, {0o620, false, "chmod g-w"}, {0o666, true, ""}, {0o602, true, ""}} {
		if err := os.Chmod(cfgPath, tc.mode); err != nil {
			t.Fatal(err)
		}
		w, err := daemon.CheckConfigFileMode(cfgPath)
		if (err != nil) != tc.refused || (tc.warnsHint == "") != (w == "") || !strings.Contains(w, tc.warnsHint) {
			t.Errorf("mode %04o: warning %q, err %v", tc.mode, w, err)
		}
	}

	if err := os.Chmod(cfgPath, 0o666); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	_, errOut, code := runCmd(t, "serve", "--config", cfgPath, "--data", data, "--domain", testDomain, "--ldaps", "127.0.0.1:0", "--ldap", "")
	if code == 0 || !strings.Contains(errOut, "refusing it") || !strings.Contains(errOut, cfgPath) {
		t.Fatalf("world-writable config: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("serve with a refused config created %s (%v)", data, err)
	}

	if err := os.Chmod(cfgPath, 0o664); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(data, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o750); err != nil {
		t.Fatal(err)
	}
	_, logs := serveInProcess(t, data, "--config", cfgPath, "--domain", testDomain)
	for _, want := range [][]string{
		{"config " + cfgPath + " has mode 0664", `"event":"security"`},
		{"--allow-insecure-bind", `"flag":"allow-insecure-bind"`},
		{"had mode 0750", "tightened it to 0700", data},
	} {
		if !hasLogLine(logs.String(), "warn", want...) {
			t.Errorf("no warning with %q at start:\n%s", want, logs.String())
		}
	}
}

// TestEtcdPlaintextEndpoints: the flag, variable and file key that allow
// plaintext etcd endpoints (which endpoints count as plaintext is
// datastore.TestPlaintextEndpoints), and --store etcd refused with exit 2
// over one without them.
func TestEtcdPlaintextEndpoints(t *testing.T) {
	c := storeConfig{datastore.Config{Kind: storeEtcd, Endpoints: "http://127.0.0.1:2379", KEK: "k"}}
	if err := c.check(); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--etcd-allow-plaintext") {
		t.Errorf("check() of a plaintext endpoint = %v, want a usage error naming --etcd-allow-plaintext", err)
	}
	for _, src := range []struct {
		args    []string
		environ map[string]string
		file    string
	}{
		{args: []string{"--etcd-allow-plaintext"}},
		{environ: map[string]string{"LDAPD_ETCD_ALLOW_PLAINTEXT": "true"}},
		{file: "etcd-allow-plaintext = true\n"},
	} {
		cfg, err := loadServeConfig(t, src.args, src.environ, src.file)
		if err != nil || !cfg.store.AllowPlaintext {
			t.Errorf("%+v: allowPlaintext %v, %v", src, cfg.store.AllowPlaintext, err)
		}
	}
	if cfg, _ := loadServeConfig(t, nil, nil, ""); cfg.store.AllowPlaintext {
		t.Error("plaintext etcd allowed by default")
	}
}

// TestEtcdPlaintextRefusedAndKeyringKept, over a real (plaintext,
// loopback) etcd: serve and verify refuse it without
// --etcd-allow-plaintext; with it, serve warns at start. A node's first
// start seals the keyring into etcd; once it is deleted, a start is
// refused (naming the fix) and writes nothing; --keyring-regenerate
// makes a new one, with a warning.
func TestEtcdPlaintextRefusedAndKeyringKept(t *testing.T) {
	c := startEtcd(t)
	dir := c.Dir
	store := []string{"--store", "etcd", "--etcd-endpoints", c.endpoints(), "--keyring-kek", c.KEK, "--etcd-max-txn-ops", "1024"}

	_, errOut, code := runCmd(t, append([]string{"serve", "--data", filepath.Join(dir, "a"), "--domain", testDomain,
		"--ldaps", "127.0.0.1:0", "--ldap", ""}, store...)...)
	if code != 2 || !strings.Contains(errOut, "is not TLS") || !strings.Contains(errOut, c.Endpoints()[0]) || !strings.Contains(errOut, "--etcd-allow-plaintext") {
		t.Fatalf("serve over plaintext etcd: exit %d, %q; want a refusal naming the endpoint and the flag", code, errOut)
	}
	if _, errOut, code := runCmd(t, "verify", "--store", "etcd", "--etcd-endpoints", c.endpoints()); code == 0 || !strings.Contains(errOut, "--etcd-allow-plaintext") {
		t.Fatalf("verify over plaintext etcd: exit %d, %q", code, errOut)
	}

	store = append(store, "--etcd-allow-plaintext")
	_, logs := serveInProcess(t, filepath.Join(dir, "a"), append(store, "--domain", testDomain)...)
	if !hasLogLine(logs.String(), "warn", `"flag":"etcd-allow-plaintext"`, c.Endpoints()[0]) {
		t.Errorf("no start-up warning for --etcd-allow-plaintext:\n%s", logs.String())
	}

	cli := c.Client(t)
	key := etcdstore.DefaultPrefix + "m/" + datastore.MetaSealedKeyring
	ctx := context.Background()
	got, err := cli.Get(ctx, key)
	if err != nil || len(got.Kvs) != 1 {
		t.Fatalf("the first start sealed no keyring at %s: %v", key, err)
	}
	first := string(got.Kvs[0].Value)
	if _, err := cli.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCmd(t, append([]string{"serve", "--data", filepath.Join(dir, "b"), "--ldaps", "127.0.0.1:0", "--ldap", ""}, store...)...)
	if code == 0 || !strings.Contains(errOut, "token signing keys are missing") || !strings.Contains(errOut, "--keyring-regenerate") {
		t.Fatalf("start with the keyring deleted: exit %d, %q; want a refusal naming --keyring-regenerate", code, errOut)
	}
	if got, err := cli.Get(ctx, key); err != nil || len(got.Kvs) != 0 {
		t.Fatalf("the refused start wrote a keyring (%v)", err)
	}
	_, logs = serveInProcess(t, filepath.Join(dir, "c"), append(store, "--keyring-regenerate")...)
	if !hasLogLine(logs.String(), "warn", `"flag":"keyring-regenerate"`) {
		t.Errorf("no start-up warning for --keyring-regenerate:\n%s", logs.String())
	}
	got, err = cli.Get(ctx, key)
	if err != nil || len(got.Kvs) != 1 || string(got.Kvs[0].Value) == first {
		t.Fatalf("--keyring-regenerate: keyring %d values (%v), want a new one", len(got.Kvs), err)
	}
}

// TestGeneratedCAWithLdapUtils: OpenLDAP's ldapwhoami (GnuTLS here)
// trusts the name-constrained CA (critical name constraints, serverAuth
// only) of a first start, by name and by address. That the CA refuses
// other names is certs.TestCAConstraintsRefuseOtherNames.
func TestGeneratedCAWithLdapUtils(t *testing.T) {
	if _, err := exec.LookPath("ldapwhoami"); err != nil {
		t.Skip("ldapwhoami not installed")
	}
	bin := buildLdapd(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, data, "--hostnames", "ldap.example.test")
	pw := recoverAdmin(t, bin, data)
	_, port, _ := strings.Cut(p.ldaps, ":")
	whoami := func(host string) (string, error) {
		cmd := exec.Command("ldapwhoami", "-H", "ldaps://"+host+":"+port, "-x", "-D", "uid=admin,ou=people,"+testBase, "-w", pw)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+filepath.Join(data, "tls", "ca.pem"), "LDAPTLS_REQCERT=demand")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		out, err := whoami(host)
		if err != nil || !strings.Contains(out, "admin") {
			t.Errorf("ldapwhoami via %s with the generated CA: %v, %q", host, err, out)
		}
	}
}
