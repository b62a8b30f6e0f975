package idm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"time"
)

// ThrottleConfig bounds how fast credentials can be guessed, without
// letting one party's failures lock anybody else out. Three counters:
//
//   - Per (client address, account) pair: PairFree failures are free; each
//     further one refuses that pair for PairBase, 2*PairBase ... up to
//     PairMax, before any hash is computed. Only this pair is refused: the
//     owner binds from any other address, other accounts bind from this
//     one. A success clears the pair.
//   - Per account, across all addresses: after AccountFree failures each
//     check of that account's password waits AccountMaxDelay/8, doubling
//     up to AccountMaxDelay (a stranger can slow the owner down by at most
//     that, never lock them out). A success does not clear it: it is
//     forgotten after ForgetAfter without failures.
//   - Per client address (IPv6: per /64): failed password checks are
//     charged to a bucket that refills AddressRate per second and holds
//     AddressBurst. Over budget, a password bind waits its turn (at most
//     MaxWait) before its hash is computed; a success refunds its charge.
//     Only when more than MaxWait of failures are already queued (a flood
//     of concurrent guesses) is a bind from that address refused unchecked.
//
// API tokens are verified before any of this: a token that verifies is
// never delayed or refused; a failed one is charged to its address's own
// token bucket (same rate) and its answer delayed by at most MaxWait.
//
// Waits sleep in the request's goroutine, under its context, before a
// hash slot is taken. The state is in memory and bounded by MaxKeys: when
// full, forgotten keys are pruned first, then the key whose state ends
// soonest is dropped, a pair being refused last.
type ThrottleConfig struct {
	// Disabled turns throttling off (tests of other features only).
	Disabled bool
	// PairFree is the failures one address may make against one account
	// before the pair is refused (default 5).
	PairFree int
	// PairBase is the first refusal (default 1 s); PairMax caps the
	// doubling (default 5 min).
	PairBase, PairMax time.Duration
	// AccountFree is the failures against one account, from all
	// addresses, before its checks are delayed (default 10).
	AccountFree int
	// AccountMaxDelay caps that delay (default 1 s).
	AccountMaxDelay time.Duration
	// AddressRate is the failed checks per second one address may sustain
	// (default 2); AddressBurst is how many it may make at once (default 20).
	AddressRate  float64
	AddressBurst int
	// MaxWait is the longest a bind waits for its address's turn (default
	// 2 s).
	MaxWait time.Duration
	// ForgetAfter clears a pair or account quiet for this long (default
	// 15 min).
	ForgetAfter time.Duration
	// MaxKeys bounds the number of tracked pairs, accounts and addresses
	// (default 10000).
	MaxKeys int
	// Sleep waits d or until ctx is done, whichever is first, and returns
	// ctx.Err() in the second case; nil: a timer. Tests with a fake clock
	// pass one that advances it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	if c.PairFree <= 0 {
		c.PairFree = 5
	}
	if c.PairBase <= 0 {
		c.PairBase = time.Second
	}
	if c.PairMax <= 0 {
		c.PairMax = 5 * time.Minute
	}
	if c.AccountFree <= 0 {
		c.AccountFree = 10
	}
	if c.AccountMaxDelay <= 0 {
		c.AccountMaxDelay = time.Second
	}
	if c.AddressRate <= 0 {
		c.AddressRate = 2
	}
	if c.AddressBurst <= 0 {
		c.AddressBurst = 20
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 2 * time.Second
	}
	if c.ForgetAfter <= 0 {
		c.ForgetAfter = 15 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10000
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// throttle tracks failed credential checks per key: "pair:ADDR|ACCOUNT",
// "acct:ACCOUNT", "addr:ADDR" (password checks) and "tok:ADDR" (tokens).
type throttle struct {
	cfg ThrottleConfig
	now func() time.Time
	// interval is the time one failure costs an address: 1/AddressRate.
	interval time.Duration
	mu       sync.Mutex
	keys     map[string]*throttleState
}

// throttleState is one key's record. Pairs use failures and until,
// accounts failures, addresses tat only.
type throttleState struct {
	failures int
	last     time.Time // last failure
	until    time.Time // a pair is refused until then
	// tat is the address bucket's "theoretical arrival time" (GCRA): the
	// bucket is empty up to now+burst*interval, and a charge moves it one
	// interval on.
	tat time.Time
	// checking holds a token per password check of this address in
	// flight (MaxChecking at most): a flood of simultaneous checks waits
	// here for its turn instead of all being checked before the first
	// failure is charged.
	checking chan struct{}
}

// ends is when the state stops mattering: no refusal, no debt, and (for
// counted failures) forgotten.
func (st *throttleState) ends(forget time.Duration) time.Time {
	end := st.until
	if st.tat.After(end) {
		end = st.tat
	}
	if st.failures > 0 && st.last.Add(forget).After(end) {
		end = st.last.Add(forget)
	}
	return end
}

func newThrottle(cfg ThrottleConfig, now func() time.Time) *throttle {
	cfg = cfg.withDefaults()
	return &throttle{cfg: cfg, now: now, keys: map[string]*throttleState{},
		interval: time.Duration(float64(time.Second) / cfg.AddressRate)}
}

func accountKey(acct string) string { return "acct:" + accountID(acct) }

// accountID is a fixed-size name for an account or bind name in the
// throttle's keys: a client chooses unknown bind names, up to the request
// size limit, and the throttle keeps up to MaxKeys of them.
func accountID(acct string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(acct)))
	return hex.EncodeToString(sum[:16])
}

