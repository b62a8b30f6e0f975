//go:build cluster

package clustertest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// testPartition runs an `ldapd serve --store etcd` process, S, that
// reaches etcd through a TCP proxy, with a 300 ms staleness bound, and cuts
// the proxy while node A keeps writing: S must report not ready on /readyz,
// stale in its metrics and refuse binds (busy) within the bound (plus a
// heartbeat); then the cluster compacts the history S missed, the proxy
// heals, and S must reload its view (ldapd_etcd_view_reloads_total), be
// ready again, have lag 0 and serve the writes it missed.
func testPartition(t *testing.T, bin string, c *etcdtest.Cluster, a *node, adminPW string, kek []byte) {
	const bound = 300 * time.Millisecond
	px := etcdtest.NewProxy(t, c.Members[0].ClientURL)
	ea := etcdArgs{endpoints: []string{px.URL()}, kekFile: writeKEK(t, kek), maxTxnOps: maxTxnOps}
	s := startProc(t, bin, "S", append(ea.args(), "--etcd-max-staleness", bound.String())...)
	conn, err := s.dial("admin", adminPW)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reloads := s.metric(t, "ldapd_etcd_view_reloads_total")
	if code, body := s.get("/readyz"); code != http.StatusOK {
		t.Fatalf("S before the cut: /readyz %d %s", code, body)
	}

	ca := a.mustDial(t, "admin", adminPW)
	px.SetCut(true)
	cut := time.Now()
	if err := addPerson(ca, "cut0"); err != nil {
		t.Fatal(err)
	}
	var notReady, refused time.Duration
	for notReady == 0 || refused == 0 {
		if code, _ := s.get("/readyz"); code == http.StatusServiceUnavailable && notReady == 0 {
			notReady = time.Since(cut)
		}
		if refused == 0 {
			n, err := findUID(conn, "cut0")
			switch {
			case ldap.IsErrorWithCode(err, ldap.LDAPResultBusy):
				refused = time.Since(cut)
			case err != nil:
				t.Fatalf("search on S while cut off: %v, want busy (51)", err)
			case n != 0:
				t.Fatal("S saw a write made while it was cut off: the proxy does not cut")
			}
		}
		if time.Since(cut) > 3*bound+time.Second {
			t.Fatalf("S cut off for %v: /readyz not ready after %v, searches refused after %v (bound %v)",
				time.Since(cut), notReady, refused, bound)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := s.metric(t, "ldapd_etcd_view_stale"); st != 1 {
		t.Fatalf("S cut off: ldapd_etcd_view_stale %v", st)
	}
	if err := conn.Bind("admin", adminPW); !ldap.IsErrorWithCode(err, ldap.LDAPResultBusy) {
		t.Fatalf("password bind on S cut off: %v, want busy (51)", err)
	}

	// The cluster moves on and compacts what S missed; then S heals.
	for i := 1; i <= 20; i++ {
		if err := addPerson(ca, fmt.Sprintf("cut%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	cli := c.Client(t)
	resp, err := cli.Get(context.Background(), etcdstore.DefaultPrefix+"g")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Compact(context.Background(), resp.Header.Revision); err != nil {
		t.Fatal(err)
	}
	px.SetCut(false)
	healed := time.Now()
	for {
		code, _ := s.get("/readyz")
		if code == http.StatusOK && s.metric(t, "ldapd_etcd_view_lag_revisions") == 0 {
			break
		}
		if time.Since(healed) > 30*time.Second {
			_, body := s.get("/metrics")
			t.Fatalf("S not ready 30s after healing: /readyz %d\n%s", code, grepLines(body, "ldapd_etcd_view"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	ready := time.Since(healed)
	if got := s.metric(t, "ldapd_etcd_view_reloads_total"); got <= reloads {
		t.Fatalf("S resumed across a compaction without a reload: ldapd_etcd_view_reloads_total %v -> %v", reloads, got)
	}
	conn2, err := s.dial("admin", adminPW)
	if err != nil {
		t.Fatalf("bind on S after healing: %v", err)
	}
	defer conn2.Close()
	if n, err := findUID(conn2, "cut20"); err != nil || n != 1 {
		t.Fatalf("S after healing: search for a write it missed: %d %v", n, err)
	}
	t.Logf("FIGURE partition (process S, bound %v): /readyz 503 %v and searches refused (51) %v after the cut; after healing across a compaction: reloaded, ready with lag 0 in %v",
		bound, notReady.Round(time.Millisecond), refused.Round(time.Millisecond), ready.Round(time.Millisecond))
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
