package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// TestMigrateRoundTrip copies a bbolt directory into etcd and back, and
// checks that nothing changed: the LDIF exports and the signing keys are
// identical, and both stores verify.
func TestMigrateRoundTrip(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{MaxTxnOps: 1024, NoFsync: true})
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	ldifPath := filepath.Join(dir, "in.ldif")
	if err := os.WriteFile(ldifPath, []byte(slapcatLDIF), 0o600); err != nil {
		t.Fatal(err)
	}
	kek := make([]byte, 32)
	_, _ = rand.Read(kek)
	kekPath := filepath.Join(dir, "kek")
	if err := os.WriteFile(kekPath, []byte(hex.EncodeToString(kek)), 0o600); err != nil {
		t.Fatal(err)
	}
	etcdFlags := []string{"--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-allow-plaintext", "--keyring-kek", kekPath,
		"--etcd-max-txn-ops", "1024"}
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCmd(t, args...)
		if code != 0 {
			t.Fatalf("ldapd %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	mustRun("import", "-q", "--data", src, "--domain", "idm.example.com", ldifPath)
	out := mustRun(append([]string{"migrate", "--to", "etcd", "--data", src}, etcdFlags...)...)
	if !strings.Contains(out, "both stores verified") {
		t.Fatalf("migrate to etcd: %s", out)
	}
	out = mustRun(append([]string{"migrate", "--to", "etcd", "--data", src}, etcdFlags...)...)
	if !strings.Contains(out, "copied 0 entries") {
		t.Fatalf("a second migrate should copy nothing: %s", out)
	}
	mustRun("verify", "--store", "etcd", "--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-allow-plaintext")
	fromEtcd := mustRun(append([]string{"export", "--store", "etcd"}, etcdFlags...)...)
	mustRun(append([]string{"migrate", "--to", "bolt", "--data", dst}, etcdFlags...)...)
	mustRun("verify", "--data", dst)
	before, after := mustRun("export", "--data", src), mustRun("export", "--data", dst)
	if before != after || before != fromEtcd || !strings.Contains(after, "uid=jo,ou=people") {
		t.Fatalf("the directory changed in the round trip:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	k1, err := os.ReadFile(keysPath(src))
	if err != nil {
		t.Fatal(err)
	}
	k2, err := os.ReadFile(keysPath(dst))
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("the signing keys changed in the round trip (%v)", err)
	}
	// A node with another key-encryption key cannot open the keys.
	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, bytes.Repeat([]byte{1}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCmd(t, "migrate", "--to", "bolt", "--data", filepath.Join(dir, "third"),
		"--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-allow-plaintext", "--keyring-kek", other, "--etcd-max-txn-ops", "1024")
	if code == 0 || !strings.Contains(errOut, "key-encryption key") {
		t.Fatalf("migrate with the wrong KEK: exit %d, %s", code, errOut)
	}
}

// TestImportIntoEtcd loads a slapcat LDIF straight into an etcd store
// (16 entries per transaction at --etcd-max-txn-ops 1024), checks it with
// verify and against the same import into bbolt, and re-runs it.
func TestImportIntoEtcd(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{MaxTxnOps: 1024, NoFsync: true})
	dir := t.TempDir()
	ldifPath := filepath.Join(dir, "in.ldif")
	if err := os.WriteFile(ldifPath, []byte(slapcatLDIF), 0o600); err != nil {
		t.Fatal(err)
	}
	kekPath := filepath.Join(dir, "kek")
	if err := os.WriteFile(kekPath, []byte(strings.Repeat("7e", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	etcdFlags := []string{"--store", "etcd", "--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-allow-plaintext", "--keyring-kek", kekPath,
		"--etcd-max-txn-ops", "1024"}
	out, errOut, code := runCmd(t, append([]string{"import", "-q", "--data", filepath.Join(dir, "node"), "--domain", "idm.example.com", ldifPath}, etcdFlags...)...)
	if code != 0 || !strings.Contains(out, "imported 4 entries") {
		t.Fatalf("import --store etcd: exit %d, %q, %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "node", "ldapd.db")); err == nil {
		t.Fatal("import --store etcd wrote a bbolt file")
	}
	if _, errOut, code := runCmd(t, "verify", "--store", "etcd", "--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-allow-plaintext"); code != 0 {
		t.Fatalf("verify --store etcd after the import: %s", errOut)
	}
	// The same file into bbolt gives the same directory, apart from the
	// generated entryUUIDs and timestamps of the built-in entries.
	if _, errOut, code := runCmd(t, "import", "-q", "--data", filepath.Join(dir, "bolt"), "--domain", "idm.example.com", ldifPath); code != 0 {
		t.Fatalf("import into bbolt: %s", errOut)
	}
	fromEtcd, _, _ := runCmd(t, append([]string{"export"}, etcdFlags...)...)
	fromBolt, _, _ := runCmd(t, "export", "--data", filepath.Join(dir, "bolt"))
	for _, want := range []string{"dn: uid=jo,ou=people,dc=idm,dc=example,dc=com", "memberOf: cn=readers,"} {
		if !strings.Contains(fromEtcd, want) || !strings.Contains(fromBolt, want) {
			t.Errorf("export lacks %q:\netcd:\n%s\nbolt:\n%s", want, fromEtcd, fromBolt)
		}
	}
	// Running the same import again adds nothing and fails nothing.
	out, errOut, code = runCmd(t, append([]string{"import", "-q", "--data", filepath.Join(dir, "node"), ldifPath}, etcdFlags...)...)
	if code != 0 || !strings.Contains(out, "imported 0 entries") {
		t.Fatalf("second import --store etcd: exit %d, %q, %s", code, out, errOut)
	}
}
