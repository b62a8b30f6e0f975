package ldapserver

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSearchContext checks the time limit's context: no error before the
// deadline, DeadlineExceeded after it, a Done channel that closes at the
// deadline for whoever waits, a fresh start for the next search, and the
// connection's values throughout.
func TestSearchContext(t *testing.T) {
	type key struct{}
	conn := context.WithValue(context.Background(), key{}, "conn 7")
	var c searchContext
	ctx := context.Context(c.start(conn, time.Now(), time.Hour))
	if v := ctx.Value(key{}); v != "conn 7" {
		t.Fatalf("Value = %v, want the connection's", v)
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err before the deadline: %v", err)
	}
	if d, ok := ctx.Deadline(); !ok || time.Until(d) < 59*time.Minute {
		t.Fatalf("Deadline %v, %v", d, ok)
	}
	c.end()

	ctx = c.start(conn, time.Now(), 20*time.Millisecond)
	// A derived context sees the deadline through Done.
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not close at the deadline")
	}
	if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Err after the deadline: %v", err)
	}
	if v := child.Value(key{}); v != "conn 7" {
		t.Fatalf("a derived context's Value = %v, want the connection's", v)
	}
	c.end()

	ctx = c.start(conn, time.Now(), time.Hour)
	if err := ctx.Err(); err != nil {
		t.Fatalf("Err of the next search: %v", err)
	}
	select {
	case <-ctx.Done():
		t.Fatal("the next search's Done is closed")
	default:
	}
	c.end()
}