// attempt is one password check the throttle let through; the caller
// reports its outcome with succeed or fail.
type attempt struct {
	t                *throttle
	pair, acct, addr string
	checking         chan struct{} // the address's checks in flight, while this one holds a turn
	// waited is how long the check waited for its turn (for logs).
	waited time.Duration
}

// throttled is the reason a check was refused unchecked, for the log.
type throttled string

func (e throttled) Error() string { return "throttled after repeated failures (" + string(e) + ")" }

// admit lets a password check for acct (an account DN or bind name) from
// addr (an address key, "" if unknown) proceed, after waiting its turn,
// or refuses it (throttled) before any hash is computed. It returns
// ctx.Err() if ctx ends while waiting.
func (t *throttle) admit(ctx context.Context, addr, acct string) (*attempt, error) {
	a := &attempt{t: t, acct: accountKey(acct)}
	if t.cfg.Disabled {
		return a, nil
	}
	if addr != "" {
		a.addr, a.pair = "addr:"+addr, "pair:"+addr+"|"+accountID(acct)
	}
	now := t.now()
	t.mu.Lock()
	if st, ok := t.keys[a.pair]; ok && now.Before(st.until) {
		t.mu.Unlock()
		return nil, throttled("this account from this address, until " + st.until.UTC().Format("15:04:05"))
	}
	var wait time.Duration
	if st, ok := t.keys[a.acct]; ok && now.Sub(st.last) <= t.cfg.ForgetAfter {
		wait = t.accountDelay(st.failures)
	}
	var checking chan struct{}
	if a.addr != "" {
		st := t.keys[a.addr]
		turn := t.addressWait(st, now)
		if turn > t.cfg.MaxWait {
			t.mu.Unlock()
			return nil, throttled("too many failures queued from this address")
		}
		if st == nil {
			st = t.add(a.addr, now)
		}
		if st.checking == nil {
			st.checking = make(chan struct{}, maxChecking)
		}
		checking = st.checking
		wait = max(wait, turn)
	}
	t.mu.Unlock()
	if wait > 0 {
		if err := t.cfg.Sleep(ctx, wait); err != nil {
			return nil, err
		}
		a.waited = wait
	}
	// Only failures are charged to the address (fail), so that correct
	// logins from one busy host never count against it; the checks in
	// flight are bounded instead, so that a flood of simultaneous guesses
	// is charged as it fails, a few at a time.
	if checking != nil {
		select {
		case checking <- struct{}{}:
			a.checking = checking
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return a, nil
}

// maxChecking bounds the password checks of one address in flight at
// once: as many as the hash slots can run, and a few waiting.
const maxChecking = 8

// accountDelay is the wait an account's failure count imposes.
func (t *throttle) accountDelay(failures int) time.Duration {
	over := failures - t.cfg.AccountFree
	if over <= 0 {
		return 0
	}
	return min(t.cfg.AccountMaxDelay>>3<<min(over-1, 3), t.cfg.AccountMaxDelay)
}

// addressWait is how long a check from an address must wait for budget
// (0: it has some); st may be nil.
func (t *throttle) addressWait(st *throttleState, now time.Time) time.Duration {
	if st == nil || !st.tat.After(now) {
		return 0 // an empty bucket (a zero tat must not reach Sub: it saturates)
	}
	return max(st.tat.Sub(now)-time.Duration(t.cfg.AddressBurst-1)*t.interval, 0)
}

// succeed records a correct password: the pair is cleared and the address
// gets its charge back.
func (a *attempt) succeed() {
	a.release()
	if a.pair != "" {
		a.t.mu.Lock()
		delete(a.t.keys, a.pair)
		a.t.mu.Unlock()
	}
}

// release ends the check's turn among its address's checks in flight.
func (a *attempt) release() {
	if a.checking != nil {
		<-a.checking
		a.checking = nil
	}
}

// fail records a wrong password (or no usable account): the address is
// charged one interval, the pair and the account count one more failure.
func (a *attempt) fail() {
	a.release()
	t := a.t
	if t.cfg.Disabled {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if a.addr != "" {
		st, ok := t.keys[a.addr]
		if !ok {
			st = t.add(a.addr, now)
		}
		st.tat = later(st.tat, now).Add(t.interval)
	}
	for _, k := range []string{a.pair, a.acct} {
		if k == "" {
			continue
		}
		st, ok := t.keys[k]
		if !ok || now.Sub(st.last) > t.cfg.ForgetAfter {
			if !ok {
				st = t.add(k, now)
			}
			st.failures = 0
		}
		st.failures++
		st.last = now
		if over := st.failures - t.cfg.PairFree; k == a.pair && over > 0 {
			d := t.cfg.PairMax
			if over <= 30 {
				d = min(t.cfg.PairBase<<(over-1), t.cfg.PairMax)
			}
			st.until = now.Add(d)
		}
	}
}

// tokenFailed charges a failed token bind to its address's token bucket
// and waits its turn, at most MaxWait; a token that verifies never comes
// here. Past MaxWait of queued failures nothing more is charged, so a
// flood of bad tokens ends MaxWait after it stops.
func (t *throttle) tokenFailed(ctx context.Context, addr string) time.Duration {
	if t.cfg.Disabled || addr == "" {
		return 0
	}
	k := "tok:" + addr
	now := t.now()
	t.mu.Lock()
	st := t.keys[k]
	wait := t.addressWait(st, now)
	if wait <= t.cfg.MaxWait {
		if st == nil {
			st = t.add(k, now)
		}
		st.tat = later(st.tat, now).Add(t.interval)
	}
	t.mu.Unlock()
	wait = min(wait, t.cfg.MaxWait)
	if wait > 0 {
		_ = t.cfg.Sleep(ctx, wait)
	}
	return wait
}

// add makes a new state for key (mu held), keeping the map under MaxKeys.
func (t *throttle) add(key string, now time.Time) *throttleState {
	if len(t.keys) >= t.cfg.MaxKeys {
		for k, st := range t.keys {
			if st.ends(t.cfg.ForgetAfter).Before(now) {
				delete(t.keys, k)
			}
		}
	}
	for len(t.keys) >= t.cfg.MaxKeys {
		// The victim is a key refusing nothing now, if any, whose state
		// ends soonest: a refused pair is the last to go.
		var victim string
		var vRefusing bool
		var vEnd time.Time
		for k, st := range t.keys {
			refusing, end := now.Before(st.until), st.ends(t.cfg.ForgetAfter)
			if victim == "" || (!refusing && vRefusing) || (refusing == vRefusing && end.Before(vEnd)) {
				victim, vRefusing, vEnd = k, refusing, end
			}
		}
		delete(t.keys, victim)
	}
	st := &throttleState{}
	t.keys[key] = st
	return st
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// size reports the number of tracked keys (tests).
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the client's network address
// (host:port or a bare host), which Bind and PasswordModify use to
// throttle guessing per client address.
func WithClientAddr(ctx context.Context, addr net.Addr) context.Context {
	if addr == nil {
		return ctx
	}
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// clientAddrOf returns the throttle's name for ctx's client: its IPv4
// address, or the /64 of its IPv6 address (one host usually holds a whole
// /64); "" if unknown or the owner-only admin socket (one local user).
func clientAddrOf(ctx context.Context) string {
	addr, ok := ctx.Value(clientAddrKey{}).(net.Addr)
	if !ok || addr.Network() == "unix" {
		return ""
	}
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.To4() != nil:
		return ip.To4().String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}
