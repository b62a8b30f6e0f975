//go:build cluster

package clustertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/directory/etcdstore/etcdtest"
)

// envBig names the number of entries of TestViewAtScale; unset, the test
// is skipped (100,000 entries take minutes to write into etcd):
//
//	LDAPD_CLUSTER_BIG=100000 go test -tags cluster -count=1 -v -run TestViewAtScale -timeout 30m ./internal/clustertest/
const envBig = "LDAPD_CLUSTER_BIG"

// bigUser is a typical inetOrgPerson/posixAccount of about 400 bytes
// (storetest's benchmark user).
func bigUser(i int) *directory.Entry {
	uid := fmt.Sprintf("user%06d", i)
	e := directory.NewEntry(directory.MustParseDN("uid=" + uid + "," + people))
	e.Set("objectClass", "top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount")
	e.Set("uid", uid)
	e.Set("cn", "User "+uid)
	e.Set("sn", "Number "+uid)
	e.Set("givenName", "User")
	e.Set("mail", uid+"@example.com")
	e.Set("uidNumber", strconv.Itoa(10000+i))
	e.Set("gidNumber", "100")
	e.Set("homeDirectory", "/home/"+uid)
	e.Set("description", "benchmark user "+uid)
	e.Set("userPassword", "{ARGON2}$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$aGFzaGhhc2hoYXNo")
	return e
}

// populate adds the base, ou=people and n users, per entries per Update.
func populate(t *testing.T, s directory.Store, n, per int) {
	ctx := context.Background()
	err := s.Update(ctx, func(tx directory.WriteTx) error {
		b := directory.NewEntry(directory.MustParseDN(base))
		b.Set("objectClass", "top", "domain")
		b.Set("dc", "idm")
		if err := tx.Add(b); err != nil {
			return err
		}
		p := directory.NewEntry(directory.MustParseDN(people))
		p.Set("objectClass", "top", "organizationalUnit")
		p.Set("ou", "people")
		return tx.Add(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < n; start += per {
		err := s.Update(ctx, func(tx directory.WriteTx) error {
			for i := start; i < min(start+per, n); i++ {
				if err := tx.Add(bigUser(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("populate at %d: %v", start, err)
		}
	}
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rss is this process's resident set, from /proc.
func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestViewAtScale: a node started while the cluster holds n entries, its
// time to ready (Open loads the view) and the view's memory, next to the
// same entries in bbolt (file size, and the resident memory a full scan
// of it adds).
func TestViewAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(envBig))
	if n <= 0 {
		t.Skip("set " + envBig + "=100000 to run")
	}
	c := etcdtest.Start(t, 3, etcdtest.Options{MaxTxnOps: maxTxnOps, MaxRequestBytes: 8 << 20, Subprocess: true})
	ctx := context.Background()
	writer, err := etcdstore.Open(ctx, c.Client(t), etcdstore.Options{MaxTxnOps: maxTxnOps, MaxTxnBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	start := time.Now()
	populate(t, writer, n, maxTxnOps/64)
	t.Logf("populated etcd with %d entries in %v", n, time.Since(start).Round(time.Second))

	before := heapInUse()
	start = time.Now()
	view, err := etcdstore.Open(ctx, c.Client(t), etcdstore.Options{MaxTxnOps: maxTxnOps, Consistency: etcdstore.Local})
	if err != nil {
		t.Fatal(err)
	}
	ready := time.Since(start)
	defer view.Close()
	heap := heapInUse() - before
	st, _ := view.(interface {
		ViewStats() (etcdstore.ViewStats, bool)
	}).ViewStats()
	t.Logf("FIGURE view at %d entries: node ready (view loaded) in %v; %d keys; Go heap %d MiB (estimate %d MiB, %.0f bytes/entry)",
		n, ready.Round(time.Millisecond), st.Keys, heap>>20, st.Bytes>>20, float64(heap)/float64(n))

	path := filepath.Join(t.TempDir(), "ldapd.db")
	bolt, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	populate(t, bolt, n, 1000)
	bolt.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	bolt, err = boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bolt.Close()
	r0 := rss(t)
	all, _ := directory.ParseFilter("(objectClass=*)", directory.Builtin())
	seen := 0
	if err := bolt.View(ctx, func(tx directory.ReadTx) error {
		return tx.Search(directory.MustParseDN(base), directory.ScopeSub, all, func(*directory.Entry) error { seen++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("FIGURE bbolt at %d entries: file %d MiB; a full scan adds %d MiB of resident memory (%d entries read)",
		n, fi.Size()>>20, (rss(t)-r0)>>20, seen)
}
