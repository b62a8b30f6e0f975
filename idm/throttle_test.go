package idm_test

// Guess throttling and bind timing: failures refuse only the (address,
// account) pair that made them, slow an account down by at most 1 s, and
// hold one address to 2 failed checks per second; a valid token is never
// throttled, a correct login waits at most 2 s, and a bind naming no
// account costs about what a wrong password costs. The stack's clock is
// the throttle's: its waits advance the clock instead of sleeping.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/password"
	"github.com/ldapd/ldapd/tokens"
)

func from(ip string) context.Context {
	return idm.WithClientAddr(context.Background(), &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000})
}

// bindAt binds from ctx and reports the error and how long the bind took
// on the stack's clock (the throttle's waits advance it).
func bindAt(s *stacktest.Stack, ctx context.Context, name, pw string) (time.Duration, error) {
	start := s.Clock.Now()
	_, err := s.IDM.Bind(ctx, name, []byte(pw))
	return s.Clock.Now().Sub(start), err
}

func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, directory.ErrInvalidCredentials) {
		t.Fatalf("%s: %v, want invalidCredentials", what, err)
	}
}

// people adds n people named prefix0... with password pw-NAME, as root.
func people(t *testing.T, s *stacktest.Stack, prefix string, n int) []string {
	t.Helper()
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		addAsRoot(t, s, "uid="+name+",ou=people,"+stacktest.Base, "objectClass", "inetOrgPerson", "cn", name, "sn", name,
			"uid", name, "userPassword", "pw-"+name)
		names = append(names, name)
	}
	return names
}

