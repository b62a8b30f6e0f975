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
