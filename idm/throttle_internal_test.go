package idm

import (
	"fmt"
	"testing"
	"time"
)

// TestThrottleBounded: a flood of distinct keys never grows the map past
// MaxKeys, and the keys still locked are the last to go.
func TestThrottleBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	th := newThrottle(ThrottleConfig{MaxKeys: 100, FreeAccount: 1}, func() time.Time { return now })
	th.fail(accountKey("victim"))
	th.fail(accountKey("victim")) // locked for 1 s
	for i := range 10000 {
		th.fail(addressKey(fmt.Sprintf("10.0.%d.%d", i/256, i%256)))
		if th.size() > 100 {
			t.Fatalf("after %d keys the throttle holds %d > 100", i+1, th.size())
		}
	}
	if _, _, ok := th.locked(accountKey("victim")); !ok {
		t.Error("a flood of unlocked keys evicted a locked one")
	}
	// The back-off is capped.
	for range 100 {
		th.fail(accountKey("victim"))
	}
	_, until, _ := th.locked(accountKey("victim"))
	if got := until.Sub(now); got != 5*time.Minute {
		t.Errorf("lock after 100 failures = %v, want the 5m cap", got)
	}
}

// TestThrottleIdle: binds skip working out their address key only while
// nothing at all is tracked.
func TestThrottleIdle(t *testing.T) {
	th := newThrottle(ThrottleConfig{}, time.Now)
	if !th.idle() {
		t.Fatal("a new throttle is not idle")
	}
	th.fail(accountKey("uid=a"), addressKey("192.0.2.1"))
	if th.idle() {
		t.Fatal("idle while two keys are tracked")
	}
	th.succeed(accountKey("uid=a"))
	if th.idle() {
		t.Fatal("idle while the address is still tracked")
	}
	th.succeed(addressKey("192.0.2.1"))
	if !th.idle() {
		t.Fatal("not idle once every key is cleared")
	}
	off := newThrottle(ThrottleConfig{Disabled: true}, time.Now)
	off.fail("x")
	if !off.idle() {
		t.Fatal("a disabled throttle is not idle")
	}
}
