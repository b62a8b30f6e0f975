package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestMigrateRoundTrip copies a bbolt directory into etcd and back, and
// checks that nothing changed: the LDIF exports and the signing keys are
// identical, and both stores verify.
func TestMigrateRoundTrip(t *testing.T) {
	c := startEtcd(t)
	dir := c.Dir
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	ldifPath := filepath.Join(dir, "in.ldif")
	if err := os.WriteFile(ldifPath, []byte(slapcatLDIF), 0o600); err != nil {
		t.Fatal(err)
	}
	etcdFlags := c.flags()[2:] // migrate --to names the store
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
	mustRun("verify", "--store", "etcd", "--etcd-endpoints", c.endpoints(), "--etcd-allow-plaintext")
	fromEtcd := mustRun(append([]string{"export", "--store", "etcd"}, etcdFlags...)...)
	mustRun(append([]string{"migrate", "--to", "bolt", "--data", dst}, etcdFlags...)...)
	mustRun("verify", "--data", dst)
	// Each store exports parents first in its own order (bbolt in id
	// order, as slapcat; etcd in DN order): compare the records.
	before, after := records(mustRun("export", "--data", src)), records(mustRun("export", "--data", dst))
	if before != after || before != records(fromEtcd) || !strings.Contains(after, "uid=jo,ou=people") {
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
		"--etcd-endpoints", c.endpoints(), "--etcd-allow-plaintext", "--keyring-kek", other, "--etcd-max-txn-ops", "1024")
	if code == 0 || !strings.Contains(errOut, "key-encryption key") {
		t.Fatalf("migrate with the wrong KEK: exit %d, %s", code, errOut)
	}
}

// TestImportIntoEtcd loads a slapcat LDIF straight into an etcd store
// (16 entries per transaction at --etcd-max-txn-ops 1024), checks it with
// verify and against the same import into bbolt, and re-runs it.
func TestImportIntoEtcd(t *testing.T) {
	c := startEtcd(t)
	dir := c.Dir
	ldifPath := filepath.Join(dir, "in.ldif")
	if err := os.WriteFile(ldifPath, []byte(slapcatLDIF), 0o600); err != nil {
		t.Fatal(err)
	}
	etcdFlags := c.flags()
	out, errOut, code := runCmd(t, append([]string{"import", "-q", "--data", filepath.Join(dir, "node"), "--domain", "idm.example.com", ldifPath}, etcdFlags...)...)
	if code != 0 || !strings.Contains(out, "imported 4 entries") {
		t.Fatalf("import --store etcd: exit %d, %q, %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "node", "ldapd.db")); err == nil {
		t.Fatal("import --store etcd wrote a bbolt file")
	}
	if _, errOut, code := runCmd(t, "verify", "--store", "etcd", "--etcd-endpoints", c.endpoints(), "--etcd-allow-plaintext"); code != 0 {
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

// records returns the LDIF records of an export, sorted, one text.
func records(ldif string) string {
	recs := strings.Split(strings.TrimSpace(ldif), "\n\n")
	slices.Sort(recs)
	return strings.Join(recs, "\n\n")
}
