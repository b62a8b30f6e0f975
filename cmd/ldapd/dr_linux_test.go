//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ldapd/ldapd/backup"
)

// The shipped unit runs ldapd as its own user (nobody here: uid 65534)
// with a read-only file system and a private /tmp. sandboxWrap imitates
// that for one directory, hidden: in the server's own mount namespace,
// hidden is an empty, read-only tmpfs, so a file the server wrote "there"
// would fail or land where the operator never sees it.
func sandboxWrap(hidden string) []string {
	return []string{"unshare", "-m", "--propagation", "private", "--", "sh", "-c",
		`mount -t tmpfs -o ro,mode=0755 ldapd-private "$0" && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"`, hidden}
}

// sandboxDirs makes base (traversable by nobody), the ldapd binary in it
// and a data directory owned by nobody, as StateDirectory= would.
func sandboxDirs(t *testing.T) (base, bin string) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to run the server as uid 65534 in its own mount namespace (unshare, setpriv); CI runs as root")
	}
	for _, tool := range []string{"unshare", "setpriv", "ldapwhoami"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	base = t.TempDir()
	for _, d := range []string{filepath.Dir(base), base} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin = filepath.Join(base, "ldapd")
	copyFile(t, buildLdapd(t), bin, 0o755)
	return base, bin
}

func nobodyDataDir(t *testing.T, path string) string {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	return path
}

func ownerOf(t *testing.T, path string) (uid, gid uint32, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid, fi.Mode().Perm()
}

func sigterm(t *testing.T, p *proc) {
	t.Helper()
	if code := p.terminate(t, 30*time.Second); code != 0 {
		t.Fatalf("server exit %d:\n%s", code, p.log())
	}
}

