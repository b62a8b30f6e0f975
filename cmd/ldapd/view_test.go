package main

import (
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
	if err := conn.Bind("admin", pw); err != nil {
		t.Fatalf("bind before etcd stops: %v", err)
	}
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before etcd stops: %d %s", code, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, "ldapd_etcd_view_revision") || !strings.Contains(body, "ldapd_etcd_view_stale 0") {
		t.Fatalf("/metrics lacks the view's gauges:\n%s", body)
	}

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
		if time.Since(stopped) > 2*time.Second {
			t.Fatal("the node still accepts password binds 2s after etcd stopped (bound 300ms)")
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
