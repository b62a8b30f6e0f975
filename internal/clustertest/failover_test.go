//go:build cluster

package clustertest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// testFailover starts two `ldapd serve --store etcd` processes, P and Q,
// on the directory the in-process nodes built, runs a bounded write load
// through both, SIGKILLs the etcd leader's process and Q in the middle
// (crashes: no drain, no goodbye), and keeps writing through P. Then:
// every acknowledged add is on the survivor; `ldapd verify --store etcd`
// is clean; A (in-process, its watch across the kill), P (its watch
// across the kill) and R (a process started after it) converge to the
// revision of the last commit with the same entries; and P's metrics show
// the view caught up (lag 0, not stale).
func testFailover(t *testing.T, bin string, c *etcdtest.Cluster, a *node, adminPW string, kek []byte) {
	ea := etcdArgs{endpoints: c.Endpoints(), kekFile: writeKEK(t, kek), maxTxnOps: maxTxnOps}
	p := startProc(t, bin, "P", ea.args()...)
	q := startProc(t, bin, "Q", ea.args()...)
	t.Logf("FIGURE process nodes: P ready in %v, Q in %v (exec to /readyz 200)", p.ready.Round(time.Millisecond), q.ready.Round(time.Millisecond))

	const workers, perWorker = 4, 60
	var (
		mu     sync.Mutex
		acked  []string
		failed int
		// committed despite an error: the kill cut the reply, and the retry
		// found the entry (an ambiguous outcome, as with any database)
		ambiguous int
		slowest   time.Duration
		nacked    atomic.Int64
	)
	killAt := make(chan struct{})
	var killOnce sync.Once
	deadline := time.Now().Add(90 * time.Second)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			target := []*proc{p, q}[w%2]
			conn, err := target.dial("admin", adminPW)
			if err != nil {
				t.Errorf("worker %d: %v", w, err)
				return
			}
			defer func() { conn.Close() }()
			for i := 0; i < perWorker && time.Now().Before(deadline); {
				uid := fmt.Sprintf("fo%d-%03d", w, i)
				start := time.Now()
				err := addPerson(conn, uid)
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
				switch {
				case err == nil:
					mu.Lock()
					acked = append(acked, uid)
					mu.Unlock()
					if nacked.Add(1) == workers*perWorker/3 {
						killOnce.Do(func() { close(killAt) })
					}
					i++
				case ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists):
					mu.Lock()
					ambiguous++ // an earlier attempt that reported an error did commit
					mu.Unlock()
					i++
				default:
					mu.Lock()
					failed++
					mu.Unlock()
					// The node or the connection is gone: go on through P.
					conn.Close()
					target = p
					if conn, err = waitDial(target, adminPW, deadline); err != nil {
						t.Errorf("worker %d: %v", w, err)
						return
					}
				}
			}
		})
	}
	<-killAt
	leader := leaderOf(t, c)
	killed := time.Now()
	leader.Kill() // SIGKILL: the member crashes
	q.kill()      // SIGKILL: the ldapd node crashes
	t.Logf("SIGKILLed etcd leader %s and ldapd node Q after %d acknowledged adds", leader.Name, nacked.Load())
	wg.Wait()
	t.Logf("FIGURE failover: %d adds acknowledged of %d (%d more committed with the reply lost to the kill), %d attempts failed (and were retried on P), slowest add %v, load finished %v after the kill",
		len(acked), workers*perWorker, ambiguous, failed, slowest.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))
	if len(acked)+ambiguous != workers*perWorker {
		t.Errorf("only %d of %d adds acknowledged (and %d committed with the reply lost) before the deadline",
			len(acked), workers*perWorker, ambiguous)
	}

	// Every acknowledged add is present, read through the surviving process.
	present := uidsOn(t, p, adminPW, "(uid=fo*)")
	var missing []string
	for _, uid := range acked {
		if !present[uid] {
			missing = append(missing, uid)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("%d acknowledged adds are missing on P: %v", len(missing), missing)
	}

	// The operator's check, through the surviving members.
	var alive []string
	for _, m := range c.Members {
		if m != leader {
			alive = append(alive, m.ClientURL)
		}
	}
	ea.endpoints = alive
	start := time.Now()
	out := runLdapd(t, bin, append([]string{"verify"}, ea.args()...)...)
	t.Logf("FIGURE verify: %d fo* entries present on P; ldapd verify --store etcd clean in %v: %s", len(present),
		time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))

	// A node started now loads its view from a snapshot; A's and P's views,
	// kept by their watches across the kill, must reach the same revision,
	// the last commit's, and hold the same entries.
	r := startProc(t, bin, "R", ea.args()...)
	resp, err := c.ClientOf(t, alive...).Get(context.Background(), etcdstore.DefaultPrefix+"g")
	if err != nil {
		t.Fatal(err)
	}
	fence := resp.Kvs[0].ModRevision
	revs := map[string]func() int64{
		"A": func() int64 { return a.viewRevision(t) },
		"P": func() int64 { return int64(p.metric(t, "ldapd_etcd_view_revision")) },
		"R": func() int64 { return int64(r.metric(t, "ldapd_etcd_view_revision")) },
	}
	for name, rev := range revs {
		for got := rev(); got != fence; got = rev() {
			if got > fence || time.Since(start) > 30*time.Second {
				t.Fatalf("node %s's view is at revision %d, the last commit at %d", name, got, fence)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	all := func(pr *proc) int { return len(uidsOn(t, pr, adminPW, "(objectClass=*)")) }
	na := 0
	if err := a.store.View(context.Background(), func(tx directory.ReadTx) error {
		f, _ := directory.ParseFilter("(objectClass=*)", directory.Builtin())
		return tx.Search(directory.MustParseDN(people), directory.ScopeOne, f, func(*directory.Entry) error { na++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	if np, nr := all(p), all(r); na != np || na != nr {
		t.Fatalf("views at revision %d differ: under %s A holds %d entries, P %d, R %d", fence, people, na, np, nr)
	}
	t.Logf("FIGURE views converge: A (in-process) and P (watches across the kills) and R (started after them, ready in %v) all at revision %d with the same %d people",
		r.ready.Round(time.Millisecond), fence, na)

	// The view's metrics, as an operator reads them: P caught up, not stale.
	for {
		lag, stale := p.metric(t, "ldapd_etcd_view_lag_revisions"), p.metric(t, "ldapd_etcd_view_stale")
		if lag == 0 && stale == 0 {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("P's metrics after convergence: lag %v revisions, stale %v", lag, stale)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("FIGURE P's metrics after the failover: lag 0, stale 0, reloads %v, staleness %vs",
		p.metric(t, "ldapd_etcd_view_reloads_total"), p.metric(t, "ldapd_etcd_view_staleness_seconds"))
}

// uidsOn returns the uid of every entry under ou=people matching filter,
// read through pr.
func uidsOn(t *testing.T, pr *proc, pw, filter string) map[string]bool {
	t.Helper()
	conn, err := pr.dial("admin", pw)
	if err != nil {
		t.Fatalf("bind on %s: %v", pr.name, err)
	}
	defer conn.Close()
	res, err := conn.SearchWithPaging(ldap.NewSearchRequest(people, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		filter, []string{"uid"}, nil), 500)
	if err != nil {
		t.Fatalf("search on %s: %v", pr.name, err)
	}
	out := make(map[string]bool, len(res.Entries))
	for _, e := range res.Entries {
		out[e.GetAttributeValue("uid")] = true
	}
	return out
}

// waitDial binds on pr until it works or the deadline passes (a bind reads
// the store, which waits for etcd to elect a new leader).
func waitDial(pr *proc, pw string, deadline time.Time) (*ldap.Conn, error) {
	for {
		c, err := pr.dial("admin", pw)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		var le *ldap.Error
		if !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultBusy {
			return nil, err
		}
	}
}
