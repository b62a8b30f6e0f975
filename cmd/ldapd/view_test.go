package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/proctest"
)

// TestServeEtcdViewFailsClosed runs `ldapd serve --store etcd` with its
// local view (the default --etcd-consistency view) and a 300 ms staleness
// bound: it is ready and reports the view's metrics; once etcd is gone it
// refuses password binds with busy (51) and /readyz fails within the bound
// (plus a heartbeat), instead of answering from a view it cannot confirm.
func TestServeEtcdViewFailsClosed(t *testing.T) {
	c := startEtcd(t)
	dir, common := c.Dir, c.flags()
	data, metricsAddr := filepath.Join(dir, "a"), proctest.FreeAddr(t)
	addr := serveNode(t, data, append(common, "--domain", "idm.example.com", "--metrics", metricsAddr,
		"--etcd-max-staleness", "300ms")...)
	out, errOut, code := runCmd(t, append([]string{"recover-account", "admin", "--data", data}, common...)...)
	if code != 0 {
		t.Fatalf("recover-account: %s", errOut)
	}
	pw := strings.TrimSpace(out)
	get := func(path string) (int, string) { return httpGet(t, metricsAddr, path) }
	conn := dialNode(t, addr, data)
	defer conn.Close()
	// Before etcd stops the view is fresh, but with a 300 ms bound a
	// loaded machine can delay a heartbeat past it for a moment: each
	// check is retried for a few seconds, as a client would.
	if err := bindWithinStaleness(conn, "admin", pw); err != nil {
		t.Fatalf("bind before etcd stops: %v", err)
	}
	within := func(what string, ok func() (bool, string)) {
		t.Helper()
		var last string
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			var good bool
			if good, last = ok(); good {
				return
			}
		}
		t.Fatalf("%s before etcd stops:\n%s", what, last)
	}
	within("/readyz", func() (bool, string) {
		code, body := get("/readyz")
		return code == http.StatusOK, fmt.Sprint(code, " ", body)
	})
	within("/metrics with the view's gauges", func() (bool, string) {
		_, body := get("/metrics")
		return strings.Contains(body, "ldapd_etcd_view_revision") && strings.Contains(body, "ldapd_etcd_view_stale 0"), body
	})

	c.Members[0].Stop()
	stopped := time.Now()
	for {
		err := conn.Bind("admin", pw)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultBusy) {
			break
		}
		if err != nil {
			t.Fatalf("bind with etcd gone: %v, want busy (51)", err)
		}
		if time.Since(stopped) > 5*time.Second {
			t.Fatal("the node still accepts password binds 5s after etcd stopped (bound 300ms)")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("binds refused %v after etcd stopped", time.Since(stopped).Round(time.Millisecond))
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "behind etcd") {
		t.Fatalf("/readyz with a stale view: %d %s", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, "ldapd_etcd_view_stale 1") {
		t.Fatalf("/metrics does not report the stale view")
	}
}
