package idm_test

// A repeated correct password bind is answered from a cache of successful
// verifications (docs/security.md "Repeated password
// binds"); a first bind, a wrong password and a bind after any change to
// the account are full verifications.

import (
	"context"
	"crypto/sha1" //nolint:gosec // {SSHA} is the legacy scheme under test
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// person adds uid=name under ou=people with password pw, as root.
func person(t *testing.T, s *stacktest.Stack, name, pw string) directory.DN {
	t.Helper()
	dn := "uid=" + name + ",ou=people," + stacktest.Base
	addAsRoot(t, s, dn, "objectClass", "inetOrgPerson", "cn", name, "sn", name, "uid", name, "userPassword", pw)
	return directory.MustParseDN(dn)
}

// bindCost binds as name with pw and returns the full verifications the
// bind made, failing the test unless the bind's outcome is want (true:
// success).
func bindCost(t *testing.T, s *stacktest.Stack, name, pw string, want bool) int64 {
	t.Helper()
	before := idm.PasswordVerifications(s.IDM)
	id, err := s.IDM.Bind(context.Background(), name, []byte(pw))
	switch {
	case want && err != nil:
		t.Fatalf("bind as %s: %v; want success", name, err)
	case !want && !errors.Is(err, directory.ErrInvalidCredentials):
		t.Fatalf("bind as %s with %q: identity %v, error %v; want invalidCredentials", name, pw, id, err)
	}
	return idm.PasswordVerifications(s.IDM) - before
}

func TestRepeatedBindUsesCache(t *testing.T) {
	f := newFixture(t)
	dn := person(t, f.s, "carol", "carol-pw-1")
	if n := bindCost(t, f.s, dn.String(), "carol-pw-1", true); n != 1 {
		t.Fatalf("first bind made %d verifications, want 1", n)
	}
	for _, name := range []string{dn.String(), "carol", "carol@" + stacktest.Domain, "UID=Carol, OU=People, " + stacktest.Base} {
		if n := bindCost(t, f.s, name, "carol-pw-1", true); n != 0 {
			t.Errorf("repeated bind as %q made %d verifications, want 0 (cached)", name, n)
		}
	}
	// A wrong password after a cached success is a full verification, and
	// fails; the right one is still cached afterwards.
	for _, pw := range []string{"carol-pw-2", "carol-pw-1 ", "", "Carol-pw-1"} {
		if pw == "" {
			continue // an empty password is an unauthenticated bind, refused before any check
		}
		if n := bindCost(t, f.s, "carol", pw, false); n != 1 {
			t.Errorf("wrong password %q after a cached success made %d verifications, want 1", pw, n)
		}
	}
	if n := bindCost(t, f.s, "carol", "carol-pw-1", true); n != 0 {
		t.Errorf("correct bind after wrong guesses made %d verifications, want 0", n)
	}
	logs := f.s.Logs()
	if !containsAll(logs, `"cached":true`, `"cached":false`) {
		t.Errorf("bind-succeeded log lines do not say whether the cache answered:\n%s", logs)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestBindCacheDroppedOnChange(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// change alters the account; then binding as bindName with pw must
		// have outcome ok with a full verification (or none, if refused
		// before any: verifications is what it must cost).
		change        func(t *testing.T, f *fixture, dn directory.DN)
		bindName, pw  string
		ok            bool
		verifications int64
	}{
		{"password changed by the admin", func(t *testing.T, f *fixture, dn directory.DN) {
			if err := f.s.IDM.Modify(ctx, f.idmAdmin, dn, []directory.Change{{Op: directory.ChangeReplace, Attr: "userPassword", Values: []string{"dave-pw-2"}}}); err != nil {
				t.Fatal(err)
			}
		}, "dave", "dave-pw-1", false, 1},
		{"password changed, new one binds", func(t *testing.T, f *fixture, dn directory.DN) {
			pw := "dave-pw-2"
			if _, err := f.s.IDM.PasswordModify(ctx, f.idmAdmin, dn.String(), nil, &pw); err != nil {
				t.Fatal(err)
			}
		}, "dave", "dave-pw-2", true, 1},
		{"password set to the same value again (new salt)", func(t *testing.T, f *fixture, dn directory.DN) {
			pw := "dave-pw-1"
			if _, err := f.s.IDM.PasswordModify(ctx, f.idmAdmin, dn.String(), nil, &pw); err != nil {
				t.Fatal(err)
			}
		}, "dave", "dave-pw-1", true, 1},
		{"account disabled", func(t *testing.T, f *fixture, dn directory.DN) {
			if err := f.s.IDM.Modify(ctx, f.idmAdmin, dn, []directory.Change{{Op: directory.ChangeReplace, Attr: directory.AttrAccountDisabled, Values: []string{"TRUE"}}}); err != nil {
				t.Fatal(err)
			}
		}, "dave", "dave-pw-1", false, 1}, // the dummy verification
		{"account deleted", func(t *testing.T, f *fixture, dn directory.DN) {
			if err := f.s.IDM.Delete(ctx, f.idmAdmin, dn); err != nil {
				t.Fatal(err)
			}
		}, "dave", "dave-pw-1", false, 1},
		{"account deleted and added again with the same password", func(t *testing.T, f *fixture, dn directory.DN) {
			if err := f.s.IDM.Delete(ctx, f.idmAdmin, dn); err != nil {
				t.Fatal(err)
			}
			person(t, f.s, "dave", "dave-pw-1")
		}, "dave", "dave-pw-1", true, 1},
		{"account renamed", func(t *testing.T, f *fixture, dn directory.DN) {
			rdn := directory.NewRDN(directory.AVA{Type: "uid", Value: "david"})
			if err := f.s.IDM.Rename(ctx, f.idmAdmin, dn, rdn, true, nil); err != nil {
				t.Fatal(err)
			}
		}, "david", "dave-pw-1", true, 1},
		{"another attribute changed (modifyTimestamp, to the second)", func(t *testing.T, f *fixture, dn directory.DN) {
			f.s.Clock.Advance(time.Second)
			if err := f.s.IDM.Modify(ctx, f.idmAdmin, dn, []directory.Change{{Op: directory.ChangeReplace, Attr: "description", Values: []string{"moved to sales"}}}); err != nil {
				t.Fatal(err)
			}
		}, "dave", "dave-pw-1", true, 1},
		{"server restarted (as after ldapd restore)", func(t *testing.T, f *fixture, dn directory.DN) {
			f.s.Restart(t)
		}, "dave", "dave-pw-1", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			dn := person(t, f.s, "dave", "dave-pw-1")
			bindCost(t, f.s, "dave", "dave-pw-1", true)
			if n := bindCost(t, f.s, "dave", "dave-pw-1", true); n != 0 {
				t.Fatalf("second bind made %d verifications, want 0", n)
			}
			tc.change(t, f, dn)
			if n := bindCost(t, f.s, tc.bindName, tc.pw, tc.ok); n != tc.verifications {
				t.Errorf("bind after the change made %d verifications, want %d", n, tc.verifications)
			}
			if tc.ok {
				if n := bindCost(t, f.s, tc.bindName, tc.pw, true); n != 0 {
					t.Errorf("the bind after that made %d verifications, want 0 (cached again)", n)
				}
			}
		})
	}
}

func TestBindCacheReEnabled(t *testing.T) {
	// Disabling drops the record: re-enabling needs a full verification.
	ctx := context.Background()
	f := newFixture(t)
	dn := person(t, f.s, "erin", "erin-pw-1")
	bindCost(t, f.s, "erin", "erin-pw-1", true)
	set := func(v string) {
		t.Helper()
		if err := f.s.IDM.Modify(ctx, f.idmAdmin, dn, []directory.Change{{Op: directory.ChangeReplace, Attr: directory.AttrAccountDisabled, Values: []string{v}}}); err != nil {
			t.Fatal(err)
		}
	}
	set("TRUE")
	bindCost(t, f.s, "erin", "erin-pw-1", false)
	set("FALSE")
	if n := bindCost(t, f.s, "erin", "erin-pw-1", true); n != 1 {
		t.Errorf("bind after re-enabling made %d verifications, want 1", n)
	}
}

func TestBindCacheExpires(t *testing.T) {
	f := newFixture(t)
	person(t, f.s, "frank", "frank-pw-1")
	bindCost(t, f.s, "frank", "frank-pw-1", true)
	f.s.Clock.Advance(idm.DefaultPasswordCacheTTL - time.Second)
	if n := bindCost(t, f.s, "frank", "frank-pw-1", true); n != 0 {
		t.Fatalf("bind within the TTL made %d verifications, want 0", n)
	}
	f.s.Clock.Advance(2 * time.Second)
	if n := bindCost(t, f.s, "frank", "frank-pw-1", true); n != 1 {
		t.Errorf("bind past the TTL made %d verifications, want 1", n)
	}
	if n := bindCost(t, f.s, "frank", "frank-pw-1", true); n != 0 {
		t.Errorf("bind after re-verifying made %d verifications, want 0", n)
	}
}

func TestBindCacheConcurrent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const people = 8
	dns := make([]directory.DN, people)
	for i := range dns {
		dns[i] = person(t, f.s, fmt.Sprintf("p%d", i), fmt.Sprintf("p%d-pw", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				p := (g + i) % people
				_, err := f.s.IDM.Bind(ctx, fmt.Sprintf("p%d", p), []byte(fmt.Sprintf("p%d-pw", p)))
				if p == 0 {
					// p0's password changes while the others run: its old
					// password binds until then.
					if err != nil && !errors.Is(err, directory.ErrInvalidCredentials) {
						errs <- err
					}
					continue
				}
				if err != nil {
					errs <- fmt.Errorf("bind as p%d: %w", p, err)
				}
				if i%10 == 0 {
					if _, err := f.s.IDM.Bind(ctx, fmt.Sprintf("p%d", p), []byte("wrong")); err == nil {
						errs <- fmt.Errorf("p%d bound with a wrong password", p)
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		pw := "p0-new"
		if _, err := f.s.IDM.PasswordModify(ctx, f.idmAdmin, dns[0].String(), nil, &pw); err != nil {
			errs <- err
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// After the change the old password never binds, the new one does.
	bindCost(t, f.s, "p0", "p0-pw", false)
	bindCost(t, f.s, "p0", "p0-new", true)
}

// BenchmarkPasswordBind is a correct password bind with argon2id's default
// parameters, without the cache (every bind a full verification, as before
// it) and repeated with it.
func BenchmarkPasswordBind(b *testing.B) {
	for _, bc := range []struct {
		name string
		ttl  time.Duration
	}{{"uncached", -1}, {"repeated", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			// Info level, as shipped: the success is logged.
			svc := stacktest.NewService(b, idm.Config{Logger: zerolog.New(io.Discard), PasswordCacheTTL: bc.ttl})
			ctx := context.Background()
			pw, err := svc.RecoverAccount(ctx, "admin")
			if err != nil {
				b.Fatal(err)
			}
			name := "uid=admin,ou=people," + stacktest.Base
			if _, err := svc.Bind(ctx, name, []byte(pw)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := svc.Bind(ctx, name, []byte(pw)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A legacy hash is replaced with argon2id at the first bind; the cache
// remembers the new value, so the next bind is a hit.
func TestBindCacheAfterRehash(t *testing.T) {
	f := newFixture(t)
	salt := []byte("saltsalt")
	sum := sha1.Sum(append([]byte("gina-pw-1"), salt...))
	ssha := "{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...))
	dn := person(t, f.s, "gina", ssha)
	if n := bindCost(t, f.s, "gina", "gina-pw-1", true); n != 1 {
		t.Fatalf("first bind made %d verifications, want 1", n)
	}
	var stored []string
	err := f.s.Store.View(context.Background(), func(tx directory.ReadTx) error {
		e, err := tx.Get(dn)
		if err == nil {
			stored = e.Get("userPassword")
		}
		return err
	})
	if err != nil || len(stored) != 1 || !strings.HasPrefix(stored[0], "{ARGON2}") {
		t.Fatalf("stored password after the first bind: %v, %v; want one argon2id value", stored, err)
	}
	if n := bindCost(t, f.s, "gina", "gina-pw-1", true); n != 0 {
		t.Errorf("bind after the rehash made %d verifications, want 0 (cached)", n)
	}
	bindCost(t, f.s, "gina", "gina-pw-2", false)
}

// A cached password does not get past the throttle: once an address has
// guessed wrong too often for an account, the owner's correct (cached)
// password from that address is refused too, without a verification;
// from another address it binds from the cache.
func TestBindCacheBehindThrottle(t *testing.T) {
	f := newFixture(t)
	person(t, f.s, "hank", "hank-pw-1")
	from := func(ip string) context.Context {
		return idm.WithClientAddr(context.Background(), &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000})
	}
	bindFrom := func(ip, pw string) (int64, error) {
		before := idm.PasswordVerifications(f.s.IDM)
		_, err := f.s.IDM.Bind(from(ip), "hank", []byte(pw))
		return idm.PasswordVerifications(f.s.IDM) - before, err
	}
	if _, err := bindFrom("192.0.2.1", "hank-pw-1"); err != nil {
		t.Fatal(err)
	}
	for range 6 { // PairFree is 5: the sixth failure refuses the pair
		if _, err := bindFrom("192.0.2.66", "guess"); err == nil {
			t.Fatal("a wrong password bound")
		}
	}
	if n, err := bindFrom("192.0.2.66", "hank-pw-1"); !errors.Is(err, directory.ErrInvalidCredentials) || n != 0 {
		t.Errorf("correct cached password from the refused address: %v after %d verifications; want invalidCredentials, none", err, n)
	}
	if n, err := bindFrom("192.0.2.1", "hank-pw-1"); err != nil || n != 0 {
		t.Errorf("correct password from another address: %v after %d verifications; want success from the cache", err, n)
	}
}
