package stacktest_test

// Disk full and write errors (issue #5): a Store wrapper fails chosen
// commits the way bbolt does when its write or fsync fails (the
// transaction is rolled back and Update returns the error). The client
// must get an error, never success, and the store must stay consistent
// and keep serving.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/ldaptest"
	"github.com/ldapd/ldapd/password"
)

// failingStore fails every commit whose number is in fail (counted from
// when armed), after fn ran, so the rollback undoes real work.
type failingStore struct {
	directory.Store
	armed  atomic.Bool
	n      atomic.Int64
	fail   func(n int64) bool
	failed atomic.Int64
}

func (f *failingStore) Update(ctx context.Context, fn func(directory.WriteTx) error) error {
	return f.Store.Update(ctx, func(tx directory.WriteTx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if f.armed.Load() && f.fail(f.n.Add(1)) {
			f.failed.Add(1)
			return fmt.Errorf("commit: write ldapd.db: %w", syscall.ENOSPC)
		}
		return nil
	})
}

func TestFailedCommits(t *testing.T) {
	bs := stacktest.OpenStore(t)
	rng := rand.New(rand.NewPCG(7, 7)) // one writer: fail is called serially
	fs := &failingStore{Store: bs, fail: func(int64) bool { return rng.IntN(4) == 0 }}
	svc := stacktest.NewService(t, idm.Config{Store: fs, Logger: zerolog.Nop(),
		Hasher: password.NewHasher(password.TestParams(), nil, 0), Extensions: gateway.Extensions(), Controls: gateway.Controls()})
	ctx := context.Background()
	pw, err := svc.RecoverAccount(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	srv := ldaptest.NewServer(t, &ldapserver.Server{Handler: &gateway.Gateway{IDM: svc}, Controls: gateway.Controls(), Logger: zerolog.Nop()})
	c := srv.Dial(t)
	if err := c.Bind("admin", pw); err != nil {
		t.Fatal(err)
	}
	fs.armed.Store(true)

	const n = 60
	ok := map[string]bool{}
	for i := range n {
		dn := fmt.Sprintf("cn=fault-%d,ou=groups,%s", i, stacktest.Base)
		a := ldap.NewAddRequest(dn, nil)
		a.Attribute("objectClass", []string{"top", "groupOfNames"})
		a.Attribute("cn", []string{fmt.Sprintf("fault-%d", i)})
		a.Attribute("description", []string{"v0"})
		err := c.Add(a)
		if err != nil && stacktest.ResultCode(err) != ldap.LDAPResultOther {
			t.Fatalf("add %s: %v, want success or other (80)", dn, err)
		}
		ok[dn] = err == nil
		if err != nil && stacktest.ResultCode(err) == 0 {
			t.Fatalf("add %s: %v without a result code", dn, err)
		}
		// Modify the entry: a failed commit must leave the old value.
		if err == nil {
			m := ldap.NewModifyRequest(dn, nil)
			m.Replace("description", []string{"v1"})
			if merr := c.Modify(m); merr == nil {
				ok[dn+"#v1"] = true
			}
		}
	}
	fs.armed.Store(false)
	failedAdds, failedMods := 0, 0
	err = bs.View(ctx, func(tx directory.ReadTx) error {
		for i := range n {
			dn := fmt.Sprintf("cn=fault-%d,ou=groups,%s", i, stacktest.Base)
			e, err := tx.Get(directory.MustParseDN(dn))
			switch {
			case !ok[dn]:
				failedAdds++
				if err == nil {
					t.Errorf("%s: the Add was answered with an error but the entry exists", dn)
				}
			case err != nil:
				t.Errorf("%s: the Add was acknowledged but the entry is missing: %v", dn, err)
			default:
				want := "v0"
				if ok[dn+"#v1"] {
					want = "v1"
				} else {
					failedMods++
				}
				if got := e.Get("description"); len(got) != 1 || got[0] != want {
					t.Errorf("%s: description %q, want %q", dn, got, want)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if failedAdds == 0 || fs.failed.Load() < 10 {
		t.Fatalf("only %d commits failed (%d adds): the failpoint did not fire", fs.failed.Load(), failedAdds)
	}
	if err := bs.(interface{ Verify(context.Context) error }).Verify(ctx); err != nil {
		t.Fatalf("store inconsistent after failed commits: %v", err)
	}
	// The server still serves writes.
	a := ldap.NewAddRequest("cn=after-faults,ou=groups,"+stacktest.Base, nil)
	a.Attribute("objectClass", []string{"top", "groupOfNames"})
	a.Attribute("cn", []string{"after-faults"})
	if err := c.Add(a); err != nil {
		t.Fatalf("add after the faults: %v", err)
	}
	if failedMods == 0 {
		t.Fatal("no modify failed: the failpoint missed modifies")
	}
	t.Logf("%d commits failed (%d of %d adds, %d modifies): every one answered with an error, none applied, store consistent",
		fs.failed.Load(), failedAdds, n, failedMods)
}
