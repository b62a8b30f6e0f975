package ldapserver

import (
	"context"
	"sync"
	"time"
)

// searchContext is the context of a search: its time limit as a deadline.
// context.WithTimeout would allocate a context and arm a runtime timer for
// every search although the store and idm only ever ask Err, between
// entries; this one compares the clock when asked, and makes a channel and
// a timer only for a caller that waits on Done (a store client that
// blocks on the network). Each conn keeps one and reuses it for every
// search: operations run one at a time and a request's context is not used
// after ServeLDAP returns.
//
// Err reports the deadline as soon as it has passed, possibly just before
// a Done channel is closed by its timer.
type searchContext struct {
	parent   context.Context // the connection's: values only, never done
	deadline time.Time

	mu    sync.Mutex // guards done and timer: Done may be called from any goroutine
	done  chan struct{}
	timer *time.Timer
}

var _ context.Context = (*searchContext)(nil)

// start makes c the context of a search that began at begun and is
// limited to d, with parent's values (parent is never done: see
// ConnContexter).
func (c *searchContext) start(parent context.Context, begun time.Time, d time.Duration) *searchContext {
	c.parent, c.deadline = parent, begun.Add(d)
	return c
}

// end releases the timer Done may have started.
func (c *searchContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.done, c.timer = nil, nil
}

func (c *searchContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Err reads only the monotonic clock (the deadline has a monotonic
// reading: it is the operation's start plus the limit).
func (c *searchContext) Err() error {
	if time.Until(c.deadline) > 0 {
		return nil
	}
	return context.DeadlineExceeded
}

func (c *searchContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		done := make(chan struct{})
		c.done, c.timer = done, time.AfterFunc(time.Until(c.deadline), func() { close(done) })
	}
	return c.done
}

func (c *searchContext) Value(key any) any { return c.parent.Value(key) }
