package daemon

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// logFlushInterval is how long a log line may wait in the buffer: what a
// SIGKILL (or a crash that skips the deferred Close) can lose.
const logFlushInterval = 100 * time.Millisecond

// logBufferSize is the buffer's size; a write that would overflow it
// flushes it first, so a burst costs one write(2) per logBufferSize bytes.
const logBufferSize = 64 << 10

// logBuffer is what Run logs through: log lines are gathered in
// memory and written to w (stderr) at most logFlushInterval after the
// first of them, when the buffer fills, at once for a warning or an error
// line, and on Close. One write(2) per access line cost more than the rest of a
// WhoAmI's logging together (see docs/performance.md). Close runs when
// Run returns, also after SIGTERM or SIGINT, so those lose nothing; a
// SIGKILL loses the lines of the last logFlushInterval at most.
//
// newLogBuffer starts one goroutine, which waits for a first buffered
// line and flushes logFlushInterval later; Close stops and joins it.
type logBuffer struct {
	w        io.Writer
	interval time.Duration

	mu      sync.Mutex // guards buf
	buf     []byte
	flushMu sync.Mutex // held while writing to w, so that lines keep their order
	spare   []byte     // the other buffer, written out under flushMu

	kick chan struct{} // the buffer became non-empty
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newLogBuffer(w io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{w: w, interval: interval, buf: make([]byte, 0, logBufferSize), spare: make([]byte, 0, logBufferSize),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Write buffers p, a whole log line (zerolog writes each event at once).
// It never fails: a failing w loses lines, as an unbuffered one would.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if len(b.buf) > 0 && len(b.buf)+len(p) > logBufferSize {
		b.mu.Unlock()
		b.Flush()
		b.mu.Lock()
	}
	first := len(b.buf) == 0
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
	if first {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// WriteLevel implements zerolog.LevelWriter: a warning or error (a
// security event, a refused connection, a failing listener) is written
// out at once, with every line before it, so that whatever watches the
// log sees it as it happens. They are rare next to the access lines
// (info), which are what the buffer is for; a client can cause a warning
// only with a failed bind or a refused connection, each costing the
// server more than the write.
func (b *logBuffer) WriteLevel(l zerolog.Level, p []byte) (int, error) {
	n, err := b.Write(p)
	if l >= zerolog.WarnLevel && l != zerolog.NoLevel {
		b.Flush()
	}
	return n, err
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	b.buf, b.spare = b.spare[:0], b.buf
	b.mu.Unlock()
	if len(b.spare) > 0 {
		_, _ = b.w.Write(b.spare)
	}
	if cap(b.spare) > 4*logBufferSize { // do not keep a huge line's buffer
		b.spare = make([]byte, 0, logBufferSize)
	}
}

// Close stops the flushing goroutine and flushes; later writes are
// buffered and lost. It is safe to call more than once.
func (b *logBuffer) Close() error {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
	})
	b.Flush()
	return nil
}

func (b *logBuffer) run() {
	defer close(b.done)
	t := time.NewTimer(b.interval)
	t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-b.kick:
		}
		t.Reset(b.interval)
		select {
		case <-b.stop:
			return
		case <-t.C:
		}
		b.Flush()
	}
}

// stampHook writes every line's "time" field as zerolog's Timestamp does
// (zerolog.TimestampFieldName, time.RFC3339, the local zone), but formats
// the time once per second instead of for every line: an access line is
// written for every operation, and formatting its time cost more than any
// other of its fields. The text depends only on the second and the
// location (the zone's offset is fixed within a second), so the cached
// one is exact.
type stampHook struct {
	now  func() time.Time
	last atomic.Pointer[stamp]
}

// stamp is one second's "time" value in loc, JSON-quoted.
type stamp struct {
	sec    int64
	loc    *time.Location
	quoted []byte
}

func newStampHook() *stampHook { return &stampHook{now: time.Now} }

// Run implements zerolog.Hook.
func (h *stampHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	t := h.now()
	s := h.last.Load()
	if s == nil || s.sec != t.Unix() || s.loc != t.Location() {
		b := append([]byte{'"'}, t.Format(time.RFC3339)...)
		s = &stamp{sec: t.Unix(), loc: t.Location(), quoted: append(b, '"')}
		h.last.Store(s)
	}
	e.RawJSON(zerolog.TimestampFieldName, s.quoted)
}
