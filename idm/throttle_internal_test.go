package idm

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// stoppedClock is a clock that moves only when told, and a Sleep that
// records what it was asked to wait without waiting.
type stoppedClock struct {
	now    time.Time
	slept  []time.Duration
	tick   bool // Sleep advances now by the wait
	cancel bool // Sleep reports a cancelled context
}

func (c *stoppedClock) Now() time.Time { return c.now }

func (c *stoppedClock) Sleep(ctx context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	if c.cancel {
		return context.Canceled
	}
	if c.tick {
		c.now = c.now.Add(d)
	}
	return nil
}

func newTestThrottle(cfg ThrottleConfig) (*throttle, *stoppedClock) {
	c := &stoppedClock{now: time.Unix(1e9, 0)}
	cfg.Sleep = c.Sleep
	return newThrottle(cfg, c.Now), c
}

// TestThrottleBounded: a flood of distinct keys never grows the map past
// MaxKeys, and a pair still refused is the last to go.
func TestThrottleBounded(t *testing.T) {
	th, c := newTestThrottle(ThrottleConfig{MaxKeys: 100, PairFree: 1})
	ctx := context.Background()
	for range 2 {
		a, err := th.admit(ctx, "192.0.2.1", "uid=victim")
		if err != nil {
			t.Fatal(err)
		}
		a.fail()
	}
	if _, err := th.admit(ctx, "192.0.2.1", "uid=victim"); err == nil {
		t.Fatal("the pair is not refused after its free failure and one more")
	}
	for i := range 10000 {
		a, err := th.admit(ctx, fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), fmt.Sprintf("uid=u%d", i))
		if err != nil {
			t.Fatalf("key %d refused: %v", i, err)
		}
		a.fail()
		if th.size() > 100 {
			t.Fatalf("after %d keys the throttle holds %d > 100", i+1, th.size())
		}
	}
	if _, err := th.admit(ctx, "192.0.2.1", "uid=victim"); err == nil {
		t.Error("a flood of other keys evicted a refused pair")
	}
	// The pair's refusal doubles and is capped.
	c.now = c.now.Add(10 * time.Minute)
	for range 40 {
		c.now = c.now.Add(10 * time.Minute)
		a, err := th.admit(ctx, "192.0.2.1", "uid=victim")
		if err != nil {
			t.Fatal(err)
		}
		a.fail()
	}
	st := th.keys["pair:192.0.2.1|"+accountID("uid=victim")]
	if got := st.until.Sub(c.now); got != 5*time.Minute {
		t.Errorf("refusal after 40 failures = %v, want the 5m cap", got)
	}
}

// TestThrottleAddressQueue: only failures are charged to an address.
// AddressBurst failures pass at once, the next ones wait their turn, one
// interval more each, up to MaxWait, and past that checks are refused
// unchecked until the queue drains. Correct logins are never charged, so
// a busy app host's users are never refused; at most maxChecking checks
// of one address run at once, and the rest wait for a turn.
func TestThrottleAddressQueue(t *testing.T) {
	ctx := context.Background()
	t.Run("failures", func(t *testing.T) {
		th, c := newTestThrottle(ThrottleConfig{})
		var admitted, refused int
		for i := range 30 {
			a, err := th.admit(ctx, "203.0.113.9", fmt.Sprintf("uid=u%d", i))
			var why throttled
			switch {
			case errors.As(err, &why):
				refused++
				continue
			case err != nil:
				t.Fatal(err)
			}
			admitted++
			a.fail()
		}
		// At one instant (the clock stands still): 20 at once, the next
		// four wait 0.5, 1, 1.5 and 2 s, and the rest are refused.
		want := []time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second}
		if admitted != 24 || refused != 6 || fmt.Sprint(c.slept) != fmt.Sprint(want) {
			t.Fatalf("admitted %d, refused %d, waits %v; want 24, 6, %v", admitted, refused, c.slept, want)
		}
	})
	t.Run("a flood queued at one instant", func(t *testing.T) {
		th, _ := newTestThrottle(ThrottleConfig{})
		st := th.add("addr:203.0.113.9", th.now())
		st.tat = th.now().Add(time.Duration(20+5) * th.interval) // 25 failures charged just now
		if _, err := th.admit(ctx, "203.0.113.9", "uid=x"); err == nil {
			t.Fatal("admitted with more than MaxWait of failures queued")
		}
	})
	t.Run("correct logins are never charged", func(t *testing.T) {
		th, c := newTestThrottle(ThrottleConfig{})
		for i := range 100 {
			a, err := th.admit(ctx, "203.0.113.9", fmt.Sprintf("uid=u%d", i))
			if err != nil {
				t.Fatalf("login %d: %v", i, err)
			}
			a.succeed()
		}
		if len(c.slept) != 0 {
			t.Fatalf("correct logins waited %v", c.slept)
		}
	})
	t.Run("checks in flight are bounded", func(t *testing.T) {
		th, _ := newTestThrottle(ThrottleConfig{})
		var held []*attempt
		for i := range maxChecking {
			a, err := th.admit(ctx, "203.0.113.9", fmt.Sprintf("uid=u%d", i))
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, a)
		}
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		if _, err := th.admit(short, "203.0.113.9", "uid=more"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("check beyond %d in flight: %v, want it to wait (and time out here)", maxChecking, err)
		}
		held[0].succeed()
		a, err := th.admit(ctx, "203.0.113.9", "uid=next")
		if err != nil {
			t.Fatalf("after one check ended: %v", err)
		}
		a.succeed()
		if _, err := th.admit(ctx, "198.51.100.1", "uid=other"); err != nil {
			t.Fatalf("another address: %v", err)
		}
	})
}

// TestThrottleAccountDelayOnly: failures against one account from many
// addresses delay its checks by at most AccountMaxDelay and never refuse
// them.
func TestThrottleAccountDelayOnly(t *testing.T) {
	th, c := newTestThrottle(ThrottleConfig{})
	ctx := context.Background()
	for i := range 200 {
		a, err := th.admit(ctx, fmt.Sprintf("10.0.%d.%d", i/256, i%256), "uid=owner")
		if err != nil {
			t.Fatalf("failure %d from a fresh address refused: %v", i, err)
		}
		a.fail()
	}
	want := "[125ms 250ms 500ms" // after the 10 free failures
	if got := fmt.Sprint(c.slept); len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("account delays %v, want 125ms doubling", c.slept)
	}
	for _, d := range c.slept {
		if d > time.Second {
			t.Fatalf("an account delay of %v exceeds the 1 s cap", d)
		}
	}
	c.slept = nil
	a, err := th.admit(ctx, "192.0.2.77", "uid=owner")
	if err != nil || fmt.Sprint(c.slept) != "[1s]" {
		t.Fatalf("owner from their own address: %v, waits %v; want admitted after 1s", err, c.slept)
	}
	a.succeed()
}

func TestClientAddrIPv6Prefix(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:389":            "192.0.2.1",
		"[2001:db8:1:2::5]:389":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ff::9]:389": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.1]:389":   "192.0.2.1",
	} {
		ctx := WithClientAddr(context.Background(), fakeAddr(in))
		if got := clientAddrOf(ctx); got != want {
			t.Errorf("clientAddrOf(%s) = %q, want %q", in, got, want)
		}
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }
