package main

// Signals, crashes, backup and restore against a real `ldapd serve`
// process (issue #5). `make test` runs the short variants; `make soak`
// sets LDAPD_SOAK=1 for more crash rounds.

import (
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	bolt "go.etcd.io/bbolt"

	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/certs"
)

// soak reports whether the long variants were asked for (make soak).
func soak() bool { return os.Getenv("LDAPD_SOAK") != "" }

// startWriters runs n writers bound as admin; stop ends them, and the
// returned wait joins them.
func startWriters(t *testing.T, p *proc, pw string, l *ledger, prefix string, n int, stop <-chan struct{}) (wait func()) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range n {
		c := p.dial(t, "admin", pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			l.writer(c, fmt.Sprintf("%s-w%d", prefix, w), stop)
		}()
	}
	return wg.Wait
}

func verifyCmd(t *testing.T, bin, data string) {
	t.Helper()
	out, errs, code := ldapdCmd(t, bin, nil, "verify", "--data", data)
	if code != 0 {
		t.Fatalf("ldapd verify: exit %d\n%s%s", code, out, errs)
	}
}

// TestSIGTERMUnderLoad: SIGTERM while four clients write: the server
// finishes in-flight operations, exits 0, and every acknowledged write is
// in the database.
func TestSIGTERMUnderLoad(t *testing.T) {
	bin, data, p, pw := serveAsAdmin(t)
	l := newLedger()
	stop := make(chan struct{})
	wait := startWriters(t, p, pw, l, "term", 4, stop)
	l.waitAcks(t, 200, time.Minute)
	code := p.terminate(t, 15*time.Second)
	close(stop)
	wait()
	if code != 0 {
		t.Fatalf("exit status %d after SIGTERM, want 0\n%s", code, p.log())
	}
	added, version := l.snapshot()
	checkData(t, data, added, version, false)
	verifyCmd(t, bin, data)
	t.Logf("SIGTERM after %d acknowledged writes (%d adds): exit 0, none lost", l.acks.Load(), len(added))
}

// TestCrashRecovery: rounds of SIGKILL at a seeded random moment during
// writes; after each, `ldapd verify` passes and every acknowledged write
// of every round is present, none half-applied.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	rounds, span := 8, 400
	if soak() {
		rounds, span = 60, 1000
	}
	seed := uint64(1)
	if v, err := strconv.ParseUint(os.Getenv("LDAPD_CRASH_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d (LDAPD_CRASH_SEED), %d rounds", seed, rounds)
	rng := rand.New(rand.NewPCG(seed, 0))
	bin, data := buildLdapd(t), t.TempDir()
	l := newLedger()
	var pw string
	var killedAt []int64
	for round := range rounds {
		p := startServe(t, bin, data)
		if round == 0 {
			pw = recoverAdmin(t, bin, data)
		}
		stop := make(chan struct{})
		wait := startWriters(t, p, pw, l, fmt.Sprintf("r%d", round), 3, stop)
		k := l.acks.Load() + 10 + int64(rng.IntN(span))
		l.waitAcks(t, k, time.Minute)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		p.waitExit(t, 10*time.Second)
		close(stop)
		wait()
		killedAt = append(killedAt, l.acks.Load())
		verifyCmd(t, bin, data)
		added, version := l.snapshot()
		checkData(t, data, added, version, false)
		if t.Failed() {
			t.Fatalf("round %d (seed %d) lost or broke data", round, seed)
		}
	}
	added, _ := l.snapshot()
	t.Logf("%d SIGKILLs at %v acknowledged writes; %d acknowledged adds, all present", rounds, killedAt, len(added))
}

