//go:build cluster

package clustertest

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
	"github.com/ldapd/ldapd/tokens"
)

// envBig names the number of people of TestViewAtScale; unset, the test is
// skipped (it takes minutes):
//
//	LDAPD_CLUSTER_BIG=100000 go test -tags cluster -count=1 -v -run TestViewAtScale -timeout 40m ./internal/clustertest/
const envBig = "LDAPD_CLUSTER_BIG"

// bigTxnOps is the --max-txn-ops of TestViewAtScale's cluster: `ldapd
// import --store etcd` writes --etcd-max-txn-ops/64 people per Txn, so 256
// here rather than 16 (the load is the slow part at 100k otherwise: one
// Raft round and fsync per 16 people took 9 minutes).
const (
	bigTxnOps   = 16384
	bigReqBytes = 8 << 20
)

// TestViewAtScale: n people (scripts/bench/genldif: inetOrgPerson with an
// {SSHA} password) are imported into etcd with `ldapd import --store
// etcd`; then an `ldapd serve --store etcd` process is started, and its
// time to ready (exec to /readyz 200: the view loaded) and resident memory
// are measured, next to an `ldapd serve` process over bbolt holding the
// same LDIF (imported with `ldapd import`), both before and after a full
// paged search through LDAP.
func TestViewAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(envBig))
	if n <= 0 {
		t.Skip("set " + envBig + "=100000 to run")
	}
	bin := buildLdapd(t)
	dir := t.TempDir()
	ldif := filepath.Join(dir, "people.ldif")
	f, err := os.Create(ldif)
	if err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("go", "run", "github.com/ldapd/ldapd/scripts/bench/genldif", "-n", strconv.Itoa(n))
	gen.Stdout, gen.Stderr = f, os.Stderr
	if err := gen.Run(); err != nil {
		t.Fatalf("genldif: %v", err)
	}
	f.Close()

	c := etcdtest.Start(t, 3, etcdtest.Options{MaxTxnOps: bigTxnOps, MaxRequestBytes: bigReqBytes, Subprocess: true})
	kek := make([]byte, tokens.KEKSize)
	_, _ = rand.Read(kek)
	ea := etcdArgs{endpoints: c.Endpoints(), kekFile: writeKEK(t, kek), maxTxnOps: bigTxnOps, maxRequestBytes: bigReqBytes}
	start := time.Now()
	runLdapd(t, bin, append(append([]string{"import", "--data", filepath.Join(dir, "import"), "--domain", domain}, ea.args()...), ldif)...)
	t.Logf("FIGURE load: %d people imported into etcd (3 members, fsync on) in %v by ldapd import --store etcd (%d per Txn)",
		n, time.Since(start).Round(time.Second), bigTxnOps/64)

	en := startProc(t, bin, "etcd-node", ea.args()...)
	keys, bytes := en.metric(t, "ldapd_etcd_view_keys"), en.metric(t, "ldapd_etcd_view_bytes")
	heap, _ := en.metricOK(t, "go_memstats_heap_inuse_bytes")
	t.Logf("FIGURE node over etcd at %d people: ready (exec to /readyz 200, view loaded) in %v; view %.0f keys, %d MiB (estimate); Go heap in use %d MiB; RSS %d MiB",
		n, en.ready.Round(time.Millisecond), keys, int64(bytes)>>20, int64(heap)>>20, en.status(t, "VmRSS")>>20)

	boltData := filepath.Join(dir, "bolt")
	start = time.Now()
	runLdapd(t, bin, "import", "--data", boltData, "--domain", domain, ldif)
	imported := time.Since(start)
	fi, err := os.Stat(filepath.Join(boltData, "ldapd.db"))
	if err != nil {
		t.Fatal(err)
	}
	bn := startProcIn(t, bin, "bolt-node", boltData)
	t.Logf("FIGURE node over bbolt at %d people (ldapd import %v): ready in %v; file %d MiB; RSS %d MiB",
		n, imported.Round(time.Second), bn.ready.Round(time.Millisecond), fi.Size()>>20, bn.status(t, "VmRSS")>>20)

	// A full read of the directory through each node: the bbolt node's
	// resident memory then includes every page of its file.
	for _, p := range []*proc{en, bn} {
		args := []string{"recover-account", "admin", "--data", p.data}
		if p == en {
			args = append(args, ea.args()...)
		}
		pw := strings.TrimSpace(runLdapd(t, bin, args...))
		conn, err := p.dial("admin", pw)
		if err != nil {
			t.Fatalf("bind on %s: %v", p.name, err)
		}
		start := time.Now()
		res, err := conn.SearchWithPaging(ldap.NewSearchRequest(people, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"*"}, nil), 1000)
		conn.Close()
		if err != nil {
			t.Fatalf("full search on %s: %v", p.name, err)
		}
		if len(res.Entries) < n {
			t.Fatalf("full search on %s: %d entries, want %d", p.name, len(res.Entries), n)
		}
		t.Logf("FIGURE %s after a full paged search (%d entries in %v): RSS %d MiB, peak %d MiB",
			p.name, len(res.Entries), time.Since(start).Round(time.Millisecond), p.status(t, "VmRSS")>>20, p.status(t, "VmHWM")>>20)
	}
}