// TestDisasterRecoveryUnderSandbox follows docs/operations.md "Disaster
// recovery" with the real binary and the unit's sandbox imitated (issue
// #19 items 1, 2 and 6): a backup taken while the server runs as nobody,
// with the backup directory read-only and private to it, is written by
// the CLI as the operator (to a file and to standard output); the machine
// is lost; a new data directory made by the service's first start gets
// the backup with restore --force, which keeps nobody as the owner of every
// file; the restored server starts as nobody, the old API token binds and
// ldapwhoami trusting the old ca.pem connects.
func TestDisasterRecoveryUnderSandbox(t *testing.T) {
	base, bin := sandboxDirs(t)
	backups := filepath.Join(base, "backups") // the operator's, root 0700
	if err := os.Mkdir(backups, 0o700); err != nil {
		t.Fatal(err)
	}
	data := nobodyDataDir(t, filepath.Join(base, "data"))
	p := startServeWrapped(t, sandboxWrap(backups), bin, data, "--drain-period", "0s")
	pw := recoverAdmin(t, bin, data)
	oldCA := filepath.Join(base, "old-ca.pem") // what clients were given
	copyFile(t, filepath.Join(data, "tls", "ca.pem"), oldCA, 0o644)
	cli := []string{"LDAPD_PASSWORD=" + pw, "LDAPD_URL=ldaps://" + p.ldaps, "LDAPD_CA=" + oldCA}
	token := newToken(t, bin, cli, "dr_svc")

	// 1. Backup with the service running, into the operator's directory.
	archive := filepath.Join(backups, "ldapd.backup")
	if _, errs, code := ldapdCmd(t, bin, nil, "backup", archive, "--data", data); code != 0 {
		t.Fatalf("ldapd backup under the sandbox: exit %d: %s\n%s", code, errs, p.log())
	}
	if uid, _, mode := ownerOf(t, archive); uid != 0 || mode != 0o600 {
		t.Errorf("archive owned by uid %d mode %04o, want the operator (0) and 0600", uid, mode)
	}
	stdout, errs, code := ldapdCmd(t, bin, nil, "backup", "-", "--data", data)
	if code != 0 || !strings.HasPrefix(stdout, backup.Magic) {
		t.Errorf("ldapd backup -: exit %d, %d bytes starting %q: %s", code, len(stdout), stdout[:min(8, len(stdout))], errs)
	}
	piped := filepath.Join(backups, "piped.backup")
	if err := os.WriteFile(piped, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := ldapdCmd(t, bin, nil, "restore", piped, "--data", filepath.Join(base, "piped-check")); code != 0 {
		t.Errorf("restore of the archive written to stdout: %s", errs)
	}
	if _, _, code := ldapdCmd(t, bin, nil, "backup", archive, "--data", data); code == 0 {
		t.Error("backup over an existing file succeeded")
	}
	oldCert, _ := os.ReadFile(filepath.Join(data, "tls", "server.pem"))
	sigterm(t, p)

	// 2. The machine is lost. The new one: the service's first start makes
	// a new directory (new keys, a new CA); stop it and restore over it.
	if err := os.RemoveAll(data); err != nil {
		t.Fatal(err)
	}
	data2 := nobodyDataDir(t, filepath.Join(base, "data2"))
	p2 := startServeWrapped(t, sandboxWrap(backups), bin, data2, "--drain-period", "0s")
	newCert, _ := os.ReadFile(filepath.Join(data2, "tls", "server.pem"))
	if bytes.Equal(oldCert, newCert) {
		t.Fatal("the new machine's first start made the same certificate: the test proves nothing")
	}
	sigterm(t, p2)
	if _, errs, code := ldapdCmd(t, bin, nil, "restore", archive, "--data", data2, "--force"); code != 0 {
		t.Fatalf("ldapd restore --force: exit %d: %s", code, errs)
	}
	for _, f := range []string{dbPath(data2), keysPath(data2), filepath.Join(data2, "tls", "ca.pem"),
		filepath.Join(data2, "tls", "server.pem"), filepath.Join(data2, "tls", "server-key.pem")} {
		uid, gid, mode := ownerOf(t, f)
		if uid != 65534 || gid != 65534 {
			t.Errorf("%s: owner %d:%d after restore, want the service user 65534:65534", f, uid, gid)
		}
		if strings.HasSuffix(f, "key") || strings.HasSuffix(f, ".db") || strings.HasSuffix(f, "key.pem") {
			if mode != 0o600 {
				t.Errorf("%s: mode %04o, want 0600", f, mode)
			}
		}
	}
	if got, _ := os.ReadFile(filepath.Join(data2, "tls", "server.pem")); !bytes.Equal(got, oldCert) {
		t.Error("the restored tls/server.pem is not the old one")
	}

	// 3. The restored service starts as nobody, with the old token and CA.
	p3 := startServeWrapped(t, sandboxWrap(backups), bin, data2, "--drain-period", "0s")
	if strings.Contains(p3.log(), "made a new local CA") {
		t.Errorf("the restored server made a new CA:\n%s", p3.log())
	}
	who := exec.Command("ldapwhoami", "-H", "ldaps://"+p3.ldaps, "-x", "-D", "dn=token", "-w", token)
	who.Env = append(os.Environ(), "LDAPTLS_CACERT="+oldCA, "LDAPTLS_REQCERT=demand")
	out, err := who.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "dr_svc") {
		t.Errorf("ldapwhoami with the old token and the old ca.pem: %v: %s", err, out)
	}
	sigterm(t, p3)
}

// TestRestoreRefusesOwnerItCannotGive: restore run by a user who cannot
// give a file the owner of the file it replaces refuses and replaces
// nothing (issue #19 item 2).
func TestRestoreRefusesOwnerItCannotGive(t *testing.T) {
	base, bin := sandboxDirs(t)
	data := filepath.Join(base, "data")
	p := startServe(t, bin, data, "--drain-period", "0s")
	archive := filepath.Join(base, "a.backup")
	if _, errs, code := ldapdCmd(t, bin, nil, "backup", archive, "--data", data); code != 0 {
		t.Fatalf("backup: %s", errs)
	}
	sigterm(t, p)
	// A directory of nobody's holding a database of root's (writable): a
	// restore run as nobody cannot give the new file to root.
	target := nobodyDataDir(t, filepath.Join(base, "target"))
	copyFile(t, dbPath(data), dbPath(target), 0o666)
	if err := os.Chmod(dbPath(target), 0o666); err != nil { // nobody may open it (the lock check)
		t.Fatal(err)
	}
	if err := os.Chmod(archive, 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(dbPath(target))
	cmd := exec.Command(bin, "restore", archive, "--data", target, "--force")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cannot give") || !strings.Contains(string(out), "nothing was replaced") {
		t.Fatalf("restore as nobody over root's ldapd.db: %v: %s; want a refusal saying why", err, out)
	}
	if after, _ := os.ReadFile(dbPath(target)); !bytes.Equal(before, after) {
		t.Error("the refused restore replaced ldapd.db")
	}
	ents, _ := os.ReadDir(target)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".restore-") {
			t.Errorf("staged file %s left behind", e.Name())
		}
	}
}
