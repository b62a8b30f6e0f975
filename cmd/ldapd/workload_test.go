package main

// A write workload whose every acknowledged write is recorded, and the
// check that a data directory holds all of them, none half-applied.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
)

// ledger records acknowledged writes. A group's description and
// businessCategory are always written together, in one Add or one Modify,
// with the same value: seeing them differ means a half-applied write.
type ledger struct {
	mu      sync.Mutex
	added   map[string]bool // DN -> acknowledged
	version map[string]int  // DN -> last acknowledged modify version (0: the add's)
	acks    atomic.Int64
	tick    chan struct{} // nudged after each acknowledged write
}

func newLedger() *ledger {
	return &ledger{added: map[string]bool{}, version: map[string]int{}, tick: make(chan struct{}, 1)}
}

func (l *ledger) ack() {
	l.acks.Add(1)
	select {
	case l.tick <- struct{}{}:
	default:
	}
}

// waitAcks waits until n writes in all are acknowledged, or fails.
func (l *ledger) waitAcks(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for l.acks.Load() < n {
		select {
		case <-l.tick:
		case <-timer.C:
			t.Fatalf("only %d of %d writes acknowledged after %v", l.acks.Load(), n, within)
		}
	}
}

// snapshot returns the acknowledged adds and versions so far.
func (l *ledger) snapshot() (map[string]bool, map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := make(map[string]bool, len(l.added))
	v := make(map[string]int, len(l.version))
	for k := range l.added {
		a[k] = true
	}
	for k, n := range l.version {
		v[k] = n
	}
	return a, v
}

// writer adds groups and modifies them until the connection fails or stop
// closes. prefix makes its names unique across rounds.
func (l *ledger) writer(c *ldap.Conn, prefix string, stop <-chan struct{}) {
	var mine []string
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if i%3 == 2 && len(mine) > 0 {
			dn := mine[i%len(mine)]
			l.mu.Lock()
			next := l.version[dn] + 1
			l.mu.Unlock()
			v := fmt.Sprintf("v%d", next)
			m := ldap.NewModifyRequest(dn, nil)
			m.Replace("description", []string{v})
			m.Replace("businessCategory", []string{v})
			if err := c.Modify(m); err != nil {
				return
			}
			l.mu.Lock()
			l.version[dn] = next
			l.mu.Unlock()
			l.ack()
			continue
		}
		dn := groupDN(fmt.Sprintf("%s-%d", prefix, i))
		a := ldap.NewAddRequest(dn, nil)
		a.Attribute("objectClass", []string{"top", "groupOfNames"})
		a.Attribute("cn", []string{fmt.Sprintf("%s-%d", prefix, i)})
		a.Attribute("description", []string{"v0"})
		a.Attribute("businessCategory", []string{"v0"})
		if err := c.Add(a); err != nil {
			return
		}
		l.mu.Lock()
		l.added[dn], l.version[dn] = true, 0
		l.mu.Unlock()
		mine = append(mine, dn)
		l.ack()
	}
}

// checkData opens a stopped server's database and checks the ledger
// against it: every acknowledged add present, every entry's two attributes
// equal, each version the last acknowledged one or (for the single write
// in flight when the server died) one more; then Verify.
//
// With atLeast (a backup taken after the snapshot), later versions are
// fine too.
func checkData(t *testing.T, data string, added map[string]bool, version map[string]int, atLeast bool) {
	t.Helper()
	s, err := boltstore.Open(dbPath(data), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	f, err := directory.ParseFilter("(objectClass=groupOfNames)", directory.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	err = s.View(ctx, func(tx directory.ReadTx) error {
		return tx.Search(directory.MustParseDN(testBase), directory.ScopeSub, f, func(e *directory.Entry) error {
			if cn := e.Get("cn"); len(cn) != 1 || !strings.Contains(cn[0], "-w") {
				return nil // not the workload's (the built-in groups)
			}
			d, b := e.Get("description"), e.Get("businessCategory")
			if len(d) != 1 || len(b) != 1 || d[0] != b[0] {
				t.Errorf("%s half-applied: description %q, businessCategory %q", e.DN, d, b)
				return nil
			}
			found[strings.ToLower(e.DN.String())] = d[0]
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for dn := range added {
		got, ok := found[strings.ToLower(dn)]
		if !ok {
			lost++
			if lost < 5 {
				t.Errorf("acknowledged add of %s lost", dn)
			}
			continue
		}
		want := version[dn]
		var n int
		if _, err := fmt.Sscanf(got, "v%d", &n); err != nil || n < want || (!atLeast && n > want+1) {
			t.Errorf("%s has %s, last acknowledged v%d", dn, got, want)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged adds lost", lost, len(added))
	}
	if err := s.(interface{ Verify(context.Context) error }).Verify(ctx); err != nil {
		t.Errorf("verify: %v", err)
	}
}
