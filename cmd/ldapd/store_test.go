package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// lockedBuffer is a bytes.Buffer safe for one writer and one reader. It
// sends the LDAPS address on listening when the server logs it (a log
// line is one Write).
type lockedBuffer struct {
	mu        sync.Mutex
	b         bytes.Buffer
	listening chan string
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	for _, text := range bytes.Split(p, []byte("\n")) { // serve's log writes lines in batches
		var line struct{ Addr, Message string }
		if json.Unmarshal(text, &line) == nil && line.Message == "listening for LDAPS" {
			l.listening <- line.Addr
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveNode runs `ldapd serve --store etcd` until the test ends and returns
// its LDAPS address once it listens.
func serveNode(t *testing.T, data string, args ...string) string {
	t.Helper()
	addr, _ := serveInProcess(t, data, args...)
	return addr
}

// serveInProcess runs `ldapd serve` in this process until the test ends
// and returns its LDAPS address once it listens, and its log.
func serveInProcess(t *testing.T, data string, args ...string) (string, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &lockedBuffer{listening: make(chan string, 1)}
	e := &env{stdout: logs, stderr: logs, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve", "--data", data, "--ldaps", "127.0.0.1:0", "--ldap", "",
			"--log-format", "json"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve %s exited %d:\n%s", data, code, logs.String())
		}
	})
	select {
	case addr := <-logs.listening:
		return addr, logs
	case code := <-done:
		done <- code
		t.Fatalf("serve %s exited %d before listening:\n%s", data, code, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve %s did not listen within 30s:\n%s", data, logs.String())
	}
	return "", logs
}

// TestServeEtcdTwoNodes runs two `ldapd serve --store etcd` nodes over one
// etcd: the password set through node A's admin socket works on node B, and
// both share the domain and the sealed signing keys.
func TestServeEtcdTwoNodes(t *testing.T) {
	c := startEtcd(t)
	dir, common := c.Dir, c.flags()
	dataA, dataB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	addrA := serveNode(t, dataA, append(common, "--domain", "idm.example.com")...)
	addrB := serveNode(t, dataB, common...) // the domain comes from etcd
	out, errOut, code := runCmd(t, append([]string{"recover-account", "admin", "--data", dataA}, common...)...)
	if code != 0 {
		t.Fatalf("recover-account through node A: %s", errOut)
	}
	pw := strings.TrimSpace(out)
	for _, tc := range []struct{ addr, data string }{{addrA, dataA}, {addrB, dataB}} {
		conn := dialNode(t, tc.addr, tc.data)
		if err := bindWithinStaleness(conn, "admin", pw); err != nil {
			t.Fatalf("bind as admin on %s with the password set through node A: %v", tc.data, err)
		}
		conn.Close()
	}
	if _, err := os.Stat(keysPath(dataB)); err == nil {
		t.Fatalf("node B wrote %s: with etcd the keys live sealed in etcd", keysPath(dataB))
	}
}

// TestRecoverAccountOfflineEtcd recovers an account with no ldapd node on
// hand (no admin socket in the data directory): recover-account then talks
// to etcd directly, and the password works on a running node.
func TestRecoverAccountOfflineEtcd(t *testing.T) {
	c := startEtcd(t)
	dir, common := c.Dir, c.flags()
	dataA := filepath.Join(dir, "a")
	addr := serveNode(t, dataA, append(common, "--domain", "idm.example.com")...)
	out, errOut, code := runCmd(t, append([]string{"recover-account", "idm_admin", "--data", filepath.Join(dir, "elsewhere")}, common...)...)
	if code != 0 {
		t.Fatalf("offline recover-account over etcd: exit %d: %s", code, errOut)
	}
	pw := strings.TrimSpace(out)
	conn := dialNode(t, addr, dataA)
	defer conn.Close()
	if err := bindWithinStaleness(conn, "idm_admin", pw); err != nil {
		t.Fatalf("bind with the password recovered offline: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere", "ldapd.db")); err == nil {
		t.Fatal("offline recover-account over etcd created a bbolt file")
	}
}

// TestServeEtcdDefaultLimits starts a node on an etcd cluster with etcd's
// default limits (128 operations per transaction): the first start writes
// one built-in entry per transaction, so it fits, and the seed's token
// flow works on it.
func TestServeEtcdDefaultLimits(t *testing.T) {
	c := etcdtest.Start(t, 1, etcdtest.Options{NoFsync: true})
	dir := t.TempDir()
	kek := filepath.Join(dir, "kek")
	if err := os.WriteFile(kek, []byte(strings.Repeat("a5", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "node")
	storeFlags := []string{"--store", "etcd", "--etcd-endpoints", strings.Join(c.Endpoints(), ","), "--etcd-allow-plaintext", "--keyring-kek", kek}
	addr := serveNode(t, data, append(storeFlags, "--domain", "idm.example.com")...)
	// Through the admin socket, or etcd directly if the socket is not up yet.
	out, errOut, code := runCmd(t, append([]string{"recover-account", "idm_admin", "--data", data}, storeFlags...)...)
	if code != 0 {
		t.Fatalf("recover-account: %s", errOut)
	}
	pw := strings.TrimSpace(out)
	conn := dialNode(t, addr, data)
	defer conn.Close()
	if err := conn.Bind("idm_admin", pw); err != nil {
		t.Fatalf("bind: %v", err)
	}
	who, err := conn.WhoAmI(nil)
	if err != nil || who.AuthzID != "u: idm_admin@idm.example.com" {
		t.Fatalf("whoami = %+v, %v", who, err)
	}
	res, err := conn.Search(ldap.NewSearchRequest("uid=idm_admin,ou=people,dc=idm,dc=example,dc=com", ldap.ScopeBaseObject,
		ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"memberOf"}, nil))
	if err != nil || len(res.Entries) != 1 || len(res.Entries[0].GetAttributeValues("memberOf")) != 5 {
		t.Fatalf("idm_admin's memberOf after a first start at etcd's default limits: %+v, %v", res, err)
	}
}

// dialNode connects over LDAPS to a node serving data, trusting the CA
// that node generated.
func dialNode(t *testing.T, addr, data string) *ldap.Conn {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	conn, err := ldap.DialURL("ldaps://"+addr, ldap.DialWithTLSConfig(&tls.Config{RootCAs: pool, ServerName: "localhost"}))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// bindWithinStaleness binds, retrying while a node's view may still lag
// behind a write it did not make itself (--etcd-max-staleness, 1 s by
// default, docs/scale-out.md; a write through the node itself is visible at
// once). It fails at most four times, below the throttle's five free
// failures of one address against one account.
func bindWithinStaleness(conn *ldap.Conn, name, pw string) error {
	var err error
	for range 5 {
		if err = conn.Bind(name, pw); err == nil ||
			!ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) && !ldap.IsErrorWithCode(err, ldap.LDAPResultBusy) {
			return err
		}
		time.Sleep(600 * time.Millisecond)
	}
	return err
}
