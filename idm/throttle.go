package idm

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ThrottleConfig bounds how fast one account or one client address can
// guess credentials. After Free failures in a row, each further failure
// locks the key for Base, 2*Base, 4*Base ... up to Max; a bind during the
// lock is refused with the ordinary invalidCredentials answer, before any
// password hash is computed. A successful bind clears the account's count;
// a key forgets its failures once it has been quiet for ForgetAfter.
//
// The state is in memory and bounded by MaxKeys: when full, expired keys
// are pruned first, then the key closest to expiry is dropped.
type ThrottleConfig struct {
	// Disabled turns throttling off (tests of other features only).
	Disabled bool
	// FreeAccount and FreeAddress are the failures allowed before back-off
	// starts, per account and per client address (defaults 5 and 20: many
	// users may share one NAT address).
	FreeAccount, FreeAddress int
	// Base is the first lock (default 1 s); Max caps it (default 5 min).
	Base, Max time.Duration
	// ForgetAfter clears a key quiet for this long (default 15 min).
	ForgetAfter time.Duration
	// MaxKeys bounds the number of tracked accounts and addresses
	// (default 10000).
	MaxKeys int
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	if c.FreeAccount <= 0 {
		c.FreeAccount = 5
	}
	if c.FreeAddress <= 0 {
		c.FreeAddress = 20
	}
	if c.Base <= 0 {
		c.Base = time.Second
	}
	if c.Max <= 0 {
		c.Max = 5 * time.Minute
	}
	if c.ForgetAfter <= 0 {
		c.ForgetAfter = 15 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 10000
	}
	return c
}

// throttle tracks failed binds per key ("acct:DN" or "addr:IP").
type throttle struct {
	cfg  ThrottleConfig
	now  func() time.Time
	mu   sync.Mutex
	keys map[string]*throttleState
	// tracked is len(keys), readable without mu: while it is zero nothing
	// is locked, and a bind need not even work out its address key.
	tracked atomic.Int64
}

type throttleState struct {
	failures int
	last     time.Time // last failure
	until    time.Time // locked until
}

func newThrottle(cfg ThrottleConfig, now func() time.Time) *throttle {
	return &throttle{cfg: cfg.withDefaults(), now: now, keys: map[string]*throttleState{}}
}

func accountKey(dn string) string { return "acct:" + strings.ToLower(dn) }
func addressKey(ip string) string { return "addr:" + ip }

// idle reports that no key is tracked (or throttling is off), so that no
// key can be locked.
func (t *throttle) idle() bool { return t.cfg.Disabled || t.tracked.Load() == 0 }

// locked reports the first of keys that is locked now, and until when.
func (t *throttle) locked(keys ...string) (string, time.Time, bool) {
	if t.cfg.Disabled {
		return "", time.Time{}, false
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if k == "" {
			continue
		}
		if st, ok := t.keys[k]; ok && now.Before(st.until) {
			return k, st.until, true
		}
	}
	return "", time.Time{}, false
}

// fail records a failed bind against each key.
func (t *throttle) fail(keys ...string) {
	if t.cfg.Disabled {
		return
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() { t.tracked.Store(int64(len(t.keys))) }()
	for _, k := range keys {
		if k == "" {
			continue
		}
		st, ok := t.keys[k]
		if ok && now.Sub(st.last) > t.cfg.ForgetAfter {
			ok = false
		}
		if !ok {
			t.makeRoom(now)
			st = &throttleState{}
			t.keys[k] = st
		}
		st.failures++
		st.last = now
		free := t.cfg.FreeAccount
		if strings.HasPrefix(k, "addr:") {
			free = t.cfg.FreeAddress
		}
		if over := st.failures - free; over > 0 {
			d := t.cfg.Max
			if over <= 30 {
				d = min(t.cfg.Base<<(over-1), t.cfg.Max)
			}
			st.until = now.Add(d)
		}
	}
}

// succeed clears an account's failures after a successful bind.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	delete(t.keys, key)
	t.tracked.Store(int64(len(t.keys)))
	t.mu.Unlock()
}

// makeRoom keeps the map under MaxKeys (mu held).
func (t *throttle) makeRoom(now time.Time) {
	if len(t.keys) < t.cfg.MaxKeys {
		return
	}
	for k, st := range t.keys {
		if now.After(st.until) && now.Sub(st.last) > t.cfg.ForgetAfter {
			delete(t.keys, k)
		}
	}
	for len(t.keys) >= t.cfg.MaxKeys {
		var victim string
		var soonest time.Time
		for k, st := range t.keys {
			if victim == "" || st.until.Before(soonest) {
				victim, soonest = k, st.until
			}
		}
		delete(t.keys, victim)
	}
}

// size reports the number of tracked keys (tests).
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

type clientAddrKey struct{}

// WithClientAddr returns ctx carrying the client's network address
// (host:port or a bare host), which Bind uses to throttle guessing per
// client address.
func WithClientAddr(ctx context.Context, addr net.Addr) context.Context {
	if addr == nil {
		return ctx
	}
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

// hostOf returns the host an address key names, for logs.
func hostOf(addrKey string) string { return strings.TrimPrefix(addrKey, "addr:") }

// clientAddrOf returns the address key of ctx's client, "" if unknown or
// the owner-only admin socket (one local user).
func clientAddrOf(ctx context.Context) string {
	addr, ok := ctx.Value(clientAddrKey{}).(net.Addr)
	if !ok || addr.Network() == "unix" {
		return ""
	}
	host := addr.String()
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "" {
		return ""
	}
	return addressKey(host)
}