// TestThrottlePerPair: failures from one address against one account
// refuse that pair only, after 5 free failures, for 1 s doubling; the
// owner binds meanwhile from another address without delay, other
// accounts bind from the attacker's address, and a success clears the
// pair.
func TestThrottlePerPair(t *testing.T) {
	f := newFixture(t)
	s := f.s
	attacker, owner := from("192.0.2.1"), from("198.51.100.7")
	for i := range 5 { // the free failures
		if _, err := bindAt(s, attacker, "admin", "guess"); !errors.Is(err, directory.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	_, _ = bindAt(s, attacker, "admin", "guess") // the sixth refuses the pair for 1 s
	_, err := bindAt(s, attacker, "admin", s.AdminPW)
	wantInvalid(t, "the right password from the refused pair", err)
	if d, err := bindAt(s, owner, "admin", s.AdminPW); err != nil || d != 0 {
		t.Fatalf("owner from another address during the attack: %v after %v; want success at once", err, d)
	}
	if d, err := bindAt(s, attacker, "idm_admin", s.IDMAdminPW); err != nil || d != 0 {
		t.Fatalf("another account from the attacker's address: %v after %v", err, d)
	}
	// The refusal doubles with each further failure, and lifts after it.
	s.Clock.Advance(1100 * time.Millisecond)
	_, _ = bindAt(s, attacker, "uid=admin,ou=people,"+stacktest.Base, "guess") // the DN is the same account
	s.Clock.Advance(1100 * time.Millisecond)
	_, err = bindAt(s, attacker, "admin", s.AdminPW)
	wantInvalid(t, "1.1 s into a 2 s refusal", err)
	s.Clock.Advance(time.Second)
	if _, err := bindAt(s, attacker, "admin", s.AdminPW); err != nil {
		t.Fatalf("after the refusal: %v", err)
	}
	// The success cleared the pair: five free failures again.
	for i := range 5 {
		_, _ = bindAt(s, attacker, "admin", "guess")
		if _, err := bindAt(s, owner, "admin", s.AdminPW); err != nil {
			t.Fatalf("owner after %d new failures: %v", i+1, err)
		}
	}
	if _, err := bindAt(s, attacker, "admin", s.AdminPW); err != nil {
		t.Fatalf("after 5 failures since a success the pair is refused: %v", err)
	}
	logs := s.Logs()
	if !strings.Contains(logs, "throttled after repeated failures") || !strings.Contains(logs, `"client":"192.0.2.1"`) {
		t.Errorf("the log does not record the throttling with the client address:\n%s", logs)
	}
}

// TestThrottleStrangerCannotLockOwnerOut: a stranger's failures against
// an account, from one address or from a hundred, never lock its owner
// out elsewhere: the owner's bind is delayed by at most 1 s.
func TestThrottleStrangerCannotLockOwnerOut(t *testing.T) {
	f := newFixture(t)
	s := f.s
	owner := from("198.51.100.7")
	// One address, patiently: 40 rounds of guesses, each after its pair's
	// refusal has lifted.
	stranger := from("192.0.2.66")
	for range 40 {
		s.Clock.Advance(6 * time.Minute)
		_, _ = bindAt(s, stranger, "admin", "guess")
	}
	_, err := bindAt(s, stranger, "admin", s.AdminPW)
	wantInvalid(t, "the stranger's own pair, refused", err)
	if d, err := bindAt(s, owner, "admin", s.AdminPW); err != nil || d > time.Second {
		t.Fatalf("owner after 40 failures by one stranger: %v after %v; want success within 1 s", err, d)
	}
	// A hundred addresses, five guesses each.
	for i := range 100 {
		for range 5 {
			_, _ = bindAt(s, from(fmt.Sprintf("203.0.113.%d", i)), "admin", "guess")
		}
	}
	d, err := bindAt(s, owner, "admin", s.AdminPW)
	if err != nil || d > time.Second {
		t.Fatalf("owner after 540 strangers' failures: %v after %v; want success within 1 s", err, d)
	}
	t.Logf("owner's bind after 540 failures by strangers: delayed %v", d)
	if d == 0 {
		t.Errorf("no account delay at all after 540 failures: the per-account counter does nothing")
	}
}

// TestThrottleAppHost: an application host (one address) checks its
// users' passwords and binds with its own API token. Typos by many of its
// users never refuse its token, nor the next correct login, which waits
// at most its turn (2 s).
func TestThrottleAppHost(t *testing.T) {
	f := newFixture(t)
	s := f.s
	_, token, _ := f.serviceToken(t, "webmail", tokens.ReadOnly)
	app := from("192.0.2.80")
	users := people(t, s, "user", 40)
	// 30 typos by 30 users arriving at once (the clock stands still).
	for _, u := range users[:30] {
		_, err := bindAt(s, app, u, "typo")
		wantInvalid(t, "typo by "+u, err)
	}
	if d, err := bindAt(s, app, "dn=token", token); err != nil || d != 0 {
		t.Fatalf("the app's token after its users' typos: %v after %v; want success at once", err, d)
	}
	d, err := bindAt(s, app, users[35], "pw-"+users[35])
	if err != nil || d > 2*time.Second {
		t.Fatalf("a correct login from the app host after 30 typos: %v after %v; want success within 2 s", err, d)
	}
	t.Logf("correct login after 30 typos from the same host: waited %v", d)
	// A typo by the same user who then types it right: the success
	// refunds its charge, so it does not add up.
	for range 3 {
		_, _ = bindAt(s, app, users[36], "typo")
		if _, err := bindAt(s, app, users[36], "pw-"+users[36]); err != nil {
			t.Fatalf("user after a typo: %v", err)
		}
	}
	// 200 more typos, one after another: each waits its turn (2 per
	// second), the token never does, nor the next correct login more than
	// one turn.
	for i := range 200 {
		_, _ = bindAt(s, app, users[i%30], "typo")
	}
	if d, err := bindAt(s, app, "dn=token", token); err != nil || d != 0 {
		t.Fatalf("the app's token after 230 typos: %v after %v", err, d)
	}
	if d, err := bindAt(s, app, users[37], "pw-"+users[37]); err != nil || d > time.Second {
		t.Fatalf("a correct login after 230 typos: %v after %v; want success within 1 s", err, d)
	}
}

// TestThrottleSprayRate: one address spraying guesses over many names is
// held to 2 failed checks per second after a burst of 20, measured on the
// clock the throttle waits on.
func TestThrottleSprayRate(t *testing.T) {
	f := newFixture(t)
	s := f.s
	sprayer := from("203.0.113.9")
	start := s.Clock.Now()
	var after20 time.Time
	for i := range 100 {
		_, err := bindAt(s, sprayer, fmt.Sprintf("nobody%d", i), "Winter2026!")
		wantInvalid(t, "guess", err)
		if i == 19 {
			after20 = s.Clock.Now()
		}
	}
	burst, rest := after20.Sub(start), s.Clock.Now().Sub(after20)
	rate := 80 / rest.Seconds()
	t.Logf("100 guesses from one address: first 20 in %v, next 80 in %v (%.2f/s)", burst, rest, rate)
	if burst != 0 || rate > 2.01 {
		t.Errorf("first 20 took %v (want 0), then %.2f guesses/s (want at most 2)", burst, rate)
	}
	// Another address is unaffected.
	if d, err := bindAt(s, from("2001:db8::1"), "idm_admin", s.IDMAdminPW); err != nil || d != 0 {
		t.Fatalf("bind from another address: %v after %v", err, d)
	}
}

// TestThrottleTokens: bad tokens from an address are answered after their
// turn (at most 2 s) and never refuse a valid token from it.
func TestThrottleTokens(t *testing.T) {
	f := newFixture(t)
	s := f.s
	_, token, _ := f.serviceToken(t, "svc", tokens.ReadOnly)
	guesser := from("203.0.113.10")
	var longest time.Duration
	for range 100 {
		d, err := bindAt(s, guesser, "dn=token", token[:len(token)-2]+"xx")
		wantInvalid(t, "bad token", err)
		longest = max(longest, d)
	}
	if longest == 0 || longest > 2*time.Second {
		t.Errorf("longest wait of a bad token = %v, want within (0, 2 s]", longest)
	}
	if d, err := bindAt(s, guesser, "dn=token", token); err != nil || d != 0 {
		t.Fatalf("valid token from the guesser's address: %v after %v; want success at once", err, d)
	}
	// Bad tokens do not spend the address's password budget.
	if d, err := bindAt(s, guesser, "idm_admin", s.IDMAdminPW); err != nil || d != 0 {
		t.Fatalf("password bind from the token guesser's address: %v after %v", err, d)
	}
}

// TestBindTimingUniform: with a real (if small) argon2id cost, a bind
// naming no account takes about as long as a wrong password for a real
// one. The bound is coarse (a factor of 3 between minimums) so that it
// holds on a loaded CI machine, yet fails when the dummy verification is
// missing (the no-account path is then a hundred times faster).
func TestBindTimingUniform(t *testing.T) {
	svc := stacktest.NewService(t, idm.Config{Logger: zerolog.Nop(),
		Hasher:   password.NewHasher(password.Params{Memory: 4 * 1024, Time: 1, Threads: 1}, nil, 0),
		Throttle: idm.ThrottleConfig{Disabled: true}})
	ctx := context.Background()
	if _, err := svc.RecoverAccount(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	bind := func(name string) time.Duration {
		start := time.Now()
		if _, err := svc.Bind(ctx, name, []byte("wrong password")); !errors.Is(err, directory.ErrInvalidCredentials) {
			t.Fatalf("bind %s: %v", name, err)
		}
		return time.Since(start)
	}
	bind("nosuchuser") // warm up (the dummy hash is made on first use)
	// Interleaved, and the fastest of each: the machine's load (other
	// tests, other processes) then weighs on both alike, and only the
	// work itself sets the minimum.
	real, missing := time.Duration(1<<62), time.Duration(1<<62)
	for range 25 {
		real = min(real, bind("admin"))
		missing = min(missing, bind("nosuchuser"))
	}
	t.Logf("fastest bind: wrong password %v, no such account %v", real, missing)
	if ratio := float64(missing) / float64(real); ratio < 1.0/3 || ratio > 3 {
		t.Errorf("no-such-account bind takes %v, wrong password %v: ratio %.2f outside [1/3, 3]", missing, real, ratio)
	}
}

// TestThrottleAppRestart: an app host whose 64 workers all log their users
// in at once (after a restart) gets every correct login through: only
// failures are charged to the address, and the checks in flight wait for
// a turn instead of being refused.
func TestThrottleAppRestart(t *testing.T) {
	f := newFixture(t)
	s := f.s
	users := people(t, s, "worker", 64)
	app := from("192.0.2.80")
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.IDM.Bind(app, u, []byte("pw-"+u)); err != nil {
				errs <- fmt.Errorf("%s: %w", u, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("correct login refused during the restart: %v", err)
	}
}