// TestBackupRestoreUnderLoad: `ldapd backup` while clients write gives a
// 0600 archive holding every write acknowledged before it started and the
// signing keys; `ldapd restore` into a new directory brings back a
// database that verifies and a keyring that still accepts the old token.
func TestBackupRestoreUnderLoad(t *testing.T) {
	bin, data, p, pw := serveAsAdmin(t)
	cli := []string{"LDAPD_PASSWORD=" + pw, "LDAPD_URL=ldaps://" + p.ldaps, "LDAPD_CA=" + filepath.Join(data, "tls", "ca.pem")}
	token := newToken(t, bin, cli, "backup_svc")

	l := newLedger()
	stop := make(chan struct{})
	wait := startWriters(t, p, pw, l, "bk", 3, stop)
	l.waitAcks(t, 100, time.Minute)
	before, versions := l.snapshot()
	archive := filepath.Join(t.TempDir(), "ldapd.backup")
	if _, errs, code := ldapdCmd(t, bin, nil, "backup", archive, "--data", data); code != 0 {
		t.Fatalf("ldapd backup: exit %d: %s", code, errs)
	}
	l.waitAcks(t, l.acks.Load()+50, time.Minute) // writes go on after it
	close(stop)
	wait()
	fi, err := os.Stat(archive)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("archive mode %04o, want 0600", fi.Mode().Perm())
	}
	// A second backup to the same name is refused: no overwriting.
	if _, _, code := ldapdCmd(t, bin, nil, "backup", archive, "--data", data); code == 0 {
		t.Error("backup over an existing file succeeded")
	}
	// Only the admin socket's root identity gets backups: not admin over
	// LDAPS, not admin re-bound on the socket.
	req := ldap.NewSearchRequest(backup.DN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"chunk"}, nil)
	c := p.dial(t, "admin", pw)
	if res, err := c.Search(req); err == nil && len(res.Entries) > 0 {
		t.Error("backup over LDAPS as admin succeeded")
	}
	c.Close()
	sc, err := ldap.DialURL("ldapi://" + strings.ReplaceAll(socketPath(data), "/", "%2F"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Bind("admin", pw); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Search(req); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Errorf("backup by a re-bound socket client: %v, want insufficientAccessRights", err)
	}
	sc.Close()

	p.terminate(t, 15*time.Second)

	// A corrupted archive is refused.
	bad := filepath.Join(t.TempDir(), "bad.backup")
	raw, _ := os.ReadFile(archive)
	raw[len(raw)/2] ^= 0xff
	_ = os.WriteFile(bad, raw, 0o600)
	if _, errs, code := ldapdCmd(t, bin, nil, "restore", bad, "--data", t.TempDir()); code == 0 || !strings.Contains(errs, "checksum") {
		t.Errorf("restore of a corrupted archive: exit %d, %s", code, errs)
	}

	restored := t.TempDir()
	if _, errs, code := ldapdCmd(t, bin, nil, "restore", archive, "--data", restored); code != 0 {
		t.Fatalf("ldapd restore: exit %d: %s", code, errs)
	}
	if _, _, code := ldapdCmd(t, bin, nil, "restore", archive, "--data", restored); code != 2 {
		t.Errorf("restore over an existing database without --force: exit %d, want 2", code)
	}
	if fi, err := os.Stat(keysPath(restored)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("restored keyring: %v, mode %v", err, fi.Mode())
	}
	verifyCmd(t, bin, restored)
	checkData(t, restored, before, versions, true)

	// The restored keyring verifies the token issued before the backup.
	p2 := startServe(t, bin, restored)
	tc := p2.dial(t, "", "")
	if err := tc.Bind("dn=token", token); err != nil {
		t.Errorf("token bind on the restored server: %v", err)
	}
	tc.Close()
	if code := p2.terminate(t, 15*time.Second); code != 0 {
		t.Errorf("restored server exit %d", code)
	}
	logs := p.log() + p2.log()
	for _, secret := range []string{pw, token} {
		if strings.Contains(logs, secret) {
			t.Errorf("a secret appears in the server log")
		}
	}
	t.Logf("backup of %d bytes taken after %d acknowledged adds; all restored", fi.Size(), len(before))
}

// TestSIGHUPReloadsCertificate: SIGHUP makes new handshakes use the
// certificate now in the files, while a connection opened before keeps
// working; a key file others can read is warned about at start.
func TestSIGHUPReloadsCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, data := buildLdapd(t), t.TempDir()
	first, err := certs.Ensure(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	second, err := certs.Ensure(t.TempDir(), []string{"reloaded.example"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	copyFile := func(from, to string, mode os.FileMode) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(to, mode); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(first.Cert, cert, 0o644)
	copyFile(first.Key, key, 0o640)
	p := startServe(t, bin, data, "--tls-cert", cert, "--tls-key", key)
	if !strings.Contains(p.log(), "group or others can access it") {
		t.Errorf("no warning about the 0640 key file:\n%s", p.log())
	}
	fingerprint := func(c *tls.Conn) [32]byte {
		return sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	}
	dialTLS := func() *tls.Conn {
		c, err := tls.Dial("tcp", p.ldaps, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := dialTLS()
	oldFP := fingerprint(old)
	oldConn := ldap.NewConn(old, true)
	oldConn.Start()
	defer oldConn.Close()
	if _, err := oldConn.WhoAmI(nil); err != nil {
		t.Fatal(err)
	}

	copyFile(second.Cert, cert, 0o644)
	copyFile(second.Key, key, 0o600)
	lines := p.subscribe()
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for reloaded := false; !reloaded; {
		select {
		case line := <-lines:
			reloaded = strings.Contains(line, "TLS certificate reloaded")
			if strings.Contains(line, "reload failed") {
				t.Fatalf("reload failed: %s", line)
			}
		case <-timer.C:
			t.Fatalf("no reload logged after SIGHUP:\n%s", p.log())
		}
	}
	p.unsubscribe(lines)
	fresh := dialTLS()
	defer fresh.Close()
	if fingerprint(fresh) == oldFP {
		t.Error("a handshake after SIGHUP still got the old certificate")
	}
	if got := fresh.ConnectionState().PeerCertificates[0].DNSNames; !strings.Contains(strings.Join(got, ","), "reloaded.example") {
		t.Errorf("new certificate names %v", got)
	}
	if _, err := oldConn.WhoAmI(nil); err != nil {
		t.Errorf("the connection opened before SIGHUP was dropped: %v", err)
	}
	if code := p.terminate(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestVerifyCommand: `ldapd verify` exits 0 on a sound database and 1,
// listing the problem, once an index key is removed behind its back.
func TestVerifyCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, data := buildLdapd(t), t.TempDir()
	p := startServe(t, bin, data)
	p.terminate(t, 15*time.Second)
	verifyCmd(t, bin, data)
	db, err := bolt.Open(dbPath(data), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket([]byte("idx"))
		if idx == nil {
			return fmt.Errorf("no idx bucket")
		}
		var victim []byte
		_ = idx.ForEachBucket(func(name []byte) error {
			if victim == nil && idx.Bucket(name).Stats().KeyN > 0 {
				victim = name
			}
			return nil
		})
		if victim == nil {
			return fmt.Errorf("no index key to remove")
		}
		b := idx.Bucket(victim)
		k, _ := b.Cursor().First()
		return b.Delete(k)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := ldapdCmd(t, bin, nil, "verify", "--data", data)
	if code != 1 || !strings.Contains(errs, "inconsistent") {
		t.Fatalf("verify of a damaged database: exit %d\n%s%s", code, out, errs)
	}
}
